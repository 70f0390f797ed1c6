//! The domain's one error type, shaped after the error codes IAM returns.
//!
//! Every rejection `decide` (or a validating constructor) can produce maps to
//! one AWS error code, so the HTTP layer needs a single `match` on
//! [`DomainError::code`] to pick the status and the `<Code>` element.

use thiserror::Error;

/// Why a command (or a value) was rejected. The message is AWS-style prose
/// meant for the client; it never contains secrets.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    /// The entity (user, group, role, policy, key, device, ...) already exists.
    #[error("{0}")]
    EntityAlreadyExists(String),
    /// The entity the command refers to does not exist.
    #[error("{0}")]
    NoSuchEntity(String),
    /// Deleting would leave dangling references (keys, policies, members, ...).
    #[error("{0}")]
    DeleteConflict(String),
    /// A quota from [`crate::Quotas`] would be exceeded.
    #[error("{0}")]
    LimitExceeded(String),
    /// A parameter is well-formed but not acceptable in this state.
    #[error("{0}")]
    InvalidInput(String),
    /// A parameter breaks AWS's syntactic rules (length, characters, pattern).
    #[error("{0}")]
    ValidationError(String),
    /// A policy document does not parse or breaks the grammar for its kind.
    /// `message` is AWS's own sentence ("Syntax errors in policy.", ...),
    /// which clients and scripts match on; `detail` is iamd's precise
    /// reason, for the log.
    #[error("{message}")]
    MalformedPolicyDocument { message: String, detail: String },
    /// A password does not satisfy the account's password policy.
    #[error("{0}")]
    PasswordPolicyViolation(String),
    /// What the request was authorized against changed before it was
    /// written (another request renamed, retagged or replaced the entity);
    /// nothing was written and the caller may retry.
    #[error("{0}")]
    ConcurrentModification(String),
    /// The request is not allowed: an MFA code already spent.
    #[error("{0}")]
    AccessDenied(String),
    /// An MFA code does not verify, or was already used.
    #[error("{0}")]
    InvalidAuthenticationCode(String),
    /// The user already has this SSH public key.
    #[error("{0}")]
    DuplicateSshPublicKey(String),
    /// The certificate is already associated with a user of the account.
    #[error("{0}")]
    DuplicateCertificate(String),
    /// The service has no service-specific credentials.
    #[error("{0}")]
    NotSupportedService(String),
    /// A service-linked role: only its service may change it.
    #[error("{0}")]
    UnmodifiableEntity(String),
}

impl DomainError {
    /// The AWS error code, as it appears in `<Error><Code>`.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::EntityAlreadyExists(_) => "EntityAlreadyExists",
            DomainError::NoSuchEntity(_) => "NoSuchEntity",
            DomainError::DeleteConflict(_) => "DeleteConflict",
            DomainError::LimitExceeded(_) => "LimitExceeded",
            DomainError::InvalidInput(_) => "InvalidInput",
            DomainError::ValidationError(_) => "ValidationError",
            DomainError::MalformedPolicyDocument { .. } => "MalformedPolicyDocument",
            DomainError::PasswordPolicyViolation(_) => "PasswordPolicyViolation",
            DomainError::ConcurrentModification(_) => "ConcurrentModification",
            DomainError::AccessDenied(_) => "AccessDenied",
            DomainError::InvalidAuthenticationCode(_) => "InvalidAuthenticationCode",
            DomainError::UnmodifiableEntity(_) => "UnmodifiableEntity",
            DomainError::DuplicateSshPublicKey(_) => "DuplicateSSHPublicKey",
            DomainError::DuplicateCertificate(_) => "DuplicateCertificate",
            DomainError::NotSupportedService(_) => "NotSupportedService",
        }
    }

    /// What iamd knows beyond AWS's message, for the log (a malformed
    /// policy's exact fault).
    pub fn detail(&self) -> Option<&str> {
        match self {
            DomainError::MalformedPolicyDocument { detail, .. } => Some(detail),
            _ => None,
        }
    }

    /// The AWS-style human-readable message, as it appears in `<Error><Message>`.
    pub fn message(&self) -> &str {
        match self {
            DomainError::EntityAlreadyExists(m)
            | DomainError::NoSuchEntity(m)
            | DomainError::DeleteConflict(m)
            | DomainError::LimitExceeded(m)
            | DomainError::InvalidInput(m)
            | DomainError::ValidationError(m)
            | DomainError::MalformedPolicyDocument { message: m, .. }
            | DomainError::PasswordPolicyViolation(m)
            | DomainError::ConcurrentModification(m)
            | DomainError::AccessDenied(m)
            | DomainError::InvalidAuthenticationCode(m)
            | DomainError::UnmodifiableEntity(m)
            | DomainError::DuplicateSshPublicKey(m)
            | DomainError::DuplicateCertificate(m)
            | DomainError::NotSupportedService(m) => m,
        }
    }

    /// The HTTP status IAM uses for this code (400 for client errors, 404 for
    /// missing entities, 409 for conflicts), so the server need not guess.
    pub fn http_status(&self) -> u16 {
        match self {
            DomainError::NoSuchEntity(_) | DomainError::NotSupportedService(_) => 404,
            DomainError::DuplicateCertificate(_) => 409,
            DomainError::EntityAlreadyExists(_) | DomainError::DeleteConflict(_) => 409,
            DomainError::LimitExceeded(_) | DomainError::ConcurrentModification(_) => 409,
            DomainError::AccessDenied(_) => 403,
            _ => 400,
        }
    }

    pub(crate) fn validation(msg: impl Into<String>) -> Self {
        DomainError::ValidationError(msg.into())
    }
}
