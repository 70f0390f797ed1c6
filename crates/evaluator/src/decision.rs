//! The decision: how the layers of policies combine.
//!
//! Implements the flow of the AWS pages "Policy evaluation logic" and
//! "Cross-account policy evaluation logic":
//! 1. an applicable `Deny` in any layer that applies is an explicit deny;
//! 2. every service-control-policy level must allow (principals with an
//!    account only), and every resource-control-policy level must allow;
//! 3. same account: a resource policy naming the caller (or `*`) allows on its
//!    own; one naming the caller's role allows subject to the permissions
//!    boundary and session policy; one naming the account only delegates;
//!    otherwise identity policies must allow, then the boundary, then the
//!    session policy (a federated user without a session policy gets nothing);
//! 4. cross account: the identity side (as in 3, without resource policy) and
//!    the resource side (any grant, account-level included) must both allow;
//!    the same holds within the account for role trust policies
//!    (`sts:AssumeRole*`) and KMS key policies (`kms:`), which must allow;
//! 5. anonymous callers and service principals have only resource policies.
//!
//! Before all of that, `sts:GetCallerIdentity` from a caller with
//! credentials is allowed without weighing any policy ([`Reason`]).

use iam_domain::policy::Effect;

use crate::policy::{CompiledPolicy, Grant, PolicySet};
use crate::request::{PrincipalKind, Request};

/// Role trust policies and KMS key policies "must explicitly allow access for
/// principals" even within the account (evaluation-logic page): for
/// `sts:AssumeRole*` and `kms:` actions the resource side is required as for a
/// cross-account request, so an identity policy alone never suffices and an
/// account-root grant delegates to identity policies. What comes with
/// assuming a role — session tags (`sts:TagSession`), a source identity
/// (`sts:SetSourceIdentity`), context (`sts:SetContext`) — is the trust
/// policy's to allow too (User Guide, "Passing session tags in AWS STS").
fn needs_resource_grant(req: &Request) -> bool {
    let Some((service, name)) = req.action().split_once(':') else {
        return false;
    };
    service.eq_ignore_ascii_case("kms")
        || service.eq_ignore_ascii_case("sts")
            && (name.len() >= 10 && name.as_bytes()[..10].eq_ignore_ascii_case(b"assumerole")
                || ["TagSession", "SetSourceIdentity", "SetContext"]
                    .iter()
                    .any(|a| name.eq_ignore_ascii_case(a)))
}

/// Why a request was decided without weighing any policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// `sts:GetCallerIdentity` needs no permission: AWS lets every caller
    /// with credentials perform it even when a policy explicitly denies it
    /// (User Guide, "Requesting temporary security credentials", note 4),
    /// since an access-denied answer would reveal the same identity.
    GetCallerIdentityNeedsNoPermission,
}

impl Reason {
    /// Why the request was decided as it was, in words.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::GetCallerIdentityNeedsNoPermission => {
                "sts:GetCallerIdentity requires no permissions: AWS allows it to every \
                 authenticated caller, even when a policy explicitly denies it"
            }
        }
    }

    /// The reason `req` is decided without weighing any policy, if any.
    pub fn for_request(req: &Request) -> Option<Reason> {
        let authenticated = req.principal().account().is_some()
            && matches!(
                req.principal().kind(),
                PrincipalKind::Root
                    | PrincipalKind::User
                    | PrincipalKind::RoleSession
                    | PrincipalKind::FederatedUser
            );
        (authenticated && req.action().eq_ignore_ascii_case("sts:GetCallerIdentity"))
            .then_some(Reason::GetCallerIdentityNeedsNoPermission)
    }
}

/// Which layer a statement belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    Identity,
    Resource,
    PermissionsBoundary,
    Session,
    /// Service control policies at the given level (0 = root of the organization).
    ServiceControl(usize),
    /// Resource control policies at the given level.
    ResourceControl(usize),
}

/// The final answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "Allow",
            Outcome::ExplicitDeny => "ExplicitDeny",
            Outcome::ImplicitDeny => "ImplicitDeny",
        }
    }
}

/// A statement that took part in the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Matched {
    pub layer: Layer,
    /// Index of the policy within its layer (0 for single-policy layers).
    pub policy: usize,
    /// Index of the statement within its policy.
    pub statement: usize,
    pub effect: Effect,
}

/// The outcome and the statements that decided it: for `Allow`, every
/// applicable `Allow` statement of the layers consulted; for `ExplicitDeny`,
/// every applicable `Deny` statement; for `ImplicitDeny`, none. A request
/// decided without weighing any policy has no statements and a `reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    pub matched: Vec<Matched>,
    /// Why no policy was weighed; `None` for a decision by the policies.
    pub reason: Option<Reason>,
}

