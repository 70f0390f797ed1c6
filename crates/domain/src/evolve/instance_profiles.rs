//! Instance profiles and the role each holds.

use std::collections::BTreeSet;

use super::tags::tag_map;
use crate::event::EventData;
use crate::state::{AccountState, InstanceProfile, Shared};

pub(super) fn evolve(state: &mut AccountState, data: &EventData) {
    match data {
        EventData::InstanceProfileCreated {
            instance_profile_name,
            instance_profile_id,
            path,
            tags,
            created_at,
        } => {
            state.issued_ids.insert(instance_profile_id.as_str().into());
            state
                .instance_profiles
                .entry(instance_profile_name.key())
                .or_insert_with(|| {
                    Shared::new(InstanceProfile {
                        name: instance_profile_name.clone(),
                        id: instance_profile_id.clone(),
                        path: path.clone(),
                        created_at: *created_at,
                        roles: BTreeSet::new(),
                        tags: tag_map(tags),
                    })
                });
        }
        EventData::InstanceProfileDeleted {
            instance_profile_name,
            ..
        } => {
            state.instance_profiles.remove(&instance_profile_name.key());
        }
        EventData::RoleAddedToInstanceProfile {
            instance_profile_name,
            role_name,
        } => {
            if let Some(p) = state
                .instance_profiles
                .get_mut(&instance_profile_name.key())
            {
                p.roles.insert(role_name.key());
            }
        }
        EventData::RoleRemovedFromInstanceProfile {
            instance_profile_name,
            role_name,
        } => {
            if let Some(p) = state
                .instance_profiles
                .get_mut(&instance_profile_name.key())
            {
                p.roles.remove(&role_name.key());
            }
        }
        _ => {}
    }
}
