//! Roles: creating, updating (description, session duration, trust policy)
//! and deleting them.

use super::documents::check_trust_policy;
use super::entities::{attachable_policy, check_new, modifiable_role, path_or_root, role};
use super::errors::{exists, must_first};
use super::tags::check_new_tags;
use super::{not_routed_here, Ctx, Decision};
use std::collections::BTreeMap;

use crate::arn::Arn;
use crate::command::Command;
use crate::error::DomainError;
use crate::event::EventData;
use crate::ids::AccountId;
use crate::names::{Description, RoleName};
use crate::policy::{PolicyDocument, PrincipalElement, PrincipalType, Principals};
use crate::state::AccountState;

/// Smallest and largest role maximum session duration, in seconds (1–12 h).
pub const MAX_SESSION_DURATION_RANGE: std::ops::RangeInclusive<u32> = 3600..=43200;
/// The maximum session duration a role gets when none is given.
pub const DEFAULT_MAX_SESSION_DURATION: u32 = 3600;

pub(super) fn decide(ctx: &Ctx, command: &Command) -> Decision {
    let (state, quotas) = (ctx.state, ctx.quotas);
    match command {
        Command::CreateRole {
            role_name,
            path,
            role_id,
            assume_role_policy_document,
            description,
            max_session_duration,
            permissions_boundary,
            tags,
            now,
        } => {
            check_new(
                state,
                &state.roles,
                &role_name.key(),
                || exists("Role", role_name),
                role_id.as_str(),
                ("RolesPerAccount", quotas.roles_per_account),
            )?;
            if path
                .as_ref()
                .is_some_and(|p| p.as_str().starts_with(crate::service_linked::PATH_PREFIX))
            {
                return Err(DomainError::InvalidInput(
                    "Path prefix '/aws-service-role/' can only be used for AWS Service linked Roles"
                        .into(),
                ));
            }
            let max = max_session_duration.unwrap_or(DEFAULT_MAX_SESSION_DURATION);
            check_session_duration(max)?;
            check_trust_policy(
                assume_role_policy_document,
                quotas,
                "assumeRolePolicyDocument",
            )?;
            let trusted_ids = trusted_ids(state, ctx.account, assume_role_policy_document)?;
            if let Some(b) = permissions_boundary {
                attachable_policy(state, b)?;
            }
            check_new_tags(&Default::default(), tags, quotas)?;
            ctx.one(EventData::RoleCreated {
                role_name: role_name.clone(),
                role_id: role_id.clone(),
                path: path_or_root(path),
                assume_role_policy_document: assume_role_policy_document.clone(),
                description: description.clone(),
                max_session_duration: max,
                permissions_boundary: permissions_boundary.clone(),
                tags: tags.clone(),
                created_at: *now,
                trusted_ids,
                service_linked: false,
            })
        }
        Command::UpdateRole {
            role_name,
            description,
            max_session_duration,
        } => update(ctx, role_name, description.as_ref(), *max_session_duration),
        Command::UpdateAssumeRolePolicy {
            role_name,
            policy_document,
        } => {
            let role = modifiable_role(state, role_name)?;
            check_trust_policy(policy_document, quotas, "policyDocument")?;
            ctx.one(EventData::RoleTrustPolicyUpdated {
                role_name: role.name.clone(),
                policy_document: policy_document.clone(),
                trusted_ids: trusted_ids(state, ctx.account, policy_document)?,
            })
        }
        Command::UpdateRoleDescription {
            role_name,
            description,
        } => {
            let role = role(state, role_name)?;
            ctx.one(EventData::RoleDescriptionUpdated {
                role_name: role.name.clone(),
                description: description.clone(),
            })
        }
        Command::DeleteRole { role_name } => delete(ctx, role_name),
        Command::CreateServiceLinkedRole {
            service,
            role_name,
            role_id,
            description,
            now,
        } => {
            if state.roles.contains_key(&role_name.key()) {
                return Err(DomainError::InvalidInput(format!(
                    "Service role name {role_name} has been taken in this account, please try a different suffix."
                )));
            }
            if state.issued_ids.contains(role_id.as_str()) {
                return Err(super::errors::id_taken(role_id.as_str()));
            }
            let path = crate::names::IamPath::parse(&format!(
                "{}{service}/",
                crate::service_linked::PATH_PREFIX
            ))?;
            ctx.one(EventData::RoleCreated {
                role_name: role_name.clone(),
                role_id: role_id.clone(),
                path,
                assume_role_policy_document: crate::service_linked::trust_policy(service),
                description: description.clone(),
                max_session_duration: DEFAULT_MAX_SESSION_DURATION,
                permissions_boundary: None,
                tags: Vec::new(),
                created_at: *now,
                trusted_ids: BTreeMap::new(),
                service_linked: true,
            })
        }
        Command::DeleteServiceLinkedRole {
            role_name,
            deletion_task_id,
        } => {
            let r = role(state, role_name)?;
            if !r.service_linked {
                return Err(DomainError::InvalidInput(format!(
                    "Role {} is not a service-linked role.",
                    r.name
                )));
            }
            if state
                .instance_profiles
                .values()
                .any(|p| p.roles.contains(&r.name.key()))
            {
                return Err(must_first("remove roles from instance profile"));
            }
            ctx.one(EventData::ServiceLinkedRoleDeleted {
                role_name: r.name.clone(),
                role_id: r.id.clone(),
                deletion_task_id: deletion_task_id.clone(),
            })
        }
        other => not_routed_here(other, "role"),
    }
}

