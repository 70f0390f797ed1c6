//! Prometheus metrics, served on their own listener
//! (`iamd serve --metrics-listen ADDR`): requests by operation and status
//! with a latency histogram, decisions by result, the log's head position
//! and how far this node's views lag behind it.
//!
//! Labels are only ever an operation of the models (or `unknown`) and an
//! HTTP status: a caller cannot grow the set of series.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

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

    /// The text exposition format.
    pub fn render(&self, head: u64, views: u64) -> String {
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
        out.push_str("# HELP iamd_log_head_position The event log's last position.\n");
        out.push_str("# TYPE iamd_log_head_position gauge\n");
        let _ = writeln!(out, "iamd_log_head_position {head}");
        out.push_str(
            "# HELP iamd_view_lag_positions Positions this node's views are behind the log.\n",
        );
        out.push_str("# TYPE iamd_view_lag_positions gauge\n");
        let _ = writeln!(
            out,
            "iamd_view_lag_positions {}",
            head.saturating_sub(views)
        );
        out
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
        let text = m.render(10, 7);
        assert!(
            text.contains("iamd_requests_total{operation=\"GetUser\",status=\"200\"} 2"),
            "{text}"
        );
        assert!(text.contains("iamd_request_seconds_bucket{operation=\"GetUser\",le=\"0.0005\"} 1"));
        assert!(text.contains("iamd_request_seconds_bucket{operation=\"GetUser\",le=\"0.0025\"} 2"));
        assert!(text.contains("iamd_request_seconds_count{operation=\"GetUser\"} 3"));
        assert!(text.contains("iamd_decisions_total{decision=\"Allow\"} 1"));
        assert!(text.contains("iamd_view_lag_positions 3"));
    }
}
