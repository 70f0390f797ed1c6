//! Time travel: an account's view as of a past log position or time.
//!
//! The cut is a global log position (a time is first turned into the last
//! position recorded at or before it; `recorded_at` never decreases along
//! the log, so that is a clean prefix). The view starts from the newest
//! trusted snapshot at or before the cut and replays the account's stream
//! from there, stopping at the first event past the cut.

use iam_domain::ids::AccountId;
use iam_event_store::{EventStore, Position, Until};

use crate::error::ProjectionError;
use crate::snapshot;
use crate::view::AccountView;

/// The view of `account` with every event at or before `until` applied and
/// nothing after.
pub async fn account_as_of(
    store: &dyn EventStore,
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
    loop {
        let batch = store.read_stream(&stream, view.stream_version, 1000).await?;
        if batch.is_empty() {
            break;
        }
        for event in &batch {
            if event.position > cut {
                return Ok(view);
            }
            view.apply(event)?;
        }
    }
    Ok(view)
}

/// The log position a view as of `until` is cut at.
pub async fn cut_position(store: &dyn EventStore, until: Until) -> Result<Position, ProjectionError> {
    Ok(match until {
        Until::Position(p) => p,
        Until::Time(t) => store.position_at(t).await?,
    })
}