/// Records only what differs from the role as it is; nothing if nothing does.
fn update(
    ctx: &Ctx,
    role_name: &RoleName,
    description: Option<&Description>,
    max_session_duration: Option<u32>,
) -> Decision {
    let role = role(ctx.state, role_name)?;
    if let Some(m) = max_session_duration {
        check_session_duration(m)?;
    }
    let description = description.filter(|d| role.description.as_ref() != Some(*d));
    let max = max_session_duration.filter(|m| *m != role.max_session_duration);
    if description.is_none() && max.is_none() {
        return Ok(vec![]);
    }
    ctx.one(EventData::RoleUpdated {
        role_name: role.name.clone(),
        description: description.cloned(),
        max_session_duration: max,
    })
}

/// A role is deleted only once it has no policies.
fn delete(ctx: &Ctx, role_name: &RoleName) -> Decision {
    let role = modifiable_role(ctx.state, role_name)?;
    if !role.inline_policies.is_empty() {
        return Err(must_first("delete policies"));
    }
    if !role.attached_policies.is_empty() {
        return Err(must_first("detach all policies"));
    }
    if ctx
        .state
        .instance_profiles
        .values()
        .any(|p| p.roles.contains(&role.name.key()))
    {
        return Err(must_first("remove roles from instance profile"));
    }
    ctx.one(EventData::RoleDeleted {
        role_name: role.name.clone(),
        role_id: role.id.clone(),
    })
}

fn check_session_duration(secs: u32) -> Result<(), DomainError> {
    if MAX_SESSION_DURATION_RANGE.contains(&secs) {
        Ok(())
    } else {
        Err(DomainError::validation(format!(
            "The specified value for maxSessionDuration {secs} is invalid. It must be between 3600 and 43200 seconds."
        )))
    }
}

/// The users and roles of this account a trust policy names in `AWS`
/// principals, each by its unique id: one that does not exist is refused,
/// as AWS refuses it ("Invalid principal in policy"), so that nobody
/// created later under the name is trusted.
fn trusted_ids(
    state: &AccountState,
    account: &AccountId,
    document: &str,
) -> Result<BTreeMap<String, String>, DomainError> {
    let mut ids = BTreeMap::new();
    // INVARIANT: checked as a trust policy just before.
    let Ok(doc) = PolicyDocument::parse(document) else {
        return Ok(ids);
    };
    for statement in doc.statements() {
        let Some(PrincipalElement {
            principals: Principals::Map(entries),
            ..
        }) = &statement.principal
        else {
            continue;
        };
        for (kind, values) in entries {
            if *kind != PrincipalType::Aws {
                continue;
            }
            for text in &values.values {
                let id = match Arn::parse(text) {
                    Ok(Arn::User {
                        account: a,
                        path,
                        name,
                    }) if &a == account => state
                        .users
                        .get(&name.key())
                        .filter(|u| u.path == path)
                        .map(|u| u.id.as_str().to_owned()),
                    Ok(Arn::Role {
                        account: a,
                        path,
                        name,
                    }) if &a == account => state
                        .roles
                        .get(&name.key())
                        .filter(|r| r.path == path)
                        .map(|r| r.id.as_str().to_owned()),
                    _ => continue,
                };
                match id {
                    Some(id) => {
                        ids.insert(text.clone(), id);
                    }
                    None => {
                        return Err(DomainError::MalformedPolicyDocument {
                            message: format!("Invalid principal in policy: \"AWS\":\"{text}\""),
                            detail: format!("{text} names no user or role of this account"),
                        })
                    }
                }
            }
        }
    }
    Ok(ids)
}
