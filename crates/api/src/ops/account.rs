//! The account as a whole: `GetAccountSummary` and
//! `GetAccountAuthorizationDetails` (both authorized on `*` as in AWS), its
//! alias and its STS preferences.

use std::collections::{BTreeMap, BTreeSet};

use iam_domain::aws_policies::{self, AwsManagedPolicy};
use iam_domain::names::AccountAlias;
use iam_domain::names::NameKey;
use iam_domain::state::{
    CredentialOwner, GlobalEndpointTokenVersion, Group, InlinePolicy, ManagedPolicy, Role, User,
};
use iam_domain::AccountState;
use iam_domain::Command;
use iam_wire::iam::{self, SummaryKeyType as Key};

use super::policies::Usage;
use super::shapes::{self, Page};
use super::{encode_document, OpContext, OpResult};

/// AWS's quota on attached managed policy versions in an account; iamd does
/// not enforce it (it has no setting), but reports AWS's value.
const POLICY_VERSIONS_IN_USE_QUOTA: usize = 10_000;
/// AWS's quotas on server certificates in an account and signing
/// certificates of a user, which `decide` enforces.
const SERVER_CERTIFICATES_QUOTA: usize = iam_domain::decide::SERVER_CERTIFICATES_PER_ACCOUNT.1;
const SIGNING_CERTIFICATES_PER_USER_QUOTA: usize =
    iam_domain::decide::SIGNING_CERTIFICATES_PER_USER.1;

/// `GetAccountSummary`: usage and quotas under AWS's key names. Usage counts
/// come from the account's state; quotas from the deployment's configured
/// [`iam_domain::Quotas`]. Every key AWS returns is present; kinds iamd
/// does not hold (server and signing certificates, the root user's
/// password) count zero.
pub async fn summary(ctx: &OpContext<'_>, _: ()) -> OpResult<iam::GetAccountSummaryResponse> {
    ctx.authorize_arn("*".into())?;
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
    let entries = [
        (Key::Users, state.users.len()),
        (Key::UsersQuota, q.users_per_account),
        (Key::Groups, state.groups.len()),
        (Key::GroupsQuota, q.groups_per_account),
        (Key::Roles, state.roles.len()),
        (Key::RolesQuota, q.roles_per_account),
        (Key::Policies, state.policies.len()),
        (Key::PoliciesQuota, q.customer_managed_policies_per_account),
        (Key::PolicyVersionsInUse, usage.total_attachments()),
        (Key::PolicyVersionsInUseQuota, POLICY_VERSIONS_IN_USE_QUOTA),
        (Key::VersionsPerPolicyQuota, q.versions_per_managed_policy),
        (Key::PolicySizeQuota, q.managed_policy_size),
        (Key::UserPolicySizeQuota, q.user_inline_policy_size),
        (Key::GroupPolicySizeQuota, q.group_inline_policy_size),
        (Key::RolePolicySizeQuota, q.role_inline_policy_size),
        (Key::AssumeRolePolicySizeQuota, q.role_trust_policy_size),
        (Key::GroupsPerUserQuota, q.groups_per_user),
        (
            Key::AttachedPoliciesPerUserQuota,
            q.managed_policies_per_user,
        ),
        (
            Key::AttachedPoliciesPerGroupQuota,
            q.managed_policies_per_group,
        ),
        (
            Key::AttachedPoliciesPerRoleQuota,
            q.managed_policies_per_role,
        ),
        (Key::AccessKeysPerUserQuota, q.access_keys_per_user),
        (Key::AccountAccessKeysPresent, flag(root_keys)),
        (Key::MfaDevices, state.mfa_devices.len()),
        (
            Key::MfaDevicesInUse,
            state
                .mfa_devices
                .values()
                .filter(|d| d.assignment.is_some())
                .count(),
        ),
        (Key::AccountMfaEnabled, flag(root_mfa)),
        (Key::InstanceProfiles, state.instance_profiles.len()),
        (Key::InstanceProfilesQuota, q.instance_profiles_per_account),
        (
            Key::Providers,
            state.oidc_providers.len() + state.saml_providers.len(),
        ),
        (Key::ServerCertificates, state.server_certificates.len()),
        (Key::ServerCertificatesQuota, SERVER_CERTIFICATES_QUOTA),
        (
            Key::SigningCertificatesPerUserQuota,
            SIGNING_CERTIFICATES_PER_USER_QUOTA,
        ),
        // The root user of iamd signs in with its access key only.
        (Key::AccountPasswordPresent, 0),
        (
            Key::AccountSigningCertificatesPresent,
            flag(
                state
                    .signing_certificates
                    .values()
                    .any(|c| c.owner == CredentialOwner::Root),
            ),
        ),
        (
            Key::GlobalEndpointTokenVersion,
            match state.global_endpoint_token_version {
                Some(GlobalEndpointTokenVersion::V2) => 2,
                _ => 1,
            },
        ),
    ];
    Ok(iam::GetAccountSummaryResponse {
        summary_map: Some(iam_wire::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k, i32::try_from(v).unwrap_or(i32::MAX)))
                .collect(),
        )),
    })
}

