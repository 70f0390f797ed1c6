//! Who is calling: SigV4 authentication against the root credentials and
//! the account's access keys. Authorization is [`crate::authz`].

use chrono::{DateTime, Utc};
use iam_domain::ids::AccessKeyId;
use iam_domain::names::{RoleName, UserName};
use iam_domain::state::{AccessKeyStatus, CredentialOwner};
use iam_projection::AccountView;

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
    /// A session of a role, signing with temporary credentials. Nothing
    /// issues these yet (STS is later work), but authorization already
    /// evaluates them by the role's policies: a kind of caller the
    /// authorizer does not know can never be allowed by default.
    RoleSession {
        role_name: RoleName,
        /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
        arn: String,
        /// `ROLEID:SESSION`, as `aws:userid` has it.
        user_id: String,
        access_key_id: String,
    },
}

impl Caller {
    pub fn arn(&self) -> String {
        match self {
            Caller::Root { account_id, .. } => format!("arn:aws:iam::{account_id}:root"),
            Caller::User { arn, .. } | Caller::RoleSession { arn, .. } => arn.clone(),
        }
    }

    pub fn user_id(&self) -> String {
        match self {
            Caller::Root { account_id, .. } => account_id.clone(),
            Caller::User { user_id, .. } | Caller::RoleSession { user_id, .. } => user_id.clone(),
        }
    }

    pub fn access_key_id(&self) -> &str {
        match self {
            Caller::Root { access_key_id, .. }
            | Caller::User { access_key_id, .. }
            | Caller::RoleSession { access_key_id, .. } => access_key_id,
        }
    }

    /// The owner of credentials "of the caller" (access keys without a
    /// `UserName` parameter belong to the caller). A role session owns no
    /// long-term credentials: AWS answers it with [`Caller::needs_user_name`].
    pub fn owner(&self) -> Result<CredentialOwner, ApiError> {
        match self {
            Caller::Root { .. } => Ok(CredentialOwner::Root),
            Caller::User { user_name, .. } => Ok(CredentialOwner::User {
                user_name: user_name.clone(),
            }),
            Caller::RoleSession { .. } => Err(Caller::needs_user_name()),
        }
    }

    /// AWS's answer to a call that defaults to "the calling user" made with
    /// credentials that are not a user's.
    pub fn needs_user_name() -> ApiError {
        ApiError::validation("Must specify userName when calling with non-User credentials")
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
    let pending = sigv4::prepare(
        req,
        &VerifyConfig::for_services(&["iam", "sts", "iamd"]),
        now,
    )?;
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
        // The signature cannot be checked, so the request is refused as
        // unauthenticated (403), never answered as a server failure.
        ApiError::new(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        )
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
