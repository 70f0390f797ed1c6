//! Snapshots of account views, so time travel and restarts need not replay
//! the whole log.
//!
//! A snapshot is trusted only when its schema version is exactly the one this
//! build writes: the snapshot format and the domain's event schema are both
//! part of it, because a state shape produced by other code may differ from
//! what `evolve` builds today. Anything else — an unknown version, bytes that
//! do not decode — is ignored and the view is rebuilt from the log.
//!
//! Every snapshot and checkpoint also carries an HMAC-SHA256 over its name,
//! position, schema version and bytes under a [`SnapshotKey`] (the server
//! derives it from the master key). One whose MAC does not check out — its
//! row was edited in the database, or it was saved under another key — is
//! ignored the same way, with a warning: snapshots are a cache of the log,
//! and a cache that anyone with write access to the database could edit
//! would change the served state without an event.

use iam_domain::ids::AccountId;
use iam_domain::names::NameKey;
use iam_domain::state::User;
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
/// and 4 folded Greek final sigma differently). 5: an account's snapshot in
/// two parts that decode in parallel (see [`encode`]). 6: the bytes end with
/// an HMAC-SHA256 of the snapshot (see [`SnapshotKey`]). 7: the state
/// records the credential report generated last.
const FORMAT: u32 = 7;

/// The key that authenticates snapshots and checkpoints (HMAC-SHA256).
/// Debug never prints it.
#[derive(Clone)]
pub struct SnapshotKey([u8; 32]);

impl SnapshotKey {
    /// The label the server derives this key from the master key with
    /// (`MasterKey::derive`), so every node with the same master key trusts
    /// the same snapshots.
    pub const LABEL: &'static [u8] = b"iamd snapshot mac v1";

    pub fn from_bytes(bytes: [u8; 32]) -> SnapshotKey {
        SnapshotKey(bytes)
    }

    /// A random key of this process: snapshots it saves are trusted by this
    /// process only, never by another one (what a projection configured
    /// without a key uses).
    pub fn ephemeral() -> SnapshotKey {
        static KEY: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
        SnapshotKey(*KEY.get_or_init(|| {
            let mut bytes = [0u8; 32];
            bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
            bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
            bytes
        }))
    }

    fn mac(&self, name: &str, position: Position, schema_version: u32, payload: &[u8]) -> Hmac {
        let mut mac = <Hmac as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"iamd snapshot\0");
        mac.update(&(name.len() as u64).to_le_bytes());
        mac.update(name.as_bytes());
        mac.update(&position.0.to_le_bytes());
        mac.update(&schema_version.to_le_bytes());
        mac.update(payload);
        mac
    }
}

impl std::fmt::Debug for SnapshotKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SnapshotKey(..)")
    }
}

type Hmac = hmac::Hmac<sha2::Sha256>;
use hmac::Mac;

/// Length of the MAC at the end of a snapshot's bytes.
const MAC_LEN: usize = 32;

/// `snapshot` with the MAC of its bytes appended.
fn sealed(key: &SnapshotKey, mut snapshot: Snapshot) -> Snapshot {
    let tag = key
        .mac(
            &snapshot.name,
            snapshot.position,
            snapshot.schema_version,
            &snapshot.data,
        )
        .finalize()
        .into_bytes();
    snapshot.data.extend_from_slice(&tag);
    snapshot
}

/// The bytes of a snapshot of this build's schema version whose MAC checks
/// out under `key`; `None` for anything else.
fn authenticated<'a>(key: &SnapshotKey, snapshot: &'a Snapshot) -> Option<&'a [u8]> {
    let split = snapshot.data.len().checked_sub(MAC_LEN)?;
    let (payload, tag) = snapshot.data.split_at(split);
    key.mac(
        &snapshot.name,
        snapshot.position,
        snapshot.schema_version,
        payload,
    )
    .verify_slice(tag)
    .ok()?;
    Some(payload)
}

/// Whether a stored snapshot or checkpoint carries a valid MAC under `key`
/// (what `iamd verify` checks; it says nothing about its schema version).
pub fn is_authentic(key: &SnapshotKey, snapshot: &Snapshot) -> bool {
    authenticated(key, snapshot).is_some()
}

fn forged(snapshot: &Snapshot) {
    tracing::warn!(
        name = %snapshot.name,
        position = snapshot.position.0,
        "a snapshot fails its MAC (changed in the database, or saved under another master key); \
         ignoring it and rebuilding from the log"
    );
}

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

