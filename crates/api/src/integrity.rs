//! What ties the database to the master key, which lives outside it: the
//! keys derived from the master key, the database's key check, and the
//! signed digests of the log's head (see docs/security.md, "Log integrity").
//!
//! - **Snapshot key**: HMAC key of snapshots and checkpoints
//!   ([`SnapshotKey::LABEL`]).
//! - **Key check**: a snapshot row ([`KEY_CHECK`], position 0, never pruned)
//!   holding a value derived from the master key. A node whose key derives
//!   another value refuses to start, instead of serving with secrets it
//!   cannot open.
//! - **Digests**: every `every_events` events, or every `interval` when the
//!   log moved, a node signs the head (position, hash, `recorded_at`) with an
//!   Ed25519 key derived from the master key, and saves the signed digest as
//!   a snapshot row ([`DIGEST`], at the head's position). Every node with
//!   the same master key signs with the same key, and nothing new needs a
//!   backup; the public key is written to `<data-dir>/digest.pub`, outside
//!   the database, for `iamd verify`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use iam_domain::secrets::MasterKey;
use iam_event_store::{EventStore, Head, Position, Snapshot};
use iam_projection::snapshot::SnapshotKey;
use serde::{Deserialize, Serialize};

/// Snapshot row name of the master key check (position 0).
pub const KEY_CHECK: &str = "master-key-check";
const KEY_CHECK_LABEL: &[u8] = b"iamd master key check v1";
const KEY_CHECK_VERSION: u32 = 1;

/// Snapshot row name of the signed digests of the log's head (one row per
/// signed position).
pub const DIGEST: &str = "log-digest";
const DIGEST_LABEL: &[u8] = b"iamd log digest signing key v1";
const DIGEST_VERSION: u32 = 1;

/// The file in the data dir holding the digests' public key (hex).
pub const DIGEST_PUBLIC_KEY_FILE: &str = "digest.pub";

/// The key snapshots and checkpoints are authenticated with.
pub fn snapshot_key(master: &MasterKey) -> SnapshotKey {
    SnapshotKey::from_bytes(master.derive(SnapshotKey::LABEL))
}

/// The key digests are signed with.
pub fn digest_signing_key(master: &MasterKey) -> SigningKey {
    SigningKey::from_bytes(&master.derive(DIGEST_LABEL))
}

/// Whether this database already depends on a master key: it has a key
/// check, or (a database from before key checks) events.
pub async fn database_is_sealed(store: &dyn EventStore) -> anyhow::Result<bool> {
    Ok(store.load_snapshot(KEY_CHECK, Position(0)).await?.is_some()
        || store.head().await?.position > Position::START)
}

/// What the key check says about a master key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCheck {
    /// The database was sealed with this key.
    Matches,
    /// The database was sealed with another key.
    Mismatch,
    /// The database has no key check yet.
    Absent,
}

fn key_check_value(master: &MasterKey) -> Vec<u8> {
    master.derive(KEY_CHECK_LABEL).to_vec()
}

/// Compares `master` with the database's key check.
pub async fn key_check(store: &dyn EventStore, master: &MasterKey) -> anyhow::Result<KeyCheck> {
    Ok(match store.load_snapshot(KEY_CHECK, Position(0)).await? {
        None => KeyCheck::Absent,
        Some(saved) => {
            use subtle::ConstantTimeEq;
            let expected = key_check_value(master);
            if saved.schema_version == KEY_CHECK_VERSION
                && bool::from(saved.data.ct_eq(&expected[..]))
            {
                KeyCheck::Matches
            } else {
                KeyCheck::Mismatch
            }
        }
    })
}

/// At start: refuses a master key other than the one the database was
/// sealed with, and seals a database that has no key check yet.
pub async fn confirm_master_key(
    store: &dyn EventStore,
    master: &MasterKey,
    data_dir: &Path,
) -> anyhow::Result<()> {
    match key_check(store, master).await? {
        KeyCheck::Matches => Ok(()),
        KeyCheck::Mismatch => bail!(
            "the master key does not match the one this database was sealed with; restore {} or set IAMD_MASTER_KEY",
            data_dir.join("master.key").display()
        ),
        KeyCheck::Absent => {
            store
                .save_snapshot(&Snapshot {
                    name: KEY_CHECK.to_owned(),
                    position: Position(0),
                    schema_version: KEY_CHECK_VERSION,
                    data: key_check_value(master),
                })
                .await?;
            // Two nodes with different keys starting on a new database at
            // once: the later save wins, and the other node refuses here.
            if key_check(store, master).await? != KeyCheck::Matches {
                bail!(
                    "another node sealed this database with a different master key just now; restore {} or set IAMD_MASTER_KEY",
                    data_dir.join("master.key").display()
                );
            }
            tracing::info!("sealed the database with this node's master key (key check recorded)");
            Ok(())
        }
    }
}

/// A signed statement that the log's event at `position` has `hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    pub position: u64,
    /// Hex SHA-256 of the event at `position` (the chain covers all before it).
    pub hash: String,
    /// When that event was recorded (RFC 3339, microseconds).
    pub recorded_at: String,
    /// Hex Ed25519 public key that signed it.
    pub public_key: String,
    /// Hex Ed25519 signature of [`Digest::message`].
    pub signature: String,
}

impl Digest {
    /// The signed bytes: a fixed label and the three fields, one per line.
    fn message(position: u64, hash: &str, recorded_at: &str) -> Vec<u8> {
        format!("iamd log digest v1\nposition {position}\nhash {hash}\nrecorded_at {recorded_at}\n")
            .into_bytes()
    }

