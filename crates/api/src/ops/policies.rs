//! Customer managed policies: the policies themselves, their versions, their
//! tags, and who they are attached to.
//!
//! iamd has only customer managed policies (there are no AWS managed ones),
//! so `ListPolicies` with `Scope=All` lists the same as `Scope=Local`, and
//! `Scope=AWS` lists nothing. Every action on a policy is authorized on the
//! policy's ARN (`arn:aws:iam::ACCOUNT:policy/PATH/NAME`) as the caller gave
//! it; `CreatePolicy` on the ARN the policy will have, `ListPolicies` on
//! `arn:aws:iam::ACCOUNT:policy` followed by the path prefix.

use std::collections::HashMap;

use iam_domain::ids::{PolicyId, PolicyVersionId};
use iam_domain::names::{Description, IamPath, NameKey, PolicyName, TagKey};
use iam_domain::state::{ManagedPolicy, PolicyVersion};
use iam_domain::{AccountState, Arn, Command};

use super::{encode_document, page, paging_tail, OpContext, OpResult};
use crate::credentials::unique_id;
use crate::query::{iso8601, ApiError, Xml};

/// How many entities use each policy, by folded policy name: attached as a
/// permissions policy, and set as a permissions boundary. Counted once per
/// request rather than once per listed policy.
pub(super) struct Usage {
    attachments: HashMap<NameKey, usize>,
    boundaries: HashMap<NameKey, usize>,
}

impl Usage {
    pub(super) fn of(state: &AccountState) -> Usage {
        let mut attachments: HashMap<NameKey, usize> = HashMap::new();
        let mut boundaries: HashMap<NameKey, usize> = HashMap::new();
        let attached = state
            .users
            .values()
            .flat_map(|u| u.attached_policies.iter())
            .chain(
                state
                    .groups
                    .values()
                    .flat_map(|g| g.attached_policies.iter()),
            )
            .chain(
                state
                    .roles
                    .values()
                    .flat_map(|r| r.attached_policies.iter()),
            );
        for key in attached {
            *attachments.entry(key.clone()).or_default() += 1;
        }
        // As the domain counts them: a boundary names its policy by name.
        let bounds = state
            .users
            .values()
            .map(|u| &u.permissions_boundary)
            .chain(state.roles.values().map(|r| &r.permissions_boundary));
        for b in bounds {
            if let Some(Arn::Policy { name, .. }) = b {
                *boundaries.entry(name.key()).or_default() += 1;
            }
        }
        Usage {
            attachments,
            boundaries,
        }
    }

    pub(super) fn attachments(&self, key: &NameKey) -> usize {
        self.attachments.get(key).copied().unwrap_or(0)
    }

    pub(super) fn boundaries(&self, key: &NameKey) -> usize {
        self.boundaries.get(key).copied().unwrap_or(0)
    }

    /// Attachments of every policy (GetAccountSummary's PolicyVersionsInUse).
    pub(super) fn total_attachments(&self) -> usize {
        self.attachments.values().sum()
    }
}

/// The fields of AWS's `Policy` shape, in its order. Listings leave out
/// the description and tags, as AWS's do.
pub(super) fn policy_fields(
    x: &mut Xml,
    state: &AccountState,
    usage: &Usage,
    p: &ManagedPolicy,
    (description, tags): (bool, bool),
) {
    let key = p.name.key();
    x.elem("PolicyName", p.name.as_str())
        .elem("PolicyId", p.id.as_str())
        .elem("Arn", &arn_text(state, p))
        .elem("Path", p.path.as_str())
        .elem("DefaultVersionId", &p.default_version.to_string())
        .elem("AttachmentCount", &usage.attachments(&key).to_string())
        .elem(
            "PermissionsBoundaryUsageCount",
            &usage.boundaries(&key).to_string(),
        )
        .elem("IsAttachable", "true");
    if description {
        x.opt("Description", p.description.as_ref().map(|d| d.as_str()));
    }
    x.elem("CreateDate", &iso8601(&p.created_at))
        .elem("UpdateDate", &iso8601(&p.updated_at));
    if tags && !p.tags.is_empty() {
        x.open("Tags");
        for t in p.tags.values() {
            x.open("member")
                .elem("Key", t.key.as_str())
                .elem("Value", t.value.as_str())
                .close("member");
        }
        x.close("Tags");
    }
}

