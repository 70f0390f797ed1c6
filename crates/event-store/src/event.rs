//! The shapes of events going into and coming out of the log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::hash::Hash;

/// A place in the global log. Position 1 is the first event; `Position::START`
/// (0) means "before the first event", so `read_all(Position::START, ..)` reads
/// from the beginning.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Position(pub u64);

impl Position {
    /// Before the first event.
    pub const START: Position = Position(0);

    pub fn next(self) -> Position {
        Position(self.0 + 1)
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What the writer believes the stream's version to be. The version of a
/// stream is the number of events in it; a stream that does not exist is at 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpectedVersion {
    /// The stream must not exist yet (version 0).
    NoStream,
    /// The stream must be at exactly this version.
    Exact(u64),
    /// No check: append after whatever is there.
    Any,
}

impl ExpectedVersion {
    /// The version the stream must be at, if any is required.
    pub fn required(self) -> Option<u64> {
        match self {
            ExpectedVersion::NoStream => Some(0),
            ExpectedVersion::Exact(v) => Some(v),
            ExpectedVersion::Any => None,
        }
    }
}

impl std::fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::Exact(v) => write!(f, "version {v}"),
            ExpectedVersion::Any => f.write_str("any version"),
        }
    }
}

/// An event as the writer hands it to the store. The store assigns position,
/// stream version, `recorded_at` and hash.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Chosen by the writer; appending an id that is already stored is a no-op
    /// that returns the original outcome (idempotent retries).
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    pub payload: serde_json::Value,
    /// Who did it and from where: actor ARN, access key or session, request
    /// id, source IP, user agent, correlation and causation ids. The store
    /// does not interpret it beyond requiring a JSON object.
    pub metadata: serde_json::Value,
}

impl NewEvent {
    /// An event with a fresh (time-ordered) id and empty metadata.
    pub fn new(
        event_type: impl Into<String>,
        schema_version: u32,
        payload: serde_json::Value,
    ) -> Self {
        NewEvent {
            event_id: Uuid::now_v7(),
            event_type: event_type.into(),
            schema_version,
            payload,
            metadata: serde_json::Value::Object(Default::default()),
        }
    }

    pub fn with_metadata(mut self, metadata: serde_json::Value) -> Self {
        self.metadata = metadata;
        self
    }

    pub fn with_id(mut self, event_id: Uuid) -> Self {
        self.event_id = event_id;
        self
    }
}

/// An event as stored in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedEvent {
    pub position: Position,
    pub stream_id: String,
    /// 1 for the first event of a stream.
    pub stream_version: u64,
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    pub payload: serde_json::Value,
    pub metadata: serde_json::Value,
    /// Never decreases along the log; microsecond precision.
    pub recorded_at: DateTime<Utc>,
    /// SHA-256 of the previous event's hash and this event's canonical form.
    pub hash: Hash,
}

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendOutcome {
    pub first_position: Position,
    pub last_position: Position,
    /// The stream's version after the append (its last event's version).
    pub stream_version: u64,
    pub recorded_at: DateTime<Utc>,
    /// True when every event id was already stored and nothing was written.
    pub duplicate: bool,
}

/// The end of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub position: Position,
    pub hash: Hash,
    pub recorded_at: Option<DateTime<Utc>>,
}

/// Where a bounded read stops (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    Position(Position),
    /// Every event recorded at or before this instant.
    Time(DateTime<Utc>),
}

/// A metadata field the log keeps an index of, so the audit trail's
/// questions "what did this actor do" and "what was done to this" read the
/// events that answer them instead of scanning the log.
///
/// The store interprets metadata no further than this: each variant names a
/// JSON path whose string value is indexed (an event without it is simply
/// not in that index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataIndex {
    /// `metadata.actor.principal_arn`: who did it.
    Actor,
    /// `metadata.target`: what it was done to.
    Target,
}

/// A projection's saved state at a log position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub name: String,
    pub position: Position,
    pub schema_version: u32,
    pub data: Vec<u8>,
}
