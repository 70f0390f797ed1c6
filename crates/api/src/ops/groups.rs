//! Groups, their members and their inline policies.

use iam_domain::ids::GroupId;
use iam_domain::names::{GroupName, UserName};
use iam_domain::state::Group;
use iam_domain::{AccountState, Command};
use iam_wire::iam;

use super::entity::Entity;
use super::shapes::{self, Page};
use super::{OpContext, OpResult};
use crate::authz::Target;
use crate::credentials::unique_id;
use crate::query::ApiError;

/// The stored group `name`, or AWS's NoSuchEntity.
fn stored<'s>(state: &'s AccountState, name: &GroupName) -> Result<&'s Group, ApiError> {
    state
        .groups
        .get(&name.key())
        .map(|g| &**g)
        .ok_or_else(|| super::entity::no_such("group", name.as_str()))
}

pub async fn create(
    ctx: &OpContext<'_>,
    input: iam::CreateGroupRequest,
) -> OpResult<iam::CreateGroupResponse> {
    let name = GroupName::parse(&input.group_name)?;
    let path = shapes::path(input.path.as_deref())?;
    ctx.authorize(&Target::arn(ctx.arn(&format!(
        "group{}{}",
        path.as_ref().map(|p| p.as_str()).unwrap_or("/"),
        name.as_str()
    ))))?;
    ctx.execute(Command::CreateGroup {
        group_name: name.clone(),
        path,
        group_id: GroupId::parse(&unique_id("AGPA"))?,
        now: ctx.now,
    })
    .await?;
    let view = ctx.current().ok_or_else(ApiError::internal)?;
    let group = stored(&view.state, &name)?;
    Ok(iam::CreateGroupResponse {
        group: shapes::group(&view.state, group),
    })
}

/// The group and its members, paged over the members by user name.
pub async fn get(
    ctx: &OpContext<'_>,
    input: iam::GetGroupRequest,
) -> OpResult<iam::GetGroupResponse> {
    let name = GroupName::parse(&input.group_name)?;
    ctx.authorize(&ctx.group_target(&name))?;
    let state = ctx.state();
    let group = stored(state, &name)?;
    let page = Page::of(
        group
            .members
            .iter()
            .filter_map(|k| state.users.get(k).map(|u| (k.as_str(), u))),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::GetGroupResponse {
        group: shapes::group(state, group),
        is_truncated: page.is_truncated(),
        users: page.items.iter().map(|u| shapes::user(state, u)).collect(),
        marker: page.next,
    })
}

pub async fn list(
    ctx: &OpContext<'_>,
    input: iam::ListGroupsRequest,
) -> OpResult<iam::ListGroupsResponse> {
    let prefix = shapes::path_prefix(input.path_prefix.as_deref());
    ctx.authorize_arn(ctx.arn(&format!("group{prefix}")))?;
    let state = ctx.state();
    let page = Page::of(
        state
            .groups
            .iter()
            .filter(|(_, g)| g.path.as_str().starts_with(prefix))
            .map(|(k, g)| (k.as_str(), &**g)),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListGroupsResponse {
        is_truncated: page.is_truncated(),
        groups: groups(state, &page.items),
        marker: page.next,
    })
}

fn groups(state: &AccountState, page: &[&Group]) -> Vec<iam::Group> {
    page.iter().map(|g| shapes::group(state, g)).collect()
}

/// Renames and/or moves a group. As in AWS, the caller needs the permission
/// on the group as it is and as it will be.
pub async fn update(ctx: &OpContext<'_>, input: iam::UpdateGroupRequest) -> OpResult<()> {
    let name = GroupName::parse(&input.group_name)?;
    let new_name = input
        .new_group_name
        .as_deref()
        .map(GroupName::parse)
        .transpose()?;
    let new_path = shapes::path(input.new_path.as_deref())?;
    let current = ctx.group_target(&name);
    ctx.authorize(&current)?;
    let group = ctx.state().groups.get(&name.key());
    super::entity::authorize_new_arn(
        ctx,
        "group",
        &current,
        group.map(|g| (&g.path, g.name.as_str())),
        (
            name.as_str(),
            new_name.as_ref().map(|n| n.as_str()),
            new_path.as_ref(),
        ),
    )?;
    ctx.execute(Command::UpdateGroup {
        group_name: name,
        new_group_name: new_name,
        new_path,
    })
    .await?;
    Ok(())
}

