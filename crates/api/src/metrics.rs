//! Prometheus metrics, served on their own listener
//! (`iamd serve --metrics-listen ADDR`): requests by operation and status
//! with a latency histogram, decisions by result, the log's head position
//! and how far this node's views lag behind it, and what the projection
//! counted of its own work ([`ProjectionStats`]): appends by outcome and
//! their latency, events appended, the time and size of snapshot and
//! checkpoint writes.
//!
//! Labels are only ever an operation of the models (or `unknown`) and an
//! HTTP status: a caller cannot grow the set of series.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use iam_projection::stats::{AppendResult, Durations, DURATION_BUCKETS_MICROS};
use iam_projection::ProjectionStats;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 9] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0];

#[derive(Default, Clone)]
struct Series {
    count: u64,
    sum: f64,
    /// Observations at or below each bucket's bound (cumulative).
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), Series>>,
    /// Allow, ExplicitDeny, ImplicitDeny.
    decisions: [AtomicU64; 3],
}

impl Metrics {
    /// One request served: its operation, status and duration.
    pub fn observe(&self, operation: &'static str, status: u16, seconds: f64) {
        let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        let series = requests.entry((operation, status)).or_default();
        series.count += 1;
        series.sum += seconds;
        for (bound, bucket) in BUCKETS.iter().zip(series.buckets.iter_mut()) {
            if seconds <= *bound {
                *bucket += 1;
            }
        }
    }

