//! Users: creating, renaming or moving, and deleting them.

use super::entities::{attachable_policy, check_new, path_or_root, rename_and_move, user};
use super::errors::{exists, must_first};
use super::tags::check_new_tags;
use super::{not_routed_here, Ctx, Decision};
use crate::command::Command;
use crate::event::EventData;
use crate::names::UserName;
use crate::state::CredentialOwner;

pub(super) fn decide(ctx: &Ctx, command: &Command) -> Decision {
    let state = ctx.state;
    match command {
        Command::CreateUser {
            user_name,
            path,
            user_id,
            permissions_boundary,
            tags,
            now,
        } => {
            check_new(
                state,
                &state.users,
                &user_name.key(),
                || exists("User", user_name),
                user_id.as_str(),
                ("UsersPerAccount", ctx.quotas.users_per_account),
            )?;
            if let Some(b) = permissions_boundary {
                attachable_policy(state, b)?;
            }
            check_new_tags(&Default::default(), tags, ctx.quotas)?;
            ctx.one(EventData::UserCreated {
                user_name: user_name.clone(),
                user_id: user_id.clone(),
                path: path_or_root(path),
                permissions_boundary: permissions_boundary.clone(),
                tags: tags.clone(),
                created_at: *now,
            })
        }
        Command::UpdateUser {
            user_name,
            new_user_name,
            new_path,
        } => {
            let user = user(state, user_name)?;
            let Some(change) = rename_and_move(
                "User",
                (&user.name, &user.path),
                new_user_name.as_ref(),
                new_path.as_ref(),
                |k| state.users.contains_key(k),
            )?
            else {
                return Ok(vec![]);
            };
            ctx.one(EventData::UserUpdated {
                user_name: user.name.clone(),
                new_user_name: change.name,
                new_path: change.path,
            })
        }
        Command::DeleteUser { user_name } => delete(ctx, user_name),
        other => not_routed_here(other, "user"),
    }
}

/// A user is deleted only once nothing of its own is left (credentials,
/// policies, memberships); the error names the first thing found.
fn delete(ctx: &Ctx, user_name: &UserName) -> Decision {
    let state = ctx.state;
    let user = user(state, user_name)?;
    let owner = CredentialOwner::User {
        user_name: user.name.clone(),
    };
    if user.login_profile.is_some() {
        return Err(must_first("delete login profile"));
    }
    if state.access_keys_of(&owner).next().is_some() {
        return Err(must_first("delete access keys"));
    }
    if !user.mfa_devices.is_empty() {
        return Err(must_first("delete MFA device"));
    }
    if super::ssh_keys::keys_of(state, &user.name).next().is_some() {
        return Err(must_first("delete SSH public keys"));
    }
    if super::certificates::signing_certificates_of(state, &owner)
        .next()
        .is_some()
    {
        return Err(must_first("delete signing certificates"));
    }
    if super::service_credentials::credentials_of(state, &user.name)
        .next()
        .is_some()
    {
        return Err(must_first("delete service specific credentials"));
    }
    if !user.inline_policies.is_empty() {
        return Err(must_first("delete policies"));
    }
    if !user.attached_policies.is_empty() {
        return Err(must_first("detach all policies"));
    }
    if !user.groups.is_empty() {
        return Err(must_first("remove user from all groups"));
    }
    ctx.one(EventData::UserDeleted {
        user_name: user.name.clone(),
        user_id: user.id.clone(),
    })
}