pub async fn delete(ctx: &OpContext<'_>, input: iam::DeleteGroupRequest) -> OpResult<()> {
    let name = GroupName::parse(&input.group_name)?;
    ctx.authorize(&ctx.group_target(&name))?;
    ctx.execute(Command::DeleteGroup { group_name: name })
        .await?;
    Ok(())
}

/// Authorized on the group alone, as AWS defines the action's resource.
pub async fn add_user(ctx: &OpContext<'_>, input: iam::AddUserToGroupRequest) -> OpResult<()> {
    let name = GroupName::parse(&input.group_name)?;
    let user_name = UserName::parse(&input.user_name)?;
    ctx.authorize(&ctx.group_target(&name))?;
    ctx.execute(Command::AddUserToGroup {
        group_name: name,
        user_name,
    })
    .await?;
    Ok(())
}

/// Authorized on the group alone, as AWS defines the action's resource.
pub async fn remove_user(
    ctx: &OpContext<'_>,
    input: iam::RemoveUserFromGroupRequest,
) -> OpResult<()> {
    let name = GroupName::parse(&input.group_name)?;
    let user_name = UserName::parse(&input.user_name)?;
    ctx.authorize(&ctx.group_target(&name))?;
    ctx.execute(Command::RemoveUserFromGroup {
        group_name: name,
        user_name,
    })
    .await?;
    Ok(())
}

/// The groups a user belongs to, paged by group name; authorized on the
/// user, the action's resource.
pub async fn list_for_user(
    ctx: &OpContext<'_>,
    input: iam::ListGroupsForUserRequest,
) -> OpResult<iam::ListGroupsForUserResponse> {
    let user_name = UserName::parse(&input.user_name)?;
    ctx.authorize(&ctx.user_target(&user_name))?;
    let state = ctx.state();
    let user = state
        .users
        .get(&user_name.key())
        .ok_or_else(|| super::entity::no_such("user", user_name.as_str()))?;
    let page = Page::of(
        user.groups
            .iter()
            .filter_map(|k| state.groups.get(k).map(|g| (k.as_str(), &**g))),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListGroupsForUserResponse {
        is_truncated: page.is_truncated(),
        groups: groups(state, &page.items),
        marker: page.next,
    })
}

pub async fn put_policy(ctx: &OpContext<'_>, input: iam::PutGroupPolicyRequest) -> OpResult<()> {
    let entity = Entity::group(&input.group_name)?;
    super::inline::put(ctx, entity, &input.policy_name, input.policy_document).await
}

pub async fn get_policy(
    ctx: &OpContext<'_>,
    input: iam::GetGroupPolicyRequest,
) -> OpResult<iam::GetGroupPolicyResponse> {
    let found = super::inline::get(ctx, Entity::group(&input.group_name)?, &input.policy_name)?;
    Ok(iam::GetGroupPolicyResponse {
        group_name: found.owner,
        policy_name: found.name,
        policy_document: found.document,
    })
}

pub async fn list_policies(
    ctx: &OpContext<'_>,
    input: iam::ListGroupPoliciesRequest,
) -> OpResult<iam::ListGroupPoliciesResponse> {
    let entity = Entity::group(&input.group_name)?;
    let page = super::inline::list(ctx, entity, input.max_items, input.marker.as_deref())?;
    Ok(iam::ListGroupPoliciesResponse {
        is_truncated: page.is_truncated(),
        policy_names: page.items,
        marker: page.next,
    })
}

pub async fn delete_policy(
    ctx: &OpContext<'_>,
    input: iam::DeleteGroupPolicyRequest,
) -> OpResult<()> {
    super::inline::delete(ctx, Entity::group(&input.group_name)?, &input.policy_name).await
}
