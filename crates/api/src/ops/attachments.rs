//! What users, groups and roles share: resource ARNs for authorization,
//! AWS's NoSuchEntity wording, tag and boundary rendering, and the
//! operations that apply alike to several kinds of entity: managed policy
//! attachments, permissions boundaries and tags.

use std::collections::{BTreeMap, BTreeSet};

use iam_domain::names::{GroupName, IamPath, NameKey, RoleName, Tag, UserName};
use iam_domain::{AccountState, Arn, Command};

use super::{page, paging_tail, OpContext, OpResult};
use crate::query::{ApiError, Xml};

/// An optional path parameter (`Path`, `NewPath`), validated.
pub(super) fn path_param(ctx: &OpContext<'_>, name: &str) -> Result<Option<IamPath>, ApiError> {
    ctx.params
        .get(name)
        .map(|p| IamPath::parse(p).map_err(ApiError::from))
        .transpose()
}

/// `PathPrefix`, `/` when absent. AWS requires it to begin and end with `/`.
pub(super) fn path_prefix<'a>(ctx: &OpContext<'a>) -> Result<&'a str, ApiError> {
    match ctx.params.get("PathPrefix") {
        None => Ok("/"),
        Some(p) if p.starts_with('/') && p.len() <= 512 => Ok(p),
        Some(p) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{p}' at 'pathPrefix' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*"
        ))),
    }
}

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
    (action, kind): (&str, &str),
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
    ctx.authorize(action, &target.named_only_as(requested))
}

/// `<PermissionsBoundary>` when there is one.
pub(super) fn boundary_xml(x: &mut Xml, boundary: Option<&Arn>) {
    if let Some(b) = boundary {
        x.open("PermissionsBoundary")
            .elem("PermissionsBoundaryType", "PermissionsBoundaryPolicy")
            .elem("PermissionsBoundaryArn", &b.to_string())
            .close("PermissionsBoundary");
    }
}

fn tag_members<'a>(x: &mut Xml, tags: impl Iterator<Item = &'a Tag>) {
    for t in tags {
        x.open("member")
            .elem("Key", t.key.as_str())
            .elem("Value", t.value.as_str())
            .close("member");
    }
}

/// `<Tags>` when there are any (inside an entity's element).
pub(super) fn tags_xml(x: &mut Xml, tags: &BTreeMap<NameKey, Tag>) {
    if !tags.is_empty() {
        x.open("Tags");
        tag_members(x, tags.values());
        x.close("Tags");
    }
}

/// A user, group or role named by the request's `UserName`, `GroupName` or
/// `RoleName`.
pub(super) enum Entity {
    User(UserName),
    Group(GroupName),
    Role(RoleName),
}

#[derive(Clone, Copy)]
pub(super) enum Kind {
    User,
    Group,
    Role,
}

impl Entity {
    pub(super) fn from_params(ctx: &OpContext<'_>, kind: Kind) -> Result<Entity, ApiError> {
        Ok(match kind {
            Kind::User => Entity::User(UserName::parse(ctx.params.required("UserName")?)?),
            Kind::Group => Entity::Group(GroupName::parse(ctx.params.required("GroupName")?)?),
            Kind::Role => Entity::Role(RoleName::parse(ctx.params.required("RoleName")?)?),
        })
    }

    fn target(&self, ctx: &OpContext<'_>) -> crate::authz::Target {
        match self {
            Entity::User(n) => ctx.user_target(n),
            Entity::Group(n) => ctx.group_target(n),
            Entity::Role(n) => ctx.role_target(n),
        }
    }

    fn not_found(&self) -> ApiError {
        match self {
            Entity::User(n) => no_such("user", n.as_str()),
            Entity::Group(n) => no_such("group", n.as_str()),
            Entity::Role(n) => no_such("role", n.as_str()),
        }
    }

