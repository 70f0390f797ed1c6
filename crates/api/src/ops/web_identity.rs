//! `sts:AssumeRoleWithWebIdentity`: a role session for whoever holds an
//! ID token of a provider the account trusts.
//!
//! The request is unsigned (the token is the credential). The token's
//! `iss` must be a registered OpenID Connect provider of the account; its
//! signature is checked against the issuer's published keys
//! ([`crate::federation`]), its `exp`/`nbf`, and its audience against the
//! provider's client ids. Then the role's trust policy alone decides, for
//! the principal `Federated: arn:aws:iam::ACCOUNT:oidc-provider/HOST`, with
//! the keys AWS defines (`HOST:aud`, `HOST:sub`, `HOST:amr`,
//! `aws:FederatedProvider`): no identity policy of the account is anyone's
//! here. Every issuance is recorded with the provider and subject, never
//! the token.

use chrono::Duration;
use iam_domain::event::WebIdentity;
use iam_domain::policy::PolicyDocument;
use iam_evaluator::{Authorizer, CompiledPolicy, Context, Outcome, PolicySet, Principal, Request};
use iam_federation::{TokenError, UnverifiedToken};
use iam_wire::sts;

use super::sts::{issue, packed_size, policy_arns, session_policy};
use super::{OpContext, OpResult};
use crate::authz::Target;
use crate::query::ApiError;
use crate::session::{IssuedBy, NewSession, Session, SessionPrincipal, WebIdentityClaims};

/// AWS's default duration of a web identity session.
const DEFAULT_DURATION: i64 = 3600;
/// How far a token's `exp` and `nbf` may be off iamd's clock.
const LEEWAY: std::time::Duration = std::time::Duration::from_secs(60);

fn invalid_token(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "InvalidIdentityToken", message)
}

pub async fn assume_role_with_web_identity(
    ctx: &OpContext<'_>,
    input: sts::AssumeRoleWithWebIdentityRequest,
) -> OpResult<sts::AssumeRoleWithWebIdentityResponse> {
    let duration = i64::from(input.duration_seconds.unwrap_or(DEFAULT_DURATION as i32));
    let policy = session_policy(input.policy.as_deref())?;
    let policy_arns = policy_arns(input.policy_arns.as_deref().unwrap_or_default())?;
    let packed = packed_size(policy.as_deref(), &policy_arns, &[])?;
    if input.provider_id.is_some() {
        // OAuth 2.0 access tokens of Login with Amazon and Facebook:
        // iamd verifies OpenID Connect ID tokens only.
        return Err(invalid_token(
            "ProviderId is for OAuth 2.0 access tokens, which iamd does not accept; use an OpenID Connect ID token.",
        ));
    }

    // The token: which provider, then its signature and claims.
    let token = input.web_identity_token.0.as_str();
    let unverified = UnverifiedToken::peek(token).map_err(token_error)?;
    let issuer = unverified
        .issuer()
        .ok_or_else(|| invalid_token("The ID token has no issuer (iss)."))?
        .to_owned();
    let state = ctx.authorizing_state();
    let provider = state
        .oidc_providers
        .values()
        .find(|p| p.url.as_str() == issuer)
        .filter(|p| ctx.state.issuers.allows(&p.url))
        .cloned()
        .ok_or_else(|| {
            invalid_token(format!(
                "No OpenIDConnect provider found in your account for {issuer}"
            ))
        })?;
    let keys = ctx
        .state
        .issuers
        .keys(&issuer, unverified.key_id())
        .await
        .map_err(|e| {
            tracing::warn!(issuer = %issuer, error = %e, "OIDC issuer keys unavailable");
            ApiError::new(
                400,
                "IDPCommunicationError",
                "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
            )
        })?;
    let now = ctx.now;
    let verified =
        iam_federation::verify(token, &keys, &issuer, now, LEEWAY).map_err(|e| match e {
            TokenError::Expired => ApiError::new(
                400,
                "ExpiredTokenException",
                format!(
                "Token expired: current date/time {} must be before the expiration date/time {}",
                now.timestamp(),
                unverified_expiry(token).unwrap_or_default()
            ),
            ),
            other => token_error(other),
        })?;
    // The audience: a client id of the provider (`azp` when the token has
    // several audiences and names the party it was issued to).
    // The client must be among the token's audiences (OpenID Connect Core
    // 3.1.3.7): a token issued for other services is theirs to use.
    let audience = verified
        .authorized_party()
        .filter(|azp| verified.has_audience(azp))
        .filter(|azp| provider.client_ids.iter().any(|c| c == azp))
        .map(str::to_owned)
        .or_else(|| {
            verified
                .audiences()
                .iter()
                .find(|a| provider.client_ids.contains(a))
                .cloned()
        })
        .ok_or_else(|| invalid_token("Incorrect token audience"))?;

    // The role, and its trust policy alone.
    let provider_arn = format!(
        "arn:aws:iam::{}:oidc-provider/{}",
        ctx.account(),
        provider.url.resource()
    );
    let role = super::sts::role_named(ctx, &input.role_arn);
    let prefix = provider.url.resource();
    let keys: Vec<(String, Vec<String>)> = vec![
        (format!("{prefix}:aud"), vec![audience.clone()]),
        (format!("{prefix}:sub"), vec![verified.subject().to_owned()]),
        (format!("{prefix}:amr"), verified.amr().to_vec()),
        ("aws:FederatedProvider".into(), vec![provider_arn.clone()]),
    ];
    let allowed = role.as_ref().is_some_and(|r| {
        trust_allows(
            ctx,
            r,
            &provider_arn,
            &["sts:AssumeRoleWithWebIdentity"],
            &keys,
            &input.role_session_name,
        )
    });
    // Counted as this request's authorization either way: the trail
    // records the role it was about.
    let role = allowed_role(
        ctx,
        role.filter(|_| allowed),
        "sts:AssumeRoleWithWebIdentity",
        &input.role_arn,
        duration,
    )?;
    let session_name = input.role_session_name.clone();
    let role_arn = state
        .role_arn(&role)
        .map(|a| a.to_string())
        .unwrap_or_else(|| input.role_arn.clone());
    let mut session = Session::new(NewSession {
        principal: SessionPrincipal::Role {
            role_name: role.name.as_str().to_owned(),
            role_id: role.id.as_str().to_owned(),
            role_arn,
            session_name: session_name.clone(),
        },
        issued_by: IssuedBy::AssumeRoleWithWebIdentity,
        issued_at: now,
        expires_at: now + Duration::seconds(duration),
        mfa_at: None,
        policy,
        policy_arns,
        tags: Vec::new(),
        transitive_tag_keys: Vec::new(),
        source_identity: None,
        chained: false,
    });
    session.web_identity = Some(WebIdentityClaims {
        identity: WebIdentity {
            provider_arn: provider_arn.clone(),
            subject: verified.subject().to_owned(),
            audience: audience.clone(),
        },
        keys,
    });
    let arn = format!(
        "arn:aws:sts::{}:assumed-role/{}/{session_name}",
        ctx.account(),
        role.name.as_str()
    );
    let credentials = issue(ctx, &session, &arn, None).await?;
    Ok(sts::AssumeRoleWithWebIdentityResponse {
        credentials: Some(credentials),
        subject_from_web_identity_token: Some(verified.subject().to_owned()),
        assumed_role_user: Some(sts::AssumedRoleUser {
            assumed_role_id: format!("{}:{session_name}", role.id.as_str()),
            arn,
        }),
        packed_policy_size: packed,
        // What AWS answers for an IAM OIDC provider: its ARN.
        provider: Some(provider_arn),
        audience: Some(audience),
        ..Default::default()
    })
}

