//! Inline policies of users, groups and roles, put and deleted.

use std::collections::BTreeMap;

use crate::event::EventData;
use crate::names::NameKey;
use crate::state::{AccountState, EntityRef, InlinePolicy};

pub(super) fn evolve(state: &mut AccountState, data: &EventData) {
    match data {
        EventData::InlinePolicyPut {
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
        EventData::InlinePolicyDeleted {
            target,
            policy_name,
        } => {
            if let Some(map) = inline_map(state, target) {
                map.remove(&policy_name.key());
            }
        }
        _ => {}
    }
}

/// The inline policies of `target`, if it exists and can have any.
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
        EntityRef::Policy { .. }
        | EntityRef::MfaDevice { .. }
        | EntityRef::InstanceProfile { .. }
        | EntityRef::ServerCertificate { .. }
        | EntityRef::SamlProvider { .. }
        | EntityRef::OidcProvider { .. } => None,
    }
}
