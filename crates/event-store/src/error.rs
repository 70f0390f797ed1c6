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

/// A URL with every password removed, for messages and logs: the userinfo
/// password and the value of every query parameter whose name contains
/// "password" (`password`, `sslpassword`, ...) become `***`. A URL that does
/// not parse loses its query and anything between `://` and `@`.
pub fn redact_url(url: &str) -> String {
    const MASK: &str = "***";
    let secret = |name: &str| name.to_ascii_lowercase().contains("password");
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some(MASK));
            }
            if parsed.query_pairs().any(|(name, _)| secret(&name)) {
                let pairs: Vec<(String, String)> = parsed
                    .query_pairs()
                    .map(|(name, value)| {
                        let value = if secret(&name) {
                            MASK.to_owned()
                        } else {
                            value.into_owned()
                        };
                        (name.into_owned(), value)
                    })
                    .collect();
                parsed.query_pairs_mut().clear().extend_pairs(pairs);
            }
            parsed.to_string()
        }
        Err(_) => {
            let base = url.split('?').next().unwrap_or(url);
            match (base.find("://"), base.rfind('@')) {
                (Some(scheme), Some(at)) if at > scheme => {
                    format!("{}{MASK}{}", &base[..scheme + 3], &base[at..])
                }
                _ => base.to_owned(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn userinfo_passwords_are_masked() {
        assert_eq!(
            redact_url("postgres://iamd:hunter2@db.example:5432/iam"),
            "postgres://iamd:***@db.example:5432/iam"
        );
        assert_eq!(
            redact_url("postgres://iamd@db.example/iam"),
            "postgres://iamd@db.example/iam"
        );
    }

    #[test]
    fn password_query_parameters_are_masked() {
        let redacted = redact_url(
            "postgres://u@h/db?password=secret&sslmode=require&sslpassword=s3cr3t&PGPASSWORD=x",
        );
        assert_eq!(
            redacted,
            "postgres://u@h/db?password=***&sslmode=require&sslpassword=***&PGPASSWORD=***"
        );
        for secret in ["secret", "s3cr3t", "=x"] {
            assert!(!redacted.contains(secret), "{redacted}");
        }
        let both = redact_url("postgresql://u:p1@h/db?application_name=a&password=p2");
        assert!(!both.contains("p1") && !both.contains("p2"), "{both}");
        assert!(both.contains("application_name=a"), "{both}");
    }

    #[test]
    fn unparseable_urls_lose_their_query_and_userinfo() {
        let redacted = redact_url("postgres://u:pw@[bad/db?password=secret");
        assert!(
            !redacted.contains("pw") && !redacted.contains("secret"),
            "{redacted}"
        );
        assert_eq!(
            redact_url("sqlite://./iam-data/events.db"),
            "sqlite://./iam-data/events.db"
        );
    }
}
