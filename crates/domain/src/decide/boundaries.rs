//! Setting and removing the permissions boundary of users and roles.

use super::entities::{attachable_policy, modifiable_role, role_ref, user, user_ref};
use super::{not_routed_here, Ctx, Decision};
use crate::arn::Arn;
use crate::command::Command;
use crate::error::DomainError;
use crate::event::EventData;
use crate::state::EntityRef;

pub(super) fn decide(ctx: &Ctx, command: &Command) -> Decision {
    let state = ctx.state;
    match command {
        Command::PutUserPermissionsBoundary {
            user_name,
            permissions_boundary,
        } => {
            let u = user(state, user_name)?;
            put(
                ctx,
                user_ref(u),
                &u.permissions_boundary,
                permissions_boundary,
            )
        }
        Command::PutRolePermissionsBoundary {
            role_name,
            permissions_boundary,
        } => {
            let r = modifiable_role(state, role_name)?;
            put(
                ctx,
                role_ref(r),
                &r.permissions_boundary,
                permissions_boundary,
            )
        }
        Command::DeleteUserPermissionsBoundary { user_name } => {
            let u = user(state, user_name)?;
            delete(ctx, user_ref(u), &u.permissions_boundary)
        }
        Command::DeleteRolePermissionsBoundary { role_name } => {
            let r = modifiable_role(state, role_name)?;
            delete(ctx, role_ref(r), &r.permissions_boundary)
        }
        other => not_routed_here(other, "permissions boundary"),
    }
}

/// Sets the boundary of `target` (now `current`) to the policy `arn` names;
/// setting the same one again records nothing.
fn put(ctx: &Ctx, target: EntityRef, current: &Option<Arn>, arn: &Arn) -> Decision {
    let (_, arn) = attachable_policy(ctx.state, arn)?;
    if current.as_ref() == Some(&arn) {
        return Ok(vec![]);
    }
    ctx.one(EventData::PermissionsBoundarySet {
        target,
        permissions_boundary: arn,
    })
}

fn delete(ctx: &Ctx, target: EntityRef, current: &Option<Arn>) -> Decision {
    if current.is_none() {
        return Err(DomainError::NoSuchEntity(
            "The entity has no permissions boundary.".into(),
        ));
    }
    ctx.one(EventData::PermissionsBoundaryDeleted { target })
}
