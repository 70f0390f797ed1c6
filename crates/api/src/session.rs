//! Temporary credentials: what a session token carries, and how it is
//! sealed so that it can be neither read nor forged.
//!
//! A token is self-contained: the claims (who the session acts as, when it
//! was issued and expires, its MFA, session policies and tags, and its
//! secret key) sealed ([`crate::sealed`]). Every node holds the master key,
//! so a session issued on one node is accepted on every other without a
//! lookup; nothing secret is stored. What must be live — the role still
//! existing with the same id, its current policies, a revocation policy —
//! is read from the view at each request, so a change takes effect for
//! sessions already issued at once.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use iam_domain::secrets::MasterKey;
use serde::{Deserialize, Serialize};

use crate::credentials::{secret_access_key, unique_id};
use crate::sealed;

/// The version prefix of every token this build seals.
const TOKEN_PREFIX: &str = "IQoJaWFtZA";

/// Who a session acts as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SessionPrincipal {
    /// The root user (`GetSessionToken` with root credentials).
    Root,
    /// An IAM user (`GetSessionToken`, a password sign-in).
    User { user_name: String, user_id: String },
    /// A role (`AssumeRole`). The role must still exist with this id when
    /// the session is used: a role deleted and created again under the
    /// same name is another role.
    Role {
        role_name: String,
        role_id: String,
        /// The role's ARN (with its path) when the session was issued.
        role_arn: String,
        session_name: String,
    },
    /// A federated user (`GetFederationToken`) of the IAM user who asked:
    /// that user's policies, within the session policies.
    Federated {
        name: String,
        user_name: String,
        user_id: String,
    },
}

/// The STS operation (or sign-in) that issued a session: it decides what
/// the session may call (User Guide, "Comparing the AWS STS API operations").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IssuedBy {
    AssumeRole,
    GetSessionToken,
    GetFederationToken,
    SignIn,
    AssumeRoleWithWebIdentity,
    AssumeRoleWithSAML,
}

impl IssuedBy {
    pub fn as_str(self) -> &'static str {
        use iam_wire::{sts::ops as sts, Operation};
        match self {
            IssuedBy::AssumeRole => sts::AssumeRole::SPEC.name,
            IssuedBy::GetSessionToken => sts::GetSessionToken::SPEC.name,
            IssuedBy::GetFederationToken => sts::GetFederationToken::SPEC.name,
            IssuedBy::SignIn => "SignIn",
            IssuedBy::AssumeRoleWithWebIdentity => sts::AssumeRoleWithWebIdentity::SPEC.name,
            IssuedBy::AssumeRoleWithSAML => sts::AssumeRoleWithSAML::SPEC.name,
        }
    }
}

/// What a web identity session keeps of its ID token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebIdentityClaims {
    pub identity: iam_domain::event::WebIdentity,
    /// Condition keys and their values, as the trust policy saw them.
    pub keys: Vec<(String, Vec<String>)>,
}

/// Everything a session token carries.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub access_key_id: String,
    secret_access_key: String,
    pub principal: SessionPrincipal,
    pub issued_by: IssuedBy,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When the caller last authenticated with MFA, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_at: Option<DateTime<Utc>>,
    /// The inline session policy, canonical JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Managed session policies, by ARN.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_arns: Vec<String>,
    /// Session tags (`aws:PrincipalTag/*`, over the role's own tags).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    /// The session tags that pass on to a role this session assumes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitive_tag_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    /// Issued by a role session assuming a role (role chaining).
    #[serde(default)]
    pub chained: bool,
    /// A sign-in whose password must be changed first: the session may
    /// only change it (`ChangePassword`, `GetAccountPasswordPolicy`,
    /// `GetCallerIdentity`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub password_change_only: bool,
    /// The verified ID token a web identity session was issued for
    /// (`AssumeRoleWithWebIdentity`), and the condition keys it keeps
    /// (`ISSUER:sub`, `ISSUER:aud`, `ISSUER:amr`, `aws:FederatedProvider`);
    /// or the SAML assertion of an `AssumeRoleWithSAML` session (the
    /// provider, `NameID` and recipient), which keeps only
    /// `aws:FederatedProvider`: AWS's `saml:` keys are for trust policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_identity: Option<WebIdentityClaims>,
    /// `aws:TokenIssueTime` as text, rendered once per opened session.
    #[serde(skip)]
    issued_at_text: Rendered,
}

