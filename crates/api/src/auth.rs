//! Who is calling: SigV4 authentication against the root credentials and
//! the account's access keys, and authorization of the call by iamd's own
//! evaluator.

use chrono::{DateTime, Utc};
use iam_domain::ids::AccessKeyId;
use iam_domain::names::UserName;
use iam_domain::state::{AccessKeyStatus, CredentialOwner};
use iam_evaluator::{Context, Outcome, Principal, Request};
use iam_projection::{AccountView, PrincipalKey};

use crate::query::ApiError;
use crate::sigv4::{self, HttpRequest, Secret, VerifyConfig};

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The account's root user (all permissions).
    Root {
        account_id: String,
        access_key_id: String,
    },
    /// An IAM user, signing with one of their access keys.
    User {
        user_name: UserName,
        arn: String,
        user_id: String,
        access_key_id: String,
    },
}

impl Caller {
    pub fn arn(&self) -> String {
        match self {
            Caller::Root { account_id, .. } => format!("arn:aws:iam::{account_id}:root"),
            Caller::User { arn, .. } => arn.clone(),
        }
    }

    pub fn user_id(&self) -> String {
        match self {
            Caller::Root { account_id, .. } => account_id.clone(),
            Caller::User { user_id, .. } => user_id.clone(),
        }
    }

    pub fn access_key_id(&self) -> &str {
        match self {
            Caller::Root { access_key_id, .. } | Caller::User { access_key_id, .. } => {
                access_key_id
            }
        }
    }

    /// The owner of credentials "of the caller" (access keys without a
    /// `UserName` parameter belong to the caller).
    pub fn owner(&self) -> CredentialOwner {
        match self {
            Caller::Root { .. } => CredentialOwner::Root,
            Caller::User { user_name, .. } => CredentialOwner::User {
                user_name: user_name.clone(),
            },
        }
    }
}

/// What the server needs to authenticate a request.
pub struct Keys<'a> {
    pub account_id: &'a str,
    pub root: &'a crate::credentials::RootCredentials,
    pub master_key: &'a iam_domain::secrets::MasterKey,
    pub view: Option<&'a AccountView>,
}

/// An authenticated request: who, and the credential scope it was signed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub caller: Caller,
    /// The scope's region and service (`iam` or `sts`).
    pub region: String,
    pub service: String,
    /// Signed with one of the account's access keys (whose last use is
    /// recorded), rather than the configured root credentials.
    pub account_key: bool,
}

/// Verifies the request's signature and names the caller. An unknown,
/// inactive or deleted key is `InvalidClientTokenId`, on every node as soon
/// as its view has the change.
pub fn authenticate(
    req: &HttpRequest<'_>,
    keys: &Keys<'_>,
    now: DateTime<Utc>,
) -> Result<Authenticated, ApiError> {
    let pending = sigv4::prepare(req, &VerifyConfig::iam_and_sts(), now)?;
    let key_id = pending.access_key_id().to_owned();
    if pending.security_token().is_some() {
        // Temporary credentials are not issued yet (STS AssumeRole is a later issue).
        return Err(ApiError::new(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ));
    }
    if key_id == keys.root.access_key_id {
        let secret = Secret::new(keys.root.secret_access_key.clone());
        let verified = pending.complete(Some(&secret))?;
        return Ok(Authenticated {
            caller: Caller::Root {
                account_id: keys.account_id.to_owned(),
                access_key_id: key_id,
            },
            region: verified.region,
            service: verified.service,
            account_key: false,
        });
    }
    let found = AccessKeyId::parse(&key_id)
        .ok()
        .and_then(|id| {
            keys.view
                .and_then(|v| v.state.access_keys.get(&id).map(|k| (v, k)))
        })
        .filter(|(_, k)| k.status == AccessKeyStatus::Active);
    let Some((view, key)) = found else {
        pending.complete(None)?;
        return Err(ApiError::new(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ));
    };
    let secret = iam_domain::secrets::open_string(keys.master_key, &key.secret, key_id.as_bytes()).map_err(|e| {
        tracing::error!(error = %e, access_key_id = %key_id, "cannot open a sealed access key secret");
        ApiError::internal()
    })?;
    let verified = pending.complete(Some(&Secret::new(secret)))?;
    let caller = match &key.owner {
        CredentialOwner::Root => Caller::Root {
            account_id: keys.account_id.to_owned(),
            access_key_id: key_id,
        },
        CredentialOwner::User { user_name } => {
            let user = view.state.users.get(&user_name.key()).ok_or_else(|| {
                ApiError::new(
                    403,
                    "InvalidClientTokenId",
                    "The security token included in the request is invalid.",
                )
            })?;
            Caller::User {
                user_name: user.name.clone(),
                arn: view
                    .state
                    .user_arn(user)
                    .map(|a| a.to_string())
                    .unwrap_or_default(),
                user_id: user.id.as_str().to_owned(),
                access_key_id: key_id,
            }
        }
    };
    Ok(Authenticated {
        caller,
        region: verified.region,
        service: verified.service,
        account_key: true,
    })
}

