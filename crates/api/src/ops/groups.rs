//! Groups, their members and their inline policies.

use iam_domain::ids::GroupId;
use iam_domain::names::{GroupName, InlinePolicyName, UserName};
use iam_domain::state::Group;
use iam_domain::{AccountState, Command};

use super::attachments::{no_such, path_param, path_prefix};
use super::{page, paging_tail, OpContext, OpResult};
use crate::credentials::unique_id;
use crate::query::{iso8601, ApiError, Xml};

/// The fields of AWS's `Group` shape.
fn group_xml(x: &mut Xml, state: &AccountState, group: &Group) {
    x.elem("Path", group.path.as_str())
        .elem("GroupName", group.name.as_str())
        .elem("GroupId", group.id.as_str())
        .elem(
            "Arn",
            &state
                .group_arn(group)
                .map(|a| a.to_string())
                .unwrap_or_default(),
        )
        .elem("CreateDate", &iso8601(&group.created_at));
}

fn group_name(ctx: &OpContext<'_>) -> Result<GroupName, ApiError> {
    Ok(GroupName::parse(ctx.params.required("GroupName")?)?)
}

fn existing<'s>(state: &'s AccountState, name: &GroupName) -> Result<&'s Group, ApiError> {
    state
        .groups
        .get(&name.key())
        .map(|g| &**g)
        .ok_or_else(|| no_such("group", name.as_str()))
}

pub async fn create(ctx: &OpContext<'_>) -> OpResult {
    let name = group_name(ctx)?;
    let path = path_param(ctx, "Path")?;
    ctx.authorize_arn(
        "CreateGroup",
        ctx.arn(&format!(
            "group{}{}",
            path.as_ref().map(|p| p.as_str()).unwrap_or("/"),
            name.as_str()
        )),
    )?;
    let position = ctx
        .execute(Command::CreateGroup {
            group_name: name.clone(),
            path,
            group_id: GroupId::parse(&unique_id("AGPA"))?,
            now: ctx.now,
        })
        .await?;
    let view = ctx.current().ok_or_else(ApiError::internal)?;
    let group = existing(&view.state, &name)?;
    let mut x = Xml::new();
    x.open("Group");
    group_xml(&mut x, &view.state, group);
    x.close("Group");
    Ok((x.finish(), Some(position)))
}

/// The group and its members, paged over the members by user name.
pub fn get(ctx: &OpContext<'_>) -> OpResult {
    let name = group_name(ctx)?;
    ctx.authorize("GetGroup", &ctx.group_target(&name))?;
    let state = ctx.state();
    let group = existing(state, &name)?;
    let (users, next) = page(
        group
            .members
            .iter()
            .filter_map(|k| state.users.get(k).map(|u| (k.as_str(), u))),
        ctx.params,
    )?;
    let mut x = Xml::new();
    x.open("Group");
    group_xml(&mut x, state, group);
    x.close("Group").open("Users");
    for u in users {
        x.open("member");
        super::users::user_xml(&mut x, state, u);
        x.close("member");
    }
    x.close("Users");
    paging_tail(&mut x, next);
    Ok((x.finish(), None))
}

pub fn list(ctx: &OpContext<'_>) -> OpResult {
    let prefix = path_prefix(ctx)?;
    ctx.authorize_arn("ListGroups", ctx.arn(&format!("group{prefix}")))?;
    let state = ctx.state();
    let (groups, next) = page(
        state
            .groups
            .iter()
            .filter(|(_, g)| g.path.as_str().starts_with(prefix))
            .map(|(k, g)| (k.as_str(), &**g)),
        ctx.params,
    )?;
    groups_page(state, groups, next)
}

/// A page of groups, as ListGroups and ListGroupsForUser answer.
fn groups_page(state: &AccountState, groups: Vec<&Group>, next: Option<String>) -> OpResult {
    let mut x = Xml::new();
    x.open("Groups");
    for g in groups {
        x.open("member");
        group_xml(&mut x, state, g);
        x.close("member");
    }
    x.close("Groups");
    paging_tail(&mut x, next);
    Ok((x.finish(), None))
}

