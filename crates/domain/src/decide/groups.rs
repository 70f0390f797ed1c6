//! Groups: creating, renaming or moving, and deleting them, and their members.

use super::entities::{check_new, group, path_or_root, rename_and_move, user};
use super::errors::{exists, limit, must_first};
use super::{not_routed_here, Ctx, Decision};
use crate::command::Command;
use crate::error::DomainError;
use crate::event::EventData;
use crate::names::{GroupName, UserName};

pub(super) fn decide(ctx: &Ctx, command: &Command) -> Decision {
    let state = ctx.state;
    match command {
        Command::CreateGroup {
            group_name,
            path,
            group_id,
            now,
        } => {
            check_new(
                state,
                &state.groups,
                &group_name.key(),
                || exists("Group", group_name),
                group_id.as_str(),
                ("GroupsPerAccount", ctx.quotas.groups_per_account),
            )?;
            ctx.one(EventData::GroupCreated {
                group_name: group_name.clone(),
                group_id: group_id.clone(),
                path: path_or_root(path),
                created_at: *now,
            })
        }
        Command::UpdateGroup {
            group_name,
            new_group_name,
            new_path,
        } => {
            let group = group(state, group_name)?;
            let Some(change) = rename_and_move(
                "Group",
                (&group.name, &group.path),
                new_group_name.as_ref(),
                new_path.as_ref(),
                |k| state.groups.contains_key(k),
            )?
            else {
                return Ok(vec![]);
            };
            ctx.one(EventData::GroupUpdated {
                group_name: group.name.clone(),
                new_group_name: change.name,
                new_path: change.path,
            })
        }
        Command::DeleteGroup { group_name } => delete(ctx, group_name),
        Command::AddUserToGroup {
            group_name,
            user_name,
        } => add_member(ctx, group_name, user_name),
        Command::RemoveUserFromGroup {
            group_name,
            user_name,
        } => remove_member(ctx, group_name, user_name),
        other => not_routed_here(other, "group"),
    }
}

/// A group is deleted only once it has no members and no policies.
fn delete(ctx: &Ctx, group_name: &GroupName) -> Decision {
    let group = group(ctx.state, group_name)?;
    if !group.members.is_empty() {
        return Err(must_first("remove users from group"));
    }
    if !group.inline_policies.is_empty() {
        return Err(must_first("delete policies"));
    }
    if !group.attached_policies.is_empty() {
        return Err(must_first("detach all policies"));
    }
    ctx.one(EventData::GroupDeleted {
        group_name: group.name.clone(),
        group_id: group.id.clone(),
    })
}

/// Adding a member twice changes nothing, so it records nothing.
fn add_member(ctx: &Ctx, group_name: &GroupName, user_name: &UserName) -> Decision {
    let group = group(ctx.state, group_name)?;
    let user = user(ctx.state, user_name)?;
    if user.groups.contains(&group.name.key()) {
        return Ok(vec![]);
    }
    if user.groups.len() >= ctx.quotas.groups_per_user {
        return Err(limit("GroupsPerUser", ctx.quotas.groups_per_user));
    }
    ctx.one(EventData::UserAddedToGroup {
        group_name: group.name.clone(),
        user_name: user.name.clone(),
    })
}

fn remove_member(ctx: &Ctx, group_name: &GroupName, user_name: &UserName) -> Decision {
    let group = group(ctx.state, group_name)?;
    let user = user(ctx.state, user_name)?;
    if !user.groups.contains(&group.name.key()) {
        return Err(DomainError::NoSuchEntity(format!(
            "The user with name {} is not a member of the group with name {}.",
            user.name, group.name
        )));
    }
    ctx.one(EventData::UserRemovedFromGroup {
        group_name: group.name.clone(),
        user_name: user.name.clone(),
    })
}