/// Layers that one request brings with it ([`Authorizer::evaluate_with`]);
/// each given one takes the place of the authorizer's own.
#[derive(Debug, Clone, Copy, Default)]
pub struct Overlay<'a> {
    /// The resource policy (a role's trust policy for `sts:AssumeRole`).
    pub resource: Option<&'a PolicySet>,
    /// The session policies: their union is the session layer.
    pub session: Option<&'a PolicySet>,
}

/// All the policies that bear on one principal and one resource.
#[derive(Debug, Clone, Default)]
pub struct Authorizer {
    identity: PolicySet,
    /// Shared: a batch of decisions compiles a resource policy once for all
    /// the questions that give it.
    resource: Option<std::sync::Arc<PolicySet>>,
    boundary: Option<PolicySet>,
    session: Option<PolicySet>,
    scps: Vec<PolicySet>,
    rcps: Vec<PolicySet>,
}

fn single(p: CompiledPolicy) -> PolicySet {
    PolicySet::new(vec![p])
}

impl Authorizer {
    /// Whether any of its policies, of any layer, reads the context key
    /// `key`.
    pub fn reads_key(&self, key: &str) -> bool {
        std::iter::once(&self.identity)
            .chain(self.resource.as_deref())
            .chain(&self.boundary)
            .chain(&self.session)
            .chain(&self.scps)
            .chain(&self.rcps)
            .any(|set| set.reads_key(key))
    }

    /// An authorizer with the given identity policies and nothing else.
    pub fn new(identity: PolicySet) -> Authorizer {
        Authorizer {
            identity,
            ..Authorizer::default()
        }
    }

    /// The resource's resource-based policy (or the role's trust policy).
    pub fn with_resource_policy(mut self, p: CompiledPolicy) -> Self {
        self.resource = Some(std::sync::Arc::new(single(p)));
        self
    }

    /// [`Authorizer::with_resource_policy`] with a resource policy
    /// compiled once and shared.
    pub fn with_shared_resource_policy(mut self, p: std::sync::Arc<PolicySet>) -> Self {
        self.resource = Some(p);
        self
    }

    /// The principal's permissions boundary.
    pub fn with_permissions_boundary(mut self, p: CompiledPolicy) -> Self {
        self.boundary = Some(single(p));
        self
    }

    /// The session policy of a role or federated-user session.
    pub fn with_session_policy(mut self, p: CompiledPolicy) -> Self {
        self.session = Some(single(p));
        self
    }

    /// Service control policies, one set per organization level. A level with
    /// no policy is ignored (it models "not applicable", not "deny all").
    pub fn with_service_control_policies(mut self, levels: Vec<PolicySet>) -> Self {
        self.scps = levels;
        self
    }

    /// Resource control policies, one set per organization level; empty
    /// levels are ignored as for service control policies.
    pub fn with_resource_control_policies(mut self, levels: Vec<PolicySet>) -> Self {
        self.rcps = levels;
        self
    }

    /// The policy a [`Matched`] refers to.
    pub fn policy(&self, layer: Layer, policy: usize) -> Option<&CompiledPolicy> {
        let set = match layer {
            Layer::Identity => Some(&self.identity),
            Layer::Resource => self.resource.as_deref(),
            Layer::PermissionsBoundary => self.boundary.as_ref(),
            Layer::Session => self.session.as_ref(),
            Layer::ServiceControl(l) => self.scps.get(l),
            Layer::ResourceControl(l) => self.rcps.get(l),
        }?;
        set.policies.get(policy)
    }

    /// The `Sid` of a matched statement.
    pub fn sid(&self, m: &Matched) -> Option<&str> {
        self.policy(m.layer, m.policy)?.sid(m.statement)
    }

    /// Every statement, in every layer, whose `Action`, `Resource` and
    /// `Principal` match `req`, whether or not its `Condition` holds: the
    /// statements whose conditions the request's context decides. Identity
    /// policies first, then the boundary, the session policy, the service
    /// and resource control policies and the resource policy; each in
    /// policy then statement order. Layers are listed whether or not they
    /// apply to this caller (a boundary for the root user, say).
    pub fn in_scope(&self, req: &Request) -> Vec<Matched> {
        let mut out = Vec::new();
        let mut scan = |set: &PolicySet, layer: Layer| {
            set.for_each_in_scope(req, |(p, s), effect| {
                out.push(Matched {
                    layer,
                    policy: p as usize,
                    statement: s as usize,
                    effect,
                })
            });
        };
        scan(&self.identity, Layer::Identity);
        if let Some(b) = &self.boundary {
            scan(b, Layer::PermissionsBoundary);
        }
        if let Some(s) = &self.session {
            scan(s, Layer::Session);
        }
        for (level, set) in self.scps.iter().enumerate() {
            scan(set, Layer::ServiceControl(level));
        }
        for (level, set) in self.rcps.iter().enumerate() {
            scan(set, Layer::ResourceControl(level));
        }
        if let Some(r) = &self.resource {
            scan(r, Layer::Resource);
        }
        out
    }