/// The role a federated request may assume, counted as the request's
/// authorization either way (the trail records the role it was about):
/// `AccessDenied` (and the refusal recorded) when the trust policy did not
/// allow it, `ValidationError` when the duration asked for exceeds the
/// role's maximum.
pub(super) fn allowed_role(
    ctx: &OpContext<'_>,
    allowed: Option<iam_domain::state::Shared<iam_domain::state::Role>>,
    action: &str,
    role_arn: &str,
    duration: i64,
) -> Result<iam_domain::state::Shared<iam_domain::state::Role>, ApiError> {
    ctx.allow_without_policy(&Target::arn(role_arn.to_owned()));
    let Some(role) = allowed else {
        *ctx.denied.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((action.to_owned(), role_arn.to_owned()));
        return Err(ApiError::new(
            403,
            "AccessDenied",
            format!("Not authorized to perform {action}"),
        ));
    };
    if duration > i64::from(role.max_session_duration) {
        return Err(ApiError::validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    Ok(role)
}

/// Whether the role's trust policy alone allows every one of `actions` to
/// the federated principal `provider_arn` (an OIDC or SAML provider), with
/// the provider's condition `keys` and the session name. No identity
/// policy of the account is anyone's here.
pub(super) fn trust_allows(
    ctx: &OpContext<'_>,
    role: &iam_domain::state::Role,
    provider_arn: &str,
    actions: &[&str],
    keys: &[(String, Vec<String>)],
    session_name: &str,
) -> bool {
    let state = ctx.authorizing_state();
    let Ok(trust) = PolicyDocument::parse(&state.trust_policy_now(role)) else {
        return false;
    };
    let mut context = Context::new();
    for (k, v) in keys {
        if !v.is_empty() {
            context.insert_many(k, v.clone());
        }
    }
    context.insert("sts:RoleSessionName", session_name);
    if let Some(ip) = ctx.facts.source_ip {
        context.insert("aws:SourceIp", ip);
    }
    context.insert(
        "aws:SecureTransport",
        if ctx.facts.secure_transport {
            "true"
        } else {
            "false"
        },
    );
    let authorizer = Authorizer::new(PolicySet::new(Vec::new()))
        .with_resource_policy(CompiledPolicy::compile(&trust));
    let role_arn = state
        .role_arn(role)
        .map(|a| a.to_string())
        .unwrap_or_default();
    actions.iter().all(|action| {
        let request = Request::new(
            Principal::web_identity(provider_arn),
            action,
            &role_arn,
            Some(ctx.account().to_owned()),
            context.clone(),
            ctx.now,
        );
        authorizer.evaluate(&request).outcome == Outcome::Allow
    })
}

/// The token's `exp` as seconds, for the expired message (the token's
/// signature was checked by then).
fn unverified_expiry(token: &str) -> Option<i64> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("exp")?.as_f64().map(|e| e as i64)
}

/// AWS's answer for a token that is not acceptable: its reason in a few
/// words, never the token.
fn token_error(e: TokenError) -> ApiError {
    match e {
        TokenError::Expired => ApiError::new(400, "ExpiredTokenException", "Token expired"),
        other => invalid_token(format!("The ID token is not valid: {other}.")),
    }
}