    /// Signs the head of the log.
    pub fn sign(key: &SigningKey, head: &Head) -> Digest {
        let hash = head.hash.to_hex();
        let recorded_at = head
            .recorded_at
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
            .unwrap_or_default();
        let signature = key.sign(&Digest::message(head.position.0, &hash, &recorded_at));
        Digest {
            position: head.position.0,
            hash,
            recorded_at,
            public_key: hex::encode(key.verifying_key().as_bytes()),
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// Whether `key` signed exactly this digest.
    pub fn is_signed_by(&self, key: &VerifyingKey) -> bool {
        let Ok(bytes) = hex::decode(&self.signature) else {
            return false;
        };
        let Ok(signature) = Signature::from_slice(&bytes) else {
            return false;
        };
        key.verify(
            &Digest::message(self.position, &self.hash, &self.recorded_at),
            &signature,
        )
        .is_ok()
    }

    fn to_snapshot(&self) -> Snapshot {
        Snapshot {
            name: DIGEST.to_owned(),
            position: Position(self.position),
            schema_version: DIGEST_VERSION,
            data: serde_json::to_vec(self).unwrap_or_default(),
        }
    }

    /// The digest in a stored row (`None`: not a digest this build reads).
    pub fn from_snapshot(saved: &Snapshot) -> Option<Digest> {
        if saved.name != DIGEST || saved.schema_version != DIGEST_VERSION {
            return None;
        }
        serde_json::from_slice(&saved.data).ok()
    }
}

/// Parses a public key in hex (the `digest.pub` file).
pub fn parse_public_key(hex_text: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = hex::decode(hex_text.trim()).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// Writes `<data-dir>/digest.pub` unless it exists; warns when an existing
/// one holds another key.
pub fn write_public_key(data_dir: &Path, key: &VerifyingKey) -> anyhow::Result<()> {
    let path = data_dir.join(DIGEST_PUBLIC_KEY_FILE);
    let hex_key = hex::encode(key.as_bytes());
    match std::fs::read_to_string(&path) {
        Ok(existing) if existing.trim() == hex_key => Ok(()),
        Ok(_) => {
            tracing::warn!(
                path = %path.display(),
                "the digest public key file holds another key than this node's; leaving it"
            );
            Ok(())
        }
        Err(_) => {
            std::fs::create_dir_all(data_dir)?;
            std::fs::write(&path, format!("{hex_key}\n"))
                .with_context(|| format!("cannot write {}", path.display()))
        }
    }
}

/// How often digests are signed.
#[derive(Debug, Clone)]
pub struct DigestSchedule {
    /// Sign when the head is this many events past the last digest.
    pub every_events: u64,
    /// Sign when the log moved and this long has passed since the last one.
    pub interval: Duration,
}

impl DigestSchedule {
    /// 1,000 events or 5 minutes; `IAMD_DIGEST_EVERY_EVENTS` and
    /// `IAMD_DIGEST_INTERVAL_SECS` override them.
    pub fn from_env() -> DigestSchedule {
        let number = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|n| *n > 0)
        };
        DigestSchedule {
            every_events: number("IAMD_DIGEST_EVERY_EVENTS").unwrap_or(1000),
            interval: Duration::from_secs(number("IAMD_DIGEST_INTERVAL_SECS").unwrap_or(300)),
        }
    }
}

/// Signs and saves a digest of the current head if it is past `last`;
/// returns the head position signed.
async fn sign_head(
    store: &dyn EventStore,
    key: &SigningKey,
    last: Position,
) -> anyhow::Result<Position> {
    let head = store.head().await?;
    sign_if_past(store, key, &head, last).await
}

/// Signs and saves a digest of `head` if it is past `last`; returns the
/// position the newest digest covers.
async fn sign_if_past(
    store: &dyn EventStore,
    key: &SigningKey,
    head: &Head,
    last: Position,
) -> anyhow::Result<Position> {
    if head.position <= last {
        return Ok(last);
    }
    store
        .save_snapshot(&Digest::sign(key, head).to_snapshot())
        .await?;
    tracing::debug!(position = head.position.0, "signed a digest of the log");
    Ok(head.position)
}

/// At start: signs the head if no digest covers it yet (so a node that
/// never runs a whole interval still leaves its writes signed); returns the
/// position the newest digest covers. Failures are logged, not fatal.
pub async fn sign_unsigned_head(store: &dyn EventStore, key: &SigningKey) -> Position {
    let newest = async {
        let head = store.head().await?;
        let saved = store.load_snapshot(DIGEST, head.position).await?;
        let last = saved.map(|s| s.position).unwrap_or(Position::START);
        sign_if_past(store, key, &head, last).await
    };
    match newest.await {
        Ok(position) => position,
        Err(error) => {
            tracing::warn!(%error, "could not sign a digest of the log");
            Position::START
        }
    }
}

/// Signs digests of the head for as long as it runs, on `schedule`, after
/// one covering `last`. Failures are logged and retried at the next turn.
pub async fn sign_digests(
    store: Arc<dyn EventStore>,
    key: SigningKey,
    schedule: DigestSchedule,
    mut last: Position,
) {
    let appends = store.append_signal();
    let mut looked_at = tokio::time::Instant::now();
    let tick = schedule.interval.min(Duration::from_secs(1));
    loop {
        tokio::time::sleep(tick).await;
        let hint = *appends.borrow();
        let time_due = looked_at.elapsed() >= schedule.interval;
        if time_due || hint.0 >= last.0.saturating_add(schedule.every_events) {
            looked_at = tokio::time::Instant::now();
            match sign_head(store.as_ref(), &key, last).await {
                Ok(signed) => last = signed,
                Err(error) => tracing::warn!(%error, "could not sign a digest of the log"),
            }
        }
    }
}