    /// One decision of the decision point.
    pub fn decision(&self, outcome: &str) {
        let i = match outcome {
            "Allow" => 0,
            "ExplicitDeny" => 1,
            _ => 2,
        };
        self.decisions[i].fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition format: this node's requests and decisions, the
    /// log's `head` position, the position the `views` reached, and what
    /// the projection counted.
    pub fn render(&self, head: u64, views: u64, projection: &ProjectionStats) -> String {
        let mut out = String::new();
        let requests = self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        out.push_str(
            "# HELP iamd_requests_total Requests answered, by operation and HTTP status.\n",
        );
        out.push_str("# TYPE iamd_requests_total counter\n");
        for ((op, status), s) in &requests {
            let _ = writeln!(
                out,
                "iamd_requests_total{{operation=\"{op}\",status=\"{status}\"}} {}",
                s.count
            );
        }
        out.push_str("# HELP iamd_request_seconds Time to answer a request, by operation.\n");
        out.push_str("# TYPE iamd_request_seconds histogram\n");
        let mut by_op: BTreeMap<&str, Series> = BTreeMap::new();
        for ((op, _), s) in &requests {
            let t = by_op.entry(op).or_default();
            t.count += s.count;
            t.sum += s.sum;
            for (a, b) in t.buckets.iter_mut().zip(s.buckets.iter()) {
                *a += b;
            }
        }
        for (op, s) in &by_op {
            for (bound, n) in BUCKETS.iter().zip(s.buckets.iter()) {
                let _ = writeln!(
                    out,
                    "iamd_request_seconds_bucket{{operation=\"{op}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "iamd_request_seconds_bucket{{operation=\"{op}\",le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "iamd_request_seconds_sum{{operation=\"{op}\"}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "iamd_request_seconds_count{{operation=\"{op}\"}} {}",
                s.count
            );
        }
        out.push_str("# HELP iamd_decisions_total Decisions of /v1/authorize, by result.\n");
        out.push_str("# TYPE iamd_decisions_total counter\n");
        for (name, n) in ["Allow", "ExplicitDeny", "ImplicitDeny"]
            .iter()
            .zip(&self.decisions)
        {
            let _ = writeln!(
                out,
                "iamd_decisions_total{{decision=\"{name}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        single(
            &mut out,
            "iamd_log_head_position",
            "gauge",
            "The event log's last position.",
            head,
        );
        single(
            &mut out,
            "iamd_view_lag_positions",
            "gauge",
            "Positions this node's views are behind the log.",
            head.saturating_sub(views),
        );
        render_projection(&mut out, projection);
        out
    }
}

/// Microseconds as seconds.
fn seconds(micros: u64) -> f64 {
    micros as f64 / 1e6
}

/// A histogram of durations with no labels, HELP and TYPE included.
fn histogram(out: &mut String, name: &str, help: &str, durations: &Durations) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} histogram");
    let (buckets, count) = durations.cumulative();
    for (bound, n) in DURATION_BUCKETS_MICROS.iter().zip(buckets) {
        let _ = writeln!(out, "{name}_bucket{{le=\"{}\"}} {n}", seconds(*bound));
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
    let _ = writeln!(out, "{name}_sum {}", seconds(durations.sum_micros()));
    let _ = writeln!(out, "{name}_count {count}");
}

/// One series with no labels, HELP and TYPE included.
fn single(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    let _ = writeln!(out, "{name} {value}");
}

/// Appends, snapshot and checkpoint writes, as the projection counted them.
fn render_projection(out: &mut String, stats: &ProjectionStats) {
    out.push_str(
        "# HELP iamd_appends_total Appends to the event log by this node, by outcome \
         (a conflict is decided again and retried).\n",
    );
    out.push_str("# TYPE iamd_appends_total counter\n");
    for result in AppendResult::ALL {
        let _ = writeln!(
            out,
            "iamd_appends_total{{outcome=\"{}\"}} {}",
            result.as_str(),
            stats.appends.calls(result)
        );
    }
    single(
        out,
        "iamd_appended_events_total",
        "counter",
        "Events this node wrote to the event log.",
        stats.appends.events(),
    );
    histogram(
        out,
        "iamd_append_duration_seconds",
        "Time of one append to the event log, whatever its outcome.",
        &stats.appends.durations,
    );
    for (what, write, help) in [
        ("snapshot", &stats.snapshots, "an account's snapshot"),
        (
            "checkpoint",
            &stats.checkpoints,
            "a checkpoint of every view (pruning the older ones included)",
        ),
    ] {
        histogram(
            out,
            &format!("iamd_{what}_write_duration_seconds"),
            &format!("Time to encode and save {help}."),
            &write.durations,
        );
        single(
            out,
            &format!("iamd_{what}_write_failures_total"),
            "counter",
            &format!("Failed writes of {help}."),
            write.failures(),
        );
        single(
            out,
            &format!("iamd_{what}_last_write_duration_seconds"),
            "gauge",
            &format!("Time the last write of {help} took (0: none yet)."),
            seconds(write.durations.last_micros()),
        );
        single(
            out,
            &format!("iamd_{what}_last_size_bytes"),
            "gauge",
            &format!("Size of the last {what} written (0: none yet)."),
            write.last_bytes(),
        );
        single(
            out,
            &format!("iamd_{what}_last_write_timestamp_seconds"),
            "gauge",
            &format!("When the last {what} was written, in Unix time (0: none yet)."),
            write.last_unix_millis() as f64 / 1e3,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_counts_and_buckets_what_was_observed() {
        let m = Metrics::default();
        m.observe("GetUser", 200, 0.0004);
        m.observe("GetUser", 200, 0.02);
        m.observe("GetUser", 403, 0.002);
        m.decision("Allow");
        let text = m.render(10, 7, &ProjectionStats::default());
        assert!(
            text.contains("iamd_requests_total{operation=\"GetUser\",status=\"200\"} 2"),
            "{text}"
        );
        assert!(text.contains("iamd_request_seconds_bucket{operation=\"GetUser\",le=\"0.0005\"} 1"));
        assert!(text.contains("iamd_request_seconds_bucket{operation=\"GetUser\",le=\"0.0025\"} 2"));
        assert!(text.contains("iamd_request_seconds_count{operation=\"GetUser\"} 3"));
        assert!(text.contains("iamd_decisions_total{decision=\"Allow\"} 1"));
        assert!(text.contains("iamd_view_lag_positions 3"));
        for line in [
            "iamd_appends_total{outcome=\"appended\"} 0",
            "iamd_appended_events_total 0",
            "iamd_append_duration_seconds_bucket{le=\"0.0005\"} 0",
            "iamd_append_duration_seconds_bucket{le=\"+Inf\"} 0",
            "iamd_snapshot_write_duration_seconds_count 0",
            "iamd_checkpoint_write_duration_seconds_count 0",
            "iamd_checkpoint_last_size_bytes 0",
        ] {
            assert!(text.contains(line), "{line} in:\n{text}");
        }
        assert_every_series_is_described(&text);
    }

    /// Every series has HELP and TYPE lines before it, once per family.
    fn assert_every_series_is_described(text: &str) {
        let mut described = std::collections::HashSet::new();
        let mut typed = std::collections::HashMap::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let name = rest.split(' ').next().unwrap();
                assert!(described.insert(name.to_owned()), "HELP twice: {name}");
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let mut parts = rest.split(' ');
                let name = parts.next().unwrap().to_owned();
                assert!(described.contains(&name), "TYPE before HELP: {name}");
                typed.insert(name, parts.next().unwrap().to_owned());
            } else {
                let series = line.split(['{', ' ']).next().unwrap();
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| {
                        series
                            .strip_suffix(s)
                            .filter(|f| typed.get(*f).is_some_and(|t| t == "histogram"))
                    })
                    .unwrap_or(series);
                assert!(typed.contains_key(family), "no TYPE for {series}");
                let value = line.rsplit(' ').next().unwrap();
                assert!(value.parse::<f64>().is_ok(), "not a number: {line}");
            }
        }
    }

    #[test]
    fn the_projections_work_is_rendered_in_seconds_and_bytes() {
        use std::time::Duration;
        let stats = ProjectionStats::default();
        let m = Metrics::default();
        // The projection's own tests check that appends and writes move
        // these; here, only how they are rendered.
        let text = m.render(0, 0, &stats);
        assert!(
            text.contains("iamd_snapshot_last_write_timestamp_seconds 0\n"),
            "{text}"
        );
        stats.appends.durations.observe(Duration::from_millis(2));
        let text = m.render(0, 0, &stats);
        for line in [
            "iamd_append_duration_seconds_bucket{le=\"0.001\"} 0",
            "iamd_append_duration_seconds_bucket{le=\"0.0025\"} 1",
            "iamd_append_duration_seconds_bucket{le=\"10\"} 1",
            "iamd_append_duration_seconds_bucket{le=\"+Inf\"} 1",
            "iamd_append_duration_seconds_sum 0.002",
            "iamd_append_duration_seconds_count 1",
        ] {
            assert!(text.contains(line), "{line} in:\n{text}");
        }
        assert_every_series_is_described(&text);
    }
}
