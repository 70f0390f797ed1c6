//! Compiled policies and policy sets.
//!
//! A [`CompiledPolicy`] is a [`PolicyDocument`] with every pattern pre-parsed
//! and every condition value pre-typed. A [`PolicySet`] groups the policies of
//! one layer (for example all identity policies of a user) and indexes their
//! statements by the action's service prefix, so a request for `s3:GetObject`
//! only looks at statements that name `s3:` actions plus the few whose actions
//! cannot be indexed (`*`, `NotAction`, wildcard service prefixes). Within each
//! of those buckets statements are indexed again by the literal prefix of their
//! `Resource` patterns, so a request for `arn:aws:s3:::bucket-7/x` skips the
//! statements about other buckets. The index only ever rules statements out;
//! every candidate is still matched in full.

use std::collections::HashMap;

use iam_domain::policy::{Effect, PolicyDocument, PrincipalType, Principals};

use crate::condition::Condition;
use crate::glob::{Pattern, VarRef, Wildcards};
use crate::request::{PrincipalKind, Request};

/// How a resource-policy statement's `Principal` relates to the caller; the
/// decision logic treats these differently (see docs/policy-semantics.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Grant {
    /// Names the caller's account (ID or `:root` ARN): delegation only.
    Account,
    /// Names the role whose session is calling: limited by boundary and session policy.
    Role,
    /// Names the caller itself (user, session, federated user, service) or
    /// everyone (`*`): allows on its own within the account.
    Direct,
}

#[derive(Debug, Clone)]
struct PrincipalMatcher {
    negated: bool,
    any: bool,
    entries: Box<[(PrincipalType, Box<str>)]>,
}

impl PrincipalMatcher {
    /// The strongest grant among the listed principals, or `None`.
    fn grant_for(&self, req: &Request) -> Option<Grant> {
        if self.any {
            return Some(Grant::Direct);
        }
        let p = req.principal();
        let mut best: Option<Grant> = None;
        for (t, v) in self.entries.iter() {
            let g = match t {
                PrincipalType::Aws => aws_grant(v, req),
                _ => (p.kind() != PrincipalKind::Anonymous && **v == *p.arn())
                    .then_some(Grant::Direct),
            };
            best = best.max(g);
        }
        let _ = p;
        best
    }

    /// For `NotPrincipal`: whether the caller is outside the statement.
    ///
    /// A caller's chain is its own ARN, for a role session its role, and its
    /// account. Which of them must be listed depends on the effect, always
    /// the reading that grants less (docs/policy-semantics.md): a `Deny`
    /// spares the caller only when every identity of the chain is listed,
    /// so a deny is hard to escape; an `Allow` leaves the caller out as soon
    /// as any one of them is listed, so an allow is hard to obtain.
    fn excludes(&self, req: &Request, effect: Effect) -> bool {
        if self.any {
            return true;
        }
        let p = req.principal();
        let listed = |s: &str| self.entries.iter().any(|(_, v)| **v == *s);
        let account_listed = p.account().is_some_and(|a| {
            self.entries
                .iter()
                .any(|(t, v)| *t == PrincipalType::Aws && account_of_root(v) == Some(a))
        });
        // Whether each identity of the chain is listed; `None` where the
        // caller has no such identity.
        let chain: [Option<bool>; 3] = match p.kind() {
            PrincipalKind::Anonymous => return false,
            PrincipalKind::Root => [None, None, Some(account_listed)],
            PrincipalKind::RoleSession => {
                let role_listed = p.role_arn().is_some_and(|r| {
                    self.entries
                        .iter()
                        .any(|(t, v)| *t == PrincipalType::Aws && same_role(v, r))
                });
                // A bare role ARN as the caller is its own session.
                let session_listed =
                    listed(p.arn()) || role_listed && p.role_arn() == Some(p.arn());
                [
                    Some(session_listed),
                    Some(role_listed),
                    Some(account_listed),
                ]
            }
            PrincipalKind::User | PrincipalKind::FederatedUser => {
                [Some(listed(p.arn())), None, Some(account_listed)]
            }
            PrincipalKind::Service | PrincipalKind::Other | PrincipalKind::WebIdentity => {
                [Some(listed(p.arn())), None, None]
            }
        };
        let mut present = chain.iter().flatten();
        match effect {
            Effect::Deny => present.all(|&l| l),
            Effect::Allow => present.any(|&l| l),
        }
    }
}