/// Text rendered from a session's claims once; not part of what the
/// session is (two sessions are equal whether or not either rendered it).
#[derive(Debug, Clone, Default)]
struct Rendered(std::sync::OnceLock<String>);

impl PartialEq for Rendered {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Rendered {}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("principal", &self.principal)
            .field("issued_by", &self.issued_by)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .field("mfa_at", &self.mfa_at)
            .finish_non_exhaustive()
    }
}

/// The three values a client signs with.
#[derive(Clone, PartialEq, Eq)]
pub struct TemporaryCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expiration: DateTime<Utc>,
}

/// What a new session is, before it has a key.
pub struct NewSession {
    pub principal: SessionPrincipal,
    pub issued_by: IssuedBy,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub mfa_at: Option<DateTime<Utc>>,
    pub policy: Option<String>,
    pub policy_arns: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub transitive_tag_keys: Vec<String>,
    pub source_identity: Option<String>,
    pub chained: bool,
}

impl Session {
    /// A new session with a fresh `ASIA…` key id and secret.
    pub fn new(s: NewSession) -> Session {
        Session {
            access_key_id: unique_id("ASIA"),
            secret_access_key: secret_access_key(),
            principal: s.principal,
            issued_by: s.issued_by,
            issued_at: s.issued_at,
            expires_at: s.expires_at,
            mfa_at: s.mfa_at,
            policy: s.policy,
            policy_arns: s.policy_arns,
            tags: s.tags,
            transitive_tag_keys: s.transitive_tag_keys,
            source_identity: s.source_identity,
            chained: s.chained,
            password_change_only: false,
            web_identity: None,
            issued_at_text: Default::default(),
        }
    }

    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }

    /// Seals the session into the credentials handed to the client.
    pub fn seal(&self, master: &MasterKey, account_id: &str) -> TemporaryCredentials {
        // INVARIANT: a struct of strings, dates and vectors always serializes.
        let claims = serde_json::to_vec(self).expect("session claims serialize");
        let body = sealed::seal(master, sealed::SESSION_TOKEN, account_id, &claims);
        TemporaryCredentials {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
            session_token: format!("{TOKEN_PREFIX}{body}"),
            expiration: self.expires_at,
        }
    }

    /// Opens a token sealed for `account_id`; `None` for anything this
    /// server did not seal for this account.
    pub fn open(master: &MasterKey, account_id: &str, token: &str) -> Option<Arc<Session>> {
        // Real tokens are about a kilobyte; a bound keeps decoding cheap.
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let body = token.strip_prefix(TOKEN_PREFIX)?;
        let claims = sealed::open(master, sealed::SESSION_TOKEN, account_id, body)?;
        serde_json::from_slice(&claims).ok().map(Arc::new)
    }

    /// What the trail records of the session's issuance: never its secret
    /// or token.
    pub fn issued(
        &self,
        principal_arn: &str,
        mfa: Option<iam_domain::event::MfaCodeUse>,
    ) -> iam_domain::event::IssuedCredentials {
        iam_domain::event::IssuedCredentials {
            access_key_id: self.access_key_id.clone(),
            issued_by: self.issued_by.as_str().to_owned(),
            principal_arn: principal_arn.to_owned(),
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            source_identity: self.source_identity.clone(),
            mfa,
            session_tags: self.tags.clone(),
            transitive_tag_keys: self.transitive_tag_keys.clone(),
            policy_arns: self.policy_arns.clone(),
            policy: self.policy.clone(),
            web_identity: self.web_identity.as_ref().map(|w| w.identity.clone()),
        }
    }

    /// `aws:TokenIssueTime`: the issue time in ISO 8601, to the second.
    pub fn issued_at_text(&self) -> &str {
        self.issued_at_text.0.get_or_init(|| {
            self.issued_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
    }

    /// Whether the caller authenticated with MFA for this session.
    pub fn mfa(&self) -> bool {
        self.mfa_at.is_some()
    }
}

/// Tokens this node opened lately, so that a client signing every request
/// with the same temporary credentials pays for decoding and decrypting
/// its token once. A hit needs the whole token to match (not only its key
/// id); what a cached session says is what its token said, and what must
/// stay live (the role, its policies, expiry) is checked at every request
/// as for a token opened afresh.
#[derive(Debug, Default)]
pub struct OpenedTokens {
    map: std::sync::Mutex<std::collections::HashMap<String, (String, Arc<Session>)>>,
}

impl OpenedTokens {
    /// At most this many sessions are kept; when full, the cache starts
    /// over (the next request of each session opens its token again).
    const CAPACITY: usize = 10_000;

    /// The session `token` seals, opened once per node.
    pub fn open(
        &self,
        master: &MasterKey,
        account_id: &str,
        access_key_id: &str,
        token: &str,
    ) -> Option<Arc<Session>> {
        {
            let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((cached, session)) = map.get(access_key_id) {
                if cached == token {
                    return Some(session.clone());
                }
            }
        }
        let session = Session::open(master, account_id, token)
            .filter(|s| s.access_key_id == access_key_id)?;
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= Self::CAPACITY {
            map.clear();
        }
        map.insert(
            access_key_id.to_owned(),
            (token.to_owned(), session.clone()),
        );
        Some(session)
    }
}

/// The longest token accepted (8 KiB): a session with the largest session
/// policy (2,048 characters packed), ten policy ARNs and fifty tags fits
/// with room to spare.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    fn master(b: u8) -> MasterKey {
        MasterKey::from_bytes([b; 32])
    }

    fn session() -> Session {
        let now = Utc::now();
        Session::new(NewSession {
            principal: SessionPrincipal::Role {
                role_name: "reader".into(),
                role_id: "AROAEXAMPLEEXAMPLE01".into(),
                role_arn: "arn:aws:iam::123456789012:role/reader".into(),
                session_name: "s".into(),
            },
            issued_by: IssuedBy::AssumeRole,
            issued_at: now,
            expires_at: now + chrono::Duration::hours(1),
            mfa_at: None,
            policy: None,
            policy_arns: vec![],
            tags: vec![("team".into(), "red".into())],
            transitive_tag_keys: vec![],
            source_identity: None,
            chained: false,
        })
    }

    #[test]
    fn a_token_opens_only_with_its_key_and_account() {
        let s = session();
        let creds = s.seal(&master(1), "123456789012");
        assert!(creds.access_key_id.starts_with("ASIA"));
        let opened = Session::open(&master(1), "123456789012", &creds.session_token).unwrap();
        assert_eq!(*opened, s);
        assert!(Session::open(&master(2), "123456789012", &creds.session_token).is_none());
        assert!(Session::open(&master(1), "210987654321", &creds.session_token).is_none());
        // Any altered byte fails to open.
        let mut bytes = creds.session_token.clone().into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(bytes).unwrap();
        assert!(Session::open(&master(1), "123456789012", &altered).is_none());
        for junk in [
            "",
            TOKEN_PREFIX,
            "IQoJaWFtZA!!!!",
            &"A".repeat(MAX_TOKEN_LEN + 1),
        ] {
            assert!(Session::open(&master(1), "123456789012", junk).is_none());
        }
    }

    #[test]
    fn a_cached_session_is_served_only_for_its_very_token() {
        let cache = OpenedTokens::default();
        let s = session();
        let creds = s.seal(&master(1), "123456789012");
        let id = &creds.access_key_id;
        let opened = cache
            .open(&master(1), "123456789012", id, &creds.session_token)
            .unwrap();
        assert_eq!(*opened, s);
        // Cached now: the same token is served; any other is opened afresh
        // (and these fail), under this key id or another.
        assert!(cache
            .open(&master(1), "123456789012", id, &creds.session_token)
            .is_some());
        let other = session().seal(&master(1), "123456789012");
        assert!(cache
            .open(&master(1), "123456789012", id, &other.session_token)
            .is_none());
        assert!(cache
            .open(
                &master(1),
                "123456789012",
                &other.access_key_id,
                &creds.session_token
            )
            .is_none());
        let mut altered = creds.session_token.clone();
        altered.push('A');
        assert!(cache
            .open(&master(1), "123456789012", id, &altered)
            .is_none());
    }

    #[test]
    fn the_secret_is_not_in_the_debug_form() {
        let s = session();
        assert!(!format!("{s:?}").contains(s.secret_access_key()));
    }
}
