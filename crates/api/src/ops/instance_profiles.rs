//! Instance profiles: the container that hands one role to an EC2
//! instance. iamd runs no instances; it keeps profiles so that the tools
//! that manage them work unchanged, and refuses what AWS refuses (a second
//! role, deleting a profile or a role still joined).

use iam_domain::ids::InstanceProfileId;
use iam_domain::names::{InstanceProfileName, RoleName};
use iam_domain::state::InstanceProfile;
use iam_domain::{AccountState, Command};
use iam_wire::iam;

use super::shapes::{self, Page};
use super::{OpContext, OpResult};
use crate::authz::{Extra, Target};
use crate::credentials::unique_id;
use crate::query::ApiError;

/// A profile as every operation returns it: with its role, as `ListRoles`
/// shows roles.
pub(super) fn profile(state: &AccountState, p: &InstanceProfile) -> iam::InstanceProfile {
    iam::InstanceProfile {
        arn: arn_of(state, p),
        create_date: p.created_at,
        instance_profile_id: p.id.as_str().to_owned(),
        instance_profile_name: p.name.as_str().to_owned(),
        path: p.path.as_str().to_owned(),
        roles: p
            .roles
            .iter()
            .filter_map(|k| state.roles.get(k))
            .map(|r| super::roles::listed_role(state, r))
            .collect(),
        tags: shapes::tags(&p.tags),
    }
}

fn arn_of(state: &AccountState, p: &InstanceProfile) -> String {
    state
        .account_id()
        .map(|a| {
            format!(
                "arn:aws:iam::{a}:instance-profile{}{}",
                p.path.as_str(),
                p.name.as_str()
            )
        })
        .unwrap_or_default()
}

fn stored<'s>(
    state: &'s AccountState,
    name: &InstanceProfileName,
) -> Result<&'s InstanceProfile, ApiError> {
    state
        .instance_profiles
        .get(&name.key())
        .map(|p| &**p)
        .ok_or_else(|| {
            ApiError::new(
                404,
                "NoSuchEntity",
                format!("Instance Profile {name} cannot be found."),
            )
        })
}

/// The profile `name` as an authorization target: its ARN and tags when
/// it exists, else the ARN it would have at the root path.
fn target(ctx: &OpContext<'_>, name: &InstanceProfileName) -> Target {
    let state = ctx.authorizing_state();
    match state.instance_profiles.get(&name.key()) {
        Some(p) => Target::arn(arn_of(state, p)).with_tags(p.tags.values()),
        None => Target::arn(ctx.arn(&format!("instance-profile/{name}"))),
    }
}

fn current(
    ctx: &OpContext<'_>,
    name: &InstanceProfileName,
) -> Result<iam::InstanceProfile, ApiError> {
    let view = ctx.current().ok_or_else(ApiError::internal)?;
    Ok(profile(&view.state, stored(&view.state, name)?))
}

pub async fn create(
    ctx: &OpContext<'_>,
    input: iam::CreateInstanceProfileRequest,
) -> OpResult<iam::CreateInstanceProfileResponse> {
    let name = InstanceProfileName::parse(&input.instance_profile_name)?;
    let path = shapes::path(input.path.as_deref())?;
    let tags = crate::authz::request_tags(ctx.params)?;
    let target = Target::arn(ctx.arn(&format!(
        "instance-profile{}{}",
        path.as_ref().map(|p| p.as_str()).unwrap_or("/"),
        name.as_str()
    )));
    super::users::authorize_create::<iam::ops::TagInstanceProfile>(ctx, &target, &tags)?;
    ctx.execute(Command::CreateInstanceProfile {
        instance_profile_name: name.clone(),
        path,
        instance_profile_id: InstanceProfileId::parse(&unique_id("AIPA"))?,
        tags,
        now: ctx.now,
    })
    .await?;
    Ok(iam::CreateInstanceProfileResponse {
        instance_profile: current(ctx, &name)?,
    })
}

pub async fn get(
    ctx: &OpContext<'_>,
    input: iam::GetInstanceProfileRequest,
) -> OpResult<iam::GetInstanceProfileResponse> {
    let name = InstanceProfileName::parse(&input.instance_profile_name)?;
    ctx.authorize(&target(ctx, &name))?;
    let state = ctx.state();
    Ok(iam::GetInstanceProfileResponse {
        instance_profile: profile(state, stored(state, &name)?),
    })
}

pub async fn list(
    ctx: &OpContext<'_>,
    input: iam::ListInstanceProfilesRequest,
) -> OpResult<iam::ListInstanceProfilesResponse> {
    let prefix = shapes::path_prefix(input.path_prefix.as_deref());
    ctx.authorize_arn(ctx.arn(&format!("instance-profile{prefix}")))?;
    let state = ctx.state();
    let page = Page::of(
        state
            .instance_profiles
            .iter()
            .filter(|(_, p)| p.path.as_str().starts_with(prefix))
            .map(|(k, p)| (k.as_str(), &**p)),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListInstanceProfilesResponse {
        instance_profiles: page.items.iter().map(|p| listed(state, p)).collect(),
        is_truncated: page.is_truncated(),
        marker: page.next,
    })
}

