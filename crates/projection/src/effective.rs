//! A principal's effective policy set: every identity-based policy that
//! applies to it, compiled, plus its permissions boundary. For a user that is
//! its inline policies, its attached managed policies (default versions), and
//! the inline and attached policies of each of its groups; for a role, its
//! inline and attached policies.

use iam_domain::names::NameKey;
use iam_domain::policy::PolicyDocument;
use iam_domain::state::{Group, InlinePolicy, ManagedPolicy, Role, Shared, User};
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

/// What a principal's effective policies were read from: the entities
/// themselves, as shared with the state they came from, and the keys that
/// named nothing. Policies built from them are still right for any later
/// state in which every one of them is the same entity (entities are copied
/// on change, see [`Shared::ptr_eq`]) or still absent; checking that costs a
/// lookup per input, against compiling every document again.
#[derive(Debug, Default)]
pub(crate) struct Inputs {
    user: Option<Shared<User>>,
    role: Option<Shared<Role>>,
    groups: Vec<(NameKey, Option<Shared<Group>>)>,
    policies: Vec<(NameKey, Option<Shared<ManagedPolicy>>)>,
}

fn same<T>(now: Option<&Shared<T>>, then: &Option<Shared<T>>) -> bool {
    match (now, then) {
        (Some(a), Some(b)) => Shared::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

impl Inputs {
    /// Whether policies built from these inputs are still right in `state`.
    pub(crate) fn still_current(&self, state: &AccountState, principal: &PrincipalKey) -> bool {
        let me = match principal {
            PrincipalKey::User(key) => same(state.users.get(key), &self.user),
            PrincipalKey::Role(key) => same(state.roles.get(key), &self.role),
        };
        me && self
            .groups
            .iter()
            .all(|(key, group)| same(state.groups.get(key), group))
            && self
                .policies
                .iter()
                .all(|(key, policy)| same(state.policies.get(key), policy))
    }

    fn policy<'a>(&mut self, state: &'a AccountState, key: &NameKey) -> Option<&'a ManagedPolicy> {
        let found = state.policies.get(key);
        self.policies.push((key.clone(), found.cloned()));
        found.map(|p| &**p)
    }
}

fn managed_default<'a>(
    state: &'a AccountState,
    key: &NameKey,
    inputs: &mut Inputs,
) -> Option<&'a str> {
    let policy = inputs.policy(state, key)?;
    policy
        .versions
        .get(&policy.default_version)
        .map(|v| v.document.as_str())
}

fn boundary(
    state: &AccountState,
    arn: Option<&Arn>,
    inputs: &mut Inputs,
) -> Option<CompiledPolicy> {
    let arn = arn?;
    if let Arn::Policy { name, .. } = arn {
        inputs.policy(state, &name.key());
    }
    let policy = state.policy_by_arn(arn)?;
    policy
        .versions
        .get(&policy.default_version)
        .and_then(|v| compile(&v.document))
}

impl EffectivePolicies {
    pub fn build(state: &AccountState, principal: &PrincipalKey) -> Option<EffectivePolicies> {
        Self::build_with_inputs(state, principal).map(|(built, _)| built)
    }

    /// [`EffectivePolicies::build`], with what the policies were read from.
    pub(crate) fn build_with_inputs(
        state: &AccountState,
        principal: &PrincipalKey,
    ) -> Option<(EffectivePolicies, Inputs)> {
        let mut inputs = Inputs::default();
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
                inputs.user = Some(user.clone());
                let me = format!("user/{}", user.name.as_str());
                for p in user.inline_policies.values() {
                    let (label, doc) = inline(&me, p);
                    add(label, Some(&doc));
                }
                for k in &user.attached_policies {
                    add(
                        format!("policy/{}", k.as_str()),
                        managed_default(state, k, &mut inputs),
                    );
                }
                for g in &user.groups {
                    let group = state.groups.get(g);
                    inputs.groups.push((g.clone(), group.cloned()));
                    let Some(group) = group else {
                        continue;
                    };
                    let owner = format!("group/{}", group.name.as_str());
                    for p in group.inline_policies.values() {
                        let (label, doc) = inline(&owner, p);
                        add(label, Some(&doc));
                    }
                    for k in &group.attached_policies {
                        add(
                            format!("policy/{}", k.as_str()),
                            managed_default(state, k, &mut inputs),
                        );
                    }
                }
                boundary(state, user.permissions_boundary.as_ref(), &mut inputs)
            }
            PrincipalKey::Role(key) => {
                let role = state.roles.get(key)?;
                inputs.role = Some(role.clone());
                let me = format!("role/{}", role.name.as_str());
                for p in role.inline_policies.values() {
                    let (label, doc) = inline(&me, p);
                    add(label, Some(&doc));
                }
                for k in &role.attached_policies {
                    add(
                        format!("policy/{}", k.as_str()),
                        managed_default(state, k, &mut inputs),
                    );
                }
                boundary(state, role.permissions_boundary.as_ref(), &mut inputs)
            }
        };
        let mut authorizer = Authorizer::new(PolicySet::new(compiled));
        if let Some(b) = bound {
            authorizer = authorizer.with_permissions_boundary(b);
        }
        Some((
            EffectivePolicies {
                sources,
                authorizer,
            },
            inputs,
        ))
    }
}
