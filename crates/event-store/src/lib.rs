//! The append-only event log that every IAM change in iamd is written to.
//!
//! The log is the source of truth and the compliance audit trail, so it
//! promises more than "a table of events" (see [`EventStore`]): a gap-free
//! global order in which commit order equals position order, timestamps that
//! never go backwards, optimistic concurrency per stream, idempotent appends,
//! a SHA-256 hash chain over a canonical (RFC 8785) encoding that [`verify`]
//! walks, and database triggers that refuse UPDATE, DELETE and TRUNCATE.
//!
//! **Architecture invariant:** this crate knows nothing about IAM. Events are
//! a type name, a schema version and JSON.
//!
//! Two backends implement the one trait: [`PostgresStore`] for production and
//! [`SqliteStore`], the embedded default. [`open`] picks one from a URL.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use iam_event_store::{open, ExpectedVersion, NewEvent, Position, verify, Verification};
//! let store = open("sqlite::memory:").await?;
//! let event = NewEvent::new("UserCreated", 1, serde_json::json!({"name": "alice"}));
//! let outcome = store.append("account-123456789012", ExpectedVersion::NoStream, vec![event]).await?;
//! assert_eq!(outcome.first_position, Position(1));
//! assert!(matches!(verify(store.as_ref()).await?, Verification::Intact { events: 1, .. }));
//! # Ok::<(), iam_event_store::StoreError>(())
//! # }).unwrap();
//! ```

mod canonical;
mod error;
mod event;
mod hash;
mod postgres;
mod prepare;
mod sql;
mod sqlite;
mod store;
mod subscription;
#[cfg(feature = "testing")]
pub mod testing;
mod verify;

use std::sync::Arc;

pub use canonical::{to_canonical_bytes, to_canonical_string};
pub use error::{redact_url, Result, StoreError};
pub use event::{
    AppendOutcome, ExpectedVersion, Head, MetadataIndex, NewEvent, Position, RecordedEvent,
    Snapshot, Until,
};
pub use hash::{Hash, HashInput};
pub use postgres::{PostgresStore, NOTIFY_CHANNEL};
pub use prepare::MAX_BATCH;
pub use sqlite::SqliteStore;
pub use store::EventStore;
pub use subscription::Subscription;
pub use verify::{verify, Verification};

/// Which backend a database URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// `postgres://` or `postgresql://` selects PostgreSQL, `sqlite:` SQLite.
    pub fn from_url(url: &str) -> Result<Backend> {
        let lower = url.trim_start().to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if lower.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else {
            Err(StoreError::UnsupportedUrl(redact_url(url)))
        }
    }
}

/// Connects to the database at `url`, applies pending migrations and returns
/// the store.
pub async fn open(url: &str) -> Result<Arc<dyn EventStore>> {
    Ok(match Backend::from_url(url)? {
        Backend::Postgres => Arc::new(PostgresStore::connect(url).await?),
        Backend::Sqlite => Arc::new(SqliteStore::connect(url).await?),
    })
}

/// Connects to the database at `url` without touching its schema (for
/// read-only tools such as `iamd verify`).
pub async fn open_existing(url: &str) -> Result<Arc<dyn EventStore>> {
    Ok(match Backend::from_url(url)? {
        Backend::Postgres => Arc::new(PostgresStore::connect_without_migrating(url).await?),
        Backend::Sqlite => Arc::new(SqliteStore::connect_without_migrating(url).await?),
    })
}

/// Applies pending migrations to the database at `url`; harmless when none
/// are pending.
pub async fn migrate(url: &str) -> Result<()> {
    match Backend::from_url(url)? {
        Backend::Postgres => PostgresStore::connect(url).await.map(drop),
        Backend::Sqlite => SqliteStore::connect(url).await.map(drop),
    }
}
