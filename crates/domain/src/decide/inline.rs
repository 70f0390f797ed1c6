//! Inline policies embedded in users, groups and roles: putting and deleting them.

use std::collections::BTreeMap;

use super::documents::check_document;
use super::entities::{group, group_ref, modifiable_role, role_ref, user, user_ref};
use super::errors::{limit, not_found};
use super::{not_routed_here, Ctx, Decision};
use crate::command::Command;
use crate::event::EventData;
use crate::names::{InlinePolicyName, NameKey};
use crate::policy::PolicyKind;
use crate::quotas::policy_size;
use crate::state::{EntityRef, InlinePolicy};

pub(super) fn decide(ctx: &Ctx, command: &Command) -> Decision {
    let (state, quotas) = (ctx.state, ctx.quotas);
    match command {
        Command::PutUserPolicy {
            user_name,
            policy_name,
            policy_document,
        } => {
            let u = user(state, user_name)?;
            let quota = ("UserPolicySize", quotas.user_inline_policy_size);
            let existing = &u.inline_policies;
            put(
                ctx,
                user_ref(u),
                existing,
                policy_name,
                policy_document,
                quota,
            )
        }
        Command::PutGroupPolicy {
            group_name,
            policy_name,
            policy_document,
        } => {
            let g = group(state, group_name)?;
            let quota = ("GroupPolicySize", quotas.group_inline_policy_size);
            let existing = &g.inline_policies;
            put(
                ctx,
                group_ref(g),
                existing,
                policy_name,
                policy_document,
                quota,
            )
        }
        Command::PutRolePolicy {
            role_name,
            policy_name,
            policy_document,
        } => {
            let r = modifiable_role(state, role_name)?;
            let quota = ("RolePolicySize", quotas.role_inline_policy_size);
            let existing = &r.inline_policies;
            put(
                ctx,
                role_ref(r),
                existing,
                policy_name,
                policy_document,
                quota,
            )
        }
        Command::DeleteUserPolicy {
            user_name,
            policy_name,
        } => {
            let u = user(state, user_name)?;
            delete(ctx, user_ref(u), &u.inline_policies, policy_name)
        }
        Command::DeleteGroupPolicy {
            group_name,
            policy_name,
        } => {
            let g = group(state, group_name)?;
            delete(ctx, group_ref(g), &g.inline_policies, policy_name)
        }
        Command::DeleteRolePolicy {
            role_name,
            policy_name,
        } => {
            let r = modifiable_role(state, role_name)?;
            delete(ctx, role_ref(r), &r.inline_policies, policy_name)
        }
        other => not_routed_here(other, "inline policy"),
    }
}

/// Puts (adds or replaces) inline policy `name` in `target`, whose inline
/// policies are `existing`, keeping the sum of their sizes within the
/// `(name, value)` quota.
fn put(
    ctx: &Ctx,
    target: EntityRef,
    existing: &BTreeMap<NameKey, InlinePolicy>,
    name: &InlinePolicyName,
    doc: &str,
    (quota, max): (&str, usize),
) -> Decision {
    check_document(doc, PolicyKind::Identity, "policyDocument")?;
    let others: usize = existing
        .iter()
        .filter(|(k, _)| **k != name.key())
        .map(|(_, p)| policy_size(&p.document))
        .sum();
    if others + policy_size(doc) > max {
        return Err(limit(quota, max));
    }
    // Re-putting under a different case keeps the stored spelling (case-insensitive names).
    let policy_name = existing
        .get(&name.key())
        .map_or_else(|| name.clone(), |p| p.name.clone());
    ctx.one(EventData::InlinePolicyPut {
        target,
        policy_name,
        policy_document: doc.to_owned(),
    })
}

fn delete(
    ctx: &Ctx,
    target: EntityRef,
    existing: &BTreeMap<NameKey, InlinePolicy>,
    name: &InlinePolicyName,
) -> Decision {
    let p = existing
        .get(&name.key())
        .ok_or_else(|| not_found("policy", name))?;
    ctx.one(EventData::InlinePolicyDeleted {
        target,
        policy_name: p.name.clone(),
    })
}
