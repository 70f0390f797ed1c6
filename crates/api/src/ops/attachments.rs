//! The operations that apply alike to several kinds of entity: managed
//! policy attachments (users, groups, roles), permissions boundaries and
//! tags (users, roles). Each operation is a thin handler naming its entity;
//! the work is shared, so the kinds cannot drift apart.

use iam_domain::Command;
use iam_wire::iam;

use super::entity::Entity;
use super::shapes::{self, Page};
use super::{OpContext, OpResult};
use crate::query::ApiError;

/// Groups have neither tags nor a permissions boundary in IAM: no handler
/// asks for them, so one reaching here is a bug, not the caller's error.
fn not_for_groups() -> ApiError {
    ApiError::internal()
}

/// `Attach{User,Group,Role}Policy`, with a customer managed policy or an
/// AWS managed one.
async fn attach(ctx: &OpContext<'_>, entity: Entity, policy_arn: &str) -> OpResult<()> {
    let target = entity.target(ctx);
    let policy_arn = ctx.managed_policy_arn(policy_arn)?;
    let command = match entity {
        Entity::User(user_name) => Command::AttachUserPolicy {
            user_name,
            policy_arn,
        },
        Entity::Group(group_name) => Command::AttachGroupPolicy {
            group_name,
            policy_arn,
        },
        Entity::Role(role_name) => Command::AttachRolePolicy {
            role_name,
            policy_arn,
        },
    };
    ctx.authorize(&target)?;
    ctx.execute(command).await?;
    Ok(())
}

/// `Detach{User,Group,Role}Policy`.
async fn detach(ctx: &OpContext<'_>, entity: Entity, policy_arn: &str) -> OpResult<()> {
    let target = entity.target(ctx);
    let policy_arn = ctx.managed_policy_arn(policy_arn)?;
    let command = match entity {
        Entity::User(user_name) => Command::DetachUserPolicy {
            user_name,
            policy_arn,
        },
        Entity::Group(group_name) => Command::DetachGroupPolicy {
            group_name,
            policy_arn,
        },
        Entity::Role(role_name) => Command::DetachRolePolicy {
            role_name,
            policy_arn,
        },
    };
    ctx.authorize(&target)?;
    ctx.execute(command).await?;
    Ok(())
}

/// `ListAttached{User,Group,Role}Policies`: `PathPrefix` filters on the
/// policies' paths, not the entity's; paged by folded policy name.
fn list_attached(
    ctx: &OpContext<'_>,
    entity: Entity,
    path_prefix: Option<&str>,
    max_items: Option<i32>,
    marker: Option<&str>,
) -> Result<Page<iam::AttachedPolicy>, ApiError> {
    let prefix = shapes::path_prefix(path_prefix);
    ctx.authorize(&entity.target(ctx))?;
    let state = ctx.state();
    let attached = entity.attached(state).ok_or_else(|| entity.not_found())?;
    Ok(Page::of(
        attached
            .iter()
            .filter_map(|k| shapes::Managed::by_key(state, k).map(|p| (k.as_str(), p)))
            .filter(|(_, p)| p.path().as_str().starts_with(prefix))
            .map(|(k, p)| (k, p.attached(state))),
        max_items,
        marker,
    ))
}

/// `Put{User,Role}PermissionsBoundary`, with a customer managed policy or
/// an AWS managed one.
async fn put_boundary(ctx: &OpContext<'_>, entity: Entity, boundary: &str) -> OpResult<()> {
    let target = entity.target(ctx);
    let permissions_boundary = ctx.managed_policy_arn(boundary)?;
    let command = match entity {
        Entity::User(user_name) => Command::PutUserPermissionsBoundary {
            user_name,
            permissions_boundary,
        },
        Entity::Role(role_name) => Command::PutRolePermissionsBoundary {
            role_name,
            permissions_boundary,
        },
        Entity::Group(_) => return Err(not_for_groups()),
    };
    ctx.authorize(&target)?;
    ctx.execute(command).await?;
    Ok(())
}

