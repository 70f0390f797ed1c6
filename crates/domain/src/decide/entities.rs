//! Finding users, groups, roles, managed policies and credential owners, and
//! the checks every new or renamed entity passes, written once for all kinds.

use std::fmt::Display;

use super::errors::{exists, id_taken, limit, not_found};
use crate::arn::Arn;
use crate::error::DomainError;
use crate::names::{GroupName, IamPath, Keyed, NameKey, RoleName, UserName};
use crate::state::{
    AccountState, CredentialOwner, EntityMap, EntityRef, Group, ManagedPolicy, Role, User,
};

/// The entity `name` names in `map`, or AWS's `NoSuchEntity` for a `kind`.
fn find<'a, V: Clone>(
    map: &'a EntityMap<NameKey, V>,
    name: &(impl Keyed + Display),
    kind: &str,
) -> Result<&'a V, DomainError> {
    map.get(&name.key())
        .map(|e| &**e)
        .ok_or_else(|| not_found(kind, name))
}

pub(super) fn user<'a>(state: &'a AccountState, name: &UserName) -> Result<&'a User, DomainError> {
    find(&state.users, name, "user")
}

pub(super) fn group<'a>(
    state: &'a AccountState,
    name: &GroupName,
) -> Result<&'a Group, DomainError> {
    find(&state.groups, name, "group")
}

pub(super) fn role<'a>(state: &'a AccountState, name: &RoleName) -> Result<&'a Role, DomainError> {
    find(&state.roles, name, "role")
}

/// The role `name`, to change its permissions, trust or membership:
/// `UnmodifiableEntity` for a service-linked role, which only its service
/// may change.
pub(super) fn modifiable_role<'a>(
    state: &'a AccountState,
    name: &RoleName,
) -> Result<&'a Role, DomainError> {
    let r = role(state, name)?;
    if r.service_linked {
        return Err(crate::service_linked::protected(&r.name));
    }
    Ok(r)
}

/// The customer managed policy `arn` names, to change it: `AccessDenied`
/// for an AWS managed policy (nobody may change those), `InvalidInput` if
/// it is not a policy ARN, `NoSuchEntity` if it is not an existing policy
/// of this account.
pub(super) fn existing_policy<'a>(
    state: &'a AccountState,
    arn: &Arn,
) -> Result<&'a ManagedPolicy, DomainError> {
    if matches!(arn, Arn::AwsPolicy { .. }) {
        return Err(DomainError::AccessDenied(format!(
            "Policy {arn} is an AWS managed policy: it cannot be changed."
        )));
    }
    if !matches!(arn, Arn::Policy { .. }) {
        return Err(DomainError::InvalidInput(format!(
            "ARN {arn} is not valid."
        )));
    }
    state.policy_by_arn(arn).ok_or_else(|| {
        DomainError::NoSuchEntity(format!("Policy {arn} does not exist or is not attachable."))
    })
}

/// A managed policy to attach or to use as a permissions boundary: a
/// customer managed policy of this account or one of the catalogue's
/// (`crate::aws_policies`). Returns the key attachments hold it under and
/// the ARN events record (its stored spelling).
pub(super) fn attachable_policy(
    state: &AccountState,
    arn: &Arn,
) -> Result<(NameKey, Arn), DomainError> {
    if let Arn::AwsPolicy { path, name } = arn {
        let p = crate::aws_policies::find(path, name).ok_or_else(|| {
            DomainError::NoSuchEntity(format!("Policy {arn} does not exist or is not attachable."))
        })?;
        let stored = Arn::AwsPolicy {
            path: p.path.clone(),
            name: p.name.clone(),
        };
        return Ok((p.attachment_key(), stored));
    }
    let p = existing_policy(state, arn)?;
    Ok((p.name.key(), stored_policy_arn(state, p, arn)))
}

/// The ARN an event records for policy `p`, found by the caller's `given`
/// ARN: the stored spelling of its name, since names match case-insensitively.
pub(super) fn stored_policy_arn(state: &AccountState, p: &ManagedPolicy, given: &Arn) -> Arn {
    state.policy_arn(p).unwrap_or_else(|| given.clone())
}

pub(super) fn user_ref(u: &User) -> EntityRef {
    EntityRef::User {
        user_name: u.name.clone(),
    }
}
pub(super) fn group_ref(g: &Group) -> EntityRef {
    EntityRef::Group {
        group_name: g.name.clone(),
    }
}
pub(super) fn role_ref(r: &Role) -> EntityRef {
    EntityRef::Role {
        role_name: r.name.clone(),
    }
}
pub(super) fn policy_ref(p: &ManagedPolicy) -> EntityRef {
    EntityRef::Policy {
        policy_name: p.name.clone(),
    }
}

/// The owner with the user's stored spelling; `NoSuchEntity` for a missing user.
pub(super) fn resolve_owner(
    state: &AccountState,
    owner: &CredentialOwner,
) -> Result<CredentialOwner, DomainError> {
    match owner {
        CredentialOwner::Root => Ok(CredentialOwner::Root),
        CredentialOwner::User { user_name } => Ok(CredentialOwner::User {
            user_name: user(state, user_name)?.name.clone(),
        }),
    }
}

/// The path a new entity gets: the one given, or AWS's default `/`.
pub(super) fn path_or_root(path: &Option<IamPath>) -> IamPath {
    path.clone().unwrap_or_default()
}

/// The checks every new user, group, role and managed policy passes, in
/// this order: its name is free in `existing` (else the error `taken`
/// makes), its generated `id` was never issued, and `existing` is under the
/// `(name, value)` quota.
pub(super) fn check_new<V: Clone>(
    state: &AccountState,
    existing: &EntityMap<NameKey, V>,
    key: &NameKey,
    taken: impl FnOnce() -> DomainError,
    id: &str,
    (quota, max): (&str, usize),
) -> Result<(), DomainError> {
    if existing.contains_key(key) {
        return Err(taken());
    }
    if state.issued_ids.contains(id) {
        return Err(id_taken(id));
    }
    if existing.len() >= max {
        return Err(limit(quota, max));
    }
    Ok(())
}

/// The part of an update of a user's or group's name and path that changes
/// something.
pub(super) struct Change<N> {
    /// The new name, if it is spelled differently.
    pub name: Option<N>,
    /// The new path, if it differs.
    pub path: Option<IamPath>,
}

/// What an update of a user's or group's name and path really changes: the
/// new name if it is spelled differently (a change of case alone is a
/// rename; a name another entity of the `kind` holds is refused, and
/// `taken` says which keys are held), the new path if it differs. `None`
/// when that is nothing, so the update records no event.
pub(super) fn rename_and_move<N: Keyed + PartialEq + Clone + Display>(
    kind: &str,
    (name, path): (&N, &IamPath),
    new_name: Option<&N>,
    new_path: Option<&IamPath>,
    taken: impl Fn(&NameKey) -> bool,
) -> Result<Option<Change<N>>, DomainError> {
    let rename = new_name.filter(|n| *n != name);
    if let Some(n) = rename {
        if n.key() != name.key() && taken(&n.key()) {
            return Err(exists(kind, n));
        }
    }
    let repath = new_path.filter(|p| *p != path);
    if rename.is_none() && repath.is_none() {
        return Ok(None);
    }
    Ok(Some(Change {
        name: rename.cloned(),
        path: repath.cloned(),
    }))
}
