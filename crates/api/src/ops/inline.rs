//! Inline policies work alike on users, groups and roles: one
//! implementation of `Put`, `Get`, `List` and `Delete{User,Group,Role}Policy`,
//! which each family's handlers name their entity for.

use iam_domain::names::InlinePolicyName;
use iam_domain::Command;

use super::encode_document;
use super::entity::Entity;
use super::shapes::Page;
use super::{OpContext, OpResult};
use crate::query::ApiError;

/// One inline policy as `Get*Policy` returns it.
pub(super) struct Found {
    /// The entity's name, as stored.
    pub owner: String,
    pub name: String,
    /// URL-encoded, as AWS returns documents.
    pub document: String,
}

pub(super) async fn put(
    ctx: &OpContext<'_>,
    entity: Entity,
    policy_name: &str,
    policy_document: String,
) -> OpResult<()> {
    let policy_name = InlinePolicyName::parse(policy_name)?;
    ctx.authorize(&entity.target(ctx))?;
    let command = match entity {
        Entity::User(user_name) => Command::PutUserPolicy {
            user_name,
            policy_name,
            policy_document,
        },
        Entity::Group(group_name) => Command::PutGroupPolicy {
            group_name,
            policy_name,
            policy_document,
        },
        Entity::Role(role_name) => Command::PutRolePolicy {
            role_name,
            policy_name,
            policy_document,
        },
    };
    ctx.execute(command).await?;
    Ok(())
}

pub(super) fn get(ctx: &OpContext<'_>, entity: Entity, policy_name: &str) -> OpResult<Found> {
    let policy_name = InlinePolicyName::parse(policy_name)?;
    ctx.authorize(&entity.target(ctx))?;
    let (owner, policies) = entity
        .inline_policies(ctx.state())
        .ok_or_else(|| entity.not_found())?;
    let policy = policies.get(&policy_name.key()).ok_or_else(|| {
        ApiError::new(
            404,
            "NoSuchEntity",
            format!(
                "The {} policy with name {} cannot be found.",
                entity.kind(),
                policy_name.as_str()
            ),
        )
    })?;
    Ok(Found {
        owner: owner.to_owned(),
        name: policy.name.as_str().to_owned(),
        document: encode_document(&policy.document),
    })
}

/// A page of the entity's inline policy names.
pub(super) fn list(
    ctx: &OpContext<'_>,
    entity: Entity,
    max_items: Option<i32>,
    marker: Option<&str>,
) -> OpResult<Page<String>> {
    ctx.authorize(&entity.target(ctx))?;
    let (_, policies) = entity
        .inline_policies(ctx.state())
        .ok_or_else(|| entity.not_found())?;
    Ok(Page::of(
        policies
            .iter()
            .map(|(k, p)| (k.as_str(), p.name.as_str().to_owned())),
        max_items,
        marker,
    ))
}

pub(super) async fn delete(ctx: &OpContext<'_>, entity: Entity, policy_name: &str) -> OpResult<()> {
    let policy_name = InlinePolicyName::parse(policy_name)?;
    ctx.authorize(&entity.target(ctx))?;
    let command = match entity {
        Entity::User(user_name) => Command::DeleteUserPolicy {
            user_name,
            policy_name,
        },
        Entity::Group(group_name) => Command::DeleteGroupPolicy {
            group_name,
            policy_name,
        },
        Entity::Role(role_name) => Command::DeleteRolePolicy {
            role_name,
            policy_name,
        },
    };
    ctx.execute(command).await?;
    Ok(())
}
