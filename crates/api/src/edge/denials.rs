//! Refused requests in the audit trail.
//!
//! An authenticated request the evaluator refuses is appended as an
//! `AccessDenied` event (action, target, and the caller in its metadata)
//! and changes no state. So that a caller cannot flood the log with
//! refusals, each node records, per caller: at most one refusal per action
//! and target a minute, and at most [`PER_MINUTE`] a minute in all; the
//! refusals it does not record are counted, and the caller's next recorded
//! refusal carries the count (`suppressed`). Failed authentications are
//! logged, never appended: the caller is unknown.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

/// Refusals recorded per caller and minute, whatever their action and
/// target.
pub const PER_MINUTE: u32 = 20;

/// Entries kept before stale ones are dropped (memory stays bounded
/// whatever the callers do).
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct DenialGate {
    /// When each (caller, action, target) was last recorded.
    seen: HashMap<(String, String, String), DateTime<Utc>>,
    /// Per caller: the minute's start, refusals recorded in it, refusals
    /// not recorded since the caller's last recorded one.
    callers: HashMap<String, (DateTime<Utc>, u32, u64)>,
}

impl DenialGate {
    /// Whether to record this refusal now; if so, with how many of the
    /// caller's refusals were folded into it.
    pub fn admit(
        &mut self,
        caller: &str,
        action: &str,
        target: &str,
        now: DateTime<Utc>,
    ) -> Option<u64> {
        let minute = Duration::minutes(1);
        if self.seen.len() > MAX_ENTRIES || self.callers.len() > MAX_ENTRIES {
            self.seen.retain(|_, t| now - *t < minute);
            self.callers
                .retain(|_, (start, _, suppressed)| now - *start < minute || *suppressed > 0);
            if self.callers.len() > MAX_ENTRIES {
                self.callers.clear();
            }
        }
        let entry = self.callers.entry(caller.to_owned()).or_insert((now, 0, 0));
        if now - entry.0 >= minute {
            entry.0 = now;
            entry.1 = 0;
        }
        let key = (caller.to_owned(), action.to_owned(), target.to_owned());
        let repeat = self.seen.get(&key).is_some_and(|t| now - *t < minute);
        if repeat || entry.1 >= PER_MINUTE {
            entry.2 += 1;
            return None;
        }
        entry.1 += 1;
        let suppressed = std::mem::take(&mut entry.2);
        self.seen.insert(key, now);
        Some(suppressed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_and_floods_are_folded_into_the_next_record() {
        let mut gate = DenialGate::default();
        let t0 = Utc::now();
        assert_eq!(gate.admit("alice", "iam:GetUser", "u/1", t0), Some(0));
        assert_eq!(gate.admit("alice", "iam:GetUser", "u/1", t0), None);
        // A different target is another refusal, up to the caller's limit.
        for i in 2..=PER_MINUTE {
            assert_eq!(
                gate.admit("alice", "iam:GetUser", &format!("u/{i}"), t0),
                Some(if i == 2 { 1 } else { 0 })
            );
        }
        assert_eq!(gate.admit("alice", "iam:GetUser", "u/x", t0), None);
        assert_eq!(
            gate.admit("bob", "iam:GetUser", "u/1", t0),
            Some(0),
            "per caller"
        );
        // A minute later the folded ones ride on the next record.
        let t1 = t0 + Duration::seconds(61);
        assert_eq!(gate.admit("alice", "iam:GetUser", "u/1", t1), Some(1));
    }
}
