//! The request being authorized: who, what, on which resource, and its
//! context keys.
//!
//! Building a [`Request`] is where allocation happens: keys are lowercased once
//! (condition keys are case-insensitive) and the global keys that follow from
//! the principal ARN and the evaluation time are filled in, so evaluation itself
//! only reads.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};

/// What kind of caller made the request, derived from its ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// No credentials.
    Anonymous,
    /// `arn:aws:iam::ACCOUNT:root`.
    Root,
    /// `arn:aws:iam::ACCOUNT:user/PATH/NAME`.
    User,
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` (or a bare role ARN).
    RoleSession,
    /// `arn:aws:sts::ACCOUNT:federated-user/NAME` (`GetFederationToken`).
    FederatedUser,
    /// An AWS service principal such as `s3.amazonaws.com`.
    Service,
    /// A holder of an ID token of an identity provider
    /// (`sts:AssumeRoleWithWebIdentity`): named by the provider's ARN,
    /// which a trust policy's `Federated` principal matches, but of no
    /// account: the request is unsigned, so no `aws:Principal*` key is
    /// present, as in AWS.
    WebIdentity,
    /// Anything else: matched only by exact text or `*`.
    Other,
}

/// The caller, parsed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    kind: PrincipalKind,
    /// The ARN (or service name) exactly as given; empty for anonymous.
    arn: String,
    /// The caller's account, when the ARN names one.
    account: Option<String>,
    /// For role sessions, the role's ARN (`arn:aws:iam::ACCOUNT:role/NAME`).
    role_arn: Option<String>,
    /// For IAM users, the user name (last path segment).
    user_name: Option<String>,
}

impl Principal {
    /// Whoever holds an ID token or a SAML assertion of the identity
    /// provider `provider_arn` (matched by a `Federated` principal only).
    pub fn web_identity(provider_arn: &str) -> Principal {
        Principal {
            kind: PrincipalKind::WebIdentity,
            arn: provider_arn.to_owned(),
            account: None,
            role_arn: None,
            user_name: None,
        }
    }

    /// The anonymous caller.
    pub fn anonymous() -> Principal {
        Principal {
            kind: PrincipalKind::Anonymous,
            arn: String::new(),
            account: None,
            role_arn: None,
            user_name: None,
        }
    }

    /// An unnamed IAM user of `account`: who the policy simulator asks
    /// about when it simulates a group's policies (a group never makes a
    /// request; one of its members does). Its identity policies apply; it
    /// has no ARN or user name, so `aws:PrincipalArn` and `aws:username`
    /// are absent.
    pub fn unnamed_user(account: &str) -> Principal {
        Principal {
            kind: PrincipalKind::User,
            arn: String::new(),
            account: Some(account.to_owned()),
            role_arn: None,
            user_name: None,
        }
    }

    /// A role session (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`)
    /// of the role `role_arn`, which carries the role's path: the session
    /// ARN does not, and `aws:PrincipalArn` and trust policies name the
    /// role by its full ARN.
    pub fn role_session(session_arn: &str, role_arn: &str) -> Principal {
        let mut p = Principal::parse(session_arn);
        if p.kind == PrincipalKind::RoleSession {
            p.role_arn = Some(role_arn.to_owned());
        }
        p
    }

    /// Parse a caller ARN (or service principal name).
    pub fn parse(arn: &str) -> Principal {
        let mut p = Principal {
            kind: PrincipalKind::Other,
            arn: arn.to_owned(),
            account: None,
            role_arn: None,
            user_name: None,
        };
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() == 6 && parts[0] == "arn" {
            let (partition, service, account, resource) = (parts[1], parts[2], parts[4], parts[5]);
            if !account.is_empty() {
                p.account = Some(account.to_owned());
            }
            match (service, resource) {
                ("iam", "root") => p.kind = PrincipalKind::Root,
                ("iam", r) if r.starts_with("user/") => {
                    p.kind = PrincipalKind::User;
                    p.user_name = r.rsplit('/').next().map(str::to_owned);
                }
                ("iam", r) if r.starts_with("role/") => {
                    p.kind = PrincipalKind::RoleSession;
                    p.role_arn = Some(arn.to_owned());
                }
                ("sts", r) if r.starts_with("assumed-role/") => {
                    p.kind = PrincipalKind::RoleSession;
                    let mut segs = r["assumed-role/".len()..].split('/');
                    if let Some(role) = segs.next().filter(|s| !s.is_empty()) {
                        p.role_arn = Some(format!("arn:{partition}:iam::{account}:role/{role}"));
                    }
                }
                ("sts", r) if r.starts_with("federated-user/") => {
                    p.kind = PrincipalKind::FederatedUser
                }
                _ => {}
            }
        } else if !arn.contains(':') && arn.contains('.') {
            p.kind = PrincipalKind::Service;
        }
        p
    }

    pub fn kind(&self) -> PrincipalKind {
        self.kind
    }

    /// The ARN as given (empty for anonymous).
    pub fn arn(&self) -> &str {
        &self.arn
    }

    pub fn account(&self) -> Option<&str> {
        self.account.as_deref()
    }

    /// For a role session, the role's ARN.
    pub fn role_arn(&self) -> Option<&str> {
        self.role_arn.as_deref()
    }

    /// Whether this caller is a session (role session or federated user), the
    /// only callers a session policy applies to.
    pub fn is_session(&self) -> bool {
        matches!(
            self.kind,
            PrincipalKind::RoleSession | PrincipalKind::FederatedUser
        )
    }

    /// The `aws:PrincipalType` value.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            PrincipalKind::Anonymous => "Anonymous",
            PrincipalKind::Root => "Account",
            PrincipalKind::User => "User",
            PrincipalKind::RoleSession => "AssumedRole",
            PrincipalKind::FederatedUser => "FederatedUser",
            PrincipalKind::Service => "Service",
            PrincipalKind::Other => "Other",
            PrincipalKind::WebIdentity => "WebIdentityUser",
        }
    }

    /// The ARN that `aws:PrincipalArn` reports: the role ARN for role sessions.
    pub fn principal_arn(&self) -> &str {
        self.role_arn.as_deref().unwrap_or(&self.arn)
    }
}

