//! Account-wide reads: `GetAccountSummary` and
//! `GetAccountAuthorizationDetails`, both authorized on `*` as in AWS.

use std::collections::{BTreeMap, BTreeSet};

use iam_domain::names::{NameKey, Tag};
use iam_domain::state::{Group, InlinePolicy, ManagedPolicy, Role, User};
use iam_domain::{AccountState, Arn};

use super::attachments::boundary_xml;
use super::policies::{policy_fields, version_fields, Usage};
use super::{encode_document, page, paging_tail, OpContext, OpResult};
use crate::query::{iso8601, ApiError, Xml};

/// AWS's quota on attached managed policy versions in an account; iamd does
/// not enforce it (it has no setting), but reports AWS's value.
const POLICY_VERSIONS_IN_USE_QUOTA: usize = 10_000;

/// `GetAccountSummary`: usage and quotas under AWS's key names. Usage counts
/// come from the account's state; quotas from the deployment's configured
/// [`iam_domain::Quotas`]. Keys for things iamd does not have (server and
/// signing certificates, instance profiles, identity providers, the root
/// password, the global endpoint token version) are left out.
pub fn summary(ctx: &OpContext<'_>) -> OpResult {
    ctx.authorize_arn("GetAccountSummary", "*".into())?;
    let state = ctx.state();
    let q = &ctx.state.projection.config().quotas;
    let usage = Usage::of(state);
    let flag = |b: bool| usize::from(b);
    let root_mfa = state
        .account
        .as_ref()
        .is_some_and(|a| !a.root_mfa_devices.is_empty());
    // The configured root credentials are a root access key, so root
    // always has one; keys created for root in the log are more of them.
    let root_keys = true;
    let entries: [(&str, usize); 25] = [
        ("Users", state.users.len()),
        ("UsersQuota", q.users_per_account),
        ("Groups", state.groups.len()),
        ("GroupsQuota", q.groups_per_account),
        ("Roles", state.roles.len()),
        ("RolesQuota", q.roles_per_account),
        ("Policies", state.policies.len()),
        ("PoliciesQuota", q.customer_managed_policies_per_account),
        ("PolicyVersionsInUse", usage.total_attachments()),
        ("PolicyVersionsInUseQuota", POLICY_VERSIONS_IN_USE_QUOTA),
        ("VersionsPerPolicyQuota", q.versions_per_managed_policy),
        ("PolicySizeQuota", q.managed_policy_size),
        ("UserPolicySizeQuota", q.user_inline_policy_size),
        ("GroupPolicySizeQuota", q.group_inline_policy_size),
        ("RolePolicySizeQuota", q.role_inline_policy_size),
        ("AssumeRolePolicySizeQuota", q.role_trust_policy_size),
        ("GroupsPerUserQuota", q.groups_per_user),
        ("AttachedPoliciesPerUserQuota", q.managed_policies_per_user),
        (
            "AttachedPoliciesPerGroupQuota",
            q.managed_policies_per_group,
        ),
        ("AttachedPoliciesPerRoleQuota", q.managed_policies_per_role),
        ("AccessKeysPerUserQuota", q.access_keys_per_user),
        ("AccountAccessKeysPresent", flag(root_keys)),
        ("MFADevices", state.mfa_devices.len()),
        (
            "MFADevicesInUse",
            state
                .mfa_devices
                .values()
                .filter(|d| d.assignment.is_some())
                .count(),
        ),
        ("AccountMFAEnabled", flag(root_mfa)),
    ];
    let mut x = Xml::new();
    x.open("SummaryMap");
    for (key, value) in entries {
        x.open("entry")
            .elem("key", key)
            .elem("value", &value.to_string())
            .close("entry");
    }
    x.close("SummaryMap");
    Ok((x.finish(), None))
}

/// Which lists `Filter.member.N` asks for.
struct Filter {
    users: bool,
    groups: bool,
    roles: bool,
    local_policies: bool,
}

fn filter(ctx: &OpContext<'_>) -> Result<Filter, ApiError> {
    let wanted = ctx.params.list("Filter");
    if wanted.is_empty() {
        return Ok(Filter {
            users: true,
            groups: true,
            roles: true,
            local_policies: true,
        });
    }
    let mut f = Filter {
        users: false,
        groups: false,
        roles: false,
        local_policies: false,
    };
    for w in wanted {
        match w {
            "User" => f.users = true,
            "Group" => f.groups = true,
            "Role" => f.roles = true,
            "LocalManagedPolicy" => f.local_policies = true,
            // iamd has no AWS managed policies: nothing to list.
            "AWSManagedPolicy" => {}
            other => {
                return Err(ApiError::validation(format!(
                    "1 validation error detected: Value '[{other}]' at 'filter' failed to satisfy constraint: \
                     Member must satisfy constraint: [Member must satisfy enum value set: \
                     [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]]"
                )))
            }
        }
    }
    Ok(f)
}