/// `123456789012` or `arn:PARTITION:iam::123456789012:root` → the account.
fn account_of_root(v: &str) -> Option<&str> {
    if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(v);
    }
    let rest = v.strip_prefix("arn:")?;
    let mut it = rest.splitn(5, ':');
    let (_partition, service, _region, account, resource) =
        (it.next()?, it.next()?, it.next()?, it.next()?, it.next()?);
    (service == "iam" && resource == "root").then_some(account)
}

/// Whether policy principal `v` names role `role_arn` (`arn:...:role/NAME`),
/// ignoring any role path in `v` (session ARNs carry no path).
fn same_role(v: &str, role_arn: &str) -> bool {
    if v == role_arn {
        return true;
    }
    let (Some((vp, vr)), Some((rp, rr))) = (v.split_once(":role/"), role_arn.split_once(":role/"))
    else {
        return false;
    };
    vp == rp && vr.rsplit('/').next() == rr.rsplit('/').next()
}

fn aws_grant(v: &str, req: &Request) -> Option<Grant> {
    let p = req.principal();
    if v == "*" {
        return Some(Grant::Direct);
    }
    // A web identity is named only by a `Federated` principal.
    if matches!(
        p.kind(),
        PrincipalKind::Anonymous | PrincipalKind::WebIdentity
    ) {
        return None;
    }
    if *v == *p.arn() {
        return Some(if p.kind() == PrincipalKind::Root {
            Grant::Account
        } else {
            Grant::Direct
        });
    }
    if let Some(role) = p.role_arn() {
        if same_role(v, role) {
            return Some(Grant::Role);
        }
    }
    if let (Some(acct), Some(caller)) = (account_of_root(v), p.account()) {
        if acct == caller {
            return Some(Grant::Account);
        }
    }
    None
}

#[derive(Debug, Clone)]
struct PatternList {
    negated: bool,
    patterns: Box<[Pattern]>,
}

/// One compiled statement.
#[derive(Debug, Clone)]
pub(crate) struct CompiledStatement {
    pub(crate) sid: Option<Box<str>>,
    pub(crate) effect: Effect,
    principal: Option<PrincipalMatcher>,
    actions: PatternList,
    resources: Option<PatternList>,
    conditions: Box<[Condition]>,
    vars: Box<[VarRef]>,
    /// Service prefixes of the `Action` patterns, when all are literal.
    services: Option<Box<[Box<str>]>>,
}

/// Variables resolved once per statement evaluation, without allocating.
const MAX_INLINE_VARS: usize = 16;

