//! Who is calling: SigV4 authentication against the root credentials and
//! the account's access keys. Authorization is [`crate::authz`].

use chrono::{DateTime, Utc};
use iam_domain::ids::AccessKeyId;
use iam_domain::names::{RoleName, UserName};
use iam_domain::state::{AccessKeyStatus, CredentialOwner};
use iam_projection::AccountView;

use std::sync::Arc;

use crate::query::ApiError;
use crate::session::{Session, SessionPrincipal};
use crate::sigv4::{self, HttpRequest, Secret, VerifyConfig};

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The account's root user (all permissions).
    Root {
        account_id: String,
        access_key_id: String,
        /// The temporary credentials it signed with (`GetSessionToken`).
        session: Option<Arc<Session>>,
    },
    /// An IAM user, signing with one of their access keys.
    User {
        user_name: UserName,
        arn: String,
        user_id: String,
        access_key_id: String,
        /// The temporary credentials they signed with (`GetSessionToken`,
        /// a sign-in), if not a long-term access key.
        session: Option<Arc<Session>>,
    },
    /// A session of a role (`AssumeRole`), signing with temporary
    /// credentials: evaluated by the role's policies as they are now,
    /// within its session policies.
    RoleSession {
        role_name: RoleName,
        /// The role's id when the session was issued: a role of the same
        /// name created since is another role, whose policies the session
        /// does not get.
        role_id: String,
        /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
        arn: String,
        /// `ROLEID:SESSION`, as `aws:userid` has it.
        user_id: String,
        access_key_id: String,
        session: Arc<Session>,
    },
    /// A federated user (`GetFederationToken`): the policies of the IAM
    /// user who got the token, within its session policies.
    FederatedUser {
        /// The IAM user whose policies apply.
        user_name: UserName,
        /// `arn:aws:sts::ACCOUNT:federated-user/NAME`.
        arn: String,
        /// `ACCOUNT:NAME`, as `aws:userid` has it.
        user_id: String,
        access_key_id: String,
        session: Arc<Session>,
    },
    /// An unsigned request: only the operations AWS serves without
    /// credentials reach a handler with it (`sts:AssumeRoleWithWebIdentity`),
    /// and no policy of the account applies to it.
    Anonymous,
}

impl Caller {
    pub fn arn(&self) -> String {
        match self {
            Caller::Root { account_id, .. } => format!("arn:aws:iam::{account_id}:root"),
            Caller::User { arn, .. }
            | Caller::RoleSession { arn, .. }
            | Caller::FederatedUser { arn, .. } => arn.clone(),
            Caller::Anonymous => ANONYMOUS.to_owned(),
        }
    }

    pub fn user_id(&self) -> String {
        match self {
            Caller::Root { account_id, .. } => account_id.clone(),
            Caller::User { user_id, .. }
            | Caller::RoleSession { user_id, .. }
            | Caller::FederatedUser { user_id, .. } => user_id.clone(),
            Caller::Anonymous => ANONYMOUS.to_owned(),
        }
    }

    pub fn access_key_id(&self) -> &str {
        match self {
            Caller::Root { access_key_id, .. }
            | Caller::User { access_key_id, .. }
            | Caller::RoleSession { access_key_id, .. }
            | Caller::FederatedUser { access_key_id, .. } => access_key_id,
            Caller::Anonymous => "",
        }
    }

    /// The temporary credentials the caller signed with, if any.
    pub fn session(&self) -> Option<&Session> {
        match self {
            Caller::Root { session, .. } | Caller::User { session, .. } => session.as_deref(),
            Caller::RoleSession { session, .. } | Caller::FederatedUser { session, .. } => {
                Some(session)
            }
            Caller::Anonymous => None,
        }
    }

    /// The role session's name (or the federated user's), for the trail.
    pub fn session_name(&self) -> Option<String> {
        match &self.session()?.principal {
            SessionPrincipal::Role { session_name, .. } => Some(session_name.clone()),
            SessionPrincipal::Federated { name, .. } => Some(name.clone()),
            SessionPrincipal::Root | SessionPrincipal::User { .. } => None,
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
            Caller::RoleSession { .. } | Caller::FederatedUser { .. } | Caller::Anonymous => {
                Err(Caller::needs_user_name())
            }
        }
    }