enum Detail<'a> {
    User(&'a User),
    Group(&'a Group),
    Role(&'a Role),
    Policy(&'a ManagedPolicy),
}

/// `GetAccountAuthorizationDetails`: users, groups, roles and customer
/// managed policies (every stored version, documents URL-encoded), filtered
/// by `Filter.member.N`. One page spans the four lists, in that order.
/// Roles have an empty `InstanceProfileList` (iamd has no instance profiles)
/// and no `RoleLastUsed`.
pub fn authorization_details(ctx: &OpContext<'_>) -> OpResult {
    let f = filter(ctx)?;
    ctx.authorize_arn("GetAccountAuthorizationDetails", "*".into())?;
    let state = ctx.state();
    let mut all: Vec<(String, Detail<'_>)> = Vec::new();
    if f.users {
        all.extend(
            state
                .users
                .iter()
                .map(|(k, u)| (format!("1{k}"), Detail::User(u))),
        );
    }
    if f.groups {
        all.extend(
            state
                .groups
                .iter()
                .map(|(k, g)| (format!("2{k}"), Detail::Group(g))),
        );
    }
    if f.roles {
        all.extend(
            state
                .roles
                .iter()
                .map(|(k, r)| (format!("3{k}"), Detail::Role(r))),
        );
    }
    if f.local_policies {
        all.extend(
            state
                .policies
                .iter()
                .map(|(k, p)| (format!("4{k}"), Detail::Policy(p))),
        );
    }
    let (details, next) = page(all.iter().map(|(k, d)| (k.as_str(), d)), ctx.params)?;
    let usage = Usage::of(state);
    let (mut ux, mut gx, mut rx, mut px) = (Xml::new(), Xml::new(), Xml::new(), Xml::new());
    for d in details {
        match d {
            Detail::User(u) => user_detail(&mut ux, state, u),
            Detail::Group(g) => group_detail(&mut gx, state, g),
            Detail::Role(r) => role_detail(&mut rx, state, r),
            Detail::Policy(p) => {
                px.open("member");
                policy_fields(&mut px, state, &usage, p, (true, false));
                px.open("PolicyVersionList");
                for v in p.versions.values() {
                    px.open("member");
                    version_fields(&mut px, p, v, true);
                    px.close("member");
                }
                px.close("PolicyVersionList").close("member");
            }
        }
    }
    let mut x = Xml::new();
    x.open("UserDetailList")
        .raw(&ux.finish())
        .close("UserDetailList")
        .open("GroupDetailList")
        .raw(&gx.finish())
        .close("GroupDetailList")
        .open("RoleDetailList")
        .raw(&rx.finish())
        .close("RoleDetailList")
        .open("Policies")
        .raw(&px.finish())
        .close("Policies");
    paging_tail(&mut x, next);
    Ok((x.finish(), None))
}

fn arn_or_empty(arn: Option<Arn>) -> String {
    arn.map(|a| a.to_string()).unwrap_or_default()
}

fn inline_list(x: &mut Xml, tag: &str, policies: &BTreeMap<NameKey, InlinePolicy>) {
    x.open(tag);
    for p in policies.values() {
        x.open("member")
            .elem("PolicyName", p.name.as_str())
            .elem("PolicyDocument", &encode_document(&p.document))
            .close("member");
    }
    x.close(tag);
}

fn attached_list(x: &mut Xml, state: &AccountState, attached: &BTreeSet<NameKey>) {
    x.open("AttachedManagedPolicies");
    for key in attached {
        if let Some(p) = state.policies.get(key) {
            x.open("member")
                .elem("PolicyName", p.name.as_str())
                .elem("PolicyArn", &arn_or_empty(state.policy_arn(p)))
                .close("member");
        }
    }
    x.close("AttachedManagedPolicies");
}

fn tag_list(x: &mut Xml, tags: &BTreeMap<NameKey, Tag>) {
    if tags.is_empty() {
        return;
    }
    x.open("Tags");
    for t in tags.values() {
        x.open("member")
            .elem("Key", t.key.as_str())
            .elem("Value", t.value.as_str())
            .close("member");
    }
    x.close("Tags");
}

fn user_detail(x: &mut Xml, state: &AccountState, u: &User) {
    x.open("member")
        .elem("Path", u.path.as_str())
        .elem("UserName", u.name.as_str())
        .elem("UserId", u.id.as_str())
        .elem("Arn", &arn_or_empty(state.user_arn(u)))
        .elem("CreateDate", &iso8601(&u.created_at));
    inline_list(x, "UserPolicyList", &u.inline_policies);
    x.open("GroupList");
    for key in &u.groups {
        if let Some(g) = state.groups.get(key) {
            x.elem("member", g.name.as_str());
        }
    }
    x.close("GroupList");
    attached_list(x, state, &u.attached_policies);
    boundary_xml(x, u.permissions_boundary.as_ref());
    tag_list(x, &u.tags);
    x.close("member");
}

fn group_detail(x: &mut Xml, state: &AccountState, g: &Group) {
    x.open("member")
        .elem("Path", g.path.as_str())
        .elem("GroupName", g.name.as_str())
        .elem("GroupId", g.id.as_str())
        .elem("Arn", &arn_or_empty(state.group_arn(g)))
        .elem("CreateDate", &iso8601(&g.created_at));
    inline_list(x, "GroupPolicyList", &g.inline_policies);
    attached_list(x, state, &g.attached_policies);
    x.close("member");
}

fn role_detail(x: &mut Xml, state: &AccountState, r: &Role) {
    x.open("member")
        .elem("Path", r.path.as_str())
        .elem("RoleName", r.name.as_str())
        .elem("RoleId", r.id.as_str())
        .elem("Arn", &arn_or_empty(state.role_arn(r)))
        .elem("CreateDate", &iso8601(&r.created_at))
        .elem(
            "AssumeRolePolicyDocument",
            &encode_document(&r.assume_role_policy_document),
        )
        .open("InstanceProfileList")
        .close("InstanceProfileList");
    inline_list(x, "RolePolicyList", &r.inline_policies);
    attached_list(x, state, &r.attached_policies);
    boundary_xml(x, r.permissions_boundary.as_ref());
    tag_list(x, &r.tags);
    x.close("member");
}