impl Saved {
    fn of(view: &AccountView) -> Saved {
        Saved {
            account_id: view.account_id.clone(),
            stream_version: view.stream_version,
            position: view.position.0,
            state: view.state.clone(),
        }
    }

    fn into_view(self) -> AccountView {
        AccountView::from_parts(
            self.account_id,
            self.state,
            self.stream_version,
            Position(self.position),
        )
    }
}

/// An account's snapshot: two MessagePack parts, the first half of the
/// users (by name) and the rest of the view, framed as `[length of the
/// first part, u64 LE][first][rest]`. Users are most of a large account,
/// and time travel decodes a whole snapshot before it can answer, so the
/// two parts, of similar size, decode on two threads.
pub fn encode(key: &SnapshotKey, account: &AccountId, view: &AccountView) -> Snapshot {
    let mut saved = Saved::of(view);
    let rest = &mut saved.state;
    let users = match rest.users.keys().nth(rest.users.len() / 2).cloned() {
        Some(middle) => {
            let (first, mut second) = rest.users.split(&middle);
            if let Some(user) = view.state.users.get(&middle) {
                second.insert(middle, user.clone());
            }
            rest.users = second;
            first
        }
        None => Default::default(),
    };
    // Serializing plain data to a Vec cannot fail; an empty snapshot would
    // be ignored on load anyway.
    let users = rmp_serde::to_vec_named(&users).unwrap_or_default();
    let rest = rmp_serde::to_vec_named(&saved).unwrap_or_default();
    let mut data = Vec::with_capacity(8 + users.len() + rest.len());
    data.extend_from_slice(&(users.len() as u64).to_le_bytes());
    data.extend_from_slice(&users);
    data.extend_from_slice(&rest);
    sealed(
        key,
        Snapshot {
            name: name(account),
            position: view.position,
            schema_version: schema_version(),
            data,
        },
    )
}

/// The view in a snapshot, or `None` when it must not be trusted.
pub fn decode(key: &SnapshotKey, snapshot: &Snapshot) -> Option<AccountView> {
    if snapshot.schema_version != schema_version() {
        tracing::info!(
            name = %snapshot.name,
            found = snapshot.schema_version,
            expected = schema_version(),
            "ignoring a snapshot of another schema version; rebuilding from the log"
        );
        return None;
    }
    let unreadable = |reason: &dyn std::fmt::Display| {
        tracing::warn!(name = %snapshot.name, %reason, "unreadable snapshot; ignoring it");
        None
    };
    let Some(data) = authenticated(key, snapshot) else {
        forged(snapshot);
        return None;
    };
    let Some((length, parts)) = data.split_first_chunk::<8>() else {
        return unreadable(&"shorter than its frame");
    };
    let Some((users, rest)) = usize::try_from(u64::from_le_bytes(*length))
        .ok()
        .filter(|&n| n <= parts.len())
        .map(|n| parts.split_at(n))
    else {
        return unreadable(&"its first part runs past its end");
    };
    let (users, rest) = std::thread::scope(|scope| {
        let users = scope
            .spawn(|| rmp_serde::from_slice::<iam_domain::state::EntityMap<NameKey, User>>(users));
        let rest = rmp_serde::from_slice::<Saved>(rest);
        (users.join(), rest)
    });
    let (mut saved, users) = match (rest, users) {
        (Ok(saved), Ok(Ok(users))) => (saved, users),
        (Err(error), _) | (_, Ok(Err(error))) => return unreadable(&error),
        (_, Err(_)) => return unreadable(&"decoding its users panicked"),
    };
    if saved.position != snapshot.position.0 {
        tracing::warn!(name = %snapshot.name, "snapshot position disagrees with its row; ignoring it");
        return None;
    }
    saved.state.users = users.union(saved.state.users);
    Some(saved.into_view())
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
    key: &SnapshotKey,
    position: Position,
    log_hash: &str,
    views: impl IntoIterator<Item = &'a AccountView>,
) -> Snapshot {
    let checkpoint = Checkpoint {
        position: position.0,
        log_hash: log_hash.to_owned(),
        accounts: views.into_iter().map(Saved::of).collect(),
    };
    sealed(
        key,
        Snapshot {
            name: CHECKPOINT.to_owned(),
            position,
            schema_version: schema_version(),
            data: rmp_serde::to_vec_named(&checkpoint).unwrap_or_default(),
        },
    )
}