/// A `PolicyVersion`; the document (URL-encoded) only when `document`.
pub(super) fn version_fields(x: &mut Xml, p: &ManagedPolicy, v: &PolicyVersion, document: bool) {
    if document {
        x.elem("Document", &encode_document(&v.document));
    }
    x.elem("VersionId", &v.id.to_string())
        .elem(
            "IsDefaultVersion",
            if p.default_version == v.id {
                "true"
            } else {
                "false"
            },
        )
        .elem("CreateDate", &iso8601(&v.created_at));
}

pub(super) fn arn_text(state: &AccountState, p: &ManagedPolicy) -> String {
    state
        .policy_arn(p)
        .map(|a| a.to_string())
        .unwrap_or_default()
}

/// `PolicyArn`, which must name a managed policy.
fn policy_arn(ctx: &OpContext<'_>) -> Result<Arn, ApiError> {
    let text = ctx.params.required("PolicyArn")?;
    let arn = Arn::parse(text)?;
    if !matches!(arn, Arn::Policy { .. }) {
        return Err(ApiError::new(
            400,
            "InvalidInput",
            format!("ARN {text} is not valid."),
        ));
    }
    Ok(arn)
}

fn no_such_policy(arn: &Arn) -> ApiError {
    ApiError::new(
        404,
        "NoSuchEntity",
        format!("Policy {arn} does not exist or is not attachable."),
    )
}

/// The policy `arn` names, after authorizing `action` on it.
fn authorized_policy<'a>(
    ctx: &'a OpContext<'_>,
    action: &str,
    arn: &Arn,
) -> Result<&'a ManagedPolicy, ApiError> {
    ctx.authorize(action, &arn.to_string())?;
    ctx.state()
        .policy_by_arn(arn)
        .ok_or_else(|| no_such_policy(arn))
}

fn version_param(ctx: &OpContext<'_>) -> Result<PolicyVersionId, ApiError> {
    Ok(PolicyVersionId::parse(ctx.params.required("VersionId")?)?)
}

pub async fn create(ctx: &OpContext<'_>) -> OpResult {
    let name = PolicyName::parse(ctx.params.required("PolicyName")?)?;
    let path = ctx
        .params
        .get("Path")
        .map(IamPath::parse)
        .transpose()?
        .unwrap_or_default();
    let document = ctx.params.required("PolicyDocument")?.to_owned();
    let description = ctx
        .params
        .get("Description")
        .map(Description::parse)
        .transpose()?;
    let tags = super::users::tags(ctx)?;
    let account = iam_domain::ids::AccountId::parse(ctx.account())?;
    let arn = Arn::policy(&account, &path, &name);
    ctx.authorize("CreatePolicy", &arn.to_string())?;
    let position = ctx
        .execute(Command::CreatePolicy {
            policy_name: name,
            path: Some(path),
            policy_id: PolicyId::parse(&unique_id("ANPA"))?,
            policy_document: document,
            description,
            tags,
            now: ctx.now,
        })
        .await?;
    let view = ctx.current().ok_or_else(ApiError::internal)?;
    let p = view
        .state
        .policy_by_arn(&arn)
        .ok_or_else(ApiError::internal)?;
    let usage = Usage::of(&view.state);
    let mut x = Xml::new();
    x.open("Policy");
    policy_fields(&mut x, &view.state, &usage, p, (true, true));
    x.close("Policy");
    Ok((x.finish(), Some(position)))
}

pub fn get(ctx: &OpContext<'_>) -> OpResult {
    let arn = policy_arn(ctx)?;
    let p = authorized_policy(ctx, "GetPolicy", &arn)?;
    let state = ctx.state();
    let usage = Usage::of(state);
    let mut x = Xml::new();
    x.open("Policy");
    policy_fields(&mut x, state, &usage, p, (true, true));
    x.close("Policy");
    Ok((x.finish(), None))
}

/// `PolicyUsageFilter`: which uses count for `OnlyAttached`.
#[derive(Clone, Copy)]
enum UsageFilter {
    Any,
    Permissions,
    Boundary,
}

