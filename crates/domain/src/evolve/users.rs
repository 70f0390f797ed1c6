//! Users: created, renamed or moved, deleted.

use std::collections::{BTreeMap, BTreeSet};

use super::entities::accepted_rename;
use super::tags::tag_map;
use crate::event::EventData;
use crate::names::{IamPath, UserName};
use crate::state::{
    owner_eq, retain, update_where, Accessor, AccountState, CredentialOwner, Shared, User,
};

pub(super) fn evolve(state: &mut AccountState, data: &EventData) {
    match data {
        EventData::UserCreated {
            user_name,
            user_id,
            path,
            permissions_boundary,
            tags,
            created_at,
        } => {
            state.issued_ids.insert(user_id.as_str().into());
            state.users.entry(user_name.key()).or_insert_with(|| {
                Shared::new(User {
                    name: user_name.clone(),
                    id: user_id.clone(),
                    path: path.clone(),
                    created_at: *created_at,
                    groups: BTreeSet::new(),
                    inline_policies: BTreeMap::new(),
                    attached_policies: BTreeSet::new(),
                    permissions_boundary: permissions_boundary.clone(),
                    tags: tag_map(tags),
                    login_profile: None,
                    mfa_devices: BTreeSet::new(),
                })
            });
        }
        EventData::UserUpdated {
            user_name,
            new_user_name,
            new_path,
        } => update(state, user_name, new_user_name.as_ref(), new_path.as_ref()),
        EventData::UserDeleted { user_name, .. } => delete(state, user_name),
        _ => {}
    }
}

/// Renames and/or moves a user; its groups' member lists and the
/// credentials it owns follow the new name.
fn update(
    state: &mut AccountState,
    user_name: &UserName,
    new_user_name: Option<&UserName>,
    new_path: Option<&IamPath>,
) {
    let old = user_name.key();
    let Some(mut user) = state.users.remove(&old) else {
        return;
    };
    if let Some(p) = new_path {
        user.path = p.clone();
    }
    let new_key = match accepted_rename(&old, new_user_name, |k| state.users.contains_key(k)) {
        Some(n) => {
            user.name = n.clone();
            n.key()
        }
        None => old.clone(),
    };
    if new_key != old {
        for g in &user.groups {
            if let Some(group) = state.groups.get_mut(g) {
                group.members.remove(&old);
                group.members.insert(new_key.clone());
            }
        }
    }
    let new_owner = CredentialOwner::User {
        user_name: user.name.clone(),
    };
    let owned_by_old = |owner: &CredentialOwner| matches!(owner, CredentialOwner::User { user_name } if user_name.key() == old);
    update_where(
        &mut state.access_keys,
        |key| owned_by_old(&key.owner),
        |key| key.owner = new_owner.clone(),
    );
    update_where(
        &mut state.mfa_devices,
        |dev| {
            dev.assignment
                .as_ref()
                .is_some_and(|a| owned_by_old(&a.owner))
        },
        |dev| {
            if let Some(a) = &mut dev.assignment {
                a.owner = new_owner.clone();
            }
        },
    );
    // Its access advisor records follow it.
    let old_access = Accessor::user_key(&old);
    if let Some(log) = state.service_access.remove(&old_access) {
        state.service_access.insert(
            Accessor::User {
                user_name: user.name.clone(),
            }
            .key(),
            log,
        );
    }
    // A user's other credentials name it too, and follow the rename.
    update_where(
        &mut state.ssh_public_keys,
        |k| k.user_name.key() == old,
        |k| k.user_name = user.name.clone(),
    );
    update_where(
        &mut state.service_specific_credentials,
        |c| c.user_name.key() == old,
        |c| c.user_name = user.name.clone(),
    );
    update_where(
        &mut state.signing_certificates,
        |c| owned_by_old(&c.owner),
        |c| c.owner = new_owner.clone(),
    );
    state.users.insert(new_key, user);
}

/// Deletes a user with what is its own: group memberships and access keys
/// go, MFA devices it used are freed.
fn delete(state: &mut AccountState, user_name: &UserName) {
    let key = user_name.key();
    let Some(user) = state.users.remove(&key) else {
        return;
    };
    for g in &user.groups {
        if let Some(group) = state.groups.get_mut(g) {
            group.members.remove(&key);
        }
    }
    let owner = CredentialOwner::User {
        user_name: user.name.clone(),
    };
    retain(&mut state.access_keys, |_, k| !owner_eq(&k.owner, &owner));
    state.service_access.remove(
        &Accessor::User {
            user_name: user.name.clone(),
        }
        .key(),
    );
    update_where(
        &mut state.mfa_devices,
        |dev| {
            dev.assignment
                .as_ref()
                .is_some_and(|a| owner_eq(&a.owner, &owner))
        },
        |dev| dev.assignment = None,
    );
}
