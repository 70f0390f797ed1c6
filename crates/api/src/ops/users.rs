//! Users and their inline policies.

use iam_domain::ids::UserId;
use iam_domain::names::{Tag, UserName};
use iam_domain::{Arn, Command};
use iam_wire::iam;

use super::entity::Entity;
use super::shapes::{self, Page};
use super::{OpContext, OpResult};
use crate::authz::Target;
use crate::credentials::unique_id;
use crate::query::ApiError;

/// The optional `PermissionsBoundary` of a create, validated, spelled as
/// the stored policy spells it, as `Put*PermissionsBoundary` does.
pub(super) fn optional_boundary(
    ctx: &OpContext<'_>,
    boundary: Option<&str>,
) -> Result<Option<Arn>, ApiError> {
    let Some(text) = boundary else {
        return Ok(None);
    };
    let arn = ctx.managed_policy_arn(text)?;
    Ok(Some(
        Arn::parse(&crate::authz::canonical_policy_arn(ctx.state(), &arn)).unwrap_or(arn),
    ))
}

/// Creating an entity with tags also needs the tag action on it (AWS
/// requires both: the tags feed `aws:PrincipalTag` and `aws:ResourceTag`).
pub(super) fn authorize_create<TagOp: iam_wire::Operation>(
    ctx: &OpContext<'_>,
    target: &Target,
    tags: &[Tag],
) -> Result<(), ApiError> {
    ctx.authorize(target)?;
    if !tags.is_empty() {
        ctx.authorize_also::<TagOp>(target)?;
    }
    Ok(())
}

/// `user/PATH/NAME` in this account.
fn user_arn(ctx: &OpContext<'_>, path: &str, name: &str) -> String {
    ctx.arn(&format!("user{path}{name}"))
}

fn no_such_user(name: &str) -> ApiError {
    super::entity::no_such("user", name)
}

/// The stored user `name`, or AWS's NoSuchEntity.
fn stored<'s>(
    state: &'s iam_domain::AccountState,
    name: &UserName,
) -> Result<&'s iam_domain::state::User, ApiError> {
    state
        .users
        .get(&name.key())
        .map(|u| &**u)
        .ok_or_else(|| no_such_user(name.as_str()))
}

pub async fn create(
    ctx: &OpContext<'_>,
    input: iam::CreateUserRequest,
) -> OpResult<iam::CreateUserResponse> {
    let name = UserName::parse(&input.user_name)?;
    let path = shapes::path(input.path.as_deref())?;
    let tags = crate::authz::request_tags(ctx.params)?;
    let target = Target::arn(user_arn(
        ctx,
        path.as_ref().map(|p| p.as_str()).unwrap_or("/"),
        name.as_str(),
    ));
    let boundary = optional_boundary(ctx, input.permissions_boundary.as_deref())?;
    authorize_create::<iam_wire::iam::ops::TagUser>(ctx, &target, &tags)?;
    ctx.execute(Command::CreateUser {
        user_name: name.clone(),
        path,
        user_id: UserId::parse(&unique_id("AIDA"))?,
        permissions_boundary: boundary,
        tags,
        now: ctx.now,
    })
    .await?;
    let view = ctx.current().ok_or_else(ApiError::internal)?;
    let user = stored(&view.state, &name)?;
    Ok(iam::CreateUserResponse {
        user: Some(shapes::user(&view.state, user)),
    })
}

pub async fn get(
    ctx: &OpContext<'_>,
    input: iam::GetUserRequest,
) -> OpResult<iam::GetUserResponse> {
    let state = ctx.state();
    let name = match input.user_name.as_deref() {
        Some(name) => UserName::parse(name)?,
        None => match ctx.caller {
            crate::auth::Caller::Root { .. } => {
                // Root may do everything; its own record is the account's.
                ctx.authorize_arn(ctx.arn("root"))?;
                let created = state.account.as_ref().map(|a| a.created_at);
                return Ok(iam::GetUserResponse {
                    user: iam::User {
                        user_id: ctx.account().to_owned(),
                        arn: ctx.arn("root"),
                        create_date: created.unwrap_or(ctx.now),
                        ..Default::default()
                    },
                });
            }
            crate::auth::Caller::User { user_name, .. } => user_name.clone(),
            crate::auth::Caller::RoleSession { .. }
            | crate::auth::Caller::FederatedUser { .. }
            | crate::auth::Caller::Anonymous => return Err(crate::auth::Caller::needs_user_name()),
        },
    };
    ctx.authorize(&ctx.user_target(&name))?;
    let user = stored(state, &name)?;
    Ok(iam::GetUserResponse {
        user: shapes::user(state, user),
    })
}

