//! The identity policies stored for a user, group or role: its inline
//! policies, the default versions of its attached managed policies and, for
//! a user, its groups' — what `/v1/diff` compares and the simulator weighs.

use std::collections::{BTreeMap, BTreeSet};

use iam_domain::names::NameKey;
use iam_domain::state::InlinePolicy;
use iam_domain::{AccountState, Arn};

/// Where a stored policy comes from.
pub(super) enum Origin {
    /// Inline in the entity of this kind (`user`, `group`, `role`) and name.
    Inline { kind: &'static str, owner: String },
    /// A managed policy (the account's or AWS's) with this ARN.
    Managed { arn: String },
}

pub(super) struct StoredPolicy {
    pub origin: Origin,
    pub name: String,
    pub document: String,
}

/// The entity `arn` names, found by its name: its stored ARN, its policies
/// and its permissions boundary. `None` when there is no such user, group
/// or role.
pub(super) fn of(
    state: &AccountState,
    arn: &Arn,
) -> Option<(String, Vec<StoredPolicy>, Option<Arn>)> {
    let mut out = Vec::new();
    let inline = |out: &mut Vec<StoredPolicy>,
                  kind,
                  owner: &str,
                  policies: &BTreeMap<NameKey, InlinePolicy>| {
        for p in policies.values() {
            out.push(StoredPolicy {
                origin: Origin::Inline {
                    kind,
                    owner: owner.to_owned(),
                },
                name: p.name.as_str().to_owned(),
                document: p.document.clone(),
            });
        }
    };
    let attached = |out: &mut Vec<StoredPolicy>, keys: &BTreeSet<NameKey>| {
        for p in keys
            .iter()
            .filter_map(|k| super::shapes::Managed::by_key(state, k))
        {
            if let Some(document) = p.document() {
                out.push(StoredPolicy {
                    origin: Origin::Managed { arn: p.arn(state) },
                    name: p.name().to_owned(),
                    document: document.to_owned(),
                });
            }
        }
    };
    let (stored, boundary) = match arn {
        Arn::User { name, .. } => {
            let u = state.users.get(&name.key())?;
            inline(&mut out, "user", u.name.as_str(), &u.inline_policies);
            attached(&mut out, &u.attached_policies);
            for g in u.groups.iter().filter_map(|k| state.groups.get(k)) {
                inline(&mut out, "group", g.name.as_str(), &g.inline_policies);
                attached(&mut out, &g.attached_policies);
            }
            (state.user_arn(u)?, u.permissions_boundary.clone())
        }
        Arn::Group { name, .. } => {
            let g = state.groups.get(&name.key())?;
            inline(&mut out, "group", g.name.as_str(), &g.inline_policies);
            attached(&mut out, &g.attached_policies);
            (state.group_arn(g)?, None)
        }
        Arn::Role { name, .. } => {
            let r = state.roles.get(&name.key())?;
            inline(&mut out, "role", r.name.as_str(), &r.inline_policies);
            attached(&mut out, &r.attached_policies);
            (state.role_arn(r)?, r.permissions_boundary.clone())
        }
        _ => return None,
    };
    Some((stored.to_string(), out, boundary))
}
