//! A principal's effective policy set: every identity-based policy that
//! applies to it, compiled, plus its permissions boundary. For a user that is
//! its inline policies, its attached managed policies (default versions), and
//! the inline and attached policies of each of its groups; for a role, its
//! inline and attached policies.

use iam_domain::names::NameKey;
use iam_domain::policy::PolicyDocument;
use iam_domain::state::InlinePolicy;
use iam_domain::{AccountState, Arn};
use iam_evaluator::{Authorizer, CompiledPolicy, PolicySet};

/// Which principal of the account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PrincipalKey {
    User(NameKey),
    Role(NameKey),
}

/// The compiled policies of one principal, with where each came from.
#[derive(Debug)]
pub struct EffectivePolicies {
    /// `user/alice inline Name`, `policy/Name` (managed), `group/devs inline Name`, ...
    pub sources: Vec<String>,
    pub authorizer: Authorizer,
}

fn compile(document: &str) -> Option<CompiledPolicy> {
    // Stored documents were validated by `decide`; one that no longer parses
    // (a parser change) grants nothing rather than failing the principal.
    PolicyDocument::parse(document)
        .ok()
        .map(|d| CompiledPolicy::compile(&d))
}

fn managed_default<'a>(state: &'a AccountState, key: &NameKey) -> Option<&'a str> {
    let policy = state.policies.get(key)?;
    policy
        .versions
        .get(&policy.default_version)
        .map(|v| v.document.as_str())
}

fn boundary(state: &AccountState, arn: Option<&Arn>) -> Option<CompiledPolicy> {
    let policy = state.policy_by_arn(arn?)?;
    policy
        .versions
        .get(&policy.default_version)
        .and_then(|v| compile(&v.document))
}

impl EffectivePolicies {
    pub fn build(state: &AccountState, principal: &PrincipalKey) -> Option<EffectivePolicies> {
        let mut sources = Vec::new();
        let mut compiled = Vec::new();
        let mut add = |label: String, document: Option<&str>| {
            if let Some(p) = document.and_then(compile) {
                sources.push(label);
                compiled.push(p);
            }
        };
        let inline = |owner: &str, p: &InlinePolicy| {
            (
                format!("{owner} inline {}", p.name.as_str()),
                p.document.clone(),
            )
        };
        let bound = match principal {
            PrincipalKey::User(key) => {
                let user = state.users.get(key)?;
                let me = format!("user/{}", user.name.as_str());
                for p in user.inline_policies.values() {
                    let (label, doc) = inline(&me, p);
                    add(label, Some(&doc));
                }
                for k in &user.attached_policies {
                    add(format!("policy/{}", k.as_str()), managed_default(state, k));
                }
                for g in &user.groups {
                    let Some(group) = state.groups.get(g) else {
                        continue;
                    };
                    let owner = format!("group/{}", group.name.as_str());
                    for p in group.inline_policies.values() {
                        let (label, doc) = inline(&owner, p);
                        add(label, Some(&doc));
                    }
                    for k in &group.attached_policies {
                        add(format!("policy/{}", k.as_str()), managed_default(state, k));
                    }
                }
                boundary(state, user.permissions_boundary.as_ref())
            }
            PrincipalKey::Role(key) => {
                let role = state.roles.get(key)?;
                let me = format!("role/{}", role.name.as_str());
                for p in role.inline_policies.values() {
                    let (label, doc) = inline(&me, p);
                    add(label, Some(&doc));
                }
                for k in &role.attached_policies {
                    add(format!("policy/{}", k.as_str()), managed_default(state, k));
                }
                boundary(state, role.permissions_boundary.as_ref())
            }
        };
        let mut authorizer = Authorizer::new(PolicySet::new(compiled));
        if let Some(b) = bound {
            authorizer = authorizer.with_permissions_boundary(b);
        }
        Some(EffectivePolicies {
            sources,
            authorizer,
        })
    }
}
