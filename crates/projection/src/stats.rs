//! What a projection counts of its own work — appends, snapshot and
//! checkpoint writes — for whoever exports it (the server's `/metrics`).
//!
//! Plain atomics, updated where the work happens and read at any time: no
//! lock, no metrics library, no I/O. Readers get each number as of some
//! moment; two numbers read one after the other may be one observation
//! apart, which is what a scrape expects.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// Upper bounds of the duration histograms' buckets, in microseconds
/// (0.5 ms to 10 s: an append takes about a commit, a checkpoint of a large
/// deployment seconds).
pub const DURATION_BUCKETS_MICROS: [u64; 14] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 5_000_000, 10_000_000,
];

/// A histogram of durations.
#[derive(Debug, Default)]
pub struct Durations {
    /// Observations in each bucket alone (not cumulative); the last one
    /// holds those above every bound.
    buckets: [AtomicU64; DURATION_BUCKETS_MICROS.len() + 1],
    sum_micros: AtomicU64,
    last_micros: AtomicU64,
}

impl Durations {
    pub fn observe(&self, duration: Duration) {
        let micros = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
        let i = DURATION_BUCKETS_MICROS
            .iter()
            .position(|bound| micros <= *bound)
            .unwrap_or(DURATION_BUCKETS_MICROS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.last_micros.store(micros, Ordering::Relaxed);
    }

    /// Observations at or below each bound of [`DURATION_BUCKETS_MICROS`]
    /// (cumulative, as Prometheus' buckets are), and the total count (the
    /// `+Inf` bucket).
    pub fn cumulative(&self) -> ([u64; DURATION_BUCKETS_MICROS.len()], u64) {
        let mut out = [0; DURATION_BUCKETS_MICROS.len()];
        let mut running = 0;
        for (i, bucket) in self.buckets.iter().enumerate() {
            running += bucket.load(Ordering::Relaxed);
            if let Some(slot) = out.get_mut(i) {
                *slot = running;
            }
        }
        (out, running)
    }

    /// How many were observed.
    pub fn count(&self) -> u64 {
        self.cumulative().1
    }

    /// The sum of every observation, in microseconds.
    pub fn sum_micros(&self) -> u64 {
        self.sum_micros.load(Ordering::Relaxed)
    }

    /// The latest observation, in microseconds (0 before the first).
    pub fn last_micros(&self) -> u64 {
        self.last_micros.load(Ordering::Relaxed)
    }
}

/// How an append call of the write path ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendResult {
    /// The events were written.
    Appended,
    /// Another writer had moved the stream: decided again and retried.
    Conflict,
    /// The events were already stored (an idempotent retry): nothing new.
    Duplicate,
    /// Any other failure of the store.
    Error,
}

impl AppendResult {
    pub const ALL: [AppendResult; 4] = [
        AppendResult::Appended,
        AppendResult::Conflict,
        AppendResult::Duplicate,
        AppendResult::Error,
    ];

    /// A lowercase name, fit for a metric's label.
    pub fn as_str(self) -> &'static str {
        match self {
            AppendResult::Appended => "appended",
            AppendResult::Conflict => "conflict",
            AppendResult::Duplicate => "duplicate",
            AppendResult::Error => "error",
        }
    }
}

/// The appends of this projection's write path.
#[derive(Debug, Default)]
pub struct AppendStats {
    /// Calls, by [`AppendResult`] (in the order of `AppendResult::ALL`).
    calls: [AtomicU64; 4],
    /// Events newly written (duplicates not included).
    events: AtomicU64,
    /// Time of each call, whatever its result.
    pub durations: Durations,
}

impl AppendStats {
    pub(crate) fn record(&self, result: AppendResult, events: usize, took: Duration) {
        self.calls[result as usize].fetch_add(1, Ordering::Relaxed);
        if result == AppendResult::Appended {
            self.events.fetch_add(events as u64, Ordering::Relaxed);
        }
        self.durations.observe(took);
    }

    /// Append calls that ended with `result`.
    pub fn calls(&self, result: AppendResult) -> u64 {
        self.calls[result as usize].load(Ordering::Relaxed)
    }

    /// Events this projection wrote to the log.
    pub fn events(&self) -> u64 {
        self.events.load(Ordering::Relaxed)
    }
}

/// Writes of snapshots, or of checkpoints.
#[derive(Debug, Default)]
pub struct WriteStats {
    /// Time of each successful write (encoding and saving).
    pub durations: Durations,
    failures: AtomicU64,
    last_bytes: AtomicU64,
    /// When the last successful write finished, in milliseconds since the
    /// Unix epoch (0: none yet).
    last_unix_millis: AtomicU64,
}

impl WriteStats {
    pub(crate) fn written(&self, bytes: usize, took: Duration) {
        self.durations.observe(took);
        self.last_bytes.store(bytes as u64, Ordering::Relaxed);
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        self.last_unix_millis.store(now, Ordering::Relaxed);
    }

    pub(crate) fn failed(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Successful writes.
    pub fn count(&self) -> u64 {
        self.durations.count()
    }

    /// Writes that failed (a missing snapshot only costs replay time).
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Size of the last one written, in bytes (0 before the first).
    pub fn last_bytes(&self) -> u64 {
        self.last_bytes.load(Ordering::Relaxed)
    }

    /// When the last one was written, in milliseconds since the Unix epoch
    /// (0 before the first).
    pub fn last_unix_millis(&self) -> u64 {
        self.last_unix_millis.load(Ordering::Relaxed)
    }
}

/// Everything a [`Projection`](crate::Projection) counts; see
/// [`Projection::stats`](crate::Projection::stats).
#[derive(Debug, Default)]
pub struct ProjectionStats {
    pub appends: AppendStats,
    /// Snapshots of one account's view.
    pub snapshots: WriteStats,
    /// Checkpoints of every view.
    pub checkpoints: WriteStats,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_fall_in_the_first_bucket_that_holds_them() {
        let d = Durations::default();
        d.observe(Duration::from_micros(400));
        d.observe(Duration::from_micros(500));
        d.observe(Duration::from_millis(3));
        d.observe(Duration::from_secs(60));
        let (buckets, count) = d.cumulative();
        assert_eq!(count, 4);
        assert_eq!(buckets[0], 2, "at or below 0.5 ms");
        assert_eq!(buckets[2], 2, "at or below 2.5 ms");
        assert_eq!(buckets[3], 3, "at or below 5 ms");
        assert_eq!(buckets[buckets.len() - 1], 3, "above every bound");
        assert_eq!(d.sum_micros(), 400 + 500 + 3_000 + 60_000_000);
        assert_eq!(d.last_micros(), 60_000_000);
    }

    #[test]
    fn appends_count_calls_by_result_and_only_new_events() {
        let s = AppendStats::default();
        s.record(AppendResult::Appended, 3, Duration::from_millis(1));
        s.record(AppendResult::Conflict, 2, Duration::from_millis(1));
        s.record(AppendResult::Duplicate, 2, Duration::from_millis(1));
        assert_eq!(s.calls(AppendResult::Appended), 1);
        assert_eq!(s.calls(AppendResult::Conflict), 1);
        assert_eq!(s.calls(AppendResult::Duplicate), 1);
        assert_eq!(s.calls(AppendResult::Error), 0);
        assert_eq!(s.events(), 3);
        assert_eq!(s.durations.count(), 3);
    }
}
