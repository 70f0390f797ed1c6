//! Managed policies: the policies themselves, their versions, their tags,
//! and who they are attached to.
//!
//! Besides the account's customer managed policies there are the
//! catalogue's (`iam_domain::aws_policies`: AWS's managed policies and
//! iamd's own), which every account can read and attach but nobody can
//! change: `ListPolicies` lists them under `Scope=AWS` and `Scope=All`.
//! Every action on a customer managed policy is authorized on the stored
//! policy's ARN (`arn:aws:iam::ACCOUNT:policy/PATH/NAME`, its name as
//! stored, whatever case the caller used); `CreatePolicy` on the ARN the
//! policy will have, `ListPolicies` on `arn:aws:iam::ACCOUNT:policy`
//! followed by the path prefix.

use std::collections::{BTreeSet, HashMap};

use iam_domain::ids::{AccountId, PolicyId, PolicyVersionId};
use iam_domain::names::{Description, NameKey, PolicyName};
use iam_domain::state::{Group, ManagedPolicy, PolicyVersion, Role, User};
use iam_domain::{AccountState, Arn, Command};
use iam_wire::iam;

use super::shapes::{self, Managed, Page};
use super::{encode_document, OpContext, OpResult};
use crate::authz::Target;
use crate::credentials::unique_id;
use crate::query::ApiError;

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
        for key in bounds.flatten().filter_map(boundary_key) {
            *boundaries.entry(key).or_default() += 1;
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

    /// Whether the policy counts as in use for `OnlyAttached`: attached
    /// (`PermissionsPolicy`), a boundary (`PermissionsBoundary`), or
    /// either when there is no filter.
    fn in_use(&self, key: &NameKey, filter: Option<iam::PolicyUsageType>) -> bool {
        match filter {
            None => self.attachments(key) + self.boundaries(key) > 0,
            Some(iam::PolicyUsageType::PermissionsPolicy) => self.attachments(key) > 0,
            Some(iam::PolicyUsageType::PermissionsBoundary) => self.boundaries(key) > 0,
        }
    }
}

/// The key of the managed policy a permissions boundary names, as
/// attachments hold it.
fn boundary_key(arn: &Arn) -> Option<NameKey> {
    match arn {
        Arn::Policy { name, .. } => Some(name.key()),
        Arn::AwsPolicy { name, .. } => Some(iam_domain::aws_policies::aws_attachment_key(name)),
        _ => None,
    }
}

/// A count as the model's integer; an account never has 2³¹ entities.
fn count(n: usize) -> Option<i32> {
    Some(i32::try_from(n).unwrap_or(i32::MAX))
}

/// A managed policy as `GetPolicy` and `CreatePolicy` return it.
pub(super) fn policy(state: &AccountState, usage: &Usage, p: &ManagedPolicy) -> iam::Policy {
    let key = p.name.key();
    iam::Policy {
        arn: Some(shapes::policy_arn(state, p)),
        attachment_count: count(usage.attachments(&key)),
        create_date: Some(p.created_at),
        default_version_id: Some(p.default_version.to_string()),
        description: p.description.as_ref().map(|d| d.as_str().to_owned()),
        is_attachable: Some(true),
        path: Some(p.path.as_str().to_owned()),
        permissions_boundary_usage_count: count(usage.boundaries(&key)),
        policy_id: Some(p.id.as_str().to_owned()),
        policy_name: Some(p.name.as_str().to_owned()),
        tags: shapes::tags(&p.tags),
        update_date: Some(p.updated_at),
    }
}

/// Any managed policy, as `GetPolicy` returns it.
fn any_policy(state: &AccountState, usage: &Usage, p: Managed<'_>) -> iam::Policy {
    match p {
        Managed::Local(p) => policy(state, usage, p),
        Managed::Aws(p) => {
            let key = p.attachment_key();
            iam::Policy {
                arn: Some(p.arn()),
                attachment_count: count(usage.attachments(&key)),
                create_date: Some(p.created_at),
                default_version_id: Some(p.default_version.to_string()),
                description: Some(p.description.as_str().to_owned()),
                is_attachable: Some(true),
                path: Some(p.path.as_str().to_owned()),
                permissions_boundary_usage_count: count(usage.boundaries(&key)),
                policy_id: Some(p.id.as_str().to_owned()),
                policy_name: Some(p.name.as_str().to_owned()),
                tags: None,
                update_date: Some(p.updated_at),
            }
        }
    }
}

