//! `sts:AssumeRoleWithSAML`: a role session for whoever carries a SAML
//! response an identity provider of the account signed.
//!
//! The request is unsigned (the assertion is the credential). `PrincipalArn`
//! names a SAML provider of the account; the response must be signed by a
//! certificate of that provider's metadata, issued by its entity id, meant
//! for AWS's sign-in endpoint (audience and recipient) and valid now
//! (`iam_federation::saml::verify_response`). The assertion's `Role`
//! attribute must pair the requested role with this provider. Then the
//! role's trust policy alone decides, for the principal
//! `Federated: arn:aws:iam::ACCOUNT:saml-provider/NAME`, with the `saml:`
//! keys AWS defines; session tags from `PrincipalTag:` attributes need
//! `sts:TagSession` and a source identity `sts:SetSourceIdentity` as well.
//! Every issuance is recorded with the provider and subject, never the
//! assertion.

use chrono::Duration;
use iam_domain::event::WebIdentity;
use iam_federation::saml::{self, Expectations, SamlError, VerifiedAssertion};
use iam_wire::sts;

use super::sts::{issue, packed_size, policy_arns, session_policy};
use super::{OpContext, OpResult};
use crate::query::ApiError;
use crate::session::{IssuedBy, NewSession, Session, SessionPrincipal, WebIdentityClaims};

/// AWS's default duration of a SAML session.
const DEFAULT_DURATION: i64 = 3600;

/// AWS's commercial regions: `https://REGION.signin.aws.amazon.com/saml`
/// is a recipient (and audience) AWS accepts for each.
const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
];

/// The other sign-in URL AWS documents for the recipient.
const STATIC_SIGNIN_URL: &str = "https://signin.aws.amazon.com/static/saml";

/// SAML attribute names and the `saml:` condition key each sets (User
/// Guide, "Configuring SAML assertions for the authentication response":
/// the eduPerson/eduOrg, Active Directory and X.500 tables). Two decisions
/// where the guide is inconsistent: the AD `primarygroupsid` claim sets
/// `saml:primaryGroupSID` (the table says `uid`, but the key list has
/// `primaryGroupSID`), and `givenName`'s X.500 OID is accepted both as the
/// guide prints it (`2.4.5.42`) and as X.500 defines it (`2.5.4.42`), as
/// are the `uid` and `mail` OIDs with and without the dot the guide drops.
const ATTRIBUTE_KEYS: &[(&str, &str)] = &[
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.1",
        "saml:edupersonaffiliation",
    ),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.2", "saml:edupersonnickname"),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.3", "saml:edupersonorgdn"),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.4",
        "saml:edupersonorgunitdn",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.5",
        "saml:edupersonprimaryaffiliation",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.6",
        "saml:edupersonprincipalname",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.7",
        "saml:edupersonentitlement",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.8",
        "saml:edupersonprimaryorgunitdn",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.9",
        "saml:edupersonscopedaffiliation",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.10",
        "saml:edupersontargetedid",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.11",
        "saml:edupersonassurance",
    ),
    ("urn:oid:1.3.6.1.4.1.5923.1.2.1.2", "saml:eduorghomepageuri"),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.2.1.3",
        "saml:eduorgidentityauthnpolicyuri",
    ),
    ("urn:oid:1.3.6.1.4.1.5923.1.2.1.4", "saml:eduorglegalname"),
    ("urn:oid:1.3.6.1.4.1.5923.1.2.1.5", "saml:eduorgsuperioruri"),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.2.1.6",
        "saml:eduorgwhitepagesuri",
    ),
    ("urn:oid:2.5.4.3", "saml:cn"),
    (
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
        "saml:name",
    ),
    (
        "http://schemas.xmlsoap.org/claims/CommonName",
        "saml:commonName",
    ),
    (
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
        "saml:givenName",
    ),
    (
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
        "saml:surname",
    ),
    (
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "saml:mail",
    ),
    (
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/primarygroupsid",
        "saml:primaryGroupSID",
    ),
    ("2.5.4.3", "saml:commonName"),
    ("2.5.4.4", "saml:surname"),
    ("2.4.5.42", "saml:givenName"),
    ("2.5.4.42", "saml:givenName"),
    ("2.5.4.45", "saml:x500UniqueIdentifier"),
    ("0.9.2342.19200300100.1.1", "saml:uid"),
    ("0.9.2342.19200300.100.1.1", "saml:uid"),
    ("0.9.2342.19200300100.1.3", "saml:mail"),
    ("0.9.2342.19200300.100.1.3", "saml:mail"),
];

