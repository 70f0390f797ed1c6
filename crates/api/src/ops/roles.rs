//! Roles, their trust policies and their inline policies.

use iam_domain::ids::RoleId;
use iam_domain::names::{Description, RoleName};
use iam_domain::state::Role;
use iam_domain::{AccountState, Command};
use iam_wire::iam;

use super::entity::Entity;
use super::shapes::{self, Page};
use super::{encode_document, OpContext, OpResult};
use crate::authz::Target;
use crate::credentials::unique_id;
use crate::query::ApiError;

/// A role as `ListRoles` returns it: AWS documents that the list leaves out
/// the permissions boundary, tags and last use (`GetRole` has them).
pub(super) fn listed_role(state: &AccountState, r: &Role) -> iam::Role {
    iam::Role {
        arn: shapes::role_arn(state, r),
        assume_role_policy_document: Some(encode_document(&state.trust_policy_now(r))),
        create_date: r.created_at,
        description: r.description.as_ref().map(|d| d.as_str().to_owned()),
        max_session_duration: Some(i32::try_from(r.max_session_duration).unwrap_or(i32::MAX)),
        path: r.path.as_str().to_owned(),
        role_id: r.id.as_str().to_owned(),
        role_name: r.name.as_str().to_owned(),
        ..Default::default()
    }
}

/// A single role, as `GetRole`, `CreateRole` and `UpdateRoleDescription`
/// return it. iamd does not track use, so `RoleLastUsed` is present but
/// empty, as AWS answers for a role never used.
fn role(state: &AccountState, r: &Role) -> iam::Role {
    iam::Role {
        permissions_boundary: shapes::boundary(r.permissions_boundary.as_ref()),
        tags: shapes::tags(&r.tags),
        role_last_used: Some(iam::RoleLastUsed::default()),
        ..listed_role(state, r)
    }
}

/// The stored role `name`, or AWS's NoSuchEntity.
fn stored<'s>(state: &'s AccountState, name: &RoleName) -> Result<&'s Role, ApiError> {
    state
        .roles
        .get(&name.key())
        .map(|r| &**r)
        .ok_or_else(|| super::entity::no_such("role", name.as_str()))
}

/// The role as it is after this request's own write.
fn current_role(ctx: &OpContext<'_>, name: &RoleName) -> Result<iam::Role, ApiError> {
    let view = ctx.current().ok_or_else(ApiError::internal)?;
    Ok(role(&view.state, stored(&view.state, name)?))
}

fn description(value: Option<&str>) -> Result<Option<Description>, ApiError> {
    Ok(value.map(Description::parse).transpose()?)
}

/// The model bounds `MaxSessionDuration` to 3600..=43200, so it is never
/// negative.
fn max_session_duration(value: Option<i32>) -> Option<u32> {
    value.and_then(|v| u32::try_from(v).ok())
}

pub async fn create(
    ctx: &OpContext<'_>,
    input: iam::CreateRoleRequest,
) -> OpResult<iam::CreateRoleResponse> {
    let name = RoleName::parse(&input.role_name)?;
    let path = shapes::path(input.path.as_deref())?;
    let description = description(input.description.as_deref())?;
    let tags = crate::authz::request_tags(ctx.params)?;
    let target = Target::arn(ctx.arn(&format!(
        "role{}{}",
        path.as_ref().map(|p| p.as_str()).unwrap_or("/"),
        name.as_str()
    )));
    let boundary = super::users::optional_boundary(ctx, input.permissions_boundary.as_deref())?;
    super::users::authorize_create::<iam::ops::TagRole>(ctx, &target, &tags)?;
    ctx.execute(Command::CreateRole {
        role_name: name.clone(),
        path,
        role_id: RoleId::parse(&unique_id("AROA"))?,
        assume_role_policy_document: input.assume_role_policy_document,
        description,
        max_session_duration: max_session_duration(input.max_session_duration),
        permissions_boundary: boundary,
        tags,
        now: ctx.now,
    })
    .await?;
    Ok(iam::CreateRoleResponse {
        role: current_role(ctx, &name)?,
    })
}