pub async fn list(
    ctx: &OpContext<'_>,
    input: iam::ListUsersRequest,
) -> OpResult<iam::ListUsersResponse> {
    let prefix = shapes::path_prefix(input.path_prefix.as_deref());
    ctx.authorize_arn(ctx.arn(&format!("user{prefix}")))?;
    let state = ctx.state();
    let page = Page::of(
        state
            .users
            .iter()
            .filter(|(_, u)| u.path.as_str().starts_with(prefix))
            .map(|(k, u)| (k.as_str(), u)),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListUsersResponse {
        is_truncated: page.is_truncated(),
        users: page
            .items
            .iter()
            .map(|u| shapes::listed_user(state, u))
            .collect(),
        marker: page.next,
    })
}

pub async fn update(ctx: &OpContext<'_>, input: iam::UpdateUserRequest) -> OpResult<()> {
    let name = UserName::parse(&input.user_name)?;
    let new_name = input
        .new_user_name
        .as_deref()
        .map(UserName::parse)
        .transpose()?;
    let new_path = shapes::path(input.new_path.as_deref())?;
    // As in AWS, a rename or move needs the permission on the user as it is
    // and as it will be.
    let current = ctx.user_target(&name);
    ctx.authorize(&current)?;
    let user = ctx.state().users.get(&name.key());
    super::entity::authorize_new_arn(
        ctx,
        "user",
        &current,
        user.map(|u| (&u.path, u.name.as_str())),
        (
            name.as_str(),
            new_name.as_ref().map(|n| n.as_str()),
            new_path.as_ref(),
        ),
    )?;
    ctx.execute(Command::UpdateUser {
        user_name: name,
        new_user_name: new_name,
        new_path,
    })
    .await?;
    Ok(())
}

pub async fn delete(ctx: &OpContext<'_>, input: iam::DeleteUserRequest) -> OpResult<()> {
    let name = UserName::parse(&input.user_name)?;
    ctx.authorize(&ctx.user_target(&name))?;
    ctx.execute(Command::DeleteUser { user_name: name }).await?;
    Ok(())
}

pub async fn put_policy(ctx: &OpContext<'_>, input: iam::PutUserPolicyRequest) -> OpResult<()> {
    let entity = Entity::user(&input.user_name)?;
    super::inline::put(ctx, entity, &input.policy_name, input.policy_document).await
}

pub async fn get_policy(
    ctx: &OpContext<'_>,
    input: iam::GetUserPolicyRequest,
) -> OpResult<iam::GetUserPolicyResponse> {
    let found = super::inline::get(ctx, Entity::user(&input.user_name)?, &input.policy_name)?;
    Ok(iam::GetUserPolicyResponse {
        user_name: found.owner,
        policy_name: found.name,
        policy_document: found.document,
    })
}

pub async fn list_policies(
    ctx: &OpContext<'_>,
    input: iam::ListUserPoliciesRequest,
) -> OpResult<iam::ListUserPoliciesResponse> {
    let entity = Entity::user(&input.user_name)?;
    let page = super::inline::list(ctx, entity, input.max_items, input.marker.as_deref())?;
    Ok(iam::ListUserPoliciesResponse {
        is_truncated: page.is_truncated(),
        policy_names: page.items,
        marker: page.next,
    })
}

pub async fn delete_policy(
    ctx: &OpContext<'_>,
    input: iam::DeleteUserPolicyRequest,
) -> OpResult<()> {
    super::inline::delete(ctx, Entity::user(&input.user_name)?, &input.policy_name).await
}