/// Facts about the request that policies may test.
pub struct RequestFacts<'a> {
    pub source_ip: Option<&'a str>,
    pub secure_transport: bool,
    pub now: DateTime<Utc>,
    /// Condition keys taken from the request's own parameters
    /// (`aws:RequestTag/…`, `aws:TagKeys`, `iam:PermissionsBoundary`,
    /// `iam:PolicyARN`); see [`request_keys`].
    pub request_keys: Vec<(String, Vec<String>)>,
}

/// The request-specific condition keys AWS defines for IAM actions, derived
/// from the parameters: tags in the request (`Tags.member.N.Key/Value`) give
/// `aws:RequestTag/<key>` and `aws:TagKeys`; tag keys to remove
/// (`TagKeys.member.N`) give `aws:TagKeys`; a `PermissionsBoundary` gives
/// `iam:PermissionsBoundary`; a `PolicyArn` gives `iam:PolicyARN`.
///
/// More than 50 tags or tag keys (AWS's list limit) is a `ValidationError`,
/// whatever the action: no policy is ever evaluated against more.
pub fn request_keys(params: &crate::query::Params) -> Result<Vec<(String, Vec<String>)>, ApiError> {
    let mut keys = Vec::new();
    let tags = params.structs("Tags", &["Key", "Value"]);
    iam_domain::names::check_tag_count(tags.len(), "tags")?;
    let tag_key_list = params.list("TagKeys");
    iam_domain::names::check_tag_count(tag_key_list.len(), "tagKeys")?;
    let mut tag_keys: Vec<String> = Vec::new();
    for t in &tags {
        if let Some(k) = t.get("Key") {
            keys.push((
                format!("aws:RequestTag/{k}"),
                vec![t.get("Value").cloned().unwrap_or_default()],
            ));
            tag_keys.push(k.clone());
        }
    }
    tag_keys.extend(tag_key_list.into_iter().map(str::to_owned));
    if !tag_keys.is_empty() {
        keys.push(("aws:TagKeys".to_owned(), tag_keys));
    }
    if let Some(b) = params.get("PermissionsBoundary") {
        keys.push(("iam:PermissionsBoundary".to_owned(), vec![b.to_owned()]));
    }
    if let Some(p) = params.get("PolicyArn") {
        keys.push(("iam:PolicyARN".to_owned(), vec![p.to_owned()]));
    }
    Ok(keys)
}

/// Authorizes `action` on `resource` for the caller with iamd's evaluator:
/// root may do everything; a user needs an identity policy that allows it
/// (within their permissions boundary) and none that denies it.
pub fn authorize(
    caller: &Caller,
    view: Option<&AccountView>,
    action: &str,
    resource: &str,
    facts: &RequestFacts<'_>,
) -> Result<(), ApiError> {
    let Caller::User {
        user_name,
        arn,
        user_id,
        ..
    } = caller
    else {
        return Ok(());
    };
    let effective = view.and_then(|v| v.effective_policies(&PrincipalKey::User(user_name.key())));
    let mut context = Context::new();
    if let Some(ip) = facts.source_ip {
        context.insert("aws:SourceIp", ip);
    }
    context.insert(
        "aws:SecureTransport",
        if facts.secure_transport {
            "true"
        } else {
            "false"
        },
    );
    context.insert("aws:userid", user_id.as_str());
    for (key, values) in &facts.request_keys {
        context.insert_many(key, values.clone());
    }
    if let Some(user) = view.and_then(|v| v.state.users.get(&user_name.key())) {
        for tag in user.tags.values() {
            context.insert(
                &format!("aws:PrincipalTag/{}", tag.key.as_str()),
                tag.value.as_str(),
            );
        }
    }
    let request = Request::new(
        Principal::parse(arn),
        action,
        resource,
        None,
        context,
        facts.now,
    );
    let outcome = effective
        .map(|e| e.authorizer.evaluate(&request).outcome)
        .unwrap_or(Outcome::ImplicitDeny);
    if outcome == Outcome::Allow {
        return Ok(());
    }
    let why = if outcome == Outcome::ExplicitDeny {
        "with an explicit deny in an identity-based policy".to_string()
    } else {
        format!("because no identity-based policy allows the {action} action")
    };
    Err(ApiError::new(
        403,
        "AccessDenied",
        format!("User: {arn} is not authorized to perform: {action} on resource: {resource} {why}"),
    ))
}