pub async fn get(
    ctx: &OpContext<'_>,
    input: iam::GetRoleRequest,
) -> OpResult<iam::GetRoleResponse> {
    let name = RoleName::parse(&input.role_name)?;
    ctx.authorize(&ctx.role_target(&name))?;
    let state = ctx.state();
    Ok(iam::GetRoleResponse {
        role: role(state, stored(state, &name)?),
    })
}

pub async fn list(
    ctx: &OpContext<'_>,
    input: iam::ListRolesRequest,
) -> OpResult<iam::ListRolesResponse> {
    let prefix = shapes::path_prefix(input.path_prefix.as_deref());
    ctx.authorize_arn(ctx.arn(&format!("role{prefix}")))?;
    let state = ctx.state();
    let page = Page::of(
        state
            .roles
            .iter()
            .filter(|(_, r)| r.path.as_str().starts_with(prefix))
            .map(|(k, r)| (k.as_str(), &**r)),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListRolesResponse {
        is_truncated: page.is_truncated(),
        roles: page.items.iter().map(|r| listed_role(state, r)).collect(),
        marker: page.next,
    })
}

/// Sets the description and/or the maximum session duration. Its output is
/// empty, but the model has one: the answer still carries
/// `<UpdateRoleResult/>`, which SDKs expect.
pub async fn update(
    ctx: &OpContext<'_>,
    input: iam::UpdateRoleRequest,
) -> OpResult<iam::UpdateRoleResponse> {
    let name = RoleName::parse(&input.role_name)?;
    let description = description(input.description.as_deref())?;
    ctx.authorize(&ctx.role_target(&name))?;
    ctx.execute(Command::UpdateRole {
        role_name: name,
        description,
        max_session_duration: max_session_duration(input.max_session_duration),
    })
    .await?;
    Ok(iam::UpdateRoleResponse {})
}

pub async fn update_assume_role_policy(
    ctx: &OpContext<'_>,
    input: iam::UpdateAssumeRolePolicyRequest,
) -> OpResult<()> {
    let name = RoleName::parse(&input.role_name)?;
    ctx.authorize(&ctx.role_target(&name))?;
    ctx.execute(Command::UpdateAssumeRolePolicy {
        role_name: name,
        policy_document: input.policy_document,
    })
    .await?;
    Ok(())
}

/// Unlike `UpdateRole`, answers with the role.
pub async fn update_description(
    ctx: &OpContext<'_>,
    input: iam::UpdateRoleDescriptionRequest,
) -> OpResult<iam::UpdateRoleDescriptionResponse> {
    let name = RoleName::parse(&input.role_name)?;
    let description = Description::parse(&input.description)?;
    ctx.authorize(&ctx.role_target(&name))?;
    ctx.execute(Command::UpdateRoleDescription {
        role_name: name.clone(),
        description,
    })
    .await?;
    Ok(iam::UpdateRoleDescriptionResponse {
        role: Some(current_role(ctx, &name)?),
    })
}

pub async fn delete(ctx: &OpContext<'_>, input: iam::DeleteRoleRequest) -> OpResult<()> {
    let name = RoleName::parse(&input.role_name)?;
    ctx.authorize(&ctx.role_target(&name))?;
    ctx.execute(Command::DeleteRole { role_name: name }).await?;
    Ok(())
}

pub async fn put_policy(ctx: &OpContext<'_>, input: iam::PutRolePolicyRequest) -> OpResult<()> {
    let entity = Entity::role(&input.role_name)?;
    super::inline::put(ctx, entity, &input.policy_name, input.policy_document).await
}

pub async fn get_policy(
    ctx: &OpContext<'_>,
    input: iam::GetRolePolicyRequest,
) -> OpResult<iam::GetRolePolicyResponse> {
    let found = super::inline::get(ctx, Entity::role(&input.role_name)?, &input.policy_name)?;
    Ok(iam::GetRolePolicyResponse {
        role_name: found.owner,
        policy_name: found.name,
        policy_document: found.document,
    })
}

