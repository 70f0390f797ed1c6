//! Time travel: an account's view as of a past log position or time.
//!
//! The cut is a global log position (a time is first turned into the last
//! position recorded at or before it; `recorded_at` never decreases along
//! the log, so that is a clean prefix). The view starts from the newest
//! trusted snapshot at or before the cut and replays the account's stream
//! from there, stopping at the first event past the cut.

use std::sync::Arc;

use iam_domain::ids::AccountId;
use iam_event_store::{EventStore, Position, Until};

use crate::error::ProjectionError;
use crate::snapshot;
use crate::view::AccountView;

/// The view of `account` with every event at or before `until` applied and
/// nothing after.
pub async fn account_as_of(
    store: &Arc<dyn EventStore>,
    account: &AccountId,
    until: Until,
) -> Result<AccountView, ProjectionError> {
    let cut = match until {
        Until::Position(p) => p,
        Until::Time(t) => store.position_at(t).await?,
    };
    let mut view = match store.load_snapshot(&snapshot::name(account), cut).await? {
        Some(s) => snapshot::decode(&s).unwrap_or_default(),
        None => AccountView::default(),
    };
    let stream = account.stream_name();
    // Read the next batch (in its own task) while the current one is applied,
    // so the database and the decoding run on both cores at once.
    let read = |after: u64| {
        let store = store.clone();
        let stream = stream.clone();
        tokio::spawn(async move { store.read_stream_until(&stream, after, cut, BATCH).await })
    };
    let mut pending = Some(read(view.stream_version));
    while let Some(task) = pending.take() {
        let batch = task.await.map_err(|e| {
            ProjectionError::Store(iam_event_store::StoreError::Internal(e.to_string()))
        })??;
        let Some(last) = batch.last() else { break };
        if batch.len() == BATCH {
            pending = Some(read(last.stream_version));
        }
        for event in batch {
            if event.position > cut {
                if let Some(task) = pending {
                    task.abort();
                }
                return Ok(view);
            }
            view.apply_owned(event)?;
        }
    }
    Ok(view)
}

/// Events read per query while replaying a stream.
const BATCH: usize = 5000;

/// The log position a view as of `until` is cut at.
pub async fn cut_position(
    store: &dyn EventStore,
    until: Until,
) -> Result<Position, ProjectionError> {
    Ok(match until {
        Until::Position(p) => p,
        Until::Time(t) => store.position_at(t).await?,
    })
}
