//! The projection's errors.

use iam_domain::DomainError;
use iam_event_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// The command broke an IAM rule; nothing was written.
    #[error(transparent)]
    Domain(#[from] DomainError),

    #[error(transparent)]
    Store(#[from] StoreError),

    /// A stored event that this version of iamd cannot read. The view stops
    /// here rather than silently diverging from the log.
    #[error("event at position {position} ({event_type}) cannot be read: {reason}")]
    Unreadable {
        position: u64,
        event_type: String,
        reason: String,
    },

    /// Other writers kept winning the race for the account's stream.
    #[error("the account's log kept changing; gave up after {attempts} attempts")]
    Contention { attempts: u32 },

    /// A position the caller waited for did not arrive in time.
    #[error("the view did not reach log position {wanted} within the wait (it is at {reached})")]
    NotCaughtUp { wanted: u64, reached: u64 },
}

impl ProjectionError {
    /// The same failure for another command of a batch that failed as a
    /// whole: typed where the error can be copied, and as text where it
    /// cannot (a database error's source).
    pub(crate) fn for_another_command(&self) -> ProjectionError {
        match self {
            ProjectionError::Domain(e) => ProjectionError::Domain(e.clone()),
            ProjectionError::Store(e) => {
                ProjectionError::Store(StoreError::Internal(e.to_string()))
            }
            ProjectionError::Unreadable {
                position,
                event_type,
                reason,
            } => ProjectionError::Unreadable {
                position: *position,
                event_type: event_type.clone(),
                reason: reason.clone(),
            },
            ProjectionError::Contention { attempts } => ProjectionError::Contention {
                attempts: *attempts,
            },
            ProjectionError::NotCaughtUp { wanted, reached } => ProjectionError::NotCaughtUp {
                wanted: *wanted,
                reached: *reached,
            },
        }
    }
}
