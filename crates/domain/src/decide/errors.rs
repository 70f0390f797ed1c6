//! AWS's wording for the errors that commands of several families share.

use std::fmt::Display;

use crate::error::DomainError;

/// `NoSuchEntity` for a user, group, role or inline policy named `name`;
/// `kind` is written in lower case, as AWS does ("The user with name X
/// cannot be found.").
pub(super) fn not_found(kind: &str, name: impl Display) -> DomainError {
    DomainError::NoSuchEntity(format!("The {kind} with name {name} cannot be found."))
}

/// `EntityAlreadyExists` for a user, group or role name already taken;
/// `kind` is capitalized, as AWS does ("User with name X already exists.").
pub(super) fn exists(kind: &str, name: impl Display) -> DomainError {
    DomainError::EntityAlreadyExists(format!("{kind} with name {name} already exists."))
}

/// A generated unique id that is already in use: a shell bug (ids are random
/// and never reused), refused so that ids stay unique among live entities.
pub(super) fn id_taken(id: &str) -> DomainError {
    DomainError::EntityAlreadyExists(format!(
        "Unique id {id} has already been issued in this account."
    ))
}

/// `LimitExceeded` for the quota AWS calls `quota`, whose value is `max`.
pub(super) fn limit(quota: &str, max: usize) -> DomainError {
    DomainError::LimitExceeded(format!("Cannot exceed quota for {quota}: {max}"))
}

/// `DeleteConflict` for a user, group or role that still has something that
/// must go first (`what`: "delete policies", "detach all policies", ...).
pub(super) fn must_first(what: &str) -> DomainError {
    DomainError::DeleteConflict(format!("Cannot delete entity, must {what} first."))
}

/// Any command but `CreateAccount` on an account that does not exist yet.
pub(super) fn no_account() -> DomainError {
    DomainError::NoSuchEntity("The account does not exist.".into())
}
