//! Roles, their trust policies and their inline policies.

use iam_domain::ids::RoleId;
use iam_domain::names::{Description, InlinePolicyName, RoleName};
use iam_domain::state::Role;
use iam_domain::{AccountState, Command};

use super::attachments::{boundary_xml, no_such, path_param, path_prefix, tags_xml};
use super::{encode_document, page, paging_tail, OpContext, OpResult};
use crate::credentials::unique_id;
use crate::query::{iso8601, ApiError, Xml};

/// The fields of AWS's `Role` shape. `full` adds what AWS returns only for a
/// single role (GetRole, CreateRole, UpdateRoleDescription) and leaves out of
/// ListRoles: the permissions boundary, tags and last use.
fn role_xml(x: &mut Xml, state: &AccountState, role: &Role, full: bool) {
    x.elem("Path", role.path.as_str())
        .elem("RoleName", role.name.as_str())
        .elem("RoleId", role.id.as_str())
        .elem(
            "Arn",
            &state
                .role_arn(role)
                .map(|a| a.to_string())
                .unwrap_or_default(),
        )
        .elem("CreateDate", &iso8601(&role.created_at))
        .elem(
            "AssumeRolePolicyDocument",
            &encode_document(&role.assume_role_policy_document),
        )
        .opt("Description", role.description.as_ref().map(|d| d.as_str()))
        .elem("MaxSessionDuration", &role.max_session_duration.to_string());
    if full {
        boundary_xml(x, role.permissions_boundary.as_ref());
        tags_xml(x, &role.tags);
        x.open("RoleLastUsed").close("RoleLastUsed");
    }
}

fn role_name(ctx: &OpContext<'_>) -> Result<RoleName, ApiError> {
    Ok(RoleName::parse(ctx.params.required("RoleName")?)?)
}

fn existing<'s>(state: &'s AccountState, name: &RoleName) -> Result<&'s Role, ApiError> {
    state
        .roles
        .get(&name.key())
        .map(|r| &**r)
        .ok_or_else(|| no_such("role", name.as_str()))
}

fn description(ctx: &OpContext<'_>) -> Result<Option<Description>, ApiError> {
    Ok(ctx
        .params
        .get("Description")
        .map(Description::parse)
        .transpose()?)
}

fn max_session_duration(ctx: &OpContext<'_>) -> Result<Option<u32>, ApiError> {
    Ok(ctx
        .params
        .int("MaxSessionDuration", 3600, 43200)?
        .map(|v| v as u32))
}

/// `<Role>` as it is after this request's own write.
fn current_role_xml(ctx: &OpContext<'_>, name: &RoleName) -> Result<String, ApiError> {
    let view = ctx.current().ok_or_else(ApiError::internal)?;
    let role = existing(&view.state, name)?;
    let mut x = Xml::new();
    x.open("Role");
    role_xml(&mut x, &view.state, role, true);
    x.close("Role");
    Ok(x.finish())
}

pub async fn create(ctx: &OpContext<'_>) -> OpResult {
    let name = role_name(ctx)?;
    let path = path_param(ctx, "Path")?;
    let document = ctx.params.required("AssumeRolePolicyDocument")?.to_owned();
    let description = description(ctx)?;
    let max = max_session_duration(ctx)?;
    let tags = super::users::tags(ctx)?;
    let target = crate::authz::Target::arn(ctx.arn(&format!(
        "role{}{}",
        path.as_ref().map(|p| p.as_str()).unwrap_or("/"),
        name.as_str()
    )));
    let boundary = super::users::optional_boundary(ctx, &target)?;
    super::users::authorize_create(ctx, "CreateRole", "TagRole", &target, &tags)?;
    let position = ctx
        .execute(Command::CreateRole {
            role_name: name.clone(),
            path,
            role_id: RoleId::parse(&unique_id("AROA"))?,
            assume_role_policy_document: document,
            description,
            max_session_duration: max,
            permissions_boundary: boundary,
            tags,
            now: ctx.now,
        })
        .await?;
    Ok((current_role_xml(ctx, &name)?, Some(position)))
}

pub fn get(ctx: &OpContext<'_>) -> OpResult {
    let name = role_name(ctx)?;
    ctx.authorize("GetRole", &ctx.role_target(&name))?;
    let state = ctx.state();
    let role = existing(state, &name)?;
    let mut x = Xml::new();
    x.open("Role");
    role_xml(&mut x, state, role, true);
    x.close("Role");
    Ok((x.finish(), None))
}