fn usage_filter(ctx: &OpContext<'_>) -> Result<UsageFilter, ApiError> {
    match ctx.params.get("PolicyUsageFilter") {
        None => Ok(UsageFilter::Any),
        Some("PermissionsPolicy") => Ok(UsageFilter::Permissions),
        Some("PermissionsBoundary") => Ok(UsageFilter::Boundary),
        Some(other) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{other}' at 'policyUsageFilter' failed to satisfy constraint: \
             Member must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]"
        ))),
    }
}

/// `ListPolicies`. `Scope=Local` and `Scope=All` list the account's customer
/// managed policies; `Scope=AWS` lists none (iamd has no AWS managed
/// policies). `OnlyAttached=true` keeps policies in use, where "in use" means
/// attached (`PolicyUsageFilter=PermissionsPolicy`), set as a permissions
/// boundary (`PermissionsBoundary`), or either (no filter).
pub fn list(ctx: &OpContext<'_>) -> OpResult {
    let prefix = ctx.params.get("PathPrefix").unwrap_or("/");
    let scope = ctx.params.get("Scope").unwrap_or("All");
    if !matches!(scope, "All" | "AWS" | "Local") {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{scope}' at 'scope' failed to satisfy constraint: \
             Member must satisfy enum value set: [All, AWS, Local]"
        )));
    }
    let only_attached = ctx.params.bool("OnlyAttached")?.unwrap_or(false);
    let filter = usage_filter(ctx)?;
    ctx.authorize("ListPolicies", &ctx.arn(&format!("policy{prefix}")))?;
    let state = ctx.state();
    let usage = Usage::of(state);
    let in_use = |p: &ManagedPolicy| {
        let key = p.name.key();
        match filter {
            UsageFilter::Any => usage.attachments(&key) + usage.boundaries(&key) > 0,
            UsageFilter::Permissions => usage.attachments(&key) > 0,
            UsageFilter::Boundary => usage.boundaries(&key) > 0,
        }
    };
    let (policies, next) = page(
        state
            .policies
            .iter()
            .filter(|_| scope != "AWS")
            .filter(|(_, p)| p.path.as_str().starts_with(prefix))
            .filter(|(_, p)| !only_attached || in_use(p))
            .map(|(k, p)| (k.as_str(), p)),
        ctx.params,
    )?;
    let mut x = Xml::new();
    x.open("Policies");
    for p in policies {
        x.open("member");
        policy_fields(&mut x, state, &usage, p, (false, false));
        x.close("member");
    }
    x.close("Policies");
    paging_tail(&mut x, next);
    Ok((x.finish(), None))
}

pub async fn delete(ctx: &OpContext<'_>) -> OpResult {
    let arn = policy_arn(ctx)?;
    ctx.authorize("DeletePolicy", &arn.to_string())?;
    let position = ctx
        .execute(Command::DeletePolicy { policy_arn: arn })
        .await?;
    Ok((String::new(), Some(position)))
}

pub async fn create_version(ctx: &OpContext<'_>) -> OpResult {
    let arn = policy_arn(ctx)?;
    let document = ctx.params.required("PolicyDocument")?.to_owned();
    let set_as_default = ctx.params.bool("SetAsDefault")?.unwrap_or(false);
    ctx.authorize("CreatePolicyVersion", &arn.to_string())?;
    let position = ctx
        .execute(Command::CreatePolicyVersion {
            policy_arn: arn.clone(),
            policy_document: document.clone(),
            set_as_default,
            now: ctx.now,
        })
        .await?;
    let view = ctx.current().ok_or_else(ApiError::internal)?;
    let p = view
        .state
        .policy_by_arn(&arn)
        .ok_or_else(ApiError::internal)?;
    // The version this request created: the newest with its time and text.
    let v = p
        .versions
        .values()
        .rev()
        .find(|v| v.created_at == ctx.now && v.document == document)
        .ok_or_else(ApiError::internal)?;
    let mut x = Xml::new();
    x.open("PolicyVersion");
    version_fields(&mut x, p, v, false);
    x.close("PolicyVersion");
    Ok((x.finish(), Some(position)))
}

