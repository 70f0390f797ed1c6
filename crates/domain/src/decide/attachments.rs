//! Attaching managed policies (customer managed and AWS's) to users, groups and roles, and
//! detaching them.

use std::collections::BTreeSet;

use super::entities::{
    attachable_policy, group, group_ref, modifiable_role, role_ref, user, user_ref,
};
use super::errors::limit;
use super::{not_routed_here, Ctx, Decision};
use crate::arn::Arn;
use crate::command::Command;
use crate::error::DomainError;
use crate::event::EventData;
use crate::names::NameKey;
use crate::state::EntityRef;

pub(super) fn decide(ctx: &Ctx, command: &Command) -> Decision {
    let (state, quotas) = (ctx.state, ctx.quotas);
    match command {
        Command::AttachUserPolicy {
            user_name,
            policy_arn,
        } => {
            let u = user(state, user_name)?;
            let quota = ("PolicyAttachmentsPerUser", quotas.managed_policies_per_user);
            attach(ctx, user_ref(u), &u.attached_policies, policy_arn, quota)
        }
        Command::AttachGroupPolicy {
            group_name,
            policy_arn,
        } => {
            let g = group(state, group_name)?;
            let quota = (
                "PolicyAttachmentsPerGroup",
                quotas.managed_policies_per_group,
            );
            attach(ctx, group_ref(g), &g.attached_policies, policy_arn, quota)
        }
        Command::AttachRolePolicy {
            role_name,
            policy_arn,
        } => {
            let r = modifiable_role(state, role_name)?;
            let quota = ("PolicyAttachmentsPerRole", quotas.managed_policies_per_role);
            attach(ctx, role_ref(r), &r.attached_policies, policy_arn, quota)
        }
        Command::DetachUserPolicy {
            user_name,
            policy_arn,
        } => {
            let u = user(state, user_name)?;
            detach(ctx, user_ref(u), &u.attached_policies, policy_arn)
        }
        Command::DetachGroupPolicy {
            group_name,
            policy_arn,
        } => {
            let g = group(state, group_name)?;
            detach(ctx, group_ref(g), &g.attached_policies, policy_arn)
        }
        Command::DetachRolePolicy {
            role_name,
            policy_arn,
        } => {
            let r = modifiable_role(state, role_name)?;
            detach(ctx, role_ref(r), &r.attached_policies, policy_arn)
        }
        other => not_routed_here(other, "attachment"),
    }
}

/// Attaches the policy `arn` names to `target`, whose attached policies are
/// `attached`, within the `(name, value)` quota; attaching it again records
/// nothing.
fn attach(
    ctx: &Ctx,
    target: EntityRef,
    attached: &BTreeSet<NameKey>,
    arn: &Arn,
    (quota, max): (&str, usize),
) -> Decision {
    let (key, policy_arn) = attachable_policy(ctx.state, arn)?;
    if attached.contains(&key) {
        return Ok(vec![]);
    }
    if attached.len() >= max {
        return Err(limit(quota, max));
    }
    ctx.one(EventData::ManagedPolicyAttached { target, policy_arn })
}

fn detach(ctx: &Ctx, target: EntityRef, attached: &BTreeSet<NameKey>, arn: &Arn) -> Decision {
    let (key, policy_arn) = attachable_policy(ctx.state, arn)?;
    if !attached.contains(&key) {
        return Err(DomainError::NoSuchEntity(format!(
            "Policy {arn} was not found."
        )));
    }
    ctx.one(EventData::ManagedPolicyDetached { target, policy_arn })
}
