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

/// The most segments drawn one by one, each with its labelled mark;
/// beyond it (a principal changed thousands of times) the timeline is
/// drawn in [`COLUMNS`] columns, each one band: the decision if every
/// segment in it agrees, [`MIXED`] with the count of changes otherwise.
const DRAWN_ONE_BY_ONE: usize = 200;
const COLUMNS: usize = 500;
const MIXED: &str = "#f9a825";

/// One band of the drawing: the positions it spans, its decision (`None`:
/// several), how many segments began in it, and the first change's event.
struct Band<'a> {
    from: u64,
    to: u64,
    decision: Option<&'a str>,
    changes: usize,
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
    let bands = bands(segments, start, head);
    let labelled = segments.len() <= DRAWN_ONE_BY_ONE;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={"0 0 " (WIDTH) " " (HEIGHT)}
            role="img" aria-label={"Access history: " (segments.len()) " segments"} class="timeline" {
            @for b in &bands {
                @let left = x(b.from);
                @let w = (x(b.to) - left).max(2.0);
                @let fill = b.decision.map_or(MIXED, colour);
                @let decision = b.decision.unwrap_or("Mixed");
                rect x=(format!("{left:.1}")) y="4" width=(format!("{w:.1}")) height=(BAND)
                    fill=(fill) data-decision=(decision) {
                    title {
                        @if b.changes > 1 { (b.changes) " changes, " }
                        (decision) " from position " (b.from) " to " (b.to)
                    }
                }
                @if labelled {
                    a href={"/console/events/" (b.from)} {
                        line x1=(format!("{left:.1}")) x2=(format!("{left:.1}")) y1="0" y2=(HEIGHT - 16.0)
                            stroke="#212121" stroke-width="2" {}
                        text x=(format!("{:.1}", left + 3.0)) y=(HEIGHT - 4.0) font-size="11" fill="#212121" {
                            "#" (b.from)
                        }
                    }
                }
            }
        }
    }
}

/// The bands to draw: one per segment when there are few; otherwise the
/// segments that begin in each of [`COLUMNS`] equal slices of the
/// positions, merged.
fn bands(segments: &[Value], start: u64, head: u64) -> Vec<Band<'_>> {
    fn parts(s: &Value, start: u64, head: u64) -> (u64, u64, &str) {
        let from = s["from"]["position"].as_u64().unwrap_or(start);
        (
            from,
            s["to"]["position"].as_u64().unwrap_or(head).max(from),
            s["decision"].as_str().unwrap_or("ImplicitDeny"),
        )
    }
    let one = |s| parts(s, start, head);
    if segments.len() <= DRAWN_ONE_BY_ONE {
        return segments
            .iter()
            .map(|s| {
                let (from, to, decision) = one(s);
                Band {
                    from,
                    to,
                    decision: Some(decision),
                    changes: 1,
                }
            })
            .collect();
    }
    let slice = (head.saturating_sub(start) / COLUMNS as u64).max(1);
    let mut out: Vec<Band<'_>> = Vec::new();
    for s in segments {
        let (from, to, decision) = one(s);
        let column = from.saturating_sub(start) / slice;
        // A segment as long as a column keeps its own band.
        let short = to - from < slice;
        match out.last_mut() {
            Some(b)
                if short
                    && b.to - b.from < 2 * slice
                    && b.from.saturating_sub(start) / slice == column =>
            {
                b.to = b.to.max(to);
                b.changes += 1;
                if b.decision != Some(decision) {
                    b.decision = None;
                }
            }
            _ => out.push(Band {
                from,
                to,
                decision: Some(decision),
                changes: 1,
            }),
        }
    }
    out
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

    #[test]
    fn thousands_of_changes_are_drawn_in_columns() {
        // 10,001 segments alternating every 10 positions over 100,010.
        let segments: Vec<_> = (0..10_001u64)
            .map(|i| {
                let decision = if i % 2 == 0 { "ImplicitDeny" } else { "Allow" };
                if i == 10_000 {
                    json!({"decision": decision, "from": {"position": 1 + i * 10}})
                } else {
                    json!({"decision": decision, "from": {"position": 1 + i * 10}, "to": {"position": 11 + i * 10}})
                }
            })
            .collect();
        let text = svg(&segments, 200_000).into_string();
        let rects = text.matches("<rect").count();
        assert!(rects <= COLUMNS + 1, "{rects} bands");
        assert!(text.contains(r#"data-decision="Mixed""#));
        // The quiet end after the last change keeps its own decision.
        assert!(
            text.contains("ImplicitDeny from position 100001 to 200000"),
            "{}",
            &text[text.len() - 400..]
        );
        assert!(!text.contains("<text"), "no labels when thousands overlap");
        assert!(text.len() < 100_000, "{} bytes", text.len());
    }
}
