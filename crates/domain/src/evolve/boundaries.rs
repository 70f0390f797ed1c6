//! Permissions boundaries of users and roles, set and removed.

use super::entities::policy_key;
use crate::arn::Arn;
use crate::event::EventData;
use crate::state::{AccountState, EntityRef};

pub(super) fn evolve(state: &mut AccountState, data: &EventData) {
    match data {
        EventData::PermissionsBoundarySet {
            target,
            permissions_boundary,
        } => {
            // Only a policy that exists becomes a boundary.
            if policy_key(state, permissions_boundary).is_none() {
                return;
            }
            if let Some(b) = boundary_slot(state, target) {
                *b = Some(permissions_boundary.clone());
            }
        }
        EventData::PermissionsBoundaryDeleted { target } => {
            if let Some(b) = boundary_slot(state, target) {
                *b = None;
            }
        }
        _ => {}
    }
}

/// The boundary of `target`, if it exists and can have one.
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
