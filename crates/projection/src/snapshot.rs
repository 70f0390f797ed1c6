//! Snapshots of account views, so time travel and restarts need not replay
//! the whole log.
//!
//! A snapshot is trusted only when its schema version is exactly the one this
//! build writes: the snapshot format and the domain's event schema are both
//! part of it, because a state shape produced by other code may differ from
//! what `evolve` builds today. Anything else — an unknown version, bytes that
//! do not decode — is ignored and the view is rebuilt from the log.

use iam_domain::ids::AccountId;
use iam_domain::AccountState;
use iam_event_store::{Position, Snapshot};
use serde::{Deserialize, Serialize};

use crate::view::AccountView;

/// Bump when the encoding below changes. 1: JSON; 2: MessagePack with
/// named fields (self-describing like JSON, so the domain's internally
/// tagged enums decode, but about half the size and much faster to decode —
/// time travel decodes a whole account's state from it). 3: the state
/// records every unique id it has issued (`issued_ids`). 4: non-ASCII name
/// keys fold exactly as `str::to_lowercase` (development builds between 3
/// and 4 folded Greek final sigma differently).
const FORMAT: u32 = 4;

/// The schema version this build writes and trusts.
pub fn schema_version() -> u32 {
    FORMAT * 1000 + iam_domain::SCHEMA_VERSION
}

/// Snapshot name of the projection's checkpoint: every account's view at
/// one log position, so a restarting node starts there instead of at the
/// beginning of the log.
pub const CHECKPOINT: &str = "projection-checkpoint";

/// Snapshot name of an account's view.
pub fn name(account: &AccountId) -> String {
    format!("account-view/{account}")
}

#[derive(Serialize, Deserialize)]
struct Saved {
    account_id: Option<AccountId>,
    stream_version: u64,
    position: u64,
    state: AccountState,
}

pub fn encode(account: &AccountId, view: &AccountView) -> Snapshot {
    let saved = Saved {
        account_id: view.account_id.clone(),
        stream_version: view.stream_version,
        position: view.position.0,
        state: view.state.clone(),
    };
    Snapshot {
        name: name(account),
        position: view.position,
        schema_version: schema_version(),
        // Serializing plain data to a Vec cannot fail; an empty snapshot
        // would be ignored on load anyway.
        data: rmp_serde::to_vec_named(&saved).unwrap_or_default(),
    }
}

/// The view in a snapshot, or `None` when it must not be trusted.
pub fn decode(snapshot: &Snapshot) -> Option<AccountView> {
    if snapshot.schema_version != schema_version() {
        tracing::info!(
            name = %snapshot.name,
            found = snapshot.schema_version,
            expected = schema_version(),
            "ignoring a snapshot of another schema version; rebuilding from the log"
        );
        return None;
    }
    match rmp_serde::from_slice::<Saved>(&snapshot.data) {
        Ok(saved) if saved.position == snapshot.position.0 => Some(AccountView::from_parts(
            saved.account_id,
            saved.state,
            saved.stream_version,
            Position(saved.position),
        )),
        Ok(_) => {
            tracing::warn!(name = %snapshot.name, "snapshot position disagrees with its row; ignoring it");
            None
        }
        Err(error) => {
            tracing::warn!(name = %snapshot.name, %error, "unreadable snapshot; ignoring it");
            None
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Checkpoint {
    position: u64,
    /// Hex SHA-256 of the log's event at `position`, tying the checkpoint
    /// to this log.
    log_hash: String,
    accounts: Vec<Saved>,
}

/// A checkpoint of every account's view, all at log position `position`.
pub fn encode_checkpoint<'a>(
    position: Position,
    log_hash: &str,
    views: impl IntoIterator<Item = &'a AccountView>,
) -> Snapshot {
    let checkpoint = Checkpoint {
        position: position.0,
        log_hash: log_hash.to_owned(),
        accounts: views
            .into_iter()
            .map(|view| Saved {
                account_id: view.account_id.clone(),
                stream_version: view.stream_version,
                position: view.position.0,
                state: view.state.clone(),
            })
            .collect(),
    };
    Snapshot {
        name: CHECKPOINT.to_owned(),
        position,
        schema_version: schema_version(),
        data: rmp_serde::to_vec_named(&checkpoint).unwrap_or_default(),
    }
}

/// The hash of the log's event it was taken at and the views in a
/// checkpoint, or `None` when it must not be trusted (another schema
/// version, undecodable, or inconsistent with its row: a view past the
/// checkpoint's position, or without an account).
pub fn decode_checkpoint(snapshot: &Snapshot) -> Option<(String, Vec<AccountView>)> {
    if snapshot.schema_version != schema_version() {
        tracing::info!(
            found = snapshot.schema_version,
            expected = schema_version(),
            "ignoring a checkpoint of another schema version; replaying the log"
        );
        return None;
    }
    let checkpoint = match rmp_serde::from_slice::<Checkpoint>(&snapshot.data) {
        Ok(c) => c,
        Err(error) => {
            tracing::warn!(%error, "unreadable checkpoint; replaying the log");
            return None;
        }
    };
    let consistent = checkpoint.position == snapshot.position.0
        && checkpoint
            .accounts
            .iter()
            .all(|a| a.position <= checkpoint.position && a.account_id.is_some());
    if !consistent {
        tracing::warn!("checkpoint disagrees with its row; replaying the log");
        return None;
    }
    let views = checkpoint
        .accounts
        .into_iter()
        .map(|a| {
            AccountView::from_parts(
                a.account_id,
                a.state,
                a.stream_version,
                Position(a.position),
            )
        })
        .collect();
    Some((checkpoint.log_hash, views))
}