impl CompiledStatement {
    fn compile(st: &iam_domain::policy::Statement, variables: bool) -> CompiledStatement {
        let mut vars = Vec::new();
        let actions = PatternList {
            negated: st.action.negated,
            patterns: st
                .action
                .patterns
                .values
                .iter()
                .map(|a| Pattern::compile(a, Wildcards::On, true, false, &mut vars))
                .collect(),
        };
        let resources = st.resource.as_ref().map(|r| PatternList {
            negated: r.negated,
            patterns: r
                .patterns
                .values
                .iter()
                .map(|t| Pattern::compile(t, Wildcards::On, false, variables, &mut vars))
                .collect(),
        });
        let principal = st.principal.as_ref().map(|p| match &p.principals {
            Principals::Any => PrincipalMatcher {
                negated: p.negated,
                any: true,
                entries: Box::new([]),
            },
            Principals::Map(m) => PrincipalMatcher {
                negated: p.negated,
                any: m
                    .iter()
                    .any(|(t, l)| *t == PrincipalType::Aws && l.values.iter().any(|v| v == "*")),
                entries: m
                    .iter()
                    .flat_map(|(t, l)| l.values.iter().map(move |v| (*t, v.as_str().into())))
                    .collect(),
            },
        });
        let services = st
            .action
            .patterns
            .values
            .iter()
            .map(|a| {
                let (svc, _) = a.split_once(':')?;
                (!svc.contains(['*', '?'])).then(|| svc.to_ascii_lowercase().into_boxed_str())
            })
            .collect::<Option<Box<[Box<str>]>>>();
        let mut conditions = Vec::new();
        for block in &st.condition {
            Condition::compile_block(block, variables, &mut vars, &mut conditions);
        }
        CompiledStatement {
            sid: st.sid.as_deref().map(Into::into),
            effect: st.effect,
            principal,
            actions,
            resources,
            conditions: conditions.into_boxed_slice(),
            vars: vars.into_boxed_slice(),
            services,
        }
    }

    /// The lowercased service prefixes this statement can match, or `None`
    /// when it cannot be indexed (matches actions of unknown services).
    fn services(&self) -> Option<Vec<String>> {
        if self.actions.negated {
            return None;
        }
        self.services
            .as_ref()
            .map(|s| s.iter().map(|x| x.to_string()).collect())
    }

    /// The literal prefixes every matching resource starts with, one per
    /// `Resource` pattern, or `None` when some resource cannot be narrowed.
    fn resource_prefixes(&self) -> Option<Vec<String>> {
        let r = self.resources.as_ref()?;
        if r.negated {
            return None;
        }
        r.patterns
            .iter()
            .map(|p| {
                Some(p.literal_prefix())
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            })
            .collect()
    }

    /// Whether the statement applies to the request, and with which grant
    /// when it has a `Principal` (`Some(Direct)` when it has none).
    pub(crate) fn applies(&self, req: &Request) -> Option<Grant> {
        self.check(req, true)
    }

    /// Whether the statement's `Action`, `Resource` and `Principal` match
    /// the request, its `Condition` not weighed.
    pub(crate) fn in_scope(&self, req: &Request) -> bool {
        self.check(req, false).is_some()
    }

    fn check(&self, req: &Request, conditions: bool) -> Option<Grant> {
        let action_hit = self
            .actions
            .patterns
            .iter()
            .any(|p| p.matches(&req.action, &|_| None));
        if action_hit == self.actions.negated {
            return None;
        }
        let ctx = &req.context;
        // Resolve the statement's variables once; most statements have none,
        // and then nothing is resolved at all.
        let mut inline: [Option<&str>; MAX_INLINE_VARS] = [None; MAX_INLINE_VARS];
        if !self.vars.is_empty() {
            for (slot, v) in inline.iter_mut().zip(self.vars.iter()) {
                *slot = resolve_var(v, req);
            }
        }
        let resolve = |i: u16| -> Option<&str> {
            let i = usize::from(i);
            if i < MAX_INLINE_VARS {
                inline[i]
            } else {
                self.vars.get(i).and_then(|v| resolve_var(v, req))
            }
        };
        if let Some(r) = &self.resources {
            let hit = r
                .patterns
                .iter()
                .any(|p| p.matches(&req.resource, &resolve));
            if hit == r.negated {
                return None;
            }
        }
        let grant = match &self.principal {
            None => Grant::Direct,
            Some(m) if m.negated => {
                if m.excludes(req, self.effect) {
                    return None;
                }
                Grant::Direct
            }
            Some(m) => m.grant_for(req)?,
        };
        if !conditions || self.conditions.iter().all(|c| c.evaluate(ctx, &resolve)) {
            Some(grant)
        } else {
            None
        }
    }
}