/// `Delete{User,Role}PermissionsBoundary`.
async fn delete_boundary(ctx: &OpContext<'_>, entity: Entity) -> OpResult<()> {
    let target = entity.target(ctx);
    let command = match entity {
        Entity::User(user_name) => Command::DeleteUserPermissionsBoundary { user_name },
        Entity::Role(role_name) => Command::DeleteRolePermissionsBoundary { role_name },
        Entity::Group(_) => return Err(not_for_groups()),
    };
    ctx.authorize(&target)?;
    ctx.execute(command).await?;
    Ok(())
}

/// `Tag{User,Role}`. The tags are read where the condition keys read them
/// (`aws:RequestTag`, `aws:TagKeys`), so what is authorized is what is
/// stored.
async fn tag(ctx: &OpContext<'_>, entity: Entity) -> OpResult<()> {
    let tags = crate::authz::request_tags(ctx.params)?;
    let target = entity.target(ctx);
    let command = match entity {
        Entity::User(user_name) => Command::TagUser { user_name, tags },
        Entity::Role(role_name) => Command::TagRole { role_name, tags },
        Entity::Group(_) => return Err(not_for_groups()),
    };
    ctx.authorize(&target)?;
    ctx.execute(command).await?;
    Ok(())
}

/// `Untag{User,Role}`; the keys are read as `aws:TagKeys` reads them.
async fn untag(ctx: &OpContext<'_>, entity: Entity) -> OpResult<()> {
    let tag_keys = crate::authz::request_tag_keys(ctx.params)?;
    let target = entity.target(ctx);
    let command = match entity {
        Entity::User(user_name) => Command::UntagUser {
            user_name,
            tag_keys,
        },
        Entity::Role(role_name) => Command::UntagRole {
            role_name,
            tag_keys,
        },
        Entity::Group(_) => return Err(not_for_groups()),
    };
    ctx.authorize(&target)?;
    ctx.execute(command).await?;
    Ok(())
}

/// `List{User,Role}Tags`, paged by folded tag key.
fn list_tags(
    ctx: &OpContext<'_>,
    entity: Entity,
    max_items: Option<i32>,
    marker: Option<&str>,
) -> Result<Page<iam::Tag>, ApiError> {
    ctx.authorize(&entity.target(ctx))?;
    let tags = entity.tags(ctx.state()).ok_or_else(|| entity.not_found())?;
    let page = Page::of(tags.iter().map(|(k, t)| (k.as_str(), t)), max_items, marker);
    Ok(Page {
        items: shapes::tag_list(page.items.into_iter()),
        next: page.next,
    })
}

pub async fn attach_user_policy(
    ctx: &OpContext<'_>,
    input: iam::AttachUserPolicyRequest,
) -> OpResult<()> {
    attach(ctx, Entity::user(&input.user_name)?, &input.policy_arn).await
}

pub async fn detach_user_policy(
    ctx: &OpContext<'_>,
    input: iam::DetachUserPolicyRequest,
) -> OpResult<()> {
    detach(ctx, Entity::user(&input.user_name)?, &input.policy_arn).await
}

pub async fn list_attached_user_policies(
    ctx: &OpContext<'_>,
    input: iam::ListAttachedUserPoliciesRequest,
) -> OpResult<iam::ListAttachedUserPoliciesResponse> {
    let page = list_attached(
        ctx,
        Entity::user(&input.user_name)?,
        input.path_prefix.as_deref(),
        input.max_items,
        input.marker.as_deref(),
    )?;
    Ok(iam::ListAttachedUserPoliciesResponse {
        is_truncated: page.is_truncated(),
        attached_policies: Some(page.items),
        marker: page.next,
    })
}

pub async fn attach_group_policy(
    ctx: &OpContext<'_>,
    input: iam::AttachGroupPolicyRequest,
) -> OpResult<()> {
    attach(ctx, Entity::group(&input.group_name)?, &input.policy_arn).await
}

pub async fn detach_group_policy(
    ctx: &OpContext<'_>,
    input: iam::DetachGroupPolicyRequest,
) -> OpResult<()> {
    detach(ctx, Entity::group(&input.group_name)?, &input.policy_arn).await
}

pub async fn list_attached_group_policies(
    ctx: &OpContext<'_>,
    input: iam::ListAttachedGroupPoliciesRequest,
) -> OpResult<iam::ListAttachedGroupPoliciesResponse> {
    let page = list_attached(
        ctx,
        Entity::group(&input.group_name)?,
        input.path_prefix.as_deref(),
        input.max_items,
        input.marker.as_deref(),
    )?;
    Ok(iam::ListAttachedGroupPoliciesResponse {
        is_truncated: page.is_truncated(),
        attached_policies: Some(page.items),
        marker: page.next,
    })
}

