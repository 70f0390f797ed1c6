//! The hash chain that makes tampering with the log evident.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::canonical::write_value;
use crate::event::RecordedEvent;

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The "previous hash" of the first event.
    pub const GENESIS: Hash = Hash([0; 32]);

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// From stored bytes; `None` unless exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Hash> {
        <[u8; 32]>::try_from(bytes).ok().map(Hash)
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl std::fmt::Display for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The fields that are hashed, in canonical (RFC 8785) form: an object with
/// the keys `event_id, event_type, metadata, payload, position, recorded_at,
/// schema_version, stream_id, stream_version` (already in canonical order).
/// `recorded_at` is RFC 3339 UTC with exactly six fractional digits, the
/// precision both backends store.
pub struct HashInput<'a> {
    pub position: u64,
    pub stream_id: &'a str,
    pub stream_version: u64,
    pub event_id: &'a uuid::Uuid,
    pub event_type: &'a str,
    pub schema_version: u32,
    pub payload: &'a serde_json::Value,
    pub metadata: &'a serde_json::Value,
    pub recorded_at: &'a chrono::DateTime<chrono::Utc>,
}

impl HashInput<'_> {
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(&canonical_prefix(
            self.event_id,
            self.event_type,
            self.metadata,
            self.payload,
        ));
        out.extend_from_slice(self.position.to_string().as_bytes());
        out.extend_from_slice(b",\"recorded_at\":\"");
        out.extend_from_slice(format_recorded_at(self.recorded_at).as_bytes());
        out.extend_from_slice(&canonical_middle(self.schema_version, self.stream_id));
        out.extend_from_slice(self.stream_version.to_string().as_bytes());
        out.push(b'}');
        out
    }

    /// `SHA-256(previous || canonical encoding)`.
    pub fn chain(&self, previous: &Hash) -> Hash {
        let mut hasher = Sha256::new();
        hasher.update(previous.0);
        hasher.update(self.canonical_bytes());
        Hash(hasher.finalize().into())
    }
}

/// The canonical bytes before the position: everything the writer knows
/// before it holds the head lock. The PostgreSQL append function completes
/// the encoding under the lock (see migrations/postgres), so these pieces are
/// the single definition both sides use.
pub(crate) fn canonical_prefix(
    event_id: &uuid::Uuid,
    event_type: &str,
    metadata: &serde_json::Value,
    payload: &serde_json::Value,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(b"{\"event_id\":\"");
    out.extend_from_slice(event_id.hyphenated().to_string().as_bytes());
    out.extend_from_slice(b"\",\"event_type\":");
    write_value(&serde_json::Value::String(event_type.to_owned()), &mut out);
    out.extend_from_slice(b",\"metadata\":");
    write_value(metadata, &mut out);
    out.extend_from_slice(b",\"payload\":");
    write_value(payload, &mut out);
    out.extend_from_slice(b",\"position\":");
    out
}

/// The canonical bytes between `recorded_at`'s value and the stream version.
pub(crate) fn canonical_middle(schema_version: u32, stream_id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(b"\",\"schema_version\":");
    out.extend_from_slice(schema_version.to_string().as_bytes());
    out.extend_from_slice(b",\"stream_id\":");
    write_value(&serde_json::Value::String(stream_id.to_owned()), &mut out);
    out.extend_from_slice(b",\"stream_version\":");
    out
}

/// `recorded_at` as hashed: RFC 3339, UTC, exactly six fractional digits
/// (PostgreSQL: `to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`).
pub(crate) fn format_recorded_at(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

impl<'a> From<&'a RecordedEvent> for HashInput<'a> {
    fn from(e: &'a RecordedEvent) -> Self {
        HashInput {
            position: e.position.0,
            stream_id: &e.stream_id,
            stream_version: e.stream_version,
            event_id: &e.event_id,
            event_type: &e.event_type,
            schema_version: e.schema_version,
            payload: &e.payload,
            metadata: &e.metadata,
            recorded_at: &e.recorded_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::to_canonical_bytes;
    use serde_json::json;

    #[test]
    fn hand_built_canonical_form_equals_rfc8785_of_the_same_object() {
        let id = uuid::Uuid::nil();
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 123_000).unwrap();
        let payload = json!({"z": 1, "a": "\u{0}x"});
        let metadata = json!({"actor": "arn:aws:iam::123456789012:root"});
        let input = HashInput {
            position: 7,
            stream_id: "account-123456789012",
            stream_version: 3,
            event_id: &id,
            event_type: "UserCreated",
            schema_version: 1,
            payload: &payload,
            metadata: &metadata,
            recorded_at: &at,
        };
        let object = json!({
            "position": 7, "stream_id": "account-123456789012", "stream_version": 3,
            "event_id": id.to_string(), "event_type": "UserCreated", "schema_version": 1,
            "payload": payload, "metadata": metadata,
            "recorded_at": "2023-11-14T22:13:20.000123Z",
        });
        assert_eq!(input.canonical_bytes(), to_canonical_bytes(&object));
        assert_ne!(
            input.chain(&Hash::GENESIS),
            input.chain(&input.chain(&Hash::GENESIS))
        );
    }
}
