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

/// What a stored document that must apply is compiled to when it no longer
/// parses: a single `Deny` of every action on every resource, so a broken
/// document never widens access (docs/policy-semantics.md).
const UNREADABLE: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"StoredPolicyUnreadable","Effect":"Deny","Action":"*","Resource":"*"}]}"#;

/// The policy that denies everything (see [`UNREADABLE`]).
fn deny_everything() -> CompiledPolicy {
    // INVARIANT: the constant parses (unit test below).
    let doc = PolicyDocument::parse(UNREADABLE).expect("the deny-everything policy parses");
    CompiledPolicy::compile(&doc)
}

/// What a stored identity policy document contributes.
enum Stored {
    Policy(CompiledPolicy),
    /// It does not parse, but it is JSON whose every statement is an
    /// `Allow`: dropping it can only narrow access.
    DroppedAllow,
    /// It does not parse and may hold a `Deny` (or is not even JSON):
    /// the principal is denied everything.
    DenyEverything(CompiledPolicy),
}

/// Whether `document` is JSON whose `Statement` (one object or an array of
/// them) holds only statements with `"Effect": "Allow"`.
fn only_allows(document: &str) -> bool {
    let Ok(serde_json::Value::Object(doc)) = serde_json::from_str::<serde_json::Value>(document)
    else {
        return false;
    };
    let is_allow =
        |s: &serde_json::Value| s.get("Effect").and_then(|e| e.as_str()) == Some("Allow");
    match doc.get("Statement") {
        Some(serde_json::Value::Array(statements)) => statements.iter().all(is_allow),
        Some(statement @ serde_json::Value::Object(_)) => is_allow(statement),
        _ => false,
    }
}

/// Compiles a stored identity policy. Stored documents were validated by
/// `decide`; one that no longer parses (a parser change, an event written
/// around `decide`) is logged and never broadens access: dropped when it
/// only allows, else it denies everything.
fn compile_stored(document: &str, label: &str) -> Stored {
    match PolicyDocument::parse(document) {
        Ok(d) => Stored::Policy(CompiledPolicy::compile(&d)),
        Err(e) if only_allows(document) => {
            tracing::warn!(policy = label, error = %e, "stored policy does not parse; its Allow statements are ignored");
            Stored::DroppedAllow
        }
        Err(e) => {
            tracing::error!(policy = label, error = %e, "stored policy does not parse and may deny; the principal is denied everything");
            Stored::DenyEverything(deny_everything())
        }
    }
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

impl Inputs {
    /// Whether policies built from these inputs are still right in `state`.
    pub(crate) fn still_current(&self, state: &AccountState, principal: &PrincipalKey) -> bool {
        let me = match principal {
            PrincipalKey::User(key) => Shared::unchanged(state.users.get(key), self.user.as_ref()),
            PrincipalKey::Role(key) => Shared::unchanged(state.roles.get(key), self.role.as_ref()),
        };
        me && self
            .groups
            .iter()
            .all(|(key, group)| Shared::unchanged(state.groups.get(key), group.as_ref()))
            && self
                .policies
                .iter()
                .all(|(key, policy)| Shared::unchanged(state.policies.get(key), policy.as_ref()))
    }

    fn policy<'a>(&mut self, state: &'a AccountState, key: &NameKey) -> Option<&'a ManagedPolicy> {
        let found = state.policies.get(key);
        self.policies.push((key.clone(), found.cloned()));
        found.map(|p| &**p)
    }
}

/// How decisions name an attached managed policy: `policy/KEY` for the
/// account's own, `aws-policy/PATH/NAME` for the catalogue's.
fn managed_label(key: &NameKey) -> String {
    match iam_domain::aws_policies::by_attachment_key(key) {
        Some(p) => format!("aws-policy{}{}", p.path, p.name),
        None => format!("policy/{}", key.as_str()),
    }
}

/// The default version's document of the managed policy attached under
/// `key`: a customer managed policy of the account, or one of the
/// catalogue's (which never change, so they are no input to watch).
fn managed_default<'a>(
    state: &'a AccountState,
    key: &NameKey,
    inputs: &mut Inputs,
) -> Option<&'a str> {
    if let Some(p) = iam_domain::aws_policies::by_attachment_key(key) {
        return Some(p.document.as_str());
    }
    let policy = inputs.policy(state, key)?;
    policy
        .versions
        .get(&policy.default_version)
        .map(|v| v.document.as_str())
}

/// The compiled permissions boundary: `None` when there is none. A boundary
/// that is set but cannot be read (its document does not parse, or the
/// policy or its default version is missing) allows nothing: it denies
/// everything, and is logged.
fn boundary(
    state: &AccountState,
    arn: Option<&Arn>,
    inputs: &mut Inputs,
) -> Option<CompiledPolicy> {
    let arn = arn?;
    if let Arn::Policy { name, .. } = arn {
        inputs.policy(state, &name.key());
    }
    let document = match arn {
        Arn::AwsPolicy { path, name } => {
            iam_domain::aws_policies::find(path, name).map(|p| p.document.as_str())
        }
        _ => state
            .policy_by_arn(arn)
            .and_then(|p| p.versions.get(&p.default_version))
            .map(|v| v.document.as_str()),
    };
    let Some(document) = document else {
        tracing::error!(boundary = %arn, "permissions boundary not found; it denies everything");
        return Some(deny_everything());
    };
    match PolicyDocument::parse(document) {
        Ok(d) => Some(CompiledPolicy::compile(&d)),
        Err(e) => {
            tracing::error!(boundary = %arn, error = %e, "permissions boundary does not parse; it denies everything");
            Some(deny_everything())
        }
    }
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
            let Some(document) = document else { return };
            match compile_stored(document, &label) {
                Stored::Policy(p) => {
                    sources.push(label);
                    compiled.push(p);
                }
                Stored::DroppedAllow => {}
                Stored::DenyEverything(p) => {
                    sources.push(format!("{label} (unreadable: denies everything)"));
                    compiled.push(p);
                }
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
                    add(managed_label(k), managed_default(state, k, &mut inputs));
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
                        add(managed_label(k), managed_default(state, k, &mut inputs));
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
                    add(managed_label(k), managed_default(state, k, &mut inputs));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_everything_parses_and_denies() {
        let p = deny_everything();
        assert_eq!(p.len(), 1);
        assert_eq!(p.sid(0), Some("StoredPolicyUnreadable"));
    }

    #[test]
    fn only_allows_reads_the_statements() {
        assert!(only_allows(r#"{"Statement":{"Effect":"Allow","Bogus":1}}"#));
        assert!(only_allows(
            r#"{"Statement":[{"Effect":"Allow"},{"Effect":"Allow","X":2}]}"#
        ));
        assert!(!only_allows(
            r#"{"Statement":[{"Effect":"Allow"},{"Effect":"Deny"}]}"#
        ));
        assert!(!only_allows(r#"{"Statement":[{"Effect":"allow"}]}"#));
        assert!(!only_allows(r#"{"Statement":[{"Action":"*"}]}"#));
        assert!(!only_allows(r#"{"Statement":[]}x"#));
        assert!(!only_allows("not json"));
        assert!(!only_allows(r#"{"Version":"2012-10-17"}"#));
    }
}
