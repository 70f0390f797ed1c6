//! Instance profiles: creating and deleting them, the one role each may
//! hold, and their tags.

use super::entities::{check_new, modifiable_role, path_or_root};
use super::errors::{limit, must_first};
use super::tags::{check_new_tags, tag, untag};
use super::{not_routed_here, Ctx, Decision};
use crate::command::Command;
use crate::error::DomainError;
use crate::event::EventData;
use crate::names::InstanceProfileName;
use crate::state::{AccountState, EntityRef, InstanceProfile};

/// AWS's quota of roles in one instance profile, by its quota name.
const ROLES_PER_INSTANCE_PROFILE: (&str, usize) = ("InstanceSessionsPerInstanceProfile", 1);

pub(super) fn decide(ctx: &Ctx, command: &Command) -> Decision {
    let state = ctx.state;
    match command {
        Command::CreateInstanceProfile {
            instance_profile_name: name,
            path,
            instance_profile_id: id,
            tags,
            now,
        } => {
            check_new(
                state,
                &state.instance_profiles,
                &name.key(),
                || {
                    DomainError::EntityAlreadyExists(format!(
                        "Instance Profile {name} already exists."
                    ))
                },
                id.as_str(),
                (
                    "InstanceProfilesPerAccount",
                    ctx.quotas.instance_profiles_per_account,
                ),
            )?;
            check_new_tags(&Default::default(), tags, ctx.quotas)?;
            ctx.one(EventData::InstanceProfileCreated {
                instance_profile_name: name.clone(),
                instance_profile_id: id.clone(),
                path: path_or_root(path),
                tags: tags.clone(),
                created_at: *now,
            })
        }
        Command::DeleteInstanceProfile {
            instance_profile_name,
        } => {
            let p = instance_profile(state, instance_profile_name)?;
            if !p.roles.is_empty() {
                return Err(must_first("remove roles from instance profile"));
            }
            ctx.one(EventData::InstanceProfileDeleted {
                instance_profile_name: p.name.clone(),
                instance_profile_id: p.id.clone(),
            })
        }
        Command::AddRoleToInstanceProfile {
            instance_profile_name,
            role_name,
        } => {
            let p = instance_profile(state, instance_profile_name)?;
            let r = modifiable_role(state, role_name)?;
            // AWS answers the quota's error also when the role is the one
            // the profile already holds.
            let (quota, max) = ROLES_PER_INSTANCE_PROFILE;
            if p.roles.len() >= max {
                return Err(limit(quota, max));
            }
            ctx.one(EventData::RoleAddedToInstanceProfile {
                instance_profile_name: p.name.clone(),
                role_name: r.name.clone(),
            })
        }
        Command::RemoveRoleFromInstanceProfile {
            instance_profile_name,
            role_name,
        } => {
            let p = instance_profile(state, instance_profile_name)?;
            let r = modifiable_role(state, role_name)?;
            if !p.roles.contains(&r.name.key()) {
                return Err(DomainError::NoSuchEntity(format!(
                    "The role with name {role_name} cannot be found in instance profile {}.",
                    p.name
                )));
            }
            ctx.one(EventData::RoleRemovedFromInstanceProfile {
                instance_profile_name: p.name.clone(),
                role_name: r.name.clone(),
            })
        }
        Command::TagInstanceProfile {
            instance_profile_name,
            tags,
        } => {
            let p = instance_profile(state, instance_profile_name)?;
            tag(ctx, profile_ref(p), &p.tags, tags)
        }
        Command::UntagInstanceProfile {
            instance_profile_name,
            tag_keys,
        } => {
            let p = instance_profile(state, instance_profile_name)?;
            untag(ctx, profile_ref(p), &p.tags, tag_keys)
        }
        other => not_routed_here(other, "instance profile"),
    }
}

/// The instance profile `name`, or AWS's `NoSuchEntity`.
pub(super) fn instance_profile<'a>(
    state: &'a AccountState,
    name: &InstanceProfileName,
) -> Result<&'a InstanceProfile, DomainError> {
    state
        .instance_profiles
        .get(&name.key())
        .map(|p| &**p)
        .ok_or_else(|| {
            DomainError::NoSuchEntity(format!("Instance Profile {name} cannot be found."))
        })
}

fn profile_ref(p: &InstanceProfile) -> EntityRef {
    EntityRef::InstanceProfile {
        instance_profile_name: p.name.clone(),
    }
}