/// The values of one context key. A key with an empty list of values is
/// treated exactly like an absent key (see docs/policy-semantics.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextValue {
    values: Vec<String>,
}

impl ContextValue {
    pub fn values(&self) -> &[String] {
        &self.values
    }
}

/// Condition keys and their values; key lookups ignore case.
///
/// Hashed with foldhash (randomly seeded per process) rather than SipHash:
/// a decision hashes every key it sets and every key a condition reads,
/// and SipHash was a tenth of a batch decision's time.
///
/// A context may sit on a shared base ([`Context::on`]): the keys every
/// request of one principal at one moment has (`aws:PrincipalArn`, its
/// tags, `aws:CurrentTime`, …) are set once for a batch of decisions, and
/// each request holds only its own keys. A key of the request's own
/// shadows the base's.
#[derive(Debug, Clone, Default)]
pub struct Context {
    map: HashMap<Box<str>, ContextValue, foldhash::fast::RandomState>,
    base: Option<Arc<Context>>,
}

impl PartialEq for Context {
    /// Equal when every key has the same values, whichever layer holds it.
    fn eq(&self, other: &Self) -> bool {
        fn keys(c: &Context) -> Vec<&str> {
            let mut keys: Vec<&str> = c
                .layers()
                .flat_map(|l| l.map.keys().map(|k| &**k))
                .collect();
            keys.sort_unstable();
            keys.dedup();
            keys
        }
        let (mine, theirs) = (keys(self), keys(other));
        mine == theirs
            && mine
                .iter()
                .all(|k| self.values_lower(k) == other.values_lower(k))
    }
}

impl Eq for Context {}

/// `key` in lower case, allocating only when it has an upper-case letter.
fn lower(key: &str) -> std::borrow::Cow<'_, str> {
    match key.bytes().any(|b| b.is_ascii_uppercase()) {
        true => std::borrow::Cow::Owned(key.to_ascii_lowercase()),
        false => std::borrow::Cow::Borrowed(key),
    }
}

