//! `evolve`: apply one event to an account's state.
//!
//! Events are facts that `decide` already checked, so `evolve` does not
//! re-validate; but it must never fail or panic, even on an event that does
//! not fit the state (a corrupted or hand-edited log, an event from an older
//! build). Such an event is applied as far as it makes sense and otherwise
//! ignored.

use std::collections::{BTreeMap, BTreeSet};

use crate::arn::Arn;
use crate::event::{Event, EventData};
use crate::ids::PolicyVersionId;
use crate::names::{NameKey, Tag};
use crate::state::*;
use crate::state::{retain, update_where};

/// Applies `event` to `state`. Never fails, never panics.
pub fn evolve(state: &mut AccountState, event: &Event) {
    use EventData::*;
    if let EventData::AccountCreated { created_at } = &event.data {
        if state.account.is_none() {
            state.account = Some(Account {
                id: event.account_id.clone(),
                created_at: *created_at,
                root_mfa_devices: BTreeSet::new(),
            });
        }
        return;
    }
    // An event for another account (or before the account exists) is ignored.
    if state.account_id() != Some(&event.account_id) {
        return;
    }
    match &event.data {
        AccountCreated { .. } => {}
        UserCreated {
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
        UserUpdated {
            user_name,
            new_user_name,
            new_path,
        } => {
            let old = user_name.key();
            let Some(mut user) = state.users.remove(&old) else {
                return;
            };
            if let Some(p) = new_path {
                user.path = p.clone();
            }
            let new_key = match new_user_name {
                Some(n) if n.key() != old && state.users.contains_key(&n.key()) => {
                    // Would collide: keep the old name.
                    old.clone()
                }
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
            state.users.insert(new_key, user);
        }
        UserDeleted { user_name, .. } => {
            let key = user_name.key();
            if let Some(user) = state.users.remove(&key) {
                for g in &user.groups {
                    if let Some(group) = state.groups.get_mut(g) {
                        group.members.remove(&key);
                    }
                }
                let owner = CredentialOwner::User {
                    user_name: user.name.clone(),
                };
                retain(&mut state.access_keys, |_, k| !owner_eq(&k.owner, &owner));
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
        }
        GroupCreated {
            group_name,
            group_id,
            path,
            created_at,
        } => {
            state.issued_ids.insert(group_id.as_str().into());
            state.groups.entry(group_name.key()).or_insert_with(|| {
                Shared::new(Group {
                    name: group_name.clone(),
                    id: group_id.clone(),
                    path: path.clone(),
                    created_at: *created_at,
                    members: BTreeSet::new(),
                    inline_policies: BTreeMap::new(),
                    attached_policies: BTreeSet::new(),
                })
            });
        }
        GroupUpdated {
            group_name,
            new_group_name,
            new_path,
        } => {
            let old = group_name.key();
            let Some(mut group) = state.groups.remove(&old) else {
                return;
            };
            if let Some(p) = new_path {
                group.path = p.clone();
            }
            let new_key = match new_group_name {
                Some(n) if n.key() != old && state.groups.contains_key(&n.key()) => old.clone(),
                Some(n) => {
                    group.name = n.clone();
                    n.key()
                }
                None => old.clone(),
            };
            if new_key != old {
                for m in &group.members {
                    if let Some(user) = state.users.get_mut(m) {
                        user.groups.remove(&old);
                        user.groups.insert(new_key.clone());
                    }
                }
            }
            state.groups.insert(new_key, group);
        }
        GroupDeleted { group_name, .. } => {
            let key = group_name.key();
            if let Some(group) = state.groups.remove(&key) {
                for m in &group.members {
                    if let Some(user) = state.users.get_mut(m) {
                        user.groups.remove(&key);
                    }
                }
            }
        }
        UserAddedToGroup {
            group_name,
            user_name,
        } => {
            let (g, u) = (group_name.key(), user_name.key());
            if let (Some(group), Some(user)) = (state.groups.get_mut(&g), state.users.get_mut(&u)) {
                group.members.insert(u);
                user.groups.insert(g);
            }
        }
        UserRemovedFromGroup {
            group_name,
            user_name,
        } => {
            let (g, u) = (group_name.key(), user_name.key());
            if let Some(group) = state.groups.get_mut(&g) {
                group.members.remove(&u);
            }
            if let Some(user) = state.users.get_mut(&u) {
                user.groups.remove(&g);
            }
        }
        RoleCreated {
            role_name,
            role_id,
            path,
            assume_role_policy_document,
            description,
            max_session_duration,
            permissions_boundary,
            tags,
            created_at,
        } => {
            state.issued_ids.insert(role_id.as_str().into());
            state.roles.entry(role_name.key()).or_insert_with(|| {
                Shared::new(Role {
                    name: role_name.clone(),
                    id: role_id.clone(),
                    path: path.clone(),
                    created_at: *created_at,
                    assume_role_policy_document: assume_role_policy_document.clone(),
                    description: description.clone(),
                    max_session_duration: *max_session_duration,
                    inline_policies: BTreeMap::new(),
                    attached_policies: BTreeSet::new(),
                    permissions_boundary: permissions_boundary.clone(),
                    tags: tag_map(tags),
                })
            });
        }
        RoleUpdated {
            role_name,
            description,
            max_session_duration,
        } => {
            if let Some(role) = state.roles.get_mut(&role_name.key()) {
                if let Some(d) = description {
                    role.description = Some(d.clone());
                }
                if let Some(m) = max_session_duration {
                    role.max_session_duration = *m;
                }
            }
        }
        RoleTrustPolicyUpdated {
            role_name,
            policy_document,
        } => {
            if let Some(role) = state.roles.get_mut(&role_name.key()) {
                role.assume_role_policy_document = policy_document.clone();
            }
        }
        RoleDescriptionUpdated {
            role_name,
            description,
        } => {
            if let Some(role) = state.roles.get_mut(&role_name.key()) {
                role.description = Some(description.clone());
            }
        }
        RoleDeleted { role_name, .. } => {
            state.roles.remove(&role_name.key());
        }
        PolicyCreated {
            policy_name,
            policy_id,
            path,
            description,
            policy_document,
            tags,
            created_at,
        } => {
            state.issued_ids.insert(policy_id.as_str().into());
            let v1 = PolicyVersionId::new(1).expect("1 is a valid version");
            state.policies.entry(policy_name.key()).or_insert_with(|| {
                Shared::new(ManagedPolicy {
                    name: policy_name.clone(),
                    id: policy_id.clone(),
                    path: path.clone(),
                    description: description.clone(),
                    created_at: *created_at,
                    updated_at: *created_at,
                    default_version: v1,
                    versions: BTreeMap::from([(
                        v1,
                        PolicyVersion {
                            id: v1,
                            document: policy_document.clone(),
                            created_at: *created_at,
                        },
                    )]),
                    next_version: 2,
                    tags: tag_map(tags),
                })
            });
        }
        PolicyDeleted { policy_name, .. } => {
            let key = policy_name.key();
            if state.policies.remove(&key).is_some() {
                // Defensive: drop dangling references a well-formed log never has.
                update_where(
                    &mut state.users,
                    |u| u.attached_policies.contains(&key),
                    |u| {
                        u.attached_policies.remove(&key);
                    },
                );
                update_where(
                    &mut state.groups,
                    |g| g.attached_policies.contains(&key),
                    |g| {
                        g.attached_policies.remove(&key);
                    },
                );
                update_where(
                    &mut state.roles,
                    |r| r.attached_policies.contains(&key),
                    |r| {
                        r.attached_policies.remove(&key);
                    },
                );
                let uses = |b: &Option<Arn>| matches!(b, Some(Arn::Policy { name, .. }) if name.key() == key);
                update_where(
                    &mut state.users,
                    |u| uses(&u.permissions_boundary),
                    |u| u.permissions_boundary = None,
                );
                update_where(
                    &mut state.roles,
                    |r| uses(&r.permissions_boundary),
                    |r| r.permissions_boundary = None,
                );
            }
        }
        PolicyVersionCreated {
            policy_name,
            version_id,
            policy_document,
            set_as_default,
            created_at,
        } => {
            if let Some(p) = state.policies.get_mut(&policy_name.key()) {
                if p.versions.contains_key(version_id) {
                    return;
                }
                p.versions.insert(
                    *version_id,
                    PolicyVersion {
                        id: *version_id,
                        document: policy_document.clone(),
                        created_at: *created_at,
                    },
                );
                p.next_version = p.next_version.max(version_id.number().saturating_add(1));
                if *set_as_default {
                    p.default_version = *version_id;
                }
                p.updated_at = *created_at;
            }
        }
        PolicyVersionDeleted {
            policy_name,
            version_id,
        } => {
            if let Some(p) = state.policies.get_mut(&policy_name.key()) {
                if p.default_version != *version_id {
                    p.versions.remove(version_id);
                }
            }
        }
        PolicyDefaultVersionSet {
            policy_name,
            version_id,
            updated_at,
        } => {
            if let Some(p) = state.policies.get_mut(&policy_name.key()) {
                if p.versions.contains_key(version_id) {
                    p.default_version = *version_id;
                    p.updated_at = *updated_at;
                }
            }
        }
        ManagedPolicyAttached { target, policy_arn } => {
            let Some(key) = policy_key(state, policy_arn) else {
                return;
            };
            if let Some(set) = attached_set(state, target) {
                set.insert(key);
            }
        }
        ManagedPolicyDetached { target, policy_arn } => {
            let Arn::Policy { name, .. } = policy_arn else {
                return;
            };
            if let Some(set) = attached_set(state, target) {
                set.remove(&name.key());
            }
        }
        InlinePolicyPut {
            target,
            policy_name,
            policy_document,
        } => {
            if let Some(map) = inline_map(state, target) {
                map.insert(
                    policy_name.key(),
                    InlinePolicy {
                        name: policy_name.clone(),
                        document: policy_document.clone(),
                    },
                );
            }
        }
        InlinePolicyDeleted {
            target,
            policy_name,
        } => {
            if let Some(map) = inline_map(state, target) {
                map.remove(&policy_name.key());
            }
        }
        PermissionsBoundarySet {
            target,
            permissions_boundary,
        } => {
            if policy_key(state, permissions_boundary).is_none() {
                return;
            }
            if let Some(b) = boundary_slot(state, target) {
                *b = Some(permissions_boundary.clone());
            }
        }
        PermissionsBoundaryDeleted { target } => {
            if let Some(b) = boundary_slot(state, target) {
                *b = None;
            }
        }
        EntityTagged { target, tags } => {
            if let Some(map) = tag_slot(state, target) {
                for t in tags {
                    map.insert(t.key.key(), t.clone());
                }
            }
        }
        EntityUntagged { target, tag_keys } => {
            if let Some(map) = tag_slot(state, target) {
                for k in tag_keys {
                    map.remove(&k.key());
                }
            }
        }
        AccessKeyCreated {
            owner,
            access_key_id,
            secret,
            created_at,
        } => {
            if owner_exists(state, owner) && !state.access_keys.contains_key(access_key_id) {
                state.access_keys.insert(
                    access_key_id.clone(),
                    Shared::new(AccessKey {
                        id: access_key_id.clone(),
                        owner: canonical_owner(state, owner),
                        status: AccessKeyStatus::Active,
                        created_at: *created_at,
                        secret: secret.clone(),
                        last_used: None,
                    }),
                );
            }
        }
        AccessKeyStatusUpdated {
            access_key_id,
            status,
            ..
        } => {
            if let Some(k) = state.access_keys.get_mut(access_key_id) {
                k.status = *status;
            }
        }
        AccessKeyDeleted { access_key_id, .. } => {
            state.access_keys.remove(access_key_id);
        }
        AccessKeyUsed {
            access_key_id,
            used_at,
            service_name,
            region,
        } => {
            if let Some(k) = state.access_keys.get_mut(access_key_id) {
                k.last_used = Some(AccessKeyLastUsed {
                    used_at: *used_at,
                    service_name: service_name.clone(),
                    region: region.clone(),
                });
            }
        }
        LoginProfileCreated {
            user_name,
            password_hash,
            password_reset_required,
            created_at,
        } => {
            if let Some(u) = state.users.get_mut(&user_name.key()) {
                u.login_profile = Some(LoginProfile {
                    password_hash: password_hash.clone(),
                    password_reset_required: *password_reset_required,
                    created_at: *created_at,
                });
            }
        }
        LoginProfileUpdated {
            user_name,
            password_hash,
            password_reset_required,
        } => {
            if let Some(lp) = state
                .users
                .get_mut(&user_name.key())
                .and_then(|u| u.login_profile.as_mut())
            {
                if let Some(h) = password_hash {
                    lp.password_hash = h.clone();
                }
                if let Some(r) = password_reset_required {
                    lp.password_reset_required = *r;
                }
            }
        }
        LoginProfileDeleted { user_name } => {
            if let Some(u) = state.users.get_mut(&user_name.key()) {
                u.login_profile = None;
            }
        }
        VirtualMfaDeviceCreated {
            serial_number,
            seed,
            created_at,
        } => {
            let Arn::Mfa { path, name, .. } = serial_number else {
                return;
            };
            state.mfa_devices.entry(name.key()).or_insert_with(|| {
                Shared::new(VirtualMfaDevice {
                    name: name.clone(),
                    path: path.clone(),
                    seed: seed.clone(),
                    created_at: *created_at,
                    assignment: None,
                })
            });
        }
        MfaDeviceEnabled {
            owner,
            serial_number,
            enabled_at,
        } => {
            let Arn::Mfa { name, .. } = serial_number else {
                return;
            };
            let key = name.key();
            if !owner_exists(state, owner) {
                return;
            }
            let owner = canonical_owner(state, owner);
            let Some(dev) = state.mfa_devices.get_mut(&key) else {
                return;
            };
            if dev.assignment.is_some() {
                return;
            }
            dev.assignment = Some(MfaAssignment {
                owner: owner.clone(),
                enabled_at: *enabled_at,
            });
            if let Some(set) = owner_mfa_set(state, &owner) {
                set.insert(key);
            }
        }
        MfaDeviceDeactivated {
            owner,
            serial_number,
        } => {
            let Arn::Mfa { name, .. } = serial_number else {
                return;
            };
            let key = name.key();
            if let Some(dev) = state.mfa_devices.get_mut(&key) {
                if dev
                    .assignment
                    .as_ref()
                    .is_some_and(|a| owner_eq(&a.owner, owner))
                {
                    dev.assignment = None;
                }
            }
            if let Some(set) = owner_mfa_set(state, owner) {
                set.remove(&key);
            }
        }
        VirtualMfaDeviceDeleted { serial_number } => {
            let Arn::Mfa { name, .. } = serial_number else {
                return;
            };
            let key = name.key();
            if state
                .mfa_devices
                .get(&key)
                .is_some_and(|d| d.assignment.is_none())
            {
                state.mfa_devices.remove(&key);
            }
        }
        PasswordPolicyUpdated { policy } => state.password_policy = Some(policy.clone()),
        PasswordPolicyDeleted {} => state.password_policy = None,
    }
}

fn tag_map(tags: &[Tag]) -> BTreeMap<NameKey, Tag> {
    tags.iter().map(|t| (t.key.key(), t.clone())).collect()
}

/// The key of an existing policy in this account named by `arn`.
fn policy_key(state: &AccountState, arn: &Arn) -> Option<NameKey> {
    let Arn::Policy {
        account,
        path,
        name,
    } = arn
    else {
        return None;
    };
    let key = name.key();
    let policy = state.policies.get(&key)?;
    (state.account_id() == Some(account) && &policy.path == path).then_some(key)
}

fn attached_set<'a>(
    state: &'a mut AccountState,
    target: &EntityRef,
) -> Option<&'a mut BTreeSet<NameKey>> {
    match target {
        EntityRef::User { user_name } => state
            .users
            .get_mut(&user_name.key())
            .map(|u| &mut u.attached_policies),
        EntityRef::Group { group_name } => state
            .groups
            .get_mut(&group_name.key())
            .map(|g| &mut g.attached_policies),
        EntityRef::Role { role_name } => state
            .roles
            .get_mut(&role_name.key())
            .map(|r| &mut r.attached_policies),
        EntityRef::Policy { .. } => None,
    }
}

fn inline_map<'a>(
    state: &'a mut AccountState,
    target: &EntityRef,
) -> Option<&'a mut BTreeMap<NameKey, InlinePolicy>> {
    match target {
        EntityRef::User { user_name } => state
            .users
            .get_mut(&user_name.key())
            .map(|u| &mut u.inline_policies),
        EntityRef::Group { group_name } => state
            .groups
            .get_mut(&group_name.key())
            .map(|g| &mut g.inline_policies),
        EntityRef::Role { role_name } => state
            .roles
            .get_mut(&role_name.key())
            .map(|r| &mut r.inline_policies),
        EntityRef::Policy { .. } => None,
    }
}

