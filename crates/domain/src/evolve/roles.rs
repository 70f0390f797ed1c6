//! Roles: created, updated (description, session duration, trust policy), deleted.

use std::collections::{BTreeMap, BTreeSet};

use super::tags::tag_map;
use crate::event::EventData;
use crate::state::{AccountState, Role, Shared};

pub(super) fn evolve(state: &mut AccountState, data: &EventData) {
    match data {
        EventData::RoleCreated {
            role_name,
            role_id,
            path,
            assume_role_policy_document,
            description,
            max_session_duration,
            permissions_boundary,
            tags,
            created_at,
            trusted_ids,
            service_linked,
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
                    trusted_ids: trusted_ids.clone(),
                    service_linked: *service_linked,
                })
            });
        }
        EventData::RoleUpdated {
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
        EventData::RoleTrustPolicyUpdated {
            role_name,
            policy_document,
            trusted_ids,
        } => {
            if let Some(role) = state.roles.get_mut(&role_name.key()) {
                role.assume_role_policy_document = policy_document.clone();
                role.trusted_ids = trusted_ids.clone();
            }
        }
        EventData::RoleDescriptionUpdated {
            role_name,
            description,
        } => {
            if let Some(role) = state.roles.get_mut(&role_name.key()) {
                role.description = Some(description.clone());
            }
        }
        EventData::RoleDeleted { role_name, .. } => {
            state.roles.remove(&role_name.key());
            forget_access(state, role_name);
        }
        EventData::ServiceLinkedRoleDeleted {
            role_name,
            deletion_task_id,
            ..
        } => {
            state.roles.remove(&role_name.key());
            forget_access(state, role_name);
            state
                .service_linked_role_deletions
                .insert(deletion_task_id.clone());
        }
        _ => {}
    }
}

/// A deleted role's access advisor records go with it: a new role of the
/// same name starts without them.
fn forget_access(state: &mut AccountState, role_name: &crate::names::RoleName) {
    state.service_access.remove(
        &crate::state::Accessor::Role {
            role_name: role_name.clone(),
        }
        .key(),
    );
}
