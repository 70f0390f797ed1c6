//! What the access advisor knows: which services (and actions) each user
//! and role was seen using, recorded coarsely, as key last-use is.
//!
//! iamd sees two kinds of use: calls to its own APIs (IAM, STS, iamd's
//! `/v1`), by the caller; and `/v1/authorize` decisions, by the principal
//! asked about, for the action's service (a service that asks iamd whether
//! someone may act is where that someone tried to act). As in AWS, an
//! attempt counts whether or not it was allowed. Each node writes a
//! principal's use of an action at most once per [`SERVICE_USE_INTERVAL`],
//! and at most [`MAX_RECORDS_PER_REQUEST`] uses per request, so reads stay
//! reads and a decision batch does not become a write storm.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use iam_domain::command::ServiceAccessRecord;
use iam_domain::{Command, EventMetadata};

use crate::app::AppState;

/// How often one principal's use of one action is written, per node.
pub const SERVICE_USE_INTERVAL: Duration = Duration::hours(1);

/// The most uses one request records; the rest are written by a later one.
pub const MAX_RECORDS_PER_REQUEST: usize = 1_000;

/// The most (principal, action) pairs a node remembers; beyond it, those
/// older than the interval are forgotten.
const MAX_REMEMBERED: usize = 100_000;

/// When this node last wrote each principal's use of each action.
#[derive(Default)]
pub struct ServiceUse {
    recent: Mutex<HashMap<(String, String, String), DateTime<Utc>>>,
}

impl ServiceUse {
    /// The records this node has not written within the interval (at most
    /// [`MAX_RECORDS_PER_REQUEST`]), marked as written.
    pub fn fresh(&self, records: Vec<ServiceAccessRecord>) -> Vec<ServiceAccessRecord> {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if recent.len() > MAX_REMEMBERED {
            if let Some(now) = records.first().map(|r| r.at) {
                recent.retain(|_, at| now - *at < SERVICE_USE_INTERVAL);
            }
            if recent.len() > MAX_REMEMBERED {
                recent.clear();
            }
        }
        let mut fresh = Vec::new();
        for r in records {
            if fresh.len() >= MAX_RECORDS_PER_REQUEST {
                break;
            }
            let key = (r.accessor.key(), r.service.clone(), r.action.clone());
            if recent
                .get(&key)
                .is_some_and(|last| r.at - *last < SERVICE_USE_INTERVAL)
            {
                continue;
            }
            recent.insert(key, r.at);
            fresh.push(r);
        }
        fresh
    }
}

/// Writes the uses in `records` this node has not written lately, as
/// `actor` (the caller whose request saw them). A failure is logged, never
/// returned: the request itself succeeded or failed on its own.
pub async fn record(state: &AppState, actor: &str, records: Vec<ServiceAccessRecord>) {
    let accesses = state.service_use.fresh(records);
    if accesses.is_empty() {
        return;
    }
    let metadata = EventMetadata::system(actor, uuid::Uuid::new_v4().to_string());
    if let Err(error) = state
        .projection
        .execute(
            &state.account_id,
            &Command::RecordServiceAccess { accesses },
            &metadata,
        )
        .await
    {
        tracing::warn!(%error, "could not record service use for the access advisor");
    }
}
