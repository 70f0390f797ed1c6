//! STS: temporary credentials (`AssumeRole`, `GetSessionToken`) and what
//! a key belongs to (`GetAccessKeyInfo`).
//!
//! A role is assumed when its trust policy and the caller's own policies
//! allow `sts:AssumeRole`, evaluated together as AWS does for a resource
//! policy on the role ([`iam_evaluator::Overlay`]): a trust policy naming
//! the caller allows on its own; one naming the account delegates to the
//! caller's identity policies. Tags and a source identity need
//! `sts:TagSession` and `sts:SetSourceIdentity` the same way. Every
//! issuance is an event (`TemporaryCredentialsIssued`); the secret and the
//! token never are ([`crate::session`]).

use chrono::Duration;
use iam_domain::event::MfaCodeUse;
use iam_domain::names::Tag;
use iam_domain::policy::{PolicyDocument, PolicyKind};
use iam_domain::state::CredentialOwner;
use iam_domain::{Arn, Command};
use iam_evaluator::{CompiledPolicy, PolicySet};
use iam_wire::sts;

use super::{OpContext, OpResult};
use crate::auth::Caller;
use crate::authz::{Extra, Target};
use crate::query::ApiError;
use crate::session::{IssuedBy, NewSession, Session, SessionPrincipal, TemporaryCredentials};

/// AWS's default duration of a role session.
const ROLE_SESSION_DEFAULT: i64 = 3600;
/// Role chaining caps a session at one hour.
const CHAINED_MAX: i64 = 3600;
/// `GetSessionToken`: users 15 minutes to 36 hours (12 by default); the
/// root user at most one hour.
const USER_SESSION_DEFAULT: i64 = 43_200;
const ROOT_SESSION_MAX: i64 = 3600;
/// The space session policies, policy ARNs and tags are packed into
/// (`PackedPolicySize` is the percentage of it used): the inline session
/// policy is limited to 2,048 characters in AWS.
const PACKED_SPACE: usize = 2048;