pub async fn attach_role_policy(
    ctx: &OpContext<'_>,
    input: iam::AttachRolePolicyRequest,
) -> OpResult<()> {
    attach(ctx, Entity::role(&input.role_name)?, &input.policy_arn).await
}

pub async fn detach_role_policy(
    ctx: &OpContext<'_>,
    input: iam::DetachRolePolicyRequest,
) -> OpResult<()> {
    detach(ctx, Entity::role(&input.role_name)?, &input.policy_arn).await
}

pub async fn list_attached_role_policies(
    ctx: &OpContext<'_>,
    input: iam::ListAttachedRolePoliciesRequest,
) -> OpResult<iam::ListAttachedRolePoliciesResponse> {
    let page = list_attached(
        ctx,
        Entity::role(&input.role_name)?,
        input.path_prefix.as_deref(),
        input.max_items,
        input.marker.as_deref(),
    )?;
    Ok(iam::ListAttachedRolePoliciesResponse {
        is_truncated: page.is_truncated(),
        attached_policies: Some(page.items),
        marker: page.next,
    })
}

pub async fn put_user_permissions_boundary(
    ctx: &OpContext<'_>,
    input: iam::PutUserPermissionsBoundaryRequest,
) -> OpResult<()> {
    put_boundary(
        ctx,
        Entity::user(&input.user_name)?,
        &input.permissions_boundary,
    )
    .await
}

pub async fn delete_user_permissions_boundary(
    ctx: &OpContext<'_>,
    input: iam::DeleteUserPermissionsBoundaryRequest,
) -> OpResult<()> {
    delete_boundary(ctx, Entity::user(&input.user_name)?).await
}

pub async fn put_role_permissions_boundary(
    ctx: &OpContext<'_>,
    input: iam::PutRolePermissionsBoundaryRequest,
) -> OpResult<()> {
    put_boundary(
        ctx,
        Entity::role(&input.role_name)?,
        &input.permissions_boundary,
    )
    .await
}

pub async fn delete_role_permissions_boundary(
    ctx: &OpContext<'_>,
    input: iam::DeleteRolePermissionsBoundaryRequest,
) -> OpResult<()> {
    delete_boundary(ctx, Entity::role(&input.role_name)?).await
}

pub async fn tag_user(ctx: &OpContext<'_>, input: iam::TagUserRequest) -> OpResult<()> {
    tag(ctx, Entity::user(&input.user_name)?).await
}

pub async fn untag_user(ctx: &OpContext<'_>, input: iam::UntagUserRequest) -> OpResult<()> {
    untag(ctx, Entity::user(&input.user_name)?).await
}

pub async fn list_user_tags(
    ctx: &OpContext<'_>,
    input: iam::ListUserTagsRequest,
) -> OpResult<iam::ListUserTagsResponse> {
    let page = list_tags(
        ctx,
        Entity::user(&input.user_name)?,
        input.max_items,
        input.marker.as_deref(),
    )?;
    Ok(iam::ListUserTagsResponse {
        is_truncated: page.is_truncated(),
        tags: page.items,
        marker: page.next,
    })
}

pub async fn tag_role(ctx: &OpContext<'_>, input: iam::TagRoleRequest) -> OpResult<()> {
    tag(ctx, Entity::role(&input.role_name)?).await
}

pub async fn untag_role(ctx: &OpContext<'_>, input: iam::UntagRoleRequest) -> OpResult<()> {
    untag(ctx, Entity::role(&input.role_name)?).await
}

pub async fn list_role_tags(
    ctx: &OpContext<'_>,
    input: iam::ListRoleTagsRequest,
) -> OpResult<iam::ListRoleTagsResponse> {
    let page = list_tags(
        ctx,
        Entity::role(&input.role_name)?,
        input.max_items,
        input.marker.as_deref(),
    )?;
    Ok(iam::ListRoleTagsResponse {
        is_truncated: page.is_truncated(),
        tags: page.items,
        marker: page.next,
    })
}