fn expectations() -> Expectations {
    let mut expected = Expectations::aws(REGIONS);
    expected.recipients.push(STATIC_SIGNIN_URL.to_owned());
    expected.audiences.push(STATIC_SIGNIN_URL.to_owned());
    expected
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "InvalidIdentityToken", message)
}

/// AWS's code for a refused assertion, with the reason in a few words and
/// never the assertion.
fn assertion_error(e: SamlError) -> ApiError {
    ApiError::new(
        400,
        e.aws_error_code(),
        format!("{}.", capitalized(&e.to_string())),
    )
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The trust policy's keys: AWS's `saml:` keys from the assertion, and the
/// session tag keys it asks for.
fn condition_keys(
    assertion: &VerifiedAssertion,
    account: &str,
    provider_name: &str,
) -> Vec<(String, Vec<String>)> {
    let one = |k: &str, v: &str| (k.to_owned(), vec![v.to_owned()]);
    let mut keys = vec![
        one("saml:aud", assertion.recipient()),
        one("saml:iss", assertion.issuer()),
        one("saml:sub", assertion.subject()),
        one("saml:sub_type", assertion.subject_type()),
        one(
            "saml:namequalifier",
            &saml::name_qualifier(assertion.issuer(), account, provider_name),
        ),
        one("saml:doc", &format!("{account}/{provider_name}")),
    ];
    for (name, values) in assertion.attributes() {
        if let Some((_, key)) = ATTRIBUTE_KEYS.iter().find(|(n, _)| n == name) {
            // One claim per key, as the guide says ("only one claim will be
            // mapped"): the first.
            if !keys.iter().any(|(k, _)| k == key) {
                keys.push(((*key).to_owned(), values.clone()));
            }
        }
    }
    let tags = assertion.principal_tags();
    for (k, v) in tags {
        keys.push((format!("aws:RequestTag/{k}"), vec![v.clone()]));
    }
    if !tags.is_empty() {
        keys.push((
            "aws:TagKeys".into(),
            tags.iter().map(|(k, _)| k.clone()).collect(),
        ));
    }
    if !assertion.transitive_tag_keys().is_empty() {
        keys.push((
            "sts:TransitiveTagKeys".into(),
            assertion.transitive_tag_keys().to_vec(),
        ));
    }
    if let Some(id) = assertion.source_identity() {
        keys.push(("sts:SourceIdentity".into(), vec![id.to_owned()]));
    }
    keys
}

/// The session tags the assertion asks for, checked as `AssumeRole`'s are.
fn session_tags(assertion: &VerifiedAssertion) -> Result<Vec<(String, String)>, ApiError> {
    iam_domain::names::check_tag_count(assertion.principal_tags().len(), "tags")
        .map_err(|e| invalid(e.message().to_owned()))?;
    let mut tags: Vec<(String, String)> = Vec::new();
    for (k, v) in assertion.principal_tags() {
        let tag = iam_domain::names::Tag::new(k, v).map_err(|e| invalid(e.message().to_owned()))?;
        if tags
            .iter()
            .any(|(t, _)| crate::authz::same_tag_key(t, tag.key.as_str()))
        {
            return Err(invalid(format!(
                "Duplicate tag keys found: {k}. Tag keys are case insensitive."
            )));
        }
        tags.push((tag.key.as_str().to_owned(), tag.value.as_str().to_owned()));
    }
    for key in assertion.transitive_tag_keys() {
        if !tags.iter().any(|(k, _)| crate::authz::same_tag_key(k, key)) {
            return Err(invalid(format!(
                "The transitive tag key {key} is not one of the session tags."
            )));
        }
    }
    Ok(tags)
}

pub async fn assume_role_with_saml(
    ctx: &OpContext<'_>,
    input: sts::AssumeRoleWithSAMLRequest,
) -> OpResult<sts::AssumeRoleWithSAMLResponse> {
    let requested = i64::from(input.duration_seconds.unwrap_or(DEFAULT_DURATION as i32));
    let policy = session_policy(input.policy.as_deref())?;
    let policy_arns = policy_arns(input.policy_arns.as_deref().unwrap_or_default())?;

    // The provider, then the response against its metadata.
    let prefix = format!("arn:aws:iam::{}:saml-provider/", ctx.account());
    let state = ctx.authorizing_state();
    let provider = input
        .principal_arn
        .strip_prefix(&prefix)
        .and_then(|n| iam_domain::names::SamlProviderName::parse(n).ok())
        .and_then(|n| state.saml_providers.get(&n.key()).cloned())
        .ok_or_else(|| {
            invalid(format!(
                "SAML provider {} does not exist in this account.",
                iam_domain::names::shown(&input.principal_arn)
            ))
        })?;
    let metadata = ctx
        .state
        .saml_metadata
        .get(&provider)
        .ok_or_else(|| invalid("The SAML provider's metadata cannot be read."))?;
    let now = ctx.now;
    let assertion = saml::verify_response(&input.saml_assertion.0, &metadata, &expectations(), now)
        .map_err(assertion_error)?;
    let provider_arn = super::saml_providers::provider_arn(ctx.account(), &provider.name);
    let tags = session_tags(&assertion)?;
    let transitive = assertion.transitive_tag_keys().to_vec();
    let packed = packed_size(policy.as_deref(), &policy_arns, &tags)?;

    // The role: paired with this provider by the assertion, then allowed
    // by its trust policy for every action the session needs.
    let role = super::sts::role_named(ctx, &input.role_arn);
    let keys = condition_keys(&assertion, ctx.account(), provider.name.as_str());
    let mut actions = vec!["sts:AssumeRoleWithSAML"];
    if !tags.is_empty() || !transitive.is_empty() {
        actions.push("sts:TagSession");
    }
    if assertion.source_identity().is_some() {
        actions.push("sts:SetSourceIdentity");
    }
    let session_name = assertion.role_session_name().to_owned();
    let allowed = assertion.has_role(&input.role_arn, &provider_arn)
        && role.as_ref().is_some_and(|r| {
            super::web_identity::trust_allows(ctx, r, &provider_arn, &actions, &keys, &session_name)
        });
    let role = super::web_identity::allowed_role(
        ctx,
        role.filter(|_| allowed),
        "sts:AssumeRoleWithSAML",
        &input.role_arn,
        requested,
    )?;
    // The `SessionDuration` attribute and `SessionNotOnOrAfter` can only
    // shorten the session (User Guide, "SessionDuration SAML attribute").
    let mut expires_at = now + Duration::seconds(requested);
    if let Some(limit) = assertion.session_duration() {
        expires_at = expires_at.min(now + Duration::seconds(i64::from(limit)));
    }
    if let Some(limit) = assertion.session_not_on_or_after() {
        expires_at = expires_at.min(limit);
    }
    if expires_at <= now {
        return Err(ApiError::new(
            400,
            "ExpiredTokenException",
            "The SAML assertion's session has ended (SessionNotOnOrAfter).",
        ));
    }

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
        issued_by: IssuedBy::AssumeRoleWithSAML,
        issued_at: now,
        expires_at,
        mfa_at: None,
        policy,
        policy_arns,
        tags,
        transitive_tag_keys: transitive,
        source_identity: assertion.source_identity().map(str::to_owned),
        chained: false,
    });
    session.web_identity = Some(WebIdentityClaims {
        identity: WebIdentity {
            provider_arn: provider_arn.clone(),
            subject: assertion.subject().to_owned(),
            audience: assertion.recipient().to_owned(),
        },
        keys: vec![("aws:FederatedProvider".into(), vec![provider_arn.clone()])],
    });
    let arn = format!(
        "arn:aws:sts::{}:assumed-role/{}/{session_name}",
        ctx.account(),
        role.name.as_str()
    );
    let credentials = issue(ctx, &session, &arn, None).await?;
    Ok(sts::AssumeRoleWithSAMLResponse {
        credentials: Some(credentials),
        assumed_role_user: Some(sts::AssumedRoleUser {
            assumed_role_id: format!("{}:{session_name}", role.id.as_str()),
            arn,
        }),
        packed_policy_size: packed,
        subject: Some(assertion.subject().to_owned()),
        subject_type: Some(assertion.subject_type().to_owned()),
        issuer: Some(assertion.issuer().to_owned()),
        audience: Some(assertion.recipient().to_owned()),
        name_qualifier: Some(saml::name_qualifier(
            assertion.issuer(),
            ctx.account(),
            provider.name.as_str(),
        )),
        source_identity: session.source_identity.clone(),
        ..Default::default()
    })
}