pub fn get_version(ctx: &OpContext<'_>) -> OpResult {
    let arn = policy_arn(ctx)?;
    let version = version_param(ctx)?;
    let p = authorized_policy(ctx, "GetPolicyVersion", &arn)?;
    let v = p.versions.get(&version).ok_or_else(|| {
        ApiError::new(
            404,
            "NoSuchEntity",
            format!("Policy {arn} version {version} does not exist."),
        )
    })?;
    let mut x = Xml::new();
    x.open("PolicyVersion");
    version_fields(&mut x, p, v, true);
    x.close("PolicyVersion");
    Ok((x.finish(), None))
}

/// `ListPolicyVersions`: newest first, as AWS lists them.
pub fn list_versions(ctx: &OpContext<'_>) -> OpResult {
    let arn = policy_arn(ctx)?;
    let p = authorized_policy(ctx, "ListPolicyVersions", &arn)?;
    // Markers sort with the order listed: newest (highest number) first.
    let keyed: Vec<(String, &PolicyVersion)> = p
        .versions
        .values()
        .rev()
        .map(|v| (format!("{:010}", u32::MAX - v.id.number()), v))
        .collect();
    let (versions, next) = page(keyed.iter().map(|(k, v)| (k.as_str(), *v)), ctx.params)?;
    let mut x = Xml::new();
    x.open("Versions");
    for v in versions {
        x.open("member");
        version_fields(&mut x, p, v, false);
        x.close("member");
    }
    x.close("Versions");
    paging_tail(&mut x, next);
    Ok((x.finish(), None))
}

pub async fn delete_version(ctx: &OpContext<'_>) -> OpResult {
    let arn = policy_arn(ctx)?;
    let version = version_param(ctx)?;
    ctx.authorize("DeletePolicyVersion", &arn.to_string())?;
    let position = ctx
        .execute(Command::DeletePolicyVersion {
            policy_arn: arn,
            version_id: version,
        })
        .await?;
    Ok((String::new(), Some(position)))
}

pub async fn set_default_version(ctx: &OpContext<'_>) -> OpResult {
    let arn = policy_arn(ctx)?;
    let version = version_param(ctx)?;
    ctx.authorize("SetDefaultPolicyVersion", &arn.to_string())?;
    let position = ctx
        .execute(Command::SetDefaultPolicyVersion {
            policy_arn: arn,
            version_id: version,
            now: ctx.now,
        })
        .await?;
    Ok((String::new(), Some(position)))
}

/// `EntityFilter` of `ListEntitiesForPolicy`.
fn entity_filter(ctx: &OpContext<'_>) -> Result<(bool, bool, bool), ApiError> {
    Ok(match ctx.params.get("EntityFilter") {
        None => (true, true, true),
        Some("User") => (true, false, false),
        Some("Group") => (false, true, false),
        Some("Role") => (false, false, true),
        // Policies are never attached to policies.
        Some("LocalManagedPolicy" | "AWSManagedPolicy") => (false, false, false),
        Some(other) => {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{other}' at 'entityFilter' failed to satisfy constraint: \
                 Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]"
            )))
        }
    })
}

