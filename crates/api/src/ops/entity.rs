//! What users, groups and roles share: AWS's NoSuchEntity wording, the
//! entity a request names (for the operations that apply alike to several
//! kinds), and the second authorization of a rename or move.

use std::collections::{BTreeMap, BTreeSet};

use iam_domain::names::{GroupName, IamPath, NameKey, RoleName, Tag, UserName};
use iam_domain::state::InlinePolicy;
use iam_domain::AccountState;

use super::OpContext;
use crate::query::ApiError;

/// `The <kind> with name <name> cannot be found.`, as AWS words it.
pub(super) fn no_such(kind: &str, name: &str) -> ApiError {
    ApiError::new(
        404,
        "NoSuchEntity",
        format!("The {kind} with name {name} cannot be found."),
    )
}

/// The second authorization of a rename or move (`Update{User,Group}`):
/// AWS requires the permission on the entity as it is (`current`, already
/// authorized) and as it will be. The new ARN keeps the stored path and
/// name (`stored`) where the request changes neither; a refusal names it
/// only by the request's own values, since the stored path is not the
/// caller's to learn.
pub(super) fn authorize_new_arn(
    ctx: &OpContext<'_>,
    kind: &str,
    current: &crate::authz::Target,
    stored: Option<(&IamPath, &str)>,
    (name, new_name, new_path): (&str, Option<&str>, Option<&IamPath>),
) -> Result<(), ApiError> {
    if new_name.is_none() && new_path.is_none() {
        return Ok(());
    }
    let path = new_path
        .or(stored.map(|(p, _)| p))
        .map_or("/", |p| p.as_str());
    let target_name = new_name.or(stored.map(|(_, n)| n)).unwrap_or(name);
    let target = crate::authz::Target::arn(ctx.arn(&format!("{kind}{path}{target_name}")));
    if target.resource() == current.resource() {
        return Ok(());
    }
    let requested = ctx.arn(&format!(
        "{kind}{}{}",
        new_path.map_or("/", |p| p.as_str()),
        new_name.unwrap_or(name)
    ));
    ctx.authorize(&target.named_only_as(requested))
}

/// A user, group or role named by the request's `UserName`, `GroupName` or
/// `RoleName`.
pub(super) enum Entity {
    User(UserName),
    Group(GroupName),
    Role(RoleName),
}

impl Entity {
    pub(super) fn user(name: &str) -> Result<Entity, ApiError> {
        Ok(Entity::User(UserName::parse(name)?))
    }

    pub(super) fn group(name: &str) -> Result<Entity, ApiError> {
        Ok(Entity::Group(GroupName::parse(name)?))
    }

    pub(super) fn role(name: &str) -> Result<Entity, ApiError> {
        Ok(Entity::Role(RoleName::parse(name)?))
    }

    /// How AWS's messages name the kind: `user`, `group`, `role`.
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Entity::User(_) => "user",
            Entity::Group(_) => "group",
            Entity::Role(_) => "role",
        }
    }

    /// The stored entity's name (its stored spelling) and inline policies.
    pub(super) fn inline_policies<'s>(
        &self,
        state: &'s AccountState,
    ) -> Option<(&'s str, &'s BTreeMap<NameKey, InlinePolicy>)> {
        match self {
            Entity::User(n) => state
                .users
                .get(&n.key())
                .map(|u| (u.name.as_str(), &u.inline_policies)),
            Entity::Group(n) => state
                .groups
                .get(&n.key())
                .map(|g| (g.name.as_str(), &g.inline_policies)),
            Entity::Role(n) => state
                .roles
                .get(&n.key())
                .map(|r| (r.name.as_str(), &r.inline_policies)),
        }
    }

    pub(super) fn target(&self, ctx: &OpContext<'_>) -> crate::authz::Target {
        match self {
            Entity::User(n) => ctx.user_target(n),
            Entity::Group(n) => ctx.group_target(n),
            Entity::Role(n) => ctx.role_target(n),
        }
    }

    pub(super) fn not_found(&self) -> ApiError {
        match self {
            Entity::User(n) => no_such("user", n.as_str()),
            Entity::Group(n) => no_such("group", n.as_str()),
            Entity::Role(n) => no_such("role", n.as_str()),
        }
    }

    pub(super) fn attached<'s>(&self, state: &'s AccountState) -> Option<&'s BTreeSet<NameKey>> {
        match self {
            Entity::User(n) => state.users.get(&n.key()).map(|u| &u.attached_policies),
            Entity::Group(n) => state.groups.get(&n.key()).map(|g| &g.attached_policies),
            Entity::Role(n) => state.roles.get(&n.key()).map(|r| &r.attached_policies),
        }
    }

    /// Tags of a user or role (groups have none in IAM).
    pub(super) fn tags<'s>(&self, state: &'s AccountState) -> Option<&'s BTreeMap<NameKey, Tag>> {
        match self {
            Entity::User(n) => state.users.get(&n.key()).map(|u| &u.tags),
            Entity::Role(n) => state.roles.get(&n.key()).map(|r| &r.tags),
            Entity::Group(_) => None,
        }
    }
}
