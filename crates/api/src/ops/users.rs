//! Users and their inline policies.

use iam_domain::ids::UserId;
use iam_domain::names::{IamPath, InlinePolicyName, Tag, UserName};
use iam_domain::state::User;
use iam_domain::{AccountState, Arn, Command};

use super::{page, paging_tail, OpContext, OpResult};
use crate::credentials::unique_id;
use crate::query::{iso8601, ApiError, Xml};

pub(super) fn user_xml(x: &mut Xml, state: &AccountState, user: &User) {
    x.elem("Path", user.path.as_str())
        .elem("UserName", user.name.as_str())
        .elem("UserId", user.id.as_str())
        .elem(
            "Arn",
            &state
                .user_arn(user)
                .map(|a| a.to_string())
                .unwrap_or_default(),
        )
        .elem("CreateDate", &iso8601(&user.created_at));
    super::attachments::boundary_xml(x, user.permissions_boundary.as_ref());
    if !user.tags.is_empty() {
        x.open("Tags");
        for t in user.tags.values() {
            x.open("member")
                .elem("Key", t.key.as_str())
                .elem("Value", t.value.as_str())
                .close("member");
        }
        x.close("Tags");
    }
}

/// The request's `Tags`, validated.
pub(super) fn tags(ctx: &OpContext<'_>) -> Result<Vec<Tag>, ApiError> {
    crate::authz::request_tags(ctx.params)
}

/// The optional `PermissionsBoundary` of a create, validated (an AWS
/// managed policy is NoSuchEntity once the create is authorized).
pub(super) fn optional_boundary(
    ctx: &OpContext<'_>,
    target: &crate::authz::Target,
) -> Result<Option<Arn>, ApiError> {
    if ctx.params.get("PermissionsBoundary").is_none() {
        return Ok(None);
    }
    let arn = ctx.managed_policy_arn("PermissionsBoundary", Some(target))?;
    // Stored as the policy spells it, as PutUserPermissionsBoundary does.
    let state = ctx.state();
    Ok(Some(
        state
            .policy_by_arn(&arn)
            .and_then(|p| state.policy_arn(p))
            .unwrap_or(arn),
    ))
}

/// Creating an entity with tags also needs the tag action on it (AWS
/// requires both: the tags feed `aws:PrincipalTag` and `aws:ResourceTag`).
pub(super) fn authorize_create(
    ctx: &OpContext<'_>,
    create: &str,
    tag: &str,
    target: &crate::authz::Target,
    tags: &[Tag],
) -> Result<(), ApiError> {
    ctx.authorize(create, target)?;
    if !tags.is_empty() {
        ctx.authorize(tag, target)?;
    }
    Ok(())
}

fn path_param(ctx: &OpContext<'_>, name: &str) -> Result<Option<IamPath>, ApiError> {
    ctx.params
        .get(name)
        .map(|p| IamPath::parse(p).map_err(ApiError::from))
        .transpose()
}

/// `user/PATH/NAME` in this account.
fn user_arn(ctx: &OpContext<'_>, path: &str, name: &str) -> String {
    ctx.arn(&format!("user{path}{name}"))
}

fn no_such_user(name: &str) -> ApiError {
    ApiError::new(
        404,
        "NoSuchEntity",
        format!("The user with name {name} cannot be found."),
    )
}

pub async fn create(ctx: &OpContext<'_>) -> OpResult {
    let name = UserName::parse(ctx.params.required("UserName")?)?;
    let path = path_param(ctx, "Path")?;
    let tags = tags(ctx)?;
    let target = crate::authz::Target::arn(user_arn(
        ctx,
        path.as_ref().map(|p| p.as_str()).unwrap_or("/"),
        name.as_str(),
    ));
    let boundary = optional_boundary(ctx, &target)?;
    authorize_create(ctx, "CreateUser", "TagUser", &target, &tags)?;
    let position = ctx
        .execute(Command::CreateUser {
            user_name: name.clone(),
            path,
            user_id: UserId::parse(&unique_id("AIDA"))?,
            permissions_boundary: boundary,
            tags,
            now: ctx.now,
        })
        .await?;
    let view = ctx.current().ok_or_else(ApiError::internal)?;
    let user = view
        .state
        .users
        .get(&name.key())
        .ok_or_else(ApiError::internal)?;
    let mut x = Xml::new();
    x.open("User");
    user_xml(&mut x, &view.state, user);
    x.close("User");
    Ok((x.finish(), Some(position)))
}