fn boundary_slot<'a>(
    state: &'a mut AccountState,
    target: &EntityRef,
) -> Option<&'a mut Option<Arn>> {
    match target {
        EntityRef::User { user_name } => state
            .users
            .get_mut(&user_name.key())
            .map(|u| &mut u.permissions_boundary),
        EntityRef::Role { role_name } => state
            .roles
            .get_mut(&role_name.key())
            .map(|r| &mut r.permissions_boundary),
        _ => None,
    }
}

fn tag_slot<'a>(
    state: &'a mut AccountState,
    target: &EntityRef,
) -> Option<&'a mut BTreeMap<NameKey, Tag>> {
    match target {
        EntityRef::User { user_name } => state.users.get_mut(&user_name.key()).map(|u| &mut u.tags),
        EntityRef::Role { role_name } => state.roles.get_mut(&role_name.key()).map(|r| &mut r.tags),
        EntityRef::Policy { policy_name } => state
            .policies
            .get_mut(&policy_name.key())
            .map(|p| &mut p.tags),
        EntityRef::Group { .. } => None,
    }
}

fn owner_exists(state: &AccountState, owner: &CredentialOwner) -> bool {
    match owner {
        CredentialOwner::Root => true,
        CredentialOwner::User { user_name } => state.users.contains_key(&user_name.key()),
    }
}

/// The owner with the user name spelled as stored (events may use any case).
fn canonical_owner(state: &AccountState, owner: &CredentialOwner) -> CredentialOwner {
    match owner {
        CredentialOwner::Root => CredentialOwner::Root,
        CredentialOwner::User { user_name } => CredentialOwner::User {
            user_name: state
                .users
                .get(&user_name.key())
                .map(|u| u.name.clone())
                .unwrap_or_else(|| user_name.clone()),
        },
    }
}

fn owner_mfa_set<'a>(
    state: &'a mut AccountState,
    owner: &CredentialOwner,
) -> Option<&'a mut BTreeSet<NameKey>> {
    match owner {
        CredentialOwner::Root => state.account.as_mut().map(|a| &mut a.root_mfa_devices),
        CredentialOwner::User { user_name } => state
            .users
            .get_mut(&user_name.key())
            .map(|u| &mut u.mfa_devices),
    }
}