/// Renames and/or moves a group. As in AWS, the caller needs the permission
/// on the group as it is and as it will be.
pub async fn update(ctx: &OpContext<'_>) -> OpResult {
    let name = group_name(ctx)?;
    let new_name = ctx
        .params
        .get("NewGroupName")
        .map(GroupName::parse)
        .transpose()?;
    let new_path = path_param(ctx, "NewPath")?;
    let current = ctx.group_target(&name);
    ctx.authorize("UpdateGroup", &current)?;
    let group = ctx.state().groups.get(&name.key());
    super::attachments::authorize_new_arn(
        ctx,
        ("UpdateGroup", "group"),
        &current,
        group.map(|g| (&g.path, g.name.as_str())),
        (
            name.as_str(),
            new_name.as_ref().map(|n| n.as_str()),
            new_path.as_ref(),
        ),
    )?;
    let position = ctx
        .execute(Command::UpdateGroup {
            group_name: name,
            new_group_name: new_name,
            new_path,
        })
        .await?;
    Ok((String::new(), Some(position)))
}

pub async fn delete(ctx: &OpContext<'_>) -> OpResult {
    let name = group_name(ctx)?;
    ctx.authorize("DeleteGroup", &ctx.group_target(&name))?;
    let position = ctx
        .execute(Command::DeleteGroup { group_name: name })
        .await?;
    Ok((String::new(), Some(position)))
}

pub async fn add_user(ctx: &OpContext<'_>) -> OpResult {
    let name = group_name(ctx)?;
    let user_name = UserName::parse(ctx.params.required("UserName")?)?;
    ctx.authorize("AddUserToGroup", &ctx.group_target(&name))?;
    let position = ctx
        .execute(Command::AddUserToGroup {
            group_name: name,
            user_name,
        })
        .await?;
    Ok((String::new(), Some(position)))
}

pub async fn remove_user(ctx: &OpContext<'_>) -> OpResult {
    let name = group_name(ctx)?;
    let user_name = UserName::parse(ctx.params.required("UserName")?)?;
    ctx.authorize("RemoveUserFromGroup", &ctx.group_target(&name))?;
    let position = ctx
        .execute(Command::RemoveUserFromGroup {
            group_name: name,
            user_name,
        })
        .await?;
    Ok((String::new(), Some(position)))
}

/// The groups a user belongs to, paged by group name; authorized on the user.
pub fn list_for_user(ctx: &OpContext<'_>) -> OpResult {
    let user_name = UserName::parse(ctx.params.required("UserName")?)?;
    ctx.authorize("ListGroupsForUser", &ctx.user_target(&user_name))?;
    let state = ctx.state();
    let user = state
        .users
        .get(&user_name.key())
        .ok_or_else(|| no_such("user", user_name.as_str()))?;
    let (groups, next) = page(
        user.groups
            .iter()
            .filter_map(|k| state.groups.get(k).map(|g| (k.as_str(), &**g))),
        ctx.params,
    )?;
    groups_page(state, groups, next)
}

pub async fn put_policy(ctx: &OpContext<'_>) -> OpResult {
    let name = group_name(ctx)?;
    let policy_name = InlinePolicyName::parse(ctx.params.required("PolicyName")?)?;
    let document = ctx.params.required("PolicyDocument")?.to_owned();
    ctx.authorize("PutGroupPolicy", &ctx.group_target(&name))?;
    let position = ctx
        .execute(Command::PutGroupPolicy {
            group_name: name,
            policy_name,
            policy_document: document,
        })
        .await?;
    Ok((String::new(), Some(position)))
}

pub fn get_policy(ctx: &OpContext<'_>) -> OpResult {
    let name = group_name(ctx)?;
    let policy_name = InlinePolicyName::parse(ctx.params.required("PolicyName")?)?;
    ctx.authorize("GetGroupPolicy", &ctx.group_target(&name))?;
    let group = existing(ctx.state(), &name)?;
    super::inline::get(
        "GroupName",
        group.name.as_str(),
        "group",
        &group.inline_policies,
        &policy_name,
    )
}

pub fn list_policies(ctx: &OpContext<'_>) -> OpResult {
    let name = group_name(ctx)?;
    ctx.authorize("ListGroupPolicies", &ctx.group_target(&name))?;
    let group = existing(ctx.state(), &name)?;
    super::inline::list(ctx, &group.inline_policies)
}

pub async fn delete_policy(ctx: &OpContext<'_>) -> OpResult {
    let name = group_name(ctx)?;
    let policy_name = InlinePolicyName::parse(ctx.params.required("PolicyName")?)?;
    ctx.authorize("DeleteGroupPolicy", &ctx.group_target(&name))?;
    let position = ctx
        .execute(Command::DeleteGroupPolicy {
            group_name: name,
            policy_name,
        })
        .await?;
    Ok((String::new(), Some(position)))
}