pub fn get(ctx: &OpContext<'_>) -> OpResult {
    let state = ctx.state();
    let mut x = Xml::new();
    match ctx.params.get("UserName") {
        Some(name) => {
            let name = UserName::parse(name)?;
            ctx.authorize("GetUser", &ctx.user_target(&name))?;
            let user = state
                .users
                .get(&name.key())
                .ok_or_else(|| no_such_user(name.as_str()))?;
            x.open("User");
            user_xml(&mut x, state, user);
            x.close("User");
        }
        None => match ctx.caller {
            crate::auth::Caller::Root { .. } => {
                let created = state
                    .account
                    .as_ref()
                    .map(|a| iso8601(&a.created_at))
                    .unwrap_or_default();
                x.open("User")
                    .elem("UserId", ctx.account())
                    .elem("Arn", &ctx.arn("root"))
                    .elem("CreateDate", &created)
                    .close("User");
            }
            crate::auth::Caller::User { user_name, .. } => {
                ctx.authorize("GetUser", &ctx.user_target(user_name))?;
                let user = state
                    .users
                    .get(&user_name.key())
                    .ok_or_else(|| no_such_user(user_name.as_str()))?;
                x.open("User");
                user_xml(&mut x, state, user);
                x.close("User");
            }
        },
    }
    Ok((x.finish(), None))
}

pub fn list(ctx: &OpContext<'_>) -> OpResult {
    let prefix = ctx.params.get("PathPrefix").unwrap_or("/");
    ctx.authorize_arn("ListUsers", ctx.arn(&format!("user{prefix}")))?;
    let state = ctx.state();
    let (users, next) = page(
        state
            .users
            .iter()
            .filter(|(_, u)| u.path.as_str().starts_with(prefix))
            .map(|(k, u)| (k.as_str(), u)),
        ctx.params,
    )?;
    let mut x = Xml::new();
    x.open("Users");
    for u in users {
        x.open("member");
        user_xml(&mut x, state, u);
        x.close("member");
    }
    x.close("Users");
    paging_tail(&mut x, next);
    Ok((x.finish(), None))
}

pub async fn update(ctx: &OpContext<'_>) -> OpResult {
    let name = UserName::parse(ctx.params.required("UserName")?)?;
    let new_name = ctx
        .params
        .get("NewUserName")
        .map(UserName::parse)
        .transpose()?;
    let new_path = path_param(ctx, "NewPath")?;
    // As in AWS, a rename or move needs the permission on the user as it is
    // and as it will be.
    let current = ctx.user_target(&name);
    ctx.authorize("UpdateUser", &current)?;
    let user = ctx.state().users.get(&name.key());
    super::attachments::authorize_new_arn(
        ctx,
        ("UpdateUser", "user"),
        &current,
        user.map(|u| (&u.path, u.name.as_str())),
        (
            name.as_str(),
            new_name.as_ref().map(|n| n.as_str()),
            new_path.as_ref(),
        ),
    )?;
    let position = ctx
        .execute(Command::UpdateUser {
            user_name: name,
            new_user_name: new_name,
            new_path,
        })
        .await?;
    Ok((String::new(), Some(position)))
}

pub async fn delete(ctx: &OpContext<'_>) -> OpResult {
    let name = UserName::parse(ctx.params.required("UserName")?)?;
    ctx.authorize("DeleteUser", &ctx.user_target(&name))?;
    let position = ctx.execute(Command::DeleteUser { user_name: name }).await?;
    Ok((String::new(), Some(position)))
}

pub async fn put_policy(ctx: &OpContext<'_>) -> OpResult {
    let name = UserName::parse(ctx.params.required("UserName")?)?;
    let policy_name = InlinePolicyName::parse(ctx.params.required("PolicyName")?)?;
    let document = ctx.params.required("PolicyDocument")?.to_owned();
    ctx.authorize("PutUserPolicy", &ctx.user_target(&name))?;
    let position = ctx
        .execute(Command::PutUserPolicy {
            user_name: name,
            policy_name,
            policy_document: document,
        })
        .await?;
    Ok((String::new(), Some(position)))
}

pub fn get_policy(ctx: &OpContext<'_>) -> OpResult {
    let name = UserName::parse(ctx.params.required("UserName")?)?;
    let policy_name = InlinePolicyName::parse(ctx.params.required("PolicyName")?)?;
    ctx.authorize("GetUserPolicy", &ctx.user_target(&name))?;
    let user = ctx
        .state()
        .users
        .get(&name.key())
        .ok_or_else(|| no_such_user(name.as_str()))?;
    super::inline::get(
        "UserName",
        user.name.as_str(),
        "user",
        &user.inline_policies,
        &policy_name,
    )
}

pub fn list_policies(ctx: &OpContext<'_>) -> OpResult {
    let name = UserName::parse(ctx.params.required("UserName")?)?;
    ctx.authorize("ListUserPolicies", &ctx.user_target(&name))?;
    let user = ctx
        .state()
        .users
        .get(&name.key())
        .ok_or_else(|| no_such_user(name.as_str()))?;
    super::inline::list(ctx, &user.inline_policies)
}

pub async fn delete_policy(ctx: &OpContext<'_>) -> OpResult {
    let name = UserName::parse(ctx.params.required("UserName")?)?;
    let policy_name = InlinePolicyName::parse(ctx.params.required("PolicyName")?)?;
    ctx.authorize("DeleteUserPolicy", &ctx.user_target(&name))?;
    let position = ctx
        .execute(Command::DeleteUserPolicy {
            user_name: name,
            policy_name,
        })
        .await?;
    Ok((String::new(), Some(position)))
}
