//! The store's errors. Database errors always name the database (without its
//! password) so an operator can tell which one is down or misconfigured.

use uuid::Uuid;

use crate::event::ExpectedVersion;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The stream was not at the version the writer expected; nothing was written.
    #[error("stream {stream:?}: expected {expected}, but the stream is at version {actual}")]
    Conflict {
        stream: String,
        expected: ExpectedVersion,
        actual: u64,
    },

    /// Some, but not all, of the batch's event ids are already stored (or they
    /// were stored in another stream): a retry that is not a retry.
    #[error("event id {event_id} is already stored, but as part of a different append")]
    IdempotencyMismatch { event_id: Uuid },

    /// The events handed to `append` cannot be stored.
    #[error("invalid append: {0}")]
    InvalidEvent(String),

    #[error("unsupported database URL {0:?}: use postgres://USER@HOST/DB or sqlite://PATH")]
    UnsupportedUrl(String),

    #[error("cannot open database {database}: {source}")]
    Connect {
        database: String,
        #[source]
        source: sqlx::Error,
    },

    #[error("migrating database {database} failed: {source}")]
    Migrate {
        database: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },

    #[error("database {database}: {source}")]
    Database {
        database: String,
        #[source]
        source: sqlx::Error,
    },

    /// A bug or a runtime failure inside the store (for example a panicked task).
    #[error("internal error in the event store: {0}")]
    Internal(String),

    /// A stored row that cannot be decoded (for example a hash of the wrong length).
    #[error("database {database}: stored event at position {position} is unreadable: {reason}")]
    Corrupt {
        database: String,
        position: u64,
        reason: String,
    },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A URL with any password removed, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => url.split('?').next().unwrap_or(url).to_owned(),
    }
}
