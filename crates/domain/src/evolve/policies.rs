//! Customer managed policies: created, deleted, and their versions.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::tags::tag_map;
use crate::arn::Arn;
use crate::event::EventData;
use crate::ids::PolicyVersionId;
use crate::names::NameKey;
use crate::state::{update_where, AccountState, ManagedPolicy, PolicyVersion, Shared};

pub(super) fn evolve(state: &mut AccountState, data: &EventData) {
    match data {
        EventData::PolicyCreated {
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
        EventData::PolicyDeleted { policy_name, .. } => {
            let key = policy_name.key();
            if state.policies.remove(&key).is_some() {
                drop_references(state, &key);
            }
        }
        EventData::PolicyVersionCreated {
            policy_name,
            version_id,
            policy_document,
            set_as_default,
            created_at,
        } => {
            let Some(p) = state.policies.get_mut(&policy_name.key()) else {
                return;
            };
            // A number the policy has is never replaced. (Checked here: a
            // shared policy is copied only when it changes.)
            if !p.versions.contains_key(version_id) {
                add_version(
                    p,
                    *version_id,
                    policy_document,
                    *set_as_default,
                    *created_at,
                );
            }
        }
        EventData::PolicyVersionDeleted {
            policy_name,
            version_id,
        } => {
            if let Some(p) = state.policies.get_mut(&policy_name.key()) {
                if p.default_version != *version_id {
                    p.versions.remove(version_id);
                }
            }
        }
        EventData::PolicyDefaultVersionSet {
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
        _ => {}
    }
}

/// Adds a new version to policy `p`, the default if asked; the next number
/// is past it, so numbers are never reused.
fn add_version(
    p: &mut ManagedPolicy,
    version_id: PolicyVersionId,
    policy_document: &str,
    set_as_default: bool,
    created_at: DateTime<Utc>,
) {
    p.versions.insert(
        version_id,
        PolicyVersion {
            id: version_id,
            document: policy_document.to_owned(),
            created_at,
        },
    );
    p.next_version = p.next_version.max(version_id.number().saturating_add(1));
    if set_as_default {
        p.default_version = version_id;
    }
    p.updated_at = created_at;
}

/// After a policy is deleted: drops attachments of it and boundaries set to
/// it. Defensive: a well-formed log never has such dangling references.
fn drop_references(state: &mut AccountState, key: &NameKey) {
    update_where(
        &mut state.users,
        |u| u.attached_policies.contains(key),
        |u| {
            u.attached_policies.remove(key);
        },
    );
    update_where(
        &mut state.groups,
        |g| g.attached_policies.contains(key),
        |g| {
            g.attached_policies.remove(key);
        },
    );
    update_where(
        &mut state.roles,
        |r| r.attached_policies.contains(key),
        |r| {
            r.attached_policies.remove(key);
        },
    );
    let uses = |b: &Option<Arn>| matches!(b, Some(Arn::Policy { name, .. }) if name.key() == *key);
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