pub async fn list_policies(
    ctx: &OpContext<'_>,
    input: iam::ListRolePoliciesRequest,
) -> OpResult<iam::ListRolePoliciesResponse> {
    let entity = Entity::role(&input.role_name)?;
    let page = super::inline::list(ctx, entity, input.max_items, input.marker.as_deref())?;
    Ok(iam::ListRolePoliciesResponse {
        is_truncated: page.is_truncated(),
        policy_names: page.items,
        marker: page.next,
    })
}

pub async fn delete_policy(
    ctx: &OpContext<'_>,
    input: iam::DeleteRolePolicyRequest,
) -> OpResult<()> {
    super::inline::delete(ctx, Entity::role(&input.role_name)?, &input.policy_name).await
}

/// `iam:CreateServiceLinkedRole` on the role's ARN, with
/// `iam:AWSServiceName`, the one key AWS defines for it.
pub async fn create_service_linked(
    ctx: &OpContext<'_>,
    input: iam::CreateServiceLinkedRoleRequest,
) -> OpResult<iam::CreateServiceLinkedRoleResponse> {
    let service = input.aws_service_name;
    let name = iam_domain::service_linked::role_name(&service, input.custom_suffix.as_deref())?;
    let description = description(input.description.as_deref())?;
    let target = Target::arn(ctx.arn(&format!(
        "role{}{service}/{}",
        iam_domain::service_linked::PATH_PREFIX,
        name.as_str()
    )));
    let extra = crate::authz::Extra {
        context: vec![("iam:AWSServiceName".into(), vec![service.clone()])],
        ..Default::default()
    };
    ctx.authorize_extra(None, &target, &extra)?;
    ctx.execute(Command::CreateServiceLinkedRole {
        service,
        role_name: name.clone(),
        role_id: RoleId::parse(&unique_id("AROA"))?,
        description,
        now: ctx.now,
    })
    .await?;
    Ok(iam::CreateServiceLinkedRoleResponse {
        role: Some(current_role(ctx, &name)?),
    })
}

/// Deleted at once: iamd runs no resource that could still use the role,
/// so the deletion task has succeeded when this answers.
pub async fn delete_service_linked(
    ctx: &OpContext<'_>,
    input: iam::DeleteServiceLinkedRoleRequest,
) -> OpResult<iam::DeleteServiceLinkedRoleResponse> {
    let name = RoleName::parse(&input.role_name)?;
    ctx.authorize(&ctx.role_target(&name))?;
    let state = ctx.state();
    let role = stored(state, &name)?;
    let service = role
        .path
        .as_str()
        .strip_prefix(iam_domain::service_linked::PATH_PREFIX)
        .unwrap_or_default()
        .trim_end_matches('/');
    let deletion_task_id = format!(
        "task/aws-service-role/{service}/{}/{}",
        role.name.as_str(),
        uuid::Uuid::new_v4()
    );
    ctx.execute(Command::DeleteServiceLinkedRole {
        role_name: name,
        deletion_task_id: deletion_task_id.clone(),
    })
    .await?;
    Ok(iam::DeleteServiceLinkedRoleResponse { deletion_task_id })
}

/// Authorized on the role the task names.
pub async fn service_linked_deletion_status(
    ctx: &OpContext<'_>,
    input: iam::GetServiceLinkedRoleDeletionStatusRequest,
) -> OpResult<iam::GetServiceLinkedRoleDeletionStatusResponse> {
    let task = input.deletion_task_id;
    let role = task
        .strip_prefix("task/aws-service-role/")
        .and_then(|rest| {
            let mut parts = rest.rsplitn(3, '/');
            let (_uuid, role, service) = (parts.next()?, parts.next()?, parts.next()?);
            Some(ctx.arn(&format!(
                "role{}{service}/{role}",
                iam_domain::service_linked::PATH_PREFIX
            )))
        })
        .unwrap_or_else(|| ctx.arn("role/*"));
    ctx.authorize_arn(role)?;
    if !ctx.state().service_linked_role_deletions.contains(&task) {
        return Err(ApiError::new(
            404,
            "NoSuchEntity",
            format!("Deletion task {task} cannot be found."),
        ));
    }
    Ok(iam::GetServiceLinkedRoleDeletionStatusResponse {
        status: iam::DeletionTaskStatusType::Succeeded,
        reason: None,
    })
}
