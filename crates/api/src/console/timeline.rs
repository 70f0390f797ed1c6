//! The access history as an SVG timeline, drawn on the server: one band
//! per segment, coloured by decision and as wide as the log positions it
//! spans, a mark at each change linked to the event that made it.

use maud::{html, Markup};
use serde_json::Value;

const WIDTH: f64 = 1000.0;
const HEIGHT: f64 = 60.0;
const BAND: f64 = 32.0;

/// The fill of a decision's band.
pub fn colour(decision: &str) -> &'static str {
    match decision {
        "Allow" => "#2e7d32",
        "ExplicitDeny" => "#c62828",
        _ => "#9e9e9e",
    }
}

/// The segments of `/v1/access-history` (`from`, optional `to`, each with a
/// `position`), up to `head`.
pub fn svg(segments: &[Value], head: u64) -> Markup {
    let start = segments
        .first()
        .and_then(|s| s["from"]["position"].as_u64())
        .unwrap_or(1);
    let span = head.saturating_sub(start).max(1) as f64;
    let x = |p: u64| (p.saturating_sub(start) as f64 / span * WIDTH).clamp(0.0, WIDTH);
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={"0 0 " (WIDTH) " " (HEIGHT)}
            role="img" aria-label="Access history" class="timeline" {
            @for s in segments {
                @let from = s["from"]["position"].as_u64().unwrap_or(start);
                @let to = s["to"]["position"].as_u64().unwrap_or(head);
                @let decision = s["decision"].as_str().unwrap_or("ImplicitDeny");
                @let left = x(from);
                @let w = (x(to) - left).max(2.0);
                rect x=(format!("{left:.1}")) y="4" width=(format!("{w:.1}")) height=(BAND)
                    fill=(colour(decision)) data-decision=(decision) {
                    title { (decision) " from position " (from) @if s["to"].is_object() { " to " (to) } }
                }
                a href={"/console/events/" (from)} {
                    line x1=(format!("{left:.1}")) x2=(format!("{left:.1}")) y1="0" y2=(HEIGHT - 16.0)
                        stroke="#212121" stroke-width="2" {}
                    text x=(format!("{:.1}", left + 3.0)) y=(HEIGHT - 4.0) font-size="11" fill="#212121" {
                        "#" (from)
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bands_follow_positions_and_decisions() {
        let segments = [
            json!({"decision": "ImplicitDeny", "from": {"position": 2}, "to": {"position": 3}}),
            json!({"decision": "Allow", "from": {"position": 3}, "to": {"position": 6}}),
            json!({"decision": "ImplicitDeny", "from": {"position": 6}}),
        ];
        let text = svg(&segments, 10).into_string();
        assert_eq!(text.matches("<rect").count(), 3);
        assert!(
            text.contains(r##"fill="#2e7d32" data-decision="Allow""##),
            "{text}"
        );
        assert!(text.contains(r#"href="/console/events/6""#));
        // Position 3 is 1/8 of the way from 2 to 10.
        assert!(text.contains(r#"x="125.0""#), "{text}");
    }
}