pub async fn assume_role(
    ctx: &OpContext<'_>,
    input: sts::AssumeRoleRequest,
) -> OpResult<sts::AssumeRoleResponse> {
    if let Caller::Root { .. } = ctx.caller {
        return Err(ApiError::new(
            403,
            "AccessDenied",
            "Roles may not be assumed by root accounts.",
        ));
    }
    let state = ctx.authorizing_state();
    let role = role_named(ctx, &input.role_arn);
    let session_name = input.role_session_name.clone();
    if let Caller::FederatedUser { .. } = ctx.caller {
        return Err(ApiError::new(
            403,
            "AccessDenied",
            "Cannot call AssumeRole with federated user credentials",
        ));
    }
    let chained = matches!(ctx.caller, Caller::RoleSession { .. });
    let caller_session = ctx.caller.session();

    // What the request asks for, validated before any policy is weighed.
    let duration = i64::from(
        input
            .duration_seconds
            .unwrap_or(ROLE_SESSION_DEFAULT as i32),
    );
    let policy = session_policy(input.policy.as_deref())?;
    let policy_arns = policy_arns(input.policy_arns.as_deref().unwrap_or_default())?;
    let (tags, transitive) = session_tags(
        input.tags.as_deref().unwrap_or_default(),
        input.transitive_tag_keys.as_deref().unwrap_or_default(),
        caller_session,
    )?;
    let packed = packed_size(policy.as_deref(), &policy_arns, &tags)?;
    let source_identity = source_identity(input.source_identity.clone(), caller_session)?;
    let mfa = match (&input.serial_number, &input.token_code) {
        (Some(serial), Some(code)) => Some(super::mfa::verify_code(ctx, serial, code)?),
        (None, None) => None,
        _ => {
            return Err(ApiError::validation(
                "SerialNumber and TokenCode must be given together.",
            ))
        }
    };

    // The trust policy with the caller's own policies.
    let target = match &role {
        // Named in a refusal as the request named it: whether a role
        // exists, and its stored spelling, is not told to who may not
        // assume it.
        Some(r) => ctx
            .role_target(&r.name)
            .named_only_as(input.role_arn.clone()),
        None => Target::arn(input.role_arn.clone()),
    };
    let trust = role.as_ref().and_then(|r| {
        PolicyDocument::parse(&state.trust_policy_now(r))
            .ok()
            .map(|d| PolicySet::new(vec![CompiledPolicy::compile(&d)]))
    });
    // The keys AWS defines for sts:AssumeRole, sts:TagSession and
    // sts:SetSourceIdentity, from the validated request.
    let mut keys: Vec<(String, Vec<String>)> =
        vec![("sts:RoleSessionName".into(), vec![session_name.clone()])];
    if let Some(id) = &input.external_id {
        keys.push(("sts:ExternalId".into(), vec![id.clone()]));
    }
    if let Some(id) = &input.source_identity {
        keys.push(("sts:SourceIdentity".into(), vec![id.clone()]));
    }
    if mfa.is_some() {
        keys.push(("aws:MultiFactorAuthPresent".into(), vec!["true".into()]));
        keys.push(("aws:MultiFactorAuthAge".into(), vec!["0".into()]));
    }
    let request_tags = input.tags.as_deref().unwrap_or_default();
    keys.extend(request_tag_keys(request_tags));
    if let Some(t) = &input.transitive_tag_keys {
        keys.push(("sts:TransitiveTagKeys".into(), t.clone()));
    }
    let extra = Extra {
        resource_policy: Some(trust.as_ref().unwrap_or(&EMPTY_TRUST)),
        context: keys,
        granted: false,
    };
    ctx.authorize_extra(None, &target, &extra)?;
    if !request_tags.is_empty() || input.transitive_tag_keys.is_some() {
        ctx.authorize_extra(Some("TagSession"), &target, &extra)?;
    }
    if input.source_identity.is_some() {
        ctx.authorize_extra(Some("SetSourceIdentity"), &target, &extra)?;
    }
    // INVARIANT: the trust policy allowed, so the role exists.
    let Some(role) = role else {
        return Err(ApiError::internal());
    };

    if chained && duration > CHAINED_MAX {
        return Err(ApiError::validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ));
    }
    if duration > i64::from(role.max_session_duration) {
        return Err(ApiError::validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    let role_arn = state
        .role_arn(&role)
        .map(|a| a.to_string())
        .unwrap_or_else(|| input.role_arn.clone());
    let now = ctx.now;
    let session = Session::new(NewSession {
        principal: SessionPrincipal::Role {
            role_name: role.name.as_str().to_owned(),
            role_id: role.id.as_str().to_owned(),
            role_arn,
            session_name: session_name.clone(),
        },
        issued_by: IssuedBy::AssumeRole,
        issued_at: now,
        expires_at: now + Duration::seconds(duration),
        // MFA given now, or carried by the session that asks.
        mfa_at: if mfa.is_some() {
            Some(now)
        } else {
            caller_session.and_then(|s| s.mfa_at)
        },
        policy,
        policy_arns,
        tags,
        transitive_tag_keys: transitive,
        source_identity,
        chained,
    });
    let arn = format!(
        "arn:aws:sts::{}:assumed-role/{}/{session_name}",
        ctx.account(),
        role.name.as_str()
    );
    let credentials = issue(ctx, &session, &arn, mfa).await?;
    Ok(sts::AssumeRoleResponse {
        credentials: Some(credentials),
        assumed_role_user: Some(sts::AssumedRoleUser {
            assumed_role_id: format!("{}:{session_name}", role.id.as_str()),
            arn,
        }),
        packed_policy_size: packed,
        source_identity: session.source_identity.clone(),
        session_token_utilization: None,
        session_token_size: None,
    })
}

/// The role of this account a request's `RoleArn` names exactly (its
/// path included), as it is now; `None` for any other ARN.
pub(super) fn role_named(
    ctx: &OpContext<'_>,
    role_arn: &str,
) -> Option<iam_domain::state::Shared<iam_domain::state::Role>> {
    match Arn::parse(role_arn).ok()? {
        Arn::Role {
            account,
            path,
            name,
        } if account.as_str() == ctx.account() => ctx
            .authorizing_state()
            .roles
            .get(&name.key())
            .filter(|r| r.path == path)
            .cloned(),
        _ => None,
    }
}

/// A trust policy that grants nothing: what a role that does not exist
/// (or is named with another path or account) is assumed against.
static EMPTY_TRUST: std::sync::LazyLock<PolicySet> =
    std::sync::LazyLock::new(|| PolicySet::new(Vec::new()));

pub async fn get_session_token(
    ctx: &OpContext<'_>,
    input: sts::GetSessionTokenRequest,
) -> OpResult<sts::GetSessionTokenResponse> {
    if ctx.caller.session().is_some() {
        return Err(ApiError::new(
            403,
            "AccessDenied",
            "Cannot call GetSessionToken with session credentials",
        ));
    }
    let (principal, owner) = match ctx.caller {
        Caller::Root { .. } => (SessionPrincipal::Root, CredentialOwner::Root),
        Caller::User {
            user_name, user_id, ..
        } => (
            SessionPrincipal::User {
                user_name: user_name.as_str().to_owned(),
                user_id: user_id.clone(),
            },
            CredentialOwner::User {
                user_name: user_name.clone(),
            },
        ),
        // Unreachable: these have a session, and an unsigned request
        // never reaches this operation.
        Caller::RoleSession { .. } | Caller::FederatedUser { .. } | Caller::Anonymous => {
            return Err(ApiError::new(
                403,
                "AccessDenied",
                "Cannot call GetSessionToken with session credentials",
            ))
        }
    };
    let requested = input.duration_seconds.map(i64::from);
    let duration = match owner {
        // The root user's sessions last at most an hour, whatever is asked.
        CredentialOwner::Root => requested.unwrap_or(ROOT_SESSION_MAX).min(ROOT_SESSION_MAX),
        CredentialOwner::User { .. } => requested.unwrap_or(USER_SESSION_DEFAULT),
    };
    let mfa = match (&input.serial_number, &input.token_code) {
        (Some(serial), Some(code)) => Some(super::mfa::verify_code(ctx, serial, code)?),
        (None, None) => None,
        _ => {
            return Err(ApiError::validation(
                "SerialNumber and TokenCode must be given together.",
            ))
        }
    };
    // AWS: "No permissions are required for a user to get a session token."
    ctx.allow_without_policy(&Target::arn(ctx.caller.arn()));
    let now = ctx.now;
    let session = Session::new(NewSession {
        principal,
        issued_by: IssuedBy::GetSessionToken,
        issued_at: now,
        expires_at: now + Duration::seconds(duration),
        mfa_at: mfa.as_ref().map(|_| now),
        policy: None,
        policy_arns: Vec::new(),
        tags: Vec::new(),
        transitive_tag_keys: Vec::new(),
        source_identity: None,
        chained: false,
    });
    let credentials = issue(ctx, &session, &ctx.caller.arn(), mfa).await?;
    Ok(sts::GetSessionTokenResponse {
        credentials: Some(credentials),
        session_token_utilization: None,
        session_token_size: None,
    })
}

/// A federated user's credentials: the calling IAM user's permissions,
/// within the session policies given here (none given: no permissions, as
/// in AWS).
pub async fn get_federation_token(
    ctx: &OpContext<'_>,
    input: sts::GetFederationTokenRequest,
) -> OpResult<sts::GetFederationTokenResponse> {
    let Caller::User {
        user_name,
        user_id,
        session: None,
        ..
    } = ctx.caller
    else {
        return Err(ApiError::new(
            403,
            "AccessDenied",
            "GetFederationToken may be called only with the long-term access keys of an IAM user.",
        ));
    };
    let name = input.name.clone();
    let arn = format!("arn:aws:sts::{}:federated-user/{name}", ctx.account());
    let policy = session_policy(input.policy.as_deref())?;
    let policy_arns = policy_arns(input.policy_arns.as_deref().unwrap_or_default())?;
    let (tags, _) = session_tags(input.tags.as_deref().unwrap_or_default(), &[], None)?;
    let packed = packed_size(policy.as_deref(), &policy_arns, &tags)?;
    let request_tags = input.tags.as_deref().unwrap_or_default();
    let keys = request_tag_keys(request_tags);
    let extra = Extra {
        context: keys,
        ..Extra::default()
    };
    let target = Target::arn(arn.clone());
    ctx.authorize_extra(None, &target, &extra)?;
    if !request_tags.is_empty() {
        ctx.authorize_extra(Some("TagSession"), &target, &extra)?;
    }
    let duration = i64::from(
        input
            .duration_seconds
            .unwrap_or(USER_SESSION_DEFAULT as i32),
    );
    let now = ctx.now;
    let session = Session::new(NewSession {
        principal: SessionPrincipal::Federated {
            name: name.clone(),
            user_name: user_name.as_str().to_owned(),
            user_id: user_id.clone(),
        },
        issued_by: IssuedBy::GetFederationToken,
        issued_at: now,
        expires_at: now + Duration::seconds(duration),
        mfa_at: None,
        policy,
        policy_arns,
        tags,
        transitive_tag_keys: Vec::new(),
        source_identity: None,
        chained: false,
    });
    let credentials = issue(ctx, &session, &arn, None).await?;
    Ok(sts::GetFederationTokenResponse {
        credentials: Some(credentials),
        federated_user: Some(sts::FederatedUser {
            federated_user_id: format!("{}:{name}", ctx.account()),
            arn,
        }),
        packed_policy_size: packed,
        session_token_utilization: None,
        session_token_size: None,
    })
}

/// Which account an access key belongs to: this one, for a key it issued
/// (an account key, the root key, or temporary credentials this server
/// sealed); AWS answers without checking the caller's permissions beyond
/// `sts:GetAccessKeyInfo`.
pub async fn get_access_key_info(
    ctx: &OpContext<'_>,
    input: sts::GetAccessKeyInfoRequest,
) -> OpResult<sts::GetAccessKeyInfoResponse> {
    ctx.authorize_arn("*".into())?;
    let id = input.access_key_id.as_str();
    let ours = id == ctx.state.root.access_key_id
        || iam_domain::ids::AccessKeyId::parse(id)
            .ok()
            .is_some_and(|k| ctx.state().access_keys.contains_key(&k))
        || ctx.caller.access_key_id() == id;
    if !ours {
        return Err(ApiError::new(
            400,
            "InvalidParameterValue",
            format!("The access key {id} is not one this server issued."),
        ));
    }
    Ok(sts::GetAccessKeyInfoResponse {
        account: Some(ctx.account().to_owned()),
    })
}

/// Opens the authorization failure message an `AccessDenied` carried
/// (`crate::sealed`), for a caller allowed `sts:DecodeAuthorizationMessage`.
pub async fn decode_authorization_message(
    ctx: &OpContext<'_>,
    input: sts::DecodeAuthorizationMessageRequest,
) -> OpResult<sts::DecodeAuthorizationMessageResponse> {
    ctx.authorize_arn("*".into())?;
    let opened = crate::sealed::open(
        &ctx.state.master_key,
        crate::sealed::AUTHORIZATION_MESSAGE,
        ctx.account(),
        input.encoded_message.trim(),
    )
    .and_then(|bytes| String::from_utf8(bytes).ok())
    .map(|text| text.trim_end().to_owned())
    .ok_or_else(|| {
        ApiError::new(
            400,
            "InvalidAuthorizationMessageException",
            "The message is not an authorization failure message this service encoded.",
        )
    })?;
    Ok(sts::DecodeAuthorizationMessageResponse {
        decoded_message: Some(opened),
    })
}

/// Records the issuance (which also spends the MFA code, on every node)
/// and seals the credentials.
pub(super) async fn issue(
    ctx: &OpContext<'_>,
    session: &Session,
    principal_arn: &str,
    mfa: Option<MfaCodeUse>,
) -> Result<sts::Credentials, ApiError> {
    ctx.execute(Command::RecordTemporaryCredentials(Box::new(
        session.issued(principal_arn, mfa),
    )))
    .await?;
    let TemporaryCredentials {
        access_key_id,
        secret_access_key,
        session_token,
        expiration,
    } = session.seal(&ctx.state.master_key, ctx.account());
    Ok(sts::Credentials {
        access_key_id,
        secret_access_key: iam_wire::Secret(secret_access_key),
        session_token,
        expiration,
    })
}

/// The inline session policy, checked as one (no `Principal`), kept
/// minified.
pub(super) fn session_policy(text: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(text) = text else {
        return Ok(None);
    };
    PolicyDocument::parse_for(text, PolicyKind::Session)
        .map_err(|e| ApiError::new(400, "MalformedPolicyDocument", e.aws_message().to_string()))?;
    let minified = serde_json::from_str::<serde_json::Value>(text)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| text.to_owned());
    Ok(Some(minified))
}