pub fn list(ctx: &OpContext<'_>) -> OpResult {
    let prefix = path_prefix(ctx)?;
    ctx.authorize_arn("ListRoles", ctx.arn(&format!("role{prefix}")))?;
    let state = ctx.state();
    let (roles, next) = page(
        state
            .roles
            .iter()
            .filter(|(_, r)| r.path.as_str().starts_with(prefix))
            .map(|(k, r)| (k.as_str(), r)),
        ctx.params,
    )?;
    let mut x = Xml::new();
    x.open("Roles");
    for r in roles {
        x.open("member");
        role_xml(&mut x, state, r, false);
        x.close("member");
    }
    x.close("Roles");
    paging_tail(&mut x, next);
    Ok((x.finish(), None))
}

/// Sets the description and/or the maximum session duration; no output.
pub async fn update(ctx: &OpContext<'_>) -> OpResult {
    let name = role_name(ctx)?;
    let description = description(ctx)?;
    let max = max_session_duration(ctx)?;
    ctx.authorize("UpdateRole", &ctx.role_target(&name))?;
    let position = ctx
        .execute(Command::UpdateRole {
            role_name: name,
            description,
            max_session_duration: max,
        })
        .await?;
    Ok((String::new(), Some(position)))
}

pub async fn update_assume_role_policy(ctx: &OpContext<'_>) -> OpResult {
    let name = role_name(ctx)?;
    let document = ctx.params.required("PolicyDocument")?.to_owned();
    ctx.authorize("UpdateAssumeRolePolicy", &ctx.role_target(&name))?;
    let position = ctx
        .execute(Command::UpdateAssumeRolePolicy {
            role_name: name,
            policy_document: document,
        })
        .await?;
    Ok((String::new(), Some(position)))
}

/// Sets the description and returns the role.
pub async fn update_description(ctx: &OpContext<'_>) -> OpResult {
    let name = role_name(ctx)?;
    let description = Description::parse(ctx.params.required("Description")?)?;
    ctx.authorize("UpdateRoleDescription", &ctx.role_target(&name))?;
    let position = ctx
        .execute(Command::UpdateRoleDescription {
            role_name: name.clone(),
            description,
        })
        .await?;
    Ok((current_role_xml(ctx, &name)?, Some(position)))
}

pub async fn delete(ctx: &OpContext<'_>) -> OpResult {
    let name = role_name(ctx)?;
    ctx.authorize("DeleteRole", &ctx.role_target(&name))?;
    let position = ctx.execute(Command::DeleteRole { role_name: name }).await?;
    Ok((String::new(), Some(position)))
}

pub async fn put_policy(ctx: &OpContext<'_>) -> OpResult {
    let name = role_name(ctx)?;
    let policy_name = InlinePolicyName::parse(ctx.params.required("PolicyName")?)?;
    let document = ctx.params.required("PolicyDocument")?.to_owned();
    ctx.authorize("PutRolePolicy", &ctx.role_target(&name))?;
    let position = ctx
        .execute(Command::PutRolePolicy {
            role_name: name,
            policy_name,
            policy_document: document,
        })
        .await?;
    Ok((String::new(), Some(position)))
}

pub fn get_policy(ctx: &OpContext<'_>) -> OpResult {
    let name = role_name(ctx)?;
    let policy_name = InlinePolicyName::parse(ctx.params.required("PolicyName")?)?;
    ctx.authorize("GetRolePolicy", &ctx.role_target(&name))?;
    let role = existing(ctx.state(), &name)?;
    super::inline::get(
        "RoleName",
        role.name.as_str(),
        "role",
        &role.inline_policies,
        &policy_name,
    )
}

pub fn list_policies(ctx: &OpContext<'_>) -> OpResult {
    let name = role_name(ctx)?;
    ctx.authorize("ListRolePolicies", &ctx.role_target(&name))?;
    let role = existing(ctx.state(), &name)?;
    super::inline::list(ctx, &role.inline_policies)
}

pub async fn delete_policy(ctx: &OpContext<'_>) -> OpResult {
    let name = role_name(ctx)?;
    let policy_name = InlinePolicyName::parse(ctx.params.required("PolicyName")?)?;
    ctx.authorize("DeleteRolePolicy", &ctx.role_target(&name))?;
    let position = ctx
        .execute(Command::DeleteRolePolicy {
            role_name: name,
            policy_name,
        })
        .await?;
    Ok((String::new(), Some(position)))
}

/// iamd has no instance profiles: an empty list, once the role is known to
/// exist (and `MaxItems`/`Marker` are validated as for any list).
pub fn list_instance_profiles(ctx: &OpContext<'_>) -> OpResult {
    let name = role_name(ctx)?;
    ctx.authorize("ListInstanceProfilesForRole", &ctx.role_target(&name))?;
    existing(ctx.state(), &name)?;
    let (_, next) = page(std::iter::empty::<(&str, ())>(), ctx.params)?;
    let mut x = Xml::new();
    x.open("InstanceProfiles").close("InstanceProfiles");
    paging_tail(&mut x, next);
    Ok((x.finish(), None))
}