impl Context {
    /// Every key (in lower case, as keys compare) with its values, the
    /// request's own over its base's, sorted by key: for showing a
    /// decision's context (an authorization failure message).
    pub fn entries(&self) -> Vec<(String, Vec<String>)> {
        let mut keys: Vec<&str> = self
            .layers()
            .flat_map(|l| l.map.keys().map(|k| &**k))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys.into_iter()
            .filter_map(|k| Some((k.to_owned(), self.values_lower(k)?.to_vec())))
            .collect()
    }

    pub fn new() -> Context {
        Context {
            // The keys every request gets (principal, time) and a few more.
            map: HashMap::with_capacity_and_hasher(16, Default::default()),
            base: None,
        }
    }

    /// An empty context on `base`: it has the base's keys until it sets
    /// its own (nothing is copied or allocated until then).
    pub fn on(base: Arc<Context>) -> Context {
        Context {
            map: HashMap::default(),
            base: Some(base),
        }
    }

    /// This context, then its bases.
    fn layers(&self) -> impl Iterator<Item = &Context> {
        std::iter::successors(Some(self), |c| c.base.as_deref())
    }

    /// The values the nearest layer holding the key gives it, empty or not.
    fn values_lower(&self, lower_key: &str) -> Option<&[String]> {
        self.layers()
            .find_map(|l| l.map.get(lower_key))
            .map(|v| v.values.as_slice())
    }

    /// Sets a single-valued key unless it is set already (in any case).
    pub fn insert_if_absent(&mut self, key: &str, value: impl Into<String>) {
        if !self.contains(key) {
            self.insert(key, value);
        }
    }

    /// Set a single-valued key (replacing any earlier value).
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        self.map.insert(
            key.to_ascii_lowercase().into(),
            ContextValue {
                values: vec![value.into()],
            },
        );
    }

    /// Set a multi-valued key.
    pub fn insert_many(&mut self, key: &str, values: Vec<String>) {
        self.map
            .insert(key.to_ascii_lowercase().into(), ContextValue { values });
    }

    /// Whether a key is set (in any case).
    pub fn contains(&self, key: &str) -> bool {
        let key = lower(key);
        self.layers().any(|l| l.map.contains_key(&*key))
    }

    /// The values of a key already lowercased; `None` when absent or empty.
    pub(crate) fn get_lower(&self, lower_key: &str) -> Option<&[String]> {
        self.values_lower(lower_key).filter(|v| !v.is_empty())
    }

    /// The values of a key in any case.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.get_lower(&lower(key))
    }
}

/// Sets the keys derivable from the principal and the time, unless set.
fn fill_global_keys(context: &mut Context, principal: &Principal, now: DateTime<Utc>) {
    let mut fill = |key: &str, value: &str| context.insert_if_absent(key, value);
    if matches!(
        principal.kind,
        PrincipalKind::Anonymous | PrincipalKind::WebIdentity
    ) {
        // Unsigned: no `aws:Principal*` key at all.
    } else if !principal.principal_arn().is_empty() {
        fill("aws:PrincipalArn", principal.principal_arn());
        if let Some(acct) = principal.account() {
            fill("aws:PrincipalAccount", acct);
        }
    }
    if principal.kind != PrincipalKind::WebIdentity {
        fill("aws:PrincipalType", principal.type_name());
    }
    if let Some(name) = &principal.user_name {
        fill("aws:username", name);
    }
    // Formatting the time is the dearest of these: only when it is needed.
    if !context.contains("aws:CurrentTime") {
        context.insert(
            "aws:CurrentTime",
            now.to_rfc3339_opts(SecondsFormat::Secs, true),
        );
    }
    if !context.contains("aws:EpochTime") {
        context.insert("aws:EpochTime", now.timestamp().to_string());
    }
}

/// A request to authorize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub(crate) principal: Arc<Principal>,
    pub(crate) action: String,
    /// The action's service prefix, lowercased (index lookups).
    pub(crate) service: String,
    pub(crate) resource: String,
    pub(crate) resource_account: Option<String>,
    pub(crate) context: Context,
}

