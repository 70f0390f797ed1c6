//! Customer managed policies: creating and deleting them, and their versions.

use chrono::{DateTime, Utc};

use super::documents::check_managed_document;
use super::entities::{check_new, existing_policy, path_or_root};
use super::tags::check_new_tags;
use super::{not_routed_here, Ctx, Decision};
use crate::arn::Arn;
use crate::command::Command;
use crate::error::DomainError;
use crate::event::EventData;
use crate::ids::PolicyVersionId;
use crate::names::PolicyName;
use crate::state::ManagedPolicy;

pub(super) fn decide(ctx: &Ctx, command: &Command) -> Decision {
    let (state, quotas) = (ctx.state, ctx.quotas);
    match command {
        Command::CreatePolicy {
            policy_name,
            path,
            policy_id,
            policy_document,
            description,
            tags,
            now,
        } => {
            check_new(
                state,
                &state.policies,
                &policy_name.key(),
                || name_taken(policy_name),
                policy_id.as_str(),
                (
                    "PoliciesPerAccount",
                    quotas.customer_managed_policies_per_account,
                ),
            )?;
            check_managed_document(policy_document, quotas)?;
            check_new_tags(&Default::default(), tags, quotas)?;
            ctx.one(EventData::PolicyCreated {
                policy_name: policy_name.clone(),
                policy_id: policy_id.clone(),
                path: path_or_root(path),
                description: description.clone(),
                policy_document: policy_document.clone(),
                tags: tags.clone(),
                created_at: *now,
            })
        }
        Command::DeletePolicy { policy_arn } => delete(ctx, policy_arn),
        Command::CreatePolicyVersion {
            policy_arn,
            policy_document,
            set_as_default,
            now,
        } => create_version(ctx, policy_arn, policy_document, *set_as_default, *now),
        Command::DeletePolicyVersion {
            policy_arn,
            version_id,
        } => {
            let p = existing_version(ctx, policy_arn, *version_id)?;
            if p.default_version == *version_id {
                return Err(DomainError::DeleteConflict(
                    "Cannot delete the default version of a policy.".into(),
                ));
            }
            ctx.one(EventData::PolicyVersionDeleted {
                policy_name: p.name.clone(),
                version_id: *version_id,
            })
        }
        Command::SetDefaultPolicyVersion {
            policy_arn,
            version_id,
            now,
        } => {
            let p = existing_version(ctx, policy_arn, *version_id)?;
            if p.default_version == *version_id {
                return Ok(vec![]);
            }
            ctx.one(EventData::PolicyDefaultVersionSet {
                policy_name: p.name.clone(),
                version_id: *version_id,
                updated_at: *now,
            })
        }
        other => not_routed_here(other, "managed policy"),
    }
}

/// `EntityAlreadyExists` in the words AWS uses for policies.
fn name_taken(name: &PolicyName) -> DomainError {
    DomainError::EntityAlreadyExists(format!(
        "A policy called {name} already exists. Duplicate names are not allowed."
    ))
}

/// A new version gets the next number never used by the policy, within the
/// quota of stored versions.
fn create_version(
    ctx: &Ctx,
    policy_arn: &Arn,
    policy_document: &str,
    set_as_default: bool,
    now: DateTime<Utc>,
) -> Decision {
    let quotas = ctx.quotas;
    let p = existing_policy(ctx.state, policy_arn)?;
    if p.versions.len() >= quotas.versions_per_managed_policy {
        return Err(DomainError::LimitExceeded(format!(
            "A managed policy can have up to {} versions. Before you create a new version, you must delete an existing version.",
            quotas.versions_per_managed_policy
        )));
    }
    check_managed_document(policy_document, quotas)?;
    let version_id = PolicyVersionId::new(p.next_version.max(1))?;
    ctx.one(EventData::PolicyVersionCreated {
        policy_name: p.name.clone(),
        version_id,
        policy_document: policy_document.to_owned(),
        set_as_default,
        created_at: now,
    })
}

/// A policy is deleted only once nothing uses it and only its default
/// version is left.
fn delete(ctx: &Ctx, policy_arn: &Arn) -> Decision {
    let state = ctx.state;
    let p = existing_policy(state, policy_arn)?;
    let key = p.name.key();
    if state.policy_attachment_count(&key) > 0 {
        return Err(DomainError::DeleteConflict(
            "Cannot delete a policy attached to entities.".into(),
        ));
    }
    if state.policy_boundary_usage_count(&key) > 0 {
        return Err(DomainError::DeleteConflict(
            "Cannot delete a policy used as a permissions boundary.".into(),
        ));
    }
    if p.versions.len() > 1 {
        return Err(DomainError::DeleteConflict(
            "This policy has more than one version. Before you delete a policy, you must delete the policy's non-default versions.".into(),
        ));
    }
    ctx.one(EventData::PolicyDeleted {
        policy_name: p.name.clone(),
        policy_id: p.id.clone(),
    })
}

/// The policy `arn` names, if it has version `v`; `NoSuchEntity` otherwise.
fn existing_version<'a>(
    ctx: &Ctx<'a>,
    arn: &Arn,
    v: PolicyVersionId,
) -> Result<&'a ManagedPolicy, DomainError> {
    let p = existing_policy(ctx.state, arn)?;
    if !p.versions.contains_key(&v) {
        return Err(DomainError::NoSuchEntity(format!(
            "Policy {arn} version {v} does not exist."
        )));
    }
    Ok(p)
}