/// The hash of the log's event it was taken at and the views in a
/// checkpoint, or `None` when it must not be trusted (another schema
/// version, undecodable, or inconsistent with its row: a view past the
/// checkpoint's position, or without an account).
pub fn decode_checkpoint(
    key: &SnapshotKey,
    snapshot: &Snapshot,
) -> Option<(String, Vec<AccountView>)> {
    if snapshot.schema_version != schema_version() {
        tracing::info!(
            found = snapshot.schema_version,
            expected = schema_version(),
            "ignoring a checkpoint of another schema version; replaying the log"
        );
        return None;
    }
    let Some(data) = authenticated(key, snapshot) else {
        forged(snapshot);
        return None;
    };
    let checkpoint = match rmp_serde::from_slice::<Checkpoint>(data) {
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
        .map(Saved::into_view)
        .collect();
    Some((checkpoint.log_hash, views))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use iam_domain::ids::UserId;
    use iam_domain::names::UserName;
    use iam_domain::{decide, Command, Quotas};

    fn view() -> (AccountId, AccountView) {
        let account = AccountId::parse("123456789012").unwrap();
        let now = chrono::Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap();
        let mut view = AccountView::default();
        let mut commands = vec![Command::CreateAccount {
            account_id: account.clone(),
            now,
        }];
        for i in 0..50u32 {
            commands.push(Command::CreateUser {
                user_name: UserName::parse(&format!("user-{i}")).unwrap(),
                path: None,
                user_id: UserId::parse(&format!("AIDA{i:016}")).unwrap(),
                permissions_boundary: None,
                tags: vec![],
                now,
            });
        }
        let mut version = 0;
        for command in commands {
            for event in decide(&view.state, &command, &Quotas::default()).unwrap() {
                version += 1;
                view.apply_event(&event, version, Position(version * 2));
            }
        }
        (account, view)
    }

    #[test]
    fn a_snapshot_decodes_to_the_view_it_was_made_from() {
        let (account, view) = view();
        let snapshot = encode(&key(), &account, &view);
        assert_eq!(decode(&key(), &snapshot).unwrap(), view);
    }

    fn key() -> SnapshotKey {
        SnapshotKey::from_bytes([9; 32])
    }

    #[test]
    fn a_snapshot_with_a_bad_mac_is_ignored() {
        let (account, view) = view();
        let good = encode(&key(), &account, &view);
        assert!(is_authentic(&key(), &good));
        let other_key = SnapshotKey::from_bytes([10; 32]);
        assert!(!is_authentic(&other_key, &good));
        assert!(
            decode(&other_key, &good).is_none(),
            "saved under another key"
        );
        let mut flipped = good.clone();
        flipped.data[20] ^= 1;
        assert!(decode(&key(), &flipped).is_none(), "a changed byte");
        let mut renamed = good.clone();
        renamed.name = name(&AccountId::parse("210987654321").unwrap());
        assert!(
            decode(&key(), &renamed).is_none(),
            "moved to another account"
        );
        let checkpoint = encode_checkpoint(&key(), view.position, &"0".repeat(64), [&view]);
        assert!(decode_checkpoint(&key(), &checkpoint).is_some());
        assert!(decode_checkpoint(&other_key, &checkpoint).is_none());
        assert_eq!(format!("{:?}", key()), "SnapshotKey(..)");
    }

    #[test]
    fn a_damaged_snapshot_is_ignored_not_trusted() {
        // Damage that still carries a valid MAC (a bug, not tampering) is
        // refused by the decoder itself.
        let (account, view) = view();
        let good = encode(&key(), &account, &view);
        let payload = good.data[..good.data.len() - MAC_LEN].to_vec();
        let damaged = |data: Vec<u8>| {
            sealed(
                &key(),
                Snapshot {
                    data,
                    ..good.clone()
                },
            )
        };
        assert!(
            decode(&key(), &damaged(vec![1, 2, 3])).is_none(),
            "no frame"
        );
        let mut too_long = payload.clone();
        too_long[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(
            decode(&key(), &damaged(too_long)).is_none(),
            "first part past the end"
        );
        let truncated = payload[..payload.len() - 10].to_vec();
        assert!(
            decode(&key(), &damaged(truncated)).is_none(),
            "second part cut short"
        );
        let moved = sealed(
            &key(),
            Snapshot {
                position: Position(1),
                data: payload.clone(),
                ..good.clone()
            },
        );
        assert!(
            decode(&key(), &moved).is_none(),
            "position disagrees with its row"
        );
    }
}