/// The managed session policies: each a policy ARN.
pub(super) fn policy_arns(given: &[sts::PolicyDescriptorType]) -> Result<Vec<String>, ApiError> {
    given
        .iter()
        .map(|d| {
            let text = d.arn.as_deref().unwrap_or_default();
            match Arn::parse(text) {
                Ok(Arn::Policy { .. }) => Ok(text.to_owned()),
                _ if super::is_aws_managed_policy(text) => Ok(text.to_owned()),
                _ => Err(ApiError::validation(format!(
                    "PolicyArns: {text} is not the ARN of a managed policy."
                ))),
            }
        })
        .collect()
}

/// Session tags, key and value.
type Tags = Vec<(String, String)>;

/// The session's tags: the request's, validated as IAM tags, and the
/// transitive tags of the session that asks (role chaining), which the
/// request may not override. The transitive keys must name session tags.
fn session_tags(
    given: &[sts::Tag],
    transitive: &[String],
    caller: Option<&Session>,
) -> Result<(Tags, Vec<String>), ApiError> {
    iam_domain::names::check_tag_count(given.len(), "tags")?;
    let mut tags = Vec::new();
    for t in given {
        let tag = Tag::new(&t.key, &t.value)?;
        if tags
            .iter()
            .any(|(k, _): &(String, String)| crate::authz::same_tag_key(k, tag.key.as_str()))
        {
            return Err(ApiError::validation(format!(
                "Duplicate tag keys found: {}. Tag keys are case insensitive.",
                t.key
            )));
        }
        tags.push((tag.key.as_str().to_owned(), tag.value.as_str().to_owned()));
    }
    for key in transitive {
        if !tags.iter().any(|(k, _)| crate::authz::same_tag_key(k, key)) {
            return Err(ApiError::new(
                400,
                "InvalidParameterValue",
                format!("The transitive tag key {key} is not one of the session tags."),
            ));
        }
    }
    let mut transitive = transitive.to_vec();
    if let Some(parent) = caller {
        for key in &parent.transitive_tag_keys {
            let Some((k, v)) = parent
                .tags
                .iter()
                .find(|(k, _)| crate::authz::same_tag_key(k, key))
            else {
                continue;
            };
            if tags.iter().any(|(t, _)| crate::authz::same_tag_key(t, k)) {
                return Err(ApiError::new(
                    400,
                    "InvalidParameterValue",
                    format!("The session tag {k} is transitive from the calling session and cannot be overridden."),
                ));
            }
            tags.push((k.clone(), v.clone()));
            transitive.push(k.clone());
        }
    }
    Ok((tags, transitive))
}