/// The value of a policy variable: the key's single value, else its default.
/// A multi-valued key cannot be a variable, so it counts as having no value.
fn resolve_var<'a>(v: &'a VarRef, req: &'a Request) -> Option<&'a str> {
    match req.context.get_lower(&v.key) {
        Some([one]) => Some(one.as_str()),
        _ => v.default.as_deref(),
    }
}

/// A policy compiled for evaluation.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    pub(crate) statements: Box<[CompiledStatement]>,
}

impl CompiledStatement {
    /// Whether this statement reads the context key `lowercase_key`, in a
    /// condition or through a policy variable.
    fn reads_key(&self, lowercase_key: &str) -> bool {
        self.conditions.iter().any(|c| c.key() == lowercase_key)
            || self.vars.iter().any(|v| &*v.key == lowercase_key)
    }
}

impl CompiledPolicy {
    /// Whether any statement reads the context key `key` (keys are
    /// case-insensitive), in a condition or through a policy variable: a
    /// decision that reads none of a request's changing keys is the same
    /// for every value of them.
    pub fn reads_key(&self, key: &str) -> bool {
        let key = key.to_ascii_lowercase();
        self.statements.iter().any(|s| s.reads_key(&key))
    }

    /// Compile a parsed document. Compilation cannot fail: everything that
    /// could be wrong was rejected by the parser.
    pub fn compile(doc: &PolicyDocument) -> CompiledPolicy {
        let variables = doc.variables_enabled();
        CompiledPolicy {
            statements: doc
                .statements()
                .iter()
                .map(|s| CompiledStatement::compile(s, variables))
                .collect(),
        }
    }

    /// The number of statements.
    pub fn len(&self) -> usize {
        self.statements.len()
    }

    /// Whether the policy has no statements (never true for a parsed policy).
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// The `Sid` of statement `i`.
    pub fn sid(&self, i: usize) -> Option<&str> {
        self.statements.get(i).and_then(|s| s.sid.as_deref())
    }
}

/// A reference to statement `stmt` of policy `policy` within a set.
pub(crate) type StmtRef = (u32, u32);

/// The most candidate lists one lookup merges before falling back to a scan.
const MAX_LISTS: usize = 16;

/// Statements of one action bucket, further indexed by the literal prefix of
/// their `Resource` patterns: a request for `arn:aws:s3:::bucket-7/x` only
/// looks at statements whose resources start like it.
#[derive(Debug, Clone, Default)]
struct Bucket {
    /// Every statement of the bucket, in order (the fallback scan).
    all: Box<[StmtRef]>,
    /// Statements the resource index cannot narrow: no `Resource`,
    /// `NotResource`, or a pattern starting with a wildcard or variable.
    any_resource: Box<[StmtRef]>,
    /// Statements by the literal prefix of each of their resource patterns.
    by_prefix: HashMap<Box<str>, Box<[StmtRef]>>,
    /// The distinct prefix lengths of `by_prefix`, ascending.
    lens: Box<[usize]>,
}

impl Bucket {
    fn build(refs: Vec<StmtRef>, policies: &[CompiledPolicy]) -> Bucket {
        let mut any_resource = Vec::new();
        let mut by_prefix: HashMap<Box<str>, Vec<StmtRef>> = HashMap::new();
        for &r in &refs {
            let prefixes = policies
                .get(r.0 as usize)
                .and_then(|p| p.statements.get(r.1 as usize))
                .and_then(CompiledStatement::resource_prefixes);
            match prefixes {
                Some(mut ps) => {
                    ps.sort();
                    ps.dedup();
                    for p in ps {
                        by_prefix.entry(p.into()).or_default().push(r);
                    }
                }
                None => any_resource.push(r),
            }
        }
        let mut lens: Vec<usize> = by_prefix.keys().map(|k| k.len()).collect();
        lens.sort_unstable();
        lens.dedup();
        Bucket {
            all: refs.into_boxed_slice(),
            any_resource: any_resource.into_boxed_slice(),
            by_prefix: by_prefix
                .into_iter()
                .map(|(k, v)| (k, v.into_boxed_slice()))
                .collect(),
            lens: lens.into_boxed_slice(),
        }
    }

