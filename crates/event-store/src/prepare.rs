//! Backend-independent steps of an append: validation, and the positions,
//! versions and hashes of a batch computed under the head lock.

use chrono::{DateTime, Timelike, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::canonical::to_canonical_string;
use crate::error::{Result, StoreError};
use crate::event::{AppendOutcome, NewEvent, Position};
use crate::hash::{Hash, HashInput};

/// The most events one append may carry.
pub const MAX_BATCH: usize = 10_000;

pub(crate) struct PreparedEvent {
    pub position: u64,
    pub stream_version: u64,
    pub payload_json: String,
    pub metadata_json: String,
    pub hash: Hash,
}

/// Rejects what no backend could store faithfully. NUL characters are
/// refused because PostgreSQL's `jsonb` cannot hold them, and both backends
/// must accept exactly the same events.
pub(crate) fn validate(stream: &str, events: &[NewEvent]) -> Result<()> {
    if stream.is_empty() || stream.len() > 512 || stream.contains('\0') {
        return Err(StoreError::InvalidEvent(
            "stream id must be 1 to 512 bytes without NUL".into(),
        ));
    }
    if events.is_empty() {
        return Err(StoreError::InvalidEvent(
            "an append needs at least one event".into(),
        ));
    }
    if events.len() > MAX_BATCH {
        return Err(StoreError::InvalidEvent(format!(
            "{} events in one append; at most {MAX_BATCH}",
            events.len()
        )));
    }
    for (i, e) in events.iter().enumerate() {
        if e.event_type.is_empty() || e.event_type.len() > 256 || e.event_type.contains('\0') {
            return Err(StoreError::InvalidEvent(format!(
                "event {i}: event type must be 1 to 256 bytes without NUL"
            )));
        }
        if !e.metadata.is_object() {
            return Err(StoreError::InvalidEvent(format!(
                "event {i}: metadata must be a JSON object"
            )));
        }
        if contains_nul(&e.payload) || contains_nul(&e.metadata) {
            return Err(StoreError::InvalidEvent(format!(
                "event {i}: JSON strings must not contain NUL (U+0000)"
            )));
        }
        if events[..i].iter().any(|o| o.event_id == e.event_id) {
            return Err(StoreError::InvalidEvent(format!(
                "event {i}: event id {} appears twice in one append",
                e.event_id
            )));
        }
    }
    Ok(())
}

fn contains_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(a) => a.iter().any(contains_nul),
        Value::Object(m) => m.iter().any(|(k, v)| k.contains('\0') || contains_nul(v)),
        _ => false,
    }
}

/// Both backends store microseconds; hashing the truncated value makes the
/// hash survive the round trip.
pub(crate) fn truncate_to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    let nanos = t.nanosecond();
    t.with_nanosecond(nanos - nanos % 1_000).unwrap_or(t)
}

/// Assigns positions, stream versions and chained hashes to a batch.
pub(crate) fn prepare_batch(
    stream: &str,
    current_version: u64,
    head_position: u64,
    head_hash: &Hash,
    recorded_at: DateTime<Utc>,
    events: &[NewEvent],
) -> Vec<PreparedEvent> {
    let mut previous = *head_hash;
    let mut out = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let position = head_position + 1 + i as u64;
        let stream_version = current_version + 1 + i as u64;
        let hash = HashInput {
            position,
            stream_id: stream,
            stream_version,
            event_id: &e.event_id,
            event_type: &e.event_type,
            schema_version: e.schema_version,
            payload: &e.payload,
            metadata: &e.metadata,
            recorded_at: &recorded_at,
        }
        .chain(&previous);
        previous = hash;
        out.push(PreparedEvent {
            position,
            stream_version,
            payload_json: to_canonical_string(&e.payload),
            metadata_json: to_canonical_string(&e.metadata),
            hash,
        });
    }
    out
}

/// The outcome of the append that first stored `ids`, given the stored rows
/// (position, stream, stream version, event id, recorded_at) of those ids.
/// Only a retry of the same append — all ids stored, in the same stream, in
/// the same order — is a duplicate; anything else is a mismatch.
pub(crate) fn original_outcome(
    stream: &str,
    ids: &[Uuid],
    stored: &[(u64, String, u64, Uuid, DateTime<Utc>)],
) -> Result<AppendOutcome> {
    let same = stored.len() == ids.len()
        && stored
            .iter()
            .zip(ids)
            .all(|(row, id)| row.1 == stream && row.3 == *id)
        && stored.windows(2).all(|w| w[1].0 == w[0].0 + 1);
    match (same, stored.first(), stored.last()) {
        (true, Some(first), Some(last)) => Ok(AppendOutcome {
            first_position: Position(first.0),
            last_position: Position(last.0),
            stream_version: last.2,
            recorded_at: last.4,
            duplicate: true,
        }),
        _ => Err(StoreError::IdempotencyMismatch {
            event_id: stored
                .first()
                .map(|r| r.3)
                .or_else(|| ids.first().copied())
                .unwrap_or_default(),
        }),
    }
}