/// A managed policy as `ListPolicies` returns it: AWS's listing leaves out
/// the description and tags (`GetPolicy` has them).
fn listed_policy(state: &AccountState, usage: &Usage, p: Managed<'_>) -> iam::Policy {
    iam::Policy {
        description: None,
        tags: None,
        ..any_policy(state, usage, p)
    }
}

/// The one version of a catalogue policy: its default, as AWS publishes it.
fn aws_version(
    p: &iam_domain::aws_policies::AwsManagedPolicy,
    document: bool,
) -> iam::PolicyVersion {
    iam::PolicyVersion {
        create_date: Some(p.updated_at),
        document: document.then(|| encode_document(&p.document)),
        is_default_version: Some(true),
        version_id: Some(p.default_version.to_string()),
    }
}

/// A policy version; its document (URL-encoded) only where AWS returns it
/// (`GetPolicyVersion`, `GetAccountAuthorizationDetails`), not in lists or
/// the answer to a create.
pub(super) fn version(p: &ManagedPolicy, v: &PolicyVersion, document: bool) -> iam::PolicyVersion {
    iam::PolicyVersion {
        create_date: Some(v.created_at),
        document: document.then(|| encode_document(&v.document)),
        is_default_version: Some(p.default_version == v.id),
        version_id: Some(v.id.to_string()),
    }
}