    /// Add the candidate lists for `resource`; `false` when they do not fit.
    fn candidates<'a>(&'a self, resource: &str, lists: &mut Lists<'a>) -> bool {
        if !lists.push(&self.any_resource) {
            return false;
        }
        for &len in self.lens.iter() {
            let Some(head) = resource.get(..len) else {
                if len > resource.len() {
                    break;
                }
                continue;
            };
            if let Some(hit) = self.by_prefix.get(head) {
                if !lists.push(hit) {
                    return false;
                }
            }
        }
        true
    }
}

/// A fixed set of sorted candidate lists, merged without allocating.
struct Lists<'a> {
    items: [&'a [StmtRef]; MAX_LISTS],
    len: usize,
}

impl<'a> Lists<'a> {
    fn new() -> Self {
        Lists {
            items: [&[]; MAX_LISTS],
            len: 0,
        }
    }

    fn push(&mut self, list: &'a [StmtRef]) -> bool {
        if list.is_empty() {
            return true;
        }
        match self.items.get_mut(self.len) {
            Some(slot) => {
                *slot = list;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// The next smallest statement across the lists, each once.
    fn next(&mut self) -> Option<StmtRef> {
        let live = &mut self.items[..self.len];
        let min = live.iter().filter_map(|l| l.first()).min().copied()?;
        for l in live.iter_mut() {
            if l.first() == Some(&min) {
                *l = &l[1..];
            }
        }
        Some(min)
    }
}

/// The policies of one layer with an index of their statements.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    pub(crate) policies: Vec<CompiledPolicy>,
    /// Statements whose actions all name one of a few literal service prefixes.
    by_service: HashMap<Box<str>, Bucket>,
    /// Statements that may match any service (`*`, `NotAction`, `*:Get*`).
    generic: Bucket,
}

impl PolicySet {
    /// Whether any of the set's policies reads the context key `key`.
    pub fn reads_key(&self, key: &str) -> bool {
        self.policies.iter().any(|p| p.reads_key(key))
    }
}

impl PolicySet {
    /// Group policies and build the index.
    pub fn new(policies: Vec<CompiledPolicy>) -> PolicySet {
        let mut by_service: HashMap<Box<str>, Vec<StmtRef>> = HashMap::new();
        let mut generic = Vec::new();
        for (pi, p) in policies.iter().enumerate() {
            for (si, s) in p.statements.iter().enumerate() {
                let r = (pi as u32, si as u32);
                match s.services() {
                    Some(mut services) => {
                        services.sort();
                        services.dedup();
                        for svc in services {
                            by_service.entry(svc.into()).or_default().push(r);
                        }
                    }
                    None => generic.push(r),
                }
            }
        }
        let by_service = by_service
            .into_iter()
            .map(|(k, v)| (k, Bucket::build(v, &policies)))
            .collect();
        let generic = Bucket::build(generic, &policies);
        PolicySet {
            policies,
            by_service,
            generic,
        }
    }

    /// The policies, in the order given.
    pub fn policies(&self) -> &[CompiledPolicy] {
        &self.policies
    }

    /// Whether the set has no policy.
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// Call `f` for every statement that applies to `req`, in policy then
    /// statement order. Only statements the index cannot rule out are tested.
    pub(crate) fn for_each_applying(
        &self,
        req: &Request,
        mut f: impl FnMut(StmtRef, Effect, Grant),
    ) {
        self.for_each_candidate(req, |r, st| {
            if let Some(g) = st.applies(req) {
                f(r, st.effect, g);
            }
        });
    }

    /// Call `f` for every statement whose `Action`, `Resource` and
    /// `Principal` match `req`, whether or not its `Condition` holds, in
    /// policy then statement order.
    pub(crate) fn for_each_in_scope(&self, req: &Request, mut f: impl FnMut(StmtRef, Effect)) {
        self.for_each_candidate(req, |r, st| {
            if st.in_scope(req) {
                f(r, st.effect);
            }
        });
    }

    /// Call `f` for every statement the index cannot rule out for `req`.
    fn for_each_candidate(&self, req: &Request, mut f: impl FnMut(StmtRef, &CompiledStatement)) {
        let bucket = self.by_service.get(req.service.as_str());
        let mut lists = Lists::new();
        let fits = bucket.is_none_or(|b| b.candidates(&req.resource, &mut lists))
            && self.generic.candidates(&req.resource, &mut lists);
        if !fits {
            // Too many candidate lists: scan both buckets whole instead.
            lists = Lists::new();
            lists.push(bucket.map_or(&[], |b| &b.all));
            lists.push(&self.generic.all);
        }
        while let Some(r) = lists.next() {
            let Some(st) = self
                .policies
                .get(r.0 as usize)
                .and_then(|p| p.statements.get(r.1 as usize))
            else {
                continue;
            };
            f(r, st);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{Context, Principal};

    fn request_by(principal: &str) -> Request {
        Request::new(
            if principal.is_empty() {
                Principal::anonymous()
            } else {
                Principal::parse(principal)
            },
            "s3:GetObject",
            "arn:aws:s3:::bucket/key",
            Some("999988887777".into()),
            Context::new(),
            chrono::DateTime::from_timestamp(0, 0).unwrap_or_default(),
        )
    }

    /// Whether a one-statement resource policy with `NotPrincipal` applies.
    fn not_principal_applies(effect: &str, listed: &[&str], caller: &str) -> bool {
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"{effect}","NotPrincipal":{{"AWS":{}}},"Action":"s3:*","Resource":"*"}}]}}"#,
            serde_json::to_string(listed).expect("json")
        );
        let doc = iam_domain::policy::PolicyDocument::parse(&text).expect("valid");
        let policy = CompiledPolicy::compile(&doc);
        policy.statements[0].applies(&request_by(caller)).is_some()
    }

    const USER: &str = "arn:aws:iam::111122223333:user/bob";
    const ACCOUNT: &str = "arn:aws:iam::111122223333:root";
    const ROLE: &str = "arn:aws:iam::111122223333:role/R";
    const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/R/s1";

    /// `Deny` with `NotPrincipal` spares a caller only when every identity
    /// of its chain is listed: a deny is hard to escape.
    #[test]
    fn not_principal_deny_spares_only_a_fully_listed_chain() {
        let deny = |listed: &[&str], caller: &str| not_principal_applies("Deny", listed, caller);
        assert!(!deny(&[USER, ACCOUNT], USER));
        assert!(deny(&[USER], USER), "the account is not listed");
        assert!(deny(&[ACCOUNT], USER), "the user is not listed");
        assert!(deny(
            &[USER, ACCOUNT],
            "arn:aws:iam::111122223333:user/alice"
        ));
        assert!(!deny(&[SESSION, ROLE, ACCOUNT], SESSION));
        assert!(deny(&[SESSION, ACCOUNT], SESSION), "the role is not listed");
        assert!(deny(&[ROLE, ACCOUNT], SESSION), "the session is not listed");
        assert!(
            !deny(&[ROLE, ACCOUNT], ROLE),
            "a bare role ARN is its own session"
        );
        assert!(!deny(&[ACCOUNT], ACCOUNT));
        assert!(deny(&[USER, ACCOUNT], ""), "anonymous is never spared");
    }

    /// `Allow` with `NotPrincipal` leaves a caller out as soon as any
    /// identity of its chain is listed: an allow is hard to obtain.
    #[test]
    fn not_principal_allow_leaves_out_a_caller_with_any_listed_identity() {
        let allow = |listed: &[&str], caller: &str| not_principal_applies("Allow", listed, caller);
        assert!(!allow(&[USER], USER), "the caller's own ARN is listed");
        assert!(!allow(&[USER, ACCOUNT], USER));
        assert!(!allow(&[ACCOUNT], USER), "the caller's account is listed");
        assert!(allow(&[USER], "arn:aws:iam::111122223333:user/alice"));
        assert!(allow(&[USER], "arn:aws:iam::444455556666:user/bob"));
        assert!(!allow(&[SESSION], SESSION));
        assert!(!allow(&[ROLE], SESSION), "the session's role is listed");
        assert!(!allow(&[ACCOUNT], SESSION));
        assert!(allow(
            &["arn:aws:sts::111122223333:assumed-role/R/s2"],
            SESSION
        ));
        assert!(!allow(&[ROLE], ROLE));
        assert!(!allow(&[ACCOUNT], ACCOUNT));
        assert!(allow(&[USER], ACCOUNT));
        assert!(allow(&[USER, ACCOUNT], ""), "anonymous is never listed");
    }

    /// The index must find exactly the statements a full scan finds.
    #[test]
    fn index_agrees_with_a_full_scan() {
        let resources = [
            "*",
            "arn:aws:s3:::b",
            "arn:aws:s3:::b/*",
            "arn:aws:s3:::b/k",
            "arn:aws:s3:::b*",
            "arn:aws:s3:::*/k",
            "arn:aws:s3:::${aws:username}/*",
            "arn:aws:s3:::é/*",
            "arn:aws:s3:::other/?",
        ];
        let actions = [
            "*",
            "s3:*",
            "s3:Get*",
            "*:GetObject",
            "ec2:*",
            "s3:GetObject",
        ];
        let mut policies = Vec::new();
        let mut n = 0usize;
        for a in actions {
            for r in resources {
                for not_resource in [false, true] {
                    n += 1;
                    // Pad prefixes of many lengths to overflow MAX_LISTS sometimes.
                    let extra = format!("arn:aws:s3:::b/{}", "x".repeat(n % 24));
                    let key = if not_resource {
                        "NotResource"
                    } else {
                        "Resource"
                    };
                    let text = format!(
                        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{a}","{key}":["{r}","{extra}"]}},{{"Effect":"Deny","Action":"{a}","Resource":"{r}"}}]}}"#
                    );
                    let doc = iam_domain::policy::PolicyDocument::parse(&text).expect("valid");
                    policies.push(CompiledPolicy::compile(&doc));
                }
            }
        }
        let set = PolicySet::new(policies.clone());
        let small = PolicySet::new(policies[..5].to_vec());
        for action in [
            "s3:GetObject",
            "S3:getobject",
            "ec2:RunInstances",
            "iam:GetUser",
        ] {
            for resource in [
                "arn:aws:s3:::b/k",
                "arn:aws:s3:::b",
                "arn:aws:s3:::bb",
                "arn:aws:s3:::alice/k",
                "arn:aws:s3:::é/k",
                "arn:aws:s3:::other/x",
                "arn:aws:s3:::b/xxxxxxxxxxxxxxxxxxxxxxx",
                "",
            ] {
                let req = Request::new(
                    Principal::parse("arn:aws:iam::111122223333:user/alice"),
                    action,
                    resource,
                    None,
                    Context::new(),
                    chrono::DateTime::from_timestamp(0, 0).unwrap_or_default(),
                );
                for s in [&set, &small] {
                    let mut indexed = Vec::new();
                    s.for_each_applying(&req, |r, _, _| indexed.push(r));
                    let mut scanned = Vec::new();
                    for (pi, p) in s.policies.iter().enumerate() {
                        for (si, st) in p.statements.iter().enumerate() {
                            if st.applies(&req).is_some() {
                                scanned.push((pi as u32, si as u32));
                            }
                        }
                    }
                    assert_eq!(indexed, scanned, "{action} on {resource}");
                }
            }
        }
    }
}