/// Which lists `Filter` asks for (all four when it is absent or empty).
struct Filter {
    users: bool,
    groups: bool,
    roles: bool,
    local_policies: bool,
    aws_policies: bool,
}

impl Filter {
    fn of(wanted: Option<&[iam::EntityType]>) -> Filter {
        let wanted = wanted.unwrap_or_default();
        let all = wanted.is_empty();
        let has = |t: iam::EntityType| all || wanted.contains(&t);
        Filter {
            users: has(iam::EntityType::User),
            groups: has(iam::EntityType::Group),
            roles: has(iam::EntityType::Role),
            local_policies: has(iam::EntityType::LocalManagedPolicy),
            aws_policies: has(iam::EntityType::AwsManagedPolicy),
        }
    }
}

enum Detail<'a> {
    User(&'a User),
    Group(&'a Group),
    Role(&'a Role),
    Policy(&'a ManagedPolicy),
    AwsPolicy(&'static AwsManagedPolicy),
}

/// `GetAccountAuthorizationDetails`: users, groups, roles and customer
/// managed policies (every stored version, documents URL-encoded), filtered
/// by `Filter`. One page spans the four lists, in that order. Roles list the
/// instance profiles that hold them; they have no `RoleLastUsed`.
pub async fn authorization_details(
    ctx: &OpContext<'_>,
    input: iam::GetAccountAuthorizationDetailsRequest,
) -> OpResult<iam::GetAccountAuthorizationDetailsResponse> {
    let f = Filter::of(input.filter.as_deref());
    ctx.authorize_arn("*".into())?;
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
    let usage = Usage::of(state);
    if f.aws_policies {
        // As AWS does: the AWS managed policies in use in the account.
        all.extend(
            aws_policies::catalogue()
                .iter()
                .filter(|p| {
                    let key = p.attachment_key();
                    usage.attachments(&key) + usage.boundaries(&key) > 0
                })
                .map(|p| (format!("5{}", p.attachment_key()), Detail::AwsPolicy(p))),
        );
    }
    let page = Page::of(
        all.iter().map(|(k, d)| (k.as_str(), d)),
        input.max_items,
        input.marker.as_deref(),
    );
    let mut out = iam::GetAccountAuthorizationDetailsResponse {
        user_detail_list: Some(Vec::new()),
        group_detail_list: Some(Vec::new()),
        role_detail_list: Some(Vec::new()),
        policies: Some(Vec::new()),
        is_truncated: page.is_truncated(),
        marker: page.next.clone(),
    };
    for d in page.items {
        match d {
            Detail::User(u) => out
                .user_detail_list
                .get_or_insert_default()
                .push(user_detail(state, u)),
            Detail::Group(g) => out
                .group_detail_list
                .get_or_insert_default()
                .push(group_detail(state, g)),
            Detail::Role(r) => out
                .role_detail_list
                .get_or_insert_default()
                .push(role_detail(state, r)),
            Detail::Policy(p) => out
                .policies
                .get_or_insert_default()
                .push(policy_detail(state, &usage, p)),
            Detail::AwsPolicy(p) => out
                .policies
                .get_or_insert_default()
                .push(aws_policy_detail(&usage, p)),
        }
    }
    Ok(out)
}

fn inline_list(policies: &BTreeMap<NameKey, InlinePolicy>) -> Option<Vec<iam::PolicyDetail>> {
    Some(
        policies
            .values()
            .map(|p| iam::PolicyDetail {
                policy_name: Some(p.name.as_str().to_owned()),
                policy_document: Some(encode_document(&p.document)),
            })
            .collect(),
    )
}

fn attached_list(
    state: &AccountState,
    attached: &BTreeSet<NameKey>,
) -> Option<Vec<iam::AttachedPolicy>> {
    Some(
        attached
            .iter()
            .filter_map(|key| shapes::Managed::by_key(state, key))
            .map(|p| p.attached(state))
            .collect(),
    )
}

fn user_detail(state: &AccountState, u: &User) -> iam::UserDetail {
    let user = shapes::user(state, u);
    iam::UserDetail {
        path: Some(user.path),
        user_name: Some(user.user_name),
        user_id: Some(user.user_id),
        arn: Some(user.arn),
        create_date: Some(user.create_date),
        user_policy_list: inline_list(&u.inline_policies),
        group_list: Some(
            u.groups
                .iter()
                .filter_map(|key| state.groups.get(key))
                .map(|g| g.name.as_str().to_owned())
                .collect(),
        ),
        attached_managed_policies: attached_list(state, &u.attached_policies),
        permissions_boundary: user.permissions_boundary,
        tags: user.tags,
    }
}

fn group_detail(state: &AccountState, g: &Group) -> iam::GroupDetail {
    let group = shapes::group(state, g);
    iam::GroupDetail {
        path: Some(group.path),
        group_name: Some(group.group_name),
        group_id: Some(group.group_id),
        arn: Some(group.arn),
        create_date: Some(group.create_date),
        group_policy_list: inline_list(&g.inline_policies),
        attached_managed_policies: attached_list(state, &g.attached_policies),
    }
}

fn role_detail(state: &AccountState, r: &Role) -> iam::RoleDetail {
    iam::RoleDetail {
        path: Some(r.path.as_str().to_owned()),
        role_name: Some(r.name.as_str().to_owned()),
        role_id: Some(r.id.as_str().to_owned()),
        arn: Some(shapes::role_arn(state, r)),
        create_date: Some(r.created_at),
        assume_role_policy_document: Some(encode_document(&state.trust_policy_now(r))),
        instance_profile_list: Some(
            state
                .instance_profiles
                .values()
                .filter(|p| p.roles.contains(&r.name.key()))
                .map(|p| super::instance_profiles::profile(state, p))
                .collect(),
        ),
        role_policy_list: inline_list(&r.inline_policies),
        attached_managed_policies: attached_list(state, &r.attached_policies),
        permissions_boundary: shapes::boundary(r.permissions_boundary.as_ref()),
        tags: shapes::tags(&r.tags),
        role_last_used: None,
    }
}

fn aws_policy_detail(usage: &Usage, p: &AwsManagedPolicy) -> iam::ManagedPolicyDetail {
    let key = p.attachment_key();
    iam::ManagedPolicyDetail {
        policy_name: Some(p.name.as_str().to_owned()),
        policy_id: Some(p.id.as_str().to_owned()),
        arn: Some(p.arn()),
        path: Some(p.path.as_str().to_owned()),
        default_version_id: Some(p.default_version.to_string()),
        attachment_count: Some(count(usage.attachments(&key))),
        permissions_boundary_usage_count: Some(count(usage.boundaries(&key))),
        is_attachable: Some(true),
        description: Some(p.description.as_str().to_owned()),
        create_date: Some(p.created_at),
        update_date: Some(p.updated_at),
        policy_version_list: Some(vec![iam::PolicyVersion {
            document: Some(encode_document(&p.document)),
            version_id: Some(p.default_version.to_string()),
            is_default_version: Some(true),
            create_date: Some(p.updated_at),
        }]),
    }
}

fn policy_detail(
    state: &AccountState,
    usage: &Usage,
    p: &ManagedPolicy,
) -> iam::ManagedPolicyDetail {
    let key = p.name.key();
    iam::ManagedPolicyDetail {
        policy_name: Some(p.name.as_str().to_owned()),
        policy_id: Some(p.id.as_str().to_owned()),
        arn: Some(shapes::policy_arn(state, p)),
        path: Some(p.path.as_str().to_owned()),
        default_version_id: Some(p.default_version.to_string()),
        attachment_count: Some(count(usage.attachments(&key))),
        permissions_boundary_usage_count: Some(count(usage.boundaries(&key))),
        is_attachable: Some(true),
        description: p.description.as_ref().map(|d| d.as_str().to_owned()),
        create_date: Some(p.created_at),
        update_date: Some(p.updated_at),
        policy_version_list: Some(
            p.versions
                .values()
                .map(|v| iam::PolicyVersion {
                    document: Some(encode_document(&v.document)),
                    version_id: Some(v.id.to_string()),
                    is_default_version: Some(p.default_version == v.id),
                    create_date: Some(v.created_at),
                })
                .collect(),
        ),
    }
}

/// A count as the model's integer.
pub(super) fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// AWS allows one alias per account: creating another replaces it.
pub async fn create_alias(
    ctx: &OpContext<'_>,
    input: iam::CreateAccountAliasRequest,
) -> OpResult<()> {
    let account_alias = AccountAlias::parse(&input.account_alias)?;
    ctx.authorize_arn("*".into())?;
    ctx.execute(Command::CreateAccountAlias { account_alias })
        .await?;
    Ok(())
}

pub async fn delete_alias(
    ctx: &OpContext<'_>,
    input: iam::DeleteAccountAliasRequest,
) -> OpResult<()> {
    let account_alias = AccountAlias::parse(&input.account_alias)?;
    ctx.authorize_arn("*".into())?;
    ctx.execute(Command::DeleteAccountAlias { account_alias })
        .await?;
    Ok(())
}

pub async fn list_aliases(
    ctx: &OpContext<'_>,
    input: iam::ListAccountAliasesRequest,
) -> OpResult<iam::ListAccountAliasesResponse> {
    ctx.authorize_arn("*".into())?;
    let page = Page::of(
        ctx.state()
            .account_alias
            .iter()
            .map(|a| (a.as_str(), a.as_str().to_owned())),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListAccountAliasesResponse {
        is_truncated: page.is_truncated(),
        account_aliases: page.items,
        marker: page.next,
    })
}

/// Recorded and reported by `GetAccountSummary`; iamd's tokens are valid
/// everywhere whichever version is chosen.
pub async fn set_sts_preferences(
    ctx: &OpContext<'_>,
    input: iam::SetSecurityTokenServicePreferencesRequest,
) -> OpResult<()> {
    let version = match input.global_endpoint_token_version {
        iam::GlobalEndpointTokenVersion::V1Token => GlobalEndpointTokenVersion::V1,
        iam::GlobalEndpointTokenVersion::V2Token => GlobalEndpointTokenVersion::V2,
    };
    ctx.authorize_arn("*".into())?;
    ctx.execute(Command::SetSecurityTokenServicePreferences {
        global_endpoint_token_version: version,
    })
    .await?;
    Ok(())
}
