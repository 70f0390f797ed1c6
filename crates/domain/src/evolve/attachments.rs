//! Managed policies (customer managed and AWS's) attached to and detached from users, groups and roles.

use std::collections::BTreeSet;

use super::entities::policy_key;
use crate::arn::Arn;
use crate::event::EventData;
use crate::names::NameKey;
use crate::state::{AccountState, EntityRef};

pub(super) fn evolve(state: &mut AccountState, data: &EventData) {
    match data {
        EventData::ManagedPolicyAttached { target, policy_arn } => {
            // Only a policy that exists is attached.
            let Some(key) = policy_key(state, policy_arn) else {
                return;
            };
            if let Some(set) = attached_set(state, target) {
                set.insert(key);
            }
        }
        EventData::ManagedPolicyDetached { target, policy_arn } => {
            let key = match policy_arn {
                Arn::Policy { name, .. } => name.key(),
                Arn::AwsPolicy { name, .. } => crate::aws_policies::aws_attachment_key(name),
                _ => return,
            };
            if let Some(set) = attached_set(state, target) {
                set.remove(&key);
            }
        }
        _ => {}
    }
}

/// The policies attached to `target`, if it exists and can have any.
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
        EntityRef::Policy { .. }
        | EntityRef::MfaDevice { .. }
        | EntityRef::InstanceProfile { .. }
        | EntityRef::ServerCertificate { .. }
        | EntityRef::SamlProvider { .. }
        | EntityRef::OidcProvider { .. } => None,
    }
}