    /// `User`, `Group` or `Role`, as in action names.
    fn title(&self) -> &'static str {
        match self {
            Entity::User(_) => "User",
            Entity::Group(_) => "Group",
            Entity::Role(_) => "Role",
        }
    }

    fn attached<'s>(&self, state: &'s AccountState) -> Option<&'s BTreeSet<NameKey>> {
        match self {
            Entity::User(n) => state.users.get(&n.key()).map(|u| &u.attached_policies),
            Entity::Group(n) => state.groups.get(&n.key()).map(|g| &g.attached_policies),
            Entity::Role(n) => state.roles.get(&n.key()).map(|r| &r.attached_policies),
        }
    }

    /// Tags of a user or role (groups have none in IAM).
    fn tags<'s>(&self, state: &'s AccountState) -> Option<&'s BTreeMap<NameKey, Tag>> {
        match self {
            Entity::User(n) => state.users.get(&n.key()).map(|u| &u.tags),
            Entity::Role(n) => state.roles.get(&n.key()).map(|r| &r.tags),
            Entity::Group(_) => None,
        }
    }
}

/// Authorizes the command on the entity's ARN, then executes it.
async fn authorize_and_execute(ctx: &OpContext<'_>, entity: &Entity, command: Command) -> OpResult {
    ctx.authorize(command.action_name(), &entity.target(ctx))?;
    let position = ctx.execute(command).await?;
    Ok((String::new(), Some(position)))
}

/// `Attach{User,Group,Role}Policy`.
pub async fn attach(ctx: &OpContext<'_>, kind: Kind) -> OpResult {
    let entity = Entity::from_params(ctx, kind)?;
    let policy_arn = ctx.managed_policy_arn("PolicyArn", Some(&entity.target(ctx)))?;
    let command = match &entity {
        Entity::User(n) => Command::AttachUserPolicy {
            user_name: n.clone(),
            policy_arn,
        },
        Entity::Group(n) => Command::AttachGroupPolicy {
            group_name: n.clone(),
            policy_arn,
        },
        Entity::Role(n) => Command::AttachRolePolicy {
            role_name: n.clone(),
            policy_arn,
        },
    };
    authorize_and_execute(ctx, &entity, command).await
}

/// `Detach{User,Group,Role}Policy`.
pub async fn detach(ctx: &OpContext<'_>, kind: Kind) -> OpResult {
    let entity = Entity::from_params(ctx, kind)?;
    let policy_arn = ctx.managed_policy_arn("PolicyArn", Some(&entity.target(ctx)))?;
    let command = match &entity {
        Entity::User(n) => Command::DetachUserPolicy {
            user_name: n.clone(),
            policy_arn,
        },
        Entity::Group(n) => Command::DetachGroupPolicy {
            group_name: n.clone(),
            policy_arn,
        },
        Entity::Role(n) => Command::DetachRolePolicy {
            role_name: n.clone(),
            policy_arn,
        },
    };
    authorize_and_execute(ctx, &entity, command).await
}

/// `ListAttached{User,Group,Role}Policies`: `PathPrefix` filters on the
/// policies' paths; paged by policy name.
pub fn list_attached(ctx: &OpContext<'_>, kind: Kind) -> OpResult {
    let entity = Entity::from_params(ctx, kind)?;
    let prefix = path_prefix(ctx)?;
    ctx.authorize(
        &format!("ListAttached{}Policies", entity.title()),
        &entity.target(ctx),
    )?;
    let state = ctx.state();
    let attached = entity.attached(state).ok_or_else(|| entity.not_found())?;
    let (policies, next) = page(
        attached
            .iter()
            .filter_map(|k| state.policies.get(k).map(|p| (k.as_str(), p)))
            .filter(|(_, p)| p.path.as_str().starts_with(prefix)),
        ctx.params,
    )?;
    let mut x = Xml::new();
    x.open("AttachedPolicies");
    for p in policies {
        x.open("member")
            .elem("PolicyName", p.name.as_str())
            .elem(
                "PolicyArn",
                &state
                    .policy_arn(p)
                    .map(|a| a.to_string())
                    .unwrap_or_default(),
            )
            .close("member");
    }
    x.close("AttachedPolicies");
    paging_tail(&mut x, next);
    Ok((x.finish(), None))
}