/// The request's `PolicyArn`, which must name a managed policy (the
/// account's or AWS's).
fn policy_arn(text: &str) -> Result<Arn, ApiError> {
    let arn = Arn::parse(text)?;
    if !matches!(arn, Arn::Policy { .. } | Arn::AwsPolicy { .. }) {
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

/// The policy `arn` names, after authorizing this operation on it: a
/// caller not allowed to see it does not learn whether it exists.
fn authorized_policy<'a>(ctx: &'a OpContext<'_>, arn: &Arn) -> Result<Managed<'a>, ApiError> {
    ctx.authorize(&ctx.policy_target(arn))?;
    Managed::by_arn(ctx.state(), arn).ok_or_else(|| no_such_policy(arn))
}

pub async fn create(
    ctx: &OpContext<'_>,
    input: iam::CreatePolicyRequest,
) -> OpResult<iam::CreatePolicyResponse> {
    let name = PolicyName::parse(&input.policy_name)?;
    let path = shapes::path(input.path.as_deref())?.unwrap_or_default();
    let description = input
        .description
        .as_deref()
        .map(Description::parse)
        .transpose()?;
    let tags = crate::authz::request_tags(ctx.params)?;
    let account = AccountId::parse(ctx.account())?;
    let arn = Arn::policy(&account, &path, &name);
    super::users::authorize_create::<iam::ops::TagPolicy>(
        ctx,
        &Target::arn(arn.to_string()),
        &tags,
    )?;
    ctx.execute(Command::CreatePolicy {
        policy_name: name,
        path: Some(path),
        policy_id: PolicyId::parse(&unique_id("ANPA"))?,
        policy_document: input.policy_document,
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
    Ok(iam::CreatePolicyResponse {
        policy: Some(policy(&view.state, &Usage::of(&view.state), p)),
    })
}

pub async fn get(
    ctx: &OpContext<'_>,
    input: iam::GetPolicyRequest,
) -> OpResult<iam::GetPolicyResponse> {
    let arn = policy_arn(&input.policy_arn)?;
    let p = authorized_policy(ctx, &arn)?;
    let state = ctx.state();
    Ok(iam::GetPolicyResponse {
        policy: Some(any_policy(state, &Usage::of(state), p)),
    })
}

/// `ListPolicies`. `Scope=Local` lists the account's customer managed
/// policies, `Scope=AWS` the catalogue's, `Scope=All` (the default) both,
/// in one order (catalogue keys begin with `aws:`). `OnlyAttached=true`
/// keeps the policies in use ([`Usage::in_use`]).
pub async fn list(
    ctx: &OpContext<'_>,
    input: iam::ListPoliciesRequest,
) -> OpResult<iam::ListPoliciesResponse> {
    let prefix = shapes::path_prefix(input.path_prefix.as_deref());
    let scope = input.scope.unwrap_or(iam::PolicyScopeType::All);
    let only_attached = input.only_attached.unwrap_or(false);
    ctx.authorize_arn(ctx.arn(&format!("policy{prefix}")))?;
    let state = ctx.state();
    let usage = Usage::of(state);
    let mut all: Vec<(NameKey, Managed<'_>)> = Vec::new();
    if scope != iam::PolicyScopeType::Aws {
        all.extend(
            state
                .policies
                .iter()
                .map(|(k, p)| (k.clone(), Managed::Local(p))),
        );
    }
    if scope != iam::PolicyScopeType::Local {
        all.extend(
            iam_domain::aws_policies::catalogue()
                .iter()
                .map(|p| (p.attachment_key(), Managed::Aws(p))),
        );
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let page = Page::of(
        all.iter()
            .filter(|(_, p)| p.path().as_str().starts_with(prefix))
            .filter(|(k, _)| !only_attached || usage.in_use(k, input.policy_usage_filter))
            .map(|(k, p)| (k.as_str(), *p)),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListPoliciesResponse {
        is_truncated: page.is_truncated(),
        policies: Some(
            page.items
                .iter()
                .map(|p| listed_policy(state, &usage, *p))
                .collect(),
        ),
        marker: page.next,
    })
}

pub async fn delete(ctx: &OpContext<'_>, input: iam::DeletePolicyRequest) -> OpResult<()> {
    let arn = policy_arn(&input.policy_arn)?;
    ctx.authorize(&ctx.policy_target(&arn))?;
    ctx.execute(Command::DeletePolicy { policy_arn: arn })
        .await?;
    Ok(())
}

pub async fn create_version(
    ctx: &OpContext<'_>,
    input: iam::CreatePolicyVersionRequest,
) -> OpResult<iam::CreatePolicyVersionResponse> {
    let arn = policy_arn(&input.policy_arn)?;
    let document = input.policy_document;
    ctx.authorize(&ctx.policy_target(&arn))?;
    ctx.execute(Command::CreatePolicyVersion {
        policy_arn: arn.clone(),
        policy_document: document.clone(),
        set_as_default: input.set_as_default.unwrap_or(false),
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
    Ok(iam::CreatePolicyVersionResponse {
        policy_version: Some(version(p, v, false)),
    })
}

pub async fn get_version(
    ctx: &OpContext<'_>,
    input: iam::GetPolicyVersionRequest,
) -> OpResult<iam::GetPolicyVersionResponse> {
    let arn = policy_arn(&input.policy_arn)?;
    let version_id = PolicyVersionId::parse(&input.version_id)?;
    let no_such_version = || {
        ApiError::new(
            404,
            "NoSuchEntity",
            format!("Policy {arn} version {version_id} does not exist."),
        )
    };
    let version = match authorized_policy(ctx, &arn)? {
        Managed::Local(p) => version(
            p,
            p.versions.get(&version_id).ok_or_else(no_such_version)?,
            true,
        ),
        Managed::Aws(p) if p.default_version == version_id => aws_version(p, true),
        Managed::Aws(_) => return Err(no_such_version()),
    };
    Ok(iam::GetPolicyVersionResponse {
        policy_version: Some(version),
    })
}

/// `ListPolicyVersions`: newest first, as AWS lists them.
pub async fn list_versions(
    ctx: &OpContext<'_>,
    input: iam::ListPolicyVersionsRequest,
) -> OpResult<iam::ListPolicyVersionsResponse> {
    let arn = policy_arn(&input.policy_arn)?;
    let p = match authorized_policy(ctx, &arn)? {
        Managed::Local(p) => p,
        Managed::Aws(p) => {
            return Ok(iam::ListPolicyVersionsResponse {
                is_truncated: Some(false),
                versions: Some(vec![aws_version(p, false)]),
                marker: None,
            })
        }
    };
    // Markers sort with the order listed: newest (highest number) first.
    let keyed: Vec<(String, &PolicyVersion)> = p
        .versions
        .values()
        .rev()
        .map(|v| (format!("{:010}", u32::MAX - v.id.number()), v))
        .collect();
    let page = Page::of(
        keyed.iter().map(|(k, v)| (k.as_str(), *v)),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListPolicyVersionsResponse {
        is_truncated: page.is_truncated(),
        versions: Some(page.items.iter().map(|v| version(p, v, false)).collect()),
        marker: page.next,
    })
}

pub async fn delete_version(
    ctx: &OpContext<'_>,
    input: iam::DeletePolicyVersionRequest,
) -> OpResult<()> {
    let arn = policy_arn(&input.policy_arn)?;
    let version_id = PolicyVersionId::parse(&input.version_id)?;
    ctx.authorize(&ctx.policy_target(&arn))?;
    ctx.execute(Command::DeletePolicyVersion {
        policy_arn: arn,
        version_id,
    })
    .await?;
    Ok(())
}

pub async fn set_default_version(
    ctx: &OpContext<'_>,
    input: iam::SetDefaultPolicyVersionRequest,
) -> OpResult<()> {
    let arn = policy_arn(&input.policy_arn)?;
    let version_id = PolicyVersionId::parse(&input.version_id)?;
    ctx.authorize(&ctx.policy_target(&arn))?;
    ctx.execute(Command::SetDefaultPolicyVersion {
        policy_arn: arn,
        version_id,
        now: ctx.now,
    })
    .await?;
    Ok(())
}

/// An entity that uses a policy, as `ListEntitiesForPolicy` lists it.
enum Using<'a> {
    Group(&'a Group),
    User(&'a User),
    Role(&'a Role),
}

/// The groups, users and roles under `prefix` that use the policy `key`:
/// attached to them (`PolicyUsageFilter=PermissionsPolicy`), as their
/// permissions boundary (`PermissionsBoundary`), or either (no filter, as
/// in AWS); only the kinds `EntityFilter` names. Keyed so that one page
/// spans the three lists, in that order.
fn entities_using<'s>(
    state: &'s AccountState,
    key: &NameKey,
    prefix: &str,
    usage: Option<iam::PolicyUsageType>,
    kinds: Option<iam::EntityType>,
) -> Vec<(String, Using<'s>)> {
    let wanted = |kind: iam::EntityType| kinds.is_none_or(|k| k == kind);
    let attached = |set: &BTreeSet<NameKey>| {
        usage != Some(iam::PolicyUsageType::PermissionsBoundary) && set.contains(key)
    };
    let bounded = |b: &Option<Arn>| {
        usage != Some(iam::PolicyUsageType::PermissionsPolicy)
            && b.as_ref().and_then(boundary_key).as_ref() == Some(key)
    };
    let mut all: Vec<(String, Using<'s>)> = Vec::new();
    if wanted(iam::EntityType::Group) {
        all.extend(
            state
                .groups
                .iter()
                .filter(|(_, g)| g.path.as_str().starts_with(prefix))
                .filter(|(_, g)| attached(&g.attached_policies))
                .map(|(k, g)| (format!("1{k}"), Using::Group(g))),
        );
    }
    if wanted(iam::EntityType::User) {
        all.extend(
            state
                .users
                .iter()
                .filter(|(_, u)| u.path.as_str().starts_with(prefix))
                .filter(|(_, u)| attached(&u.attached_policies) || bounded(&u.permissions_boundary))
                .map(|(k, u)| (format!("2{k}"), Using::User(u))),
        );
    }
    if wanted(iam::EntityType::Role) {
        all.extend(
            state
                .roles
                .iter()
                .filter(|(_, r)| r.path.as_str().starts_with(prefix))
                .filter(|(_, r)| attached(&r.attached_policies) || bounded(&r.permissions_boundary))
                .map(|(k, r)| (format!("3{k}"), Using::Role(r))),
        );
    }
    // `LocalManagedPolicy` and `AWSManagedPolicy` list nothing: policies
    // are never attached to policies.
    all
}

/// `ListEntitiesForPolicy` ([`entities_using`]); `PathPrefix` filters the
/// entities' paths.
pub async fn list_entities(
    ctx: &OpContext<'_>,
    input: iam::ListEntitiesForPolicyRequest,
) -> OpResult<iam::ListEntitiesForPolicyResponse> {
    let arn = policy_arn(&input.policy_arn)?;
    let prefix = shapes::path_prefix(input.path_prefix.as_deref());
    let p = authorized_policy(ctx, &arn)?;
    let all = entities_using(
        ctx.state(),
        &p.key(),
        prefix,
        input.policy_usage_filter,
        input.entity_filter,
    );
    let page = Page::of(
        all.iter().map(|(k, e)| (k.as_str(), e)),
        input.max_items,
        input.marker.as_deref(),
    );
    let (mut groups, mut users, mut roles) = (Vec::new(), Vec::new(), Vec::new());
    for e in &page.items {
        match e {
            Using::Group(g) => groups.push(iam::PolicyGroup {
                group_id: Some(g.id.as_str().to_owned()),
                group_name: Some(g.name.as_str().to_owned()),
            }),
            Using::User(u) => users.push(iam::PolicyUser {
                user_id: Some(u.id.as_str().to_owned()),
                user_name: Some(u.name.as_str().to_owned()),
            }),
            Using::Role(r) => roles.push(iam::PolicyRole {
                role_id: Some(r.id.as_str().to_owned()),
                role_name: Some(r.name.as_str().to_owned()),
            }),
        }
    }
    Ok(iam::ListEntitiesForPolicyResponse {
        is_truncated: page.is_truncated(),
        marker: page.next,
        policy_groups: Some(groups),
        policy_roles: Some(roles),
        policy_users: Some(users),
    })
}

/// The tags are read where the condition keys read them (`aws:RequestTag`,
/// `aws:TagKeys`), so what is authorized is what is stored.
pub async fn tag(ctx: &OpContext<'_>, input: iam::TagPolicyRequest) -> OpResult<()> {
    let arn = policy_arn(&input.policy_arn)?;
    let tags = crate::authz::request_tags(ctx.params)?;
    ctx.authorize(&ctx.policy_target(&arn))?;
    ctx.execute(Command::TagPolicy {
        policy_arn: arn,
        tags,
    })
    .await?;
    Ok(())
}

pub async fn untag(ctx: &OpContext<'_>, input: iam::UntagPolicyRequest) -> OpResult<()> {
    let arn = policy_arn(&input.policy_arn)?;
    let tag_keys = crate::authz::request_tag_keys(ctx.params)?;
    ctx.authorize(&ctx.policy_target(&arn))?;
    ctx.execute(Command::UntagPolicy {
        policy_arn: arn,
        tag_keys,
    })
    .await?;
    Ok(())
}

/// Paged by folded tag key.
pub async fn list_tags(
    ctx: &OpContext<'_>,
    input: iam::ListPolicyTagsRequest,
) -> OpResult<iam::ListPolicyTagsResponse> {
    let arn = policy_arn(&input.policy_arn)?;
    // Catalogue policies have no tags.
    let no_tags = Default::default();
    let tags = match authorized_policy(ctx, &arn)? {
        Managed::Local(p) => &p.tags,
        Managed::Aws(_) => &no_tags,
    };
    let page = Page::of(
        tags.iter().map(|(k, t)| (k.as_str(), t)),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListPolicyTagsResponse {
        is_truncated: page.is_truncated(),
        tags: shapes::tag_list(page.items.into_iter()),
        marker: page.next,
    })
}