    /// AWS's answer to a call that defaults to "the calling user" made with
    /// credentials that are not a user's.
    pub fn needs_user_name() -> ApiError {
        ApiError::validation("Must specify userName when calling with non-User credentials")
    }
}

/// How the trail and `aws:PrincipalArn`-like strings name an unsigned caller.
pub const ANONYMOUS: &str = "anonymous";

/// What the server needs to authenticate a request.
pub struct Keys<'a> {
    pub account_id: &'a str,
    pub root: &'a crate::credentials::RootCredentials,
    pub master_key: &'a iam_domain::secrets::MasterKey,
    pub view: Option<&'a AccountView>,
    /// Session tokens opened lately.
    pub sessions: &'a crate::session::OpenedTokens,
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
    if let Some(token) = pending.security_token() {
        let session = keys
            .sessions
            .open(keys.master_key, keys.account_id, &key_id, token);
        let Some(session) = session else {
            // The signature cannot be checked without the session's secret.
            pending.complete(None)?;
            return Err(invalid_token());
        };
        let verified =
            pending.complete(Some(&Secret::new(session.secret_access_key().to_owned())))?;
        // Checked after the signature, so that only the holder of the
        // secret learns that the token was once valid.
        if now >= session.expires_at {
            return Err(ApiError::new(
                403,
                "ExpiredToken",
                "The security token included in the request is expired",
            ));
        }
        return Ok(Authenticated {
            caller: session_caller(session, keys)?,
            region: verified.region,
            service: verified.service,
            account_key: false,
        });
    }
    if key_id == keys.root.access_key_id {
        let secret = Secret::new(keys.root.secret_access_key.clone());
        let verified = pending.complete(Some(&secret))?;
        return Ok(Authenticated {
            caller: Caller::Root {
                account_id: keys.account_id.to_owned(),
                access_key_id: key_id,
                session: None,
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
            session: None,
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
                session: None,
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

fn invalid_token() -> ApiError {
    ApiError::new(
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    )
}

/// The caller a valid, unexpired session acts as. A user session of a user
/// deleted since (or deleted and created again: another id) is refused as
/// an invalid token, as its long-term keys would be; a role session of a
/// deleted role still authenticates, and gets no permissions.
fn session_caller(session: Arc<Session>, keys: &Keys<'_>) -> Result<Caller, ApiError> {
    let access_key_id = session.access_key_id.clone();
    Ok(match &session.principal {
        SessionPrincipal::Root => Caller::Root {
            account_id: keys.account_id.to_owned(),
            access_key_id,
            session: Some(session),
        },
        SessionPrincipal::Federated {
            name,
            user_name,
            user_id,
        } => {
            let user = UserName::parse(user_name)
                .ok()
                .and_then(|n| keys.view?.state.users.get(&n.key()))
                .filter(|u| u.id.as_str() == user_id)
                .ok_or_else(invalid_token)?;
            Caller::FederatedUser {
                user_name: user.name.clone(),
                arn: format!("arn:aws:sts::{}:federated-user/{name}", keys.account_id),
                user_id: format!("{}:{name}", keys.account_id),
                access_key_id,
                session,
            }
        }
        SessionPrincipal::User { user_name, user_id } => {
            let user = UserName::parse(user_name)
                .ok()
                .and_then(|n| keys.view?.state.users.get(&n.key()))
                .filter(|u| u.id.as_str() == user_id)
                .ok_or_else(invalid_token)?;
            let arn = keys
                .view
                .and_then(|v| v.state.user_arn(user))
                .map(|a| a.to_string())
                .unwrap_or_default();
            Caller::User {
                user_name: user.name.clone(),
                arn,
                user_id: user_id.clone(),
                access_key_id,
                session: Some(session),
            }
        }
        SessionPrincipal::Role {
            role_name,
            role_id,
            session_name,
            ..
        } => Caller::RoleSession {
            role_name: RoleName::parse(role_name).map_err(|_| invalid_token())?,
            role_id: role_id.clone(),
            arn: format!(
                "arn:aws:sts::{}:assumed-role/{role_name}/{session_name}",
                keys.account_id
            ),
            user_id: format!("{role_id}:{session_name}"),
            access_key_id,
            session,
        },
    })
}
