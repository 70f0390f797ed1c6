//! Tags on users, roles and managed policies: the checks on a tag set (also
//! used when an entity is created with tags), tagging and untagging.

use std::collections::{BTreeMap, BTreeSet};

use super::entities::{existing_policy, policy_ref, role, role_ref, user, user_ref};
use super::errors::limit;
use super::{not_routed_here, Ctx, Decision};
use crate::command::Command;
use crate::error::DomainError;
use crate::event::EventData;
use crate::names::{check_tag_count, NameKey, Tag, TagKey};
use crate::quotas::Quotas;
use crate::state::EntityRef;

pub(super) fn decide(ctx: &Ctx, command: &Command) -> Decision {
    let state = ctx.state;
    match command {
        Command::TagUser { user_name, tags } => {
            let u = user(state, user_name)?;
            tag(ctx, user_ref(u), &u.tags, tags)
        }
        Command::TagRole { role_name, tags } => {
            let r = role(state, role_name)?;
            tag(ctx, role_ref(r), &r.tags, tags)
        }
        Command::TagPolicy { policy_arn, tags } => {
            let p = existing_policy(state, policy_arn)?;
            tag(ctx, policy_ref(p), &p.tags, tags)
        }
        Command::UntagUser {
            user_name,
            tag_keys,
        } => {
            let u = user(state, user_name)?;
            untag(ctx, user_ref(u), &u.tags, tag_keys)
        }
        Command::UntagRole {
            role_name,
            tag_keys,
        } => {
            let r = role(state, role_name)?;
            untag(ctx, role_ref(r), &r.tags, tag_keys)
        }
        Command::UntagPolicy {
            policy_arn,
            tag_keys,
        } => {
            let p = existing_policy(state, policy_arn)?;
            untag(ctx, policy_ref(p), &p.tags, tag_keys)
        }
        Command::TagMfaDevice {
            serial_number,
            tags,
        } => {
            let d = mfa_device(state, serial_number)?;
            tag(ctx, mfa_ref(d), &d.tags, tags)
        }
        Command::UntagMfaDevice {
            serial_number,
            tag_keys,
        } => {
            let d = mfa_device(state, serial_number)?;
            untag(ctx, mfa_ref(d), &d.tags, tag_keys)
        }
        other => not_routed_here(other, "tag"),
    }
}

/// Checks a tag set to add: no duplicate keys (case-insensitively) and the
/// merged count within the quota.
pub(super) fn check_new_tags(
    existing: &BTreeMap<NameKey, Tag>,
    tags: &[Tag],
    quotas: &Quotas,
) -> Result<(), DomainError> {
    check_tag_count(tags.len(), "tags")?;
    let mut seen = BTreeSet::new();
    for t in tags {
        if !seen.insert(t.key.key()) {
            return Err(DomainError::InvalidInput(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.".into(),
            ));
        }
    }
    let merged = existing.len() + seen.iter().filter(|k| !existing.contains_key(*k)).count();
    if merged > quotas.tags_per_entity {
        return Err(limit("TagsPerEntity", quotas.tags_per_entity));
    }
    Ok(())
}

/// Adds or replaces `tags` on `target`, whose tags are `existing`; tags it
/// already has, exactly, record nothing.
pub(super) fn tag(
    ctx: &Ctx,
    target: EntityRef,
    existing: &BTreeMap<NameKey, Tag>,
    tags: &[Tag],
) -> Decision {
    check_new_tags(existing, tags, ctx.quotas)?;
    if tags.iter().all(|t| existing.get(&t.key.key()) == Some(t)) {
        return Ok(vec![]);
    }
    ctx.one(EventData::EntityTagged {
        target,
        tags: tags.to_vec(),
    })
}

/// Removes the tags of `keys` that `target` has; none of them, nothing recorded.
pub(super) fn untag(
    ctx: &Ctx,
    target: EntityRef,
    existing: &BTreeMap<NameKey, Tag>,
    keys: &[TagKey],
) -> Decision {
    check_tag_count(keys.len(), "tagKeys")?;
    let present: Vec<_> = keys
        .iter()
        .filter(|k| existing.contains_key(&k.key()))
        .cloned()
        .collect();
    if present.is_empty() {
        return Ok(vec![]);
    }
    ctx.one(EventData::EntityUntagged {
        target,
        tag_keys: present,
    })
}

fn mfa_device<'a>(
    state: &'a crate::state::AccountState,
    serial_number: &crate::arn::Arn,
) -> Result<&'a crate::state::VirtualMfaDevice, DomainError> {
    state.mfa_by_arn(serial_number).ok_or_else(|| {
        DomainError::NoSuchEntity(format!(
            "MFA device with serial number {serial_number} cannot be found."
        ))
    })
}

fn mfa_ref(d: &crate::state::VirtualMfaDevice) -> EntityRef {
    EntityRef::MfaDevice {
        device_name: d.name.clone(),
    }
}