/// As lists show a profile: AWS leaves its tags out (`GetInstanceProfile`
/// and `ListInstanceProfileTags` have them).
fn listed(state: &AccountState, p: &InstanceProfile) -> iam::InstanceProfile {
    iam::InstanceProfile {
        tags: None,
        ..profile(state, p)
    }
}

pub async fn list_for_role(
    ctx: &OpContext<'_>,
    input: iam::ListInstanceProfilesForRoleRequest,
) -> OpResult<iam::ListInstanceProfilesForRoleResponse> {
    let role_name = RoleName::parse(&input.role_name)?;
    ctx.authorize(&ctx.role_target(&role_name))?;
    let state = ctx.state();
    let role = state
        .roles
        .get(&role_name.key())
        .ok_or_else(|| super::entity::no_such("role", role_name.as_str()))?;
    let key = role.name.key();
    let page = Page::of(
        state
            .instance_profiles
            .iter()
            .filter(|(_, p)| p.roles.contains(&key))
            .map(|(k, p)| (k.as_str(), &**p)),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListInstanceProfilesForRoleResponse {
        instance_profiles: page.items.iter().map(|p| listed(state, p)).collect(),
        is_truncated: page.is_truncated(),
        marker: page.next,
    })
}

pub async fn delete(ctx: &OpContext<'_>, input: iam::DeleteInstanceProfileRequest) -> OpResult<()> {
    let name = InstanceProfileName::parse(&input.instance_profile_name)?;
    ctx.authorize(&target(ctx, &name))?;
    ctx.execute(Command::DeleteInstanceProfile {
        instance_profile_name: name,
    })
    .await?;
    Ok(())
}

/// Needs `iam:PassRole` on the role as well, as AWS documents: whoever can
/// put a role in a profile hands its permissions to what runs with it.
pub async fn add_role(
    ctx: &OpContext<'_>,
    input: iam::AddRoleToInstanceProfileRequest,
) -> OpResult<()> {
    let name = InstanceProfileName::parse(&input.instance_profile_name)?;
    let role_name = RoleName::parse(&input.role_name)?;
    ctx.authorize(&target(ctx, &name))?;
    ctx.authorize_extra(
        Some(PASS_ROLE),
        &ctx.role_target(&role_name),
        &Extra::default(),
    )?;
    ctx.execute(Command::AddRoleToInstanceProfile {
        instance_profile_name: name,
        role_name,
    })
    .await?;
    Ok(())
}

/// `iam:PassRole`: an action of no operation, so it is spelled here.
const PASS_ROLE: &str = "PassRole";

pub async fn remove_role(
    ctx: &OpContext<'_>,
    input: iam::RemoveRoleFromInstanceProfileRequest,
) -> OpResult<()> {
    let name = InstanceProfileName::parse(&input.instance_profile_name)?;
    let role_name = RoleName::parse(&input.role_name)?;
    ctx.authorize(&target(ctx, &name))?;
    ctx.execute(Command::RemoveRoleFromInstanceProfile {
        instance_profile_name: name,
        role_name,
    })
    .await?;
    Ok(())
}

pub async fn tag(ctx: &OpContext<'_>, input: iam::TagInstanceProfileRequest) -> OpResult<()> {
    let name = InstanceProfileName::parse(&input.instance_profile_name)?;
    let tags = crate::authz::request_tags(ctx.params)?;
    ctx.authorize(&target(ctx, &name))?;
    ctx.execute(Command::TagInstanceProfile {
        instance_profile_name: name,
        tags,
    })
    .await?;
    Ok(())
}

pub async fn untag(ctx: &OpContext<'_>, input: iam::UntagInstanceProfileRequest) -> OpResult<()> {
    let name = InstanceProfileName::parse(&input.instance_profile_name)?;
    let tag_keys = crate::authz::request_tag_keys(ctx.params)?;
    ctx.authorize(&target(ctx, &name))?;
    ctx.execute(Command::UntagInstanceProfile {
        instance_profile_name: name,
        tag_keys,
    })
    .await?;
    Ok(())
}

pub async fn list_tags(
    ctx: &OpContext<'_>,
    input: iam::ListInstanceProfileTagsRequest,
) -> OpResult<iam::ListInstanceProfileTagsResponse> {
    let name = InstanceProfileName::parse(&input.instance_profile_name)?;
    ctx.authorize(&target(ctx, &name))?;
    let p = stored(ctx.state(), &name)?;
    let page = Page::of(
        p.tags.iter().map(|(k, t)| (k.as_str(), t)),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListInstanceProfileTagsResponse {
        is_truncated: page.is_truncated(),
        tags: shapes::tag_list(page.items.into_iter()),
        marker: page.next,
    })
}