enum Entity<'a> {
    Group(&'a iam_domain::state::Group),
    User(&'a iam_domain::state::User),
    Role(&'a iam_domain::state::Role),
}

/// `ListEntitiesForPolicy`: groups, users and roles the policy is attached
/// to (`PolicyUsageFilter=PermissionsPolicy`), that use it as their
/// permissions boundary (`PermissionsBoundary`), or either (no filter, as in
/// AWS). `PathPrefix` filters the entities' paths. One page spans the three
/// lists, in that order.
pub fn list_entities(ctx: &OpContext<'_>) -> OpResult {
    let arn = policy_arn(ctx)?;
    let (users, groups, roles) = entity_filter(ctx)?;
    let filter = usage_filter(ctx)?;
    let prefix = ctx.params.get("PathPrefix").unwrap_or("/");
    let p = authorized_policy(ctx, "ListEntitiesForPolicy", &arn)?;
    let key = p.name.key();
    let state = ctx.state();
    let attached = |set: &std::collections::BTreeSet<NameKey>| {
        !matches!(filter, UsageFilter::Boundary) && set.contains(&key)
    };
    let bounded = |b: &Option<Arn>| {
        !matches!(filter, UsageFilter::Permissions)
            && matches!(b, Some(Arn::Policy { name, .. }) if name.key() == key)
    };
    let mut all: Vec<(String, Entity<'_>)> = Vec::new();
    if groups {
        all.extend(
            state
                .groups
                .iter()
                .filter(|(_, g)| g.path.as_str().starts_with(prefix))
                .filter(|(_, g)| attached(&g.attached_policies))
                .map(|(k, g)| (format!("1{k}"), Entity::Group(g))),
        );
    }
    if users {
        all.extend(
            state
                .users
                .iter()
                .filter(|(_, u)| u.path.as_str().starts_with(prefix))
                .filter(|(_, u)| attached(&u.attached_policies) || bounded(&u.permissions_boundary))
                .map(|(k, u)| (format!("2{k}"), Entity::User(u))),
        );
    }
    if roles {
        all.extend(
            state
                .roles
                .iter()
                .filter(|(_, r)| r.path.as_str().starts_with(prefix))
                .filter(|(_, r)| attached(&r.attached_policies) || bounded(&r.permissions_boundary))
                .map(|(k, r)| (format!("3{k}"), Entity::Role(r))),
        );
    }
    let (entities, next) = page(all.iter().map(|(k, e)| (k.as_str(), e)), ctx.params)?;
    let (mut gx, mut ux, mut rx) = (Xml::new(), Xml::new(), Xml::new());
    for e in entities {
        match e {
            Entity::Group(g) => {
                gx.open("member")
                    .elem("GroupName", g.name.as_str())
                    .elem("GroupId", g.id.as_str())
                    .close("member");
            }
            Entity::User(u) => {
                ux.open("member")
                    .elem("UserName", u.name.as_str())
                    .elem("UserId", u.id.as_str())
                    .close("member");
            }
            Entity::Role(r) => {
                rx.open("member")
                    .elem("RoleName", r.name.as_str())
                    .elem("RoleId", r.id.as_str())
                    .close("member");
            }
        }
    }
    let mut x = Xml::new();
    x.open("PolicyGroups")
        .raw(&gx.finish())
        .close("PolicyGroups")
        .open("PolicyUsers")
        .raw(&ux.finish())
        .close("PolicyUsers")
        .open("PolicyRoles")
        .raw(&rx.finish())
        .close("PolicyRoles");
    paging_tail(&mut x, next);
    Ok((x.finish(), None))
}

/// A required list parameter given no members.
fn missing_list(name: &str) -> ApiError {
    ApiError::validation(format!(
        "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
    ))
}

pub async fn tag(ctx: &OpContext<'_>) -> OpResult {
    let arn = policy_arn(ctx)?;
    let tags = super::users::tags(ctx)?;
    if tags.is_empty() {
        return Err(missing_list("tags"));
    }
    ctx.authorize("TagPolicy", &arn.to_string())?;
    let position = ctx
        .execute(Command::TagPolicy {
            policy_arn: arn,
            tags,
        })
        .await?;
    Ok((String::new(), Some(position)))
}

pub async fn untag(ctx: &OpContext<'_>) -> OpResult {
    let arn = policy_arn(ctx)?;
    let keys = ctx.params.list("TagKeys");
    iam_domain::names::check_tag_count(keys.len(), "tagKeys")?;
    let keys = keys
        .into_iter()
        .map(TagKey::parse)
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err(missing_list("tagKeys"));
    }
    ctx.authorize("UntagPolicy", &arn.to_string())?;
    let position = ctx
        .execute(Command::UntagPolicy {
            policy_arn: arn,
            tag_keys: keys,
        })
        .await?;
    Ok((String::new(), Some(position)))
}

pub fn list_tags(ctx: &OpContext<'_>) -> OpResult {
    let arn = policy_arn(ctx)?;
    let p = authorized_policy(ctx, "ListPolicyTags", &arn)?;
    let (tags, next) = page(p.tags.iter().map(|(k, t)| (k.as_str(), t)), ctx.params)?;
    let mut x = Xml::new();
    x.open("Tags");
    for t in tags {
        x.open("member")
            .elem("Key", t.key.as_str())
            .elem("Value", t.value.as_str())
            .close("member");
    }
    x.close("Tags");
    paging_tail(&mut x, next);
    Ok((x.finish(), None))
}