    /// Decide, allocating the list of matched statements.
    pub fn evaluate(&self, req: &Request) -> Decision {
        let mut matched = Vec::new();
        let outcome = self.evaluate_into(req, &mut matched);
        Decision {
            outcome,
            matched,
            reason: Reason::for_request(req),
        }
    }

    /// Decide, writing the deciding statements into `matched` (cleared first).
    /// With a buffer reused across calls this does not allocate (but for
    /// the rare patterns named in the crate documentation).
    pub fn evaluate_into(&self, req: &Request, matched: &mut Vec<Matched>) -> Outcome {
        self.evaluate_within(req, Overlay::default(), matched)
    }

    /// [`Authorizer::evaluate`] with layers the request brings, in place of
    /// the authorizer's own: one compiled set of a principal's identity
    /// policies serves every session of it (each with its own session
    /// policies) and every role it may assume (each with its trust policy).
    pub fn evaluate_with(&self, req: &Request, overlay: Overlay<'_>) -> Decision {
        let mut matched = Vec::new();
        let outcome = self.evaluate_within(req, overlay, &mut matched);
        Decision {
            outcome,
            matched,
            reason: Reason::for_request(req),
        }
    }

    fn evaluate_within(
        &self,
        req: &Request,
        overlay: Overlay<'_>,
        matched: &mut Vec<Matched>,
    ) -> Outcome {
        matched.clear();
        let session = overlay.session.or(self.session.as_ref());
        let resource = overlay.resource.or(self.resource.as_deref());
        if Reason::for_request(req).is_some() {
            return Outcome::Allow;
        }
        let kind = req.principal().kind();
        let has_account = req.principal().account().is_some()
            && !matches!(
                kind,
                PrincipalKind::Anonymous
                    | PrincipalKind::Service
                    | PrincipalKind::Other
                    | PrincipalKind::WebIdentity
            );
        let mut deny = false;

        let mut scan =
            |set: &PolicySet, layer: Layer, matched: &mut Vec<Matched>| -> (bool, Option<Grant>) {
                let mut allow = false;
                let mut best: Option<Grant> = None;
                set.for_each_applying(req, |(p, s), effect, grant| {
                    matched.push(Matched {
                        layer,
                        policy: p as usize,
                        statement: s as usize,
                        effect,
                    });
                    match effect {
                        Effect::Deny => deny = true,
                        Effect::Allow => {
                            allow = true;
                            best = best.max(Some(grant));
                        }
                    }
                });
                (allow, best)
            };

        // Identity-side layers apply to callers with an identity.
        let (identity_allow, _) = if has_account {
            scan(&self.identity, Layer::Identity, matched)
        } else {
            (false, None)
        };
        let boundary_ok = match (&self.boundary, has_account && kind != PrincipalKind::Root) {
            (Some(b), true) => scan(b, Layer::PermissionsBoundary, matched).0,
            _ => true,
        };
        let session_ok = match (session, req.principal().is_session()) {
            (Some(s), true) => scan(s, Layer::Session, matched).0,
            (None, true) => kind != PrincipalKind::FederatedUser,
            (_, false) => true,
        };
        let mut scp_ok = true;
        if has_account {
            for (level, set) in self.scps.iter().enumerate().filter(|(_, s)| !s.is_empty()) {
                scp_ok &= scan(set, Layer::ServiceControl(level), matched).0;
            }
        }
        let mut rcp_ok = true;
        for (level, set) in self.rcps.iter().enumerate().filter(|(_, s)| !s.is_empty()) {
            rcp_ok &= scan(set, Layer::ResourceControl(level), matched).0;
        }
        let resource_grant = match resource {
            Some(r) => scan(r, Layer::Resource, matched).1,
            None => None,
        };

        if deny {
            matched.retain(|m| m.effect == Effect::Deny);
            return Outcome::ExplicitDeny;
        }
        let identity_side = (kind == PrincipalKind::Root
            || identity_allow && boundary_ok && session_ok)
            && has_account;
        let allowed = scp_ok
            && rcp_ok
            && if !has_account {
                resource_grant == Some(Grant::Direct)
            } else if req.is_cross_account() {
                identity_side && resource_grant.is_some()
            } else {
                match resource_grant {
                    Some(Grant::Direct) => true,
                    Some(Grant::Role) => boundary_ok && session_ok || identity_side,
                    Some(Grant::Account) => identity_side,
                    None => identity_side && !needs_resource_grant(req),
                }
            };
        if allowed {
            matched.retain(|m| m.effect == Effect::Allow);
            Outcome::Allow
        } else {
            matched.clear();
            Outcome::ImplicitDeny
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{Context, Principal};
    use iam_domain::policy::PolicyDocument;

    fn policy(text: &str) -> CompiledPolicy {
        CompiledPolicy::compile(&PolicyDocument::parse(text).expect("valid policy"))
    }

    fn request(principal: Principal, action: &str) -> Request {
        Request::new(
            principal,
            action,
            "*",
            None,
            Context::new(),
            chrono::DateTime::from_timestamp(0, 0).unwrap_or_default(),
        )
    }

    /// What a policy reads: condition keys in any case, and variables in
    /// resources and in condition values; nothing else.
    #[test]
    fn reads_key_finds_condition_keys_and_variables() {
        let timed = policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"DateLessThan":{"AWS:currenttime":"2030-01-01T00:00:00Z"}}}]}"#,
        );
        let variable = policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:EpochTime}","Condition":{"StringEquals":{"s3:prefix":"${aws:username}"}}}]}"#,
        );
        let plain = policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
        );
        assert!(timed.reads_key("aws:CurrentTime"));
        assert!(!timed.reads_key("aws:EpochTime"));
        assert!(variable.reads_key("aws:EpochTime"));
        assert!(variable.reads_key("aws:username"));
        assert!(variable.reads_key("s3:prefix"));
        assert!(!plain.reads_key("aws:CurrentTime"));
        let authorizer = Authorizer::new(PolicySet::new(vec![plain])).with_resource_policy(timed);
        assert!(authorizer.reads_key("aws:currenttime"));
        assert!(!authorizer.reads_key("aws:EpochTime"));
    }

    /// A statement is in scope when its action, resource and principal
    /// match, whether or not its conditions hold; no other is.
    #[test]
    fn in_scope_ignores_conditions_only() {
        let identity = policy(
            r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
            {"Effect":"Allow","Action":"ec2:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
            {"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::other/*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}},
            {"Effect":"Deny","NotAction":"ec2:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"x"}}}]}"#,
        );
        let resource = policy(
            r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:*","Resource":"*"},
            {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/u"},"Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"s3:prefix":"p"}}}]}"#,
        );
        let auth = Authorizer::new(PolicySet::new(vec![identity])).with_resource_policy(resource);
        let req = Request::new(
            Principal::parse("arn:aws:iam::111122223333:user/u"),
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            None,
            Context::new(),
            chrono::DateTime::from_timestamp(0, 0).unwrap_or_default(),
        );
        let scope: Vec<(Layer, usize, usize, Effect)> = auth
            .in_scope(&req)
            .iter()
            .map(|m| (m.layer, m.policy, m.statement, m.effect))
            .collect();
        assert_eq!(
            scope,
            [
                (Layer::Identity, 0, 0, Effect::Allow),
                (Layer::Identity, 0, 3, Effect::Deny),
                (Layer::Resource, 0, 1, Effect::Allow),
            ]
        );
        // Every condition in scope fails, so nothing applies.
        assert_eq!(auth.evaluate(&req).outcome, Outcome::ImplicitDeny);
    }

    /// An explicit deny in every layer does not stop `sts:GetCallerIdentity`,
    /// and the decision says why; other actions are still denied.
    #[test]
    fn get_caller_identity_is_allowed_under_any_deny() {
        let deny_all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;
        let auth = Authorizer::new(PolicySet::new(vec![policy(deny_all)]))
            .with_session_policy(policy(deny_all))
            .with_permissions_boundary(policy(deny_all))
            .with_service_control_policies(vec![PolicySet::new(vec![policy(deny_all)])]);
        let session = Principal::parse("arn:aws:sts::111122223333:assumed-role/R/s1");

        let d = auth.evaluate(&request(session.clone(), "sts:GetCallerIdentity"));
        assert_eq!(d.outcome, Outcome::Allow);
        assert!(d.matched.is_empty());
        assert_eq!(d.reason, Some(Reason::GetCallerIdentityNeedsNoPermission));
        let mut buffer = vec![Matched {
            layer: Layer::Identity,
            policy: 9,
            statement: 9,
            effect: Effect::Deny,
        }];
        let outcome = auth.evaluate_into(
            &request(session.clone(), "sts:getcalleridentity"),
            &mut buffer,
        );
        assert_eq!(outcome, Outcome::Allow);
        assert!(buffer.is_empty());

        let d = auth.evaluate(&request(session, "sts:GetSessionToken"));
        assert_eq!(d.outcome, Outcome::ExplicitDeny);
        assert_eq!(d.reason, None);
        let d = auth.evaluate(&request(Principal::anonymous(), "sts:GetCallerIdentity"));
        assert_eq!(d.outcome, Outcome::ImplicitDeny);
        assert_eq!(d.reason, None);
    }
}