impl Request {
    /// Build a request. Global keys derivable from the principal
    /// (`aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`,
    /// `aws:username` for IAM users) and from `now` (`aws:CurrentTime`,
    /// `aws:EpochTime`) are added unless `context` already has them.
    /// `resource_account` defaults to the principal's account.
    pub fn new(
        principal: Principal,
        action: &str,
        resource: &str,
        resource_account: Option<String>,
        context: Context,
        now: DateTime<Utc>,
    ) -> Request {
        Request::for_shared(
            Arc::new(principal),
            action,
            resource,
            resource_account,
            context,
            now,
        )
    }

    /// [`Request::new`] for a principal many requests share (a batch of
    /// decisions about one principal): with a context on
    /// [`Request::global_context`]'s keys, nothing of the principal is
    /// copied per request.
    pub fn for_shared(
        principal: Arc<Principal>,
        action: &str,
        resource: &str,
        resource_account: Option<String>,
        mut context: Context,
        now: DateTime<Utc>,
    ) -> Request {
        fill_global_keys(&mut context, &principal, now);
        let service = action
            .split_once(':')
            .map_or("", |(s, _)| s)
            .to_ascii_lowercase();
        let resource_account = resource_account.or_else(|| principal.account.clone());
        Request {
            principal,
            action: action.to_owned(),
            service,
            resource: resource.to_owned(),
            resource_account,
            context,
        }
    }

    /// The global keys [`Request::new`] sets for `principal` at `now`, as a
    /// context of their own: the base of many requests' contexts
    /// ([`Context::on`]).
    pub fn global_context(principal: &Principal, now: DateTime<Utc>) -> Context {
        let mut context = Context::new();
        fill_global_keys(&mut context, principal, now);
        context
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    pub fn action(&self) -> &str {
        &self.action
    }

    pub fn resource(&self) -> &str {
        &self.resource
    }

    pub fn resource_account(&self) -> Option<&str> {
        self.resource_account.as_deref()
    }

    pub fn context(&self) -> &Context {
        &self.context
    }

    /// Whether the principal and the resource are in different accounts (an
    /// anonymous caller is never cross-account: it has no account).
    pub fn is_cross_account(&self) -> bool {
        match (self.principal.account(), self.resource_account()) {
            (Some(p), Some(r)) => p != r,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    /// A context on a base sees the base's keys, shadows them with its
    /// own, and compares equal to the same keys held in one layer.
    #[test]
    fn a_layered_context_reads_like_a_flat_one() {
        let alice = Principal::parse("arn:aws:iam::123456789012:user/alice");
        let base = Arc::new(Request::global_context(&alice, at()));
        let mut layered = Context::on(base.clone());
        layered.insert("aws:SourceIp", "10.0.0.1");
        layered.insert_many("aws:PrincipalType", vec![]);
        assert_eq!(layered.get("AWS:username"), Some(&["alice".to_owned()][..]));
        assert_eq!(
            layered.get("aws:sourceip"),
            Some(&["10.0.0.1".to_owned()][..])
        );
        // Its own (empty) value shadows the base's, and reads as absent.
        assert!(layered.contains("aws:PrincipalType"));
        assert_eq!(layered.get("aws:PrincipalType"), None);
        assert_eq!(
            base.get("aws:PrincipalType"),
            Some(&["User".to_owned()][..])
        );

        let on_base = Request::for_shared(
            Arc::new(alice.clone()),
            "s3:GetObject",
            "*",
            None,
            {
                let mut c = Context::on(base.clone());
                c.insert("aws:SourceIp", "10.0.0.1");
                c
            },
            at(),
        );
        let flat = Request::new(
            alice,
            "s3:GetObject",
            "*",
            None,
            {
                let mut c = Context::new();
                c.insert("aws:SourceIp", "10.0.0.1");
                c
            },
            at(),
        );
        assert_eq!(on_base, flat);
        assert!(
            on_base.context.map.len() == 1,
            "nothing of the base is copied"
        );
    }
}