/// `Put{User,Role}PermissionsBoundary`.
pub async fn put_boundary(ctx: &OpContext<'_>, kind: Kind) -> OpResult {
    let entity = Entity::from_params(ctx, kind)?;
    let permissions_boundary =
        ctx.managed_policy_arn("PermissionsBoundary", Some(&entity.target(ctx)))?;
    let command = match &entity {
        Entity::User(n) => Command::PutUserPermissionsBoundary {
            user_name: n.clone(),
            permissions_boundary,
        },
        Entity::Role(n) => Command::PutRolePermissionsBoundary {
            role_name: n.clone(),
            permissions_boundary,
        },
        Entity::Group(_) => return Err(ApiError::internal()),
    };
    authorize_and_execute(ctx, &entity, command).await
}

/// `Delete{User,Role}PermissionsBoundary`.
pub async fn delete_boundary(ctx: &OpContext<'_>, kind: Kind) -> OpResult {
    let entity = Entity::from_params(ctx, kind)?;
    let command = match &entity {
        Entity::User(n) => Command::DeleteUserPermissionsBoundary {
            user_name: n.clone(),
        },
        Entity::Role(n) => Command::DeleteRolePermissionsBoundary {
            role_name: n.clone(),
        },
        Entity::Group(_) => return Err(ApiError::internal()),
    };
    authorize_and_execute(ctx, &entity, command).await
}

/// `Tag{User,Role}`.
pub async fn tag(ctx: &OpContext<'_>, kind: Kind) -> OpResult {
    let entity = Entity::from_params(ctx, kind)?;
    let tags = super::users::tags(ctx)?;
    if tags.is_empty() {
        return Err(ApiError::validation(
            "1 validation error detected: Value null at 'tags' failed to satisfy constraint: \
             Member must not be null",
        ));
    }
    let command = match &entity {
        Entity::User(n) => Command::TagUser {
            user_name: n.clone(),
            tags,
        },
        Entity::Role(n) => Command::TagRole {
            role_name: n.clone(),
            tags,
        },
        Entity::Group(_) => return Err(ApiError::internal()),
    };
    authorize_and_execute(ctx, &entity, command).await
}

/// `Untag{User,Role}`.
pub async fn untag(ctx: &OpContext<'_>, kind: Kind) -> OpResult {
    let entity = Entity::from_params(ctx, kind)?;
    let keys = ctx.params.list("TagKeys");
    iam_domain::names::check_tag_count(keys.len(), "tagKeys")?;
    if keys.is_empty() {
        return Err(ApiError::validation(
            "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: \
             Member must not be null",
        ));
    }
    let tag_keys = crate::authz::request_tag_keys(ctx.params)?;
    let command = match &entity {
        Entity::User(n) => Command::UntagUser {
            user_name: n.clone(),
            tag_keys,
        },
        Entity::Role(n) => Command::UntagRole {
            role_name: n.clone(),
            tag_keys,
        },
        Entity::Group(_) => return Err(ApiError::internal()),
    };
    authorize_and_execute(ctx, &entity, command).await
}

/// `List{User,Role}Tags`, paged by folded tag key.
pub fn list_tags(ctx: &OpContext<'_>, kind: Kind) -> OpResult {
    let entity = Entity::from_params(ctx, kind)?;
    ctx.authorize(&format!("List{}Tags", entity.title()), &entity.target(ctx))?;
    let tags = entity.tags(ctx.state()).ok_or_else(|| entity.not_found())?;
    let (tags, next) = page(tags.iter().map(|(k, t)| (k.as_str(), t)), ctx.params)?;
    let mut x = Xml::new();
    x.open("Tags");
    tag_members(&mut x, tags.into_iter());
    x.close("Tags");
    paging_tail(&mut x, next);
    Ok((x.finish(), None))
}