/// The percentage of the packed space the session policies and tags use;
/// `PackedPolicyTooLarge` beyond it. `None` when there are none.
pub(super) fn packed_size(
    policy: Option<&str>,
    arns: &[String],
    tags: &[(String, String)],
) -> Result<Option<i32>, ApiError> {
    let used = policy.map_or(0, str::len)
        + arns.iter().map(String::len).sum::<usize>()
        + tags.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
    if used == 0 {
        return Ok(None);
    }
    let percent = used * 100 / PACKED_SPACE;
    if used > PACKED_SPACE {
        return Err(ApiError::new(
            400,
            "PackedPolicyTooLarge",
            format!(
                "Packed policy consumes {percent}% of allotted space, please use smaller policy for this session."
            ),
        ));
    }
    Ok(Some(percent as i32))
}

/// The session's source identity: once set, it passes to every session a
/// session assumes, and cannot be changed.
fn source_identity(
    given: Option<String>,
    caller: Option<&Session>,
) -> Result<Option<String>, ApiError> {
    let inherited = caller.and_then(|s| s.source_identity.clone());
    match (given, inherited) {
        (Some(g), Some(i)) if g != i => Err(ApiError::new(
            403,
            "AccessDenied",
            "The source identity of a session cannot be changed once set.",
        )),
        (g, i) => Ok(i.or(g)),
    }
}

/// `aws:RequestTag/*` and `aws:TagKeys` of the session tags a request
/// gives (validated before).
fn request_tag_keys(tags: &[sts::Tag]) -> Vec<(String, Vec<String>)> {
    let mut keys: Vec<(String, Vec<String>)> = tags
        .iter()
        .map(|t| (format!("aws:RequestTag/{}", t.key), vec![t.value.clone()]))
        .collect();
    if !tags.is_empty() {
        keys.push((
            "aws:TagKeys".into(),
            tags.iter().map(|t| t.key.clone()).collect(),
        ));
    }
    keys
}
