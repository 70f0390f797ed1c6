//! Long-term access keys of users and of the root user: creating, activating
//! or deactivating, deleting them, and recording their use.

use chrono::{DateTime, Utc};

use super::entities::resolve_owner;
use super::errors::limit;
use super::{not_routed_here, Ctx, Decision};
use crate::command::Command;
use crate::error::DomainError;
use crate::event::EventData;
use crate::ids::AccessKeyId;
use crate::names::check_plain_text;
use crate::secrets::SealedSecret;
use crate::state::{owner_eq, AccessKey, AccountState, CredentialOwner};

pub(super) fn decide(ctx: &Ctx, command: &Command) -> Decision {
    let state = ctx.state;
    match command {
        Command::CreateAccessKey {
            owner,
            access_key_id,
            secret,
            now,
        } => create(ctx, owner, access_key_id, secret, *now),
        Command::UpdateAccessKey {
            owner,
            access_key_id,
            status,
        } => {
            let owner = resolve_owner(state, owner)?;
            let key = owned_key(state, &owner, access_key_id)?;
            if key.status == *status {
                return Ok(vec![]);
            }
            ctx.one(EventData::AccessKeyStatusUpdated {
                owner,
                access_key_id: access_key_id.clone(),
                status: *status,
            })
        }
        Command::DeleteAccessKey {
            owner,
            access_key_id,
        } => {
            let owner = resolve_owner(state, owner)?;
            owned_key(state, &owner, access_key_id)?;
            ctx.one(EventData::AccessKeyDeleted {
                owner,
                access_key_id: access_key_id.clone(),
            })
        }
        Command::RecordAccessKeyUse {
            access_key_id,
            used_at,
            service_name,
            region,
        } => record_use(ctx, access_key_id, *used_at, service_name, region),
        other => not_routed_here(other, "access key"),
    }
}

fn create(
    ctx: &Ctx,
    owner: &CredentialOwner,
    access_key_id: &AccessKeyId,
    secret: &SealedSecret,
    now: DateTime<Utc>,
) -> Decision {
    let (state, quotas) = (ctx.state, ctx.quotas);
    let owner = resolve_owner(state, owner)?;
    if access_key_id.is_temporary() {
        return Err(DomainError::InvalidInput(format!(
            "Access key id {access_key_id} is a temporary (ASIA) key id; long-term keys use AKIA."
        )));
    }
    if state.access_keys.contains_key(access_key_id) {
        return Err(DomainError::EntityAlreadyExists(format!(
            "Access key {access_key_id} already exists."
        )));
    }
    let (max, quota) = match owner {
        CredentialOwner::Root => (quotas.access_keys_per_root, "AccessKeysPerRoot"),
        CredentialOwner::User { .. } => (quotas.access_keys_per_user, "AccessKeysPerUser"),
    };
    if state.access_keys_of(&owner).count() >= max {
        return Err(limit(quota, max));
    }
    ctx.one(EventData::AccessKeyCreated {
        owner,
        access_key_id: access_key_id.clone(),
        secret: secret.clone(),
        created_at: now,
    })
}

/// A use of the key, from the request's signing scope; uses recorded out of
/// order (racing nodes) never move "last used" back.
fn record_use(
    ctx: &Ctx,
    access_key_id: &AccessKeyId,
    used_at: DateTime<Utc>,
    service_name: &str,
    region: &str,
) -> Decision {
    // Stored and returned by GetAccessKeyLastUsed, so no control characters.
    check_plain_text(service_name, 128, "serviceName")?;
    check_plain_text(region, 128, "region")?;
    let key = ctx
        .state
        .access_keys
        .get(access_key_id)
        .ok_or_else(|| no_key(access_key_id))?;
    if key.last_used.as_ref().is_some_and(|l| l.used_at >= used_at) {
        return Ok(vec![]);
    }
    ctx.one(EventData::AccessKeyUsed {
        access_key_id: access_key_id.clone(),
        used_at,
        service_name: service_name.to_owned(),
        region: region.to_owned(),
    })
}

/// The key `id` if `owner` owns it; a key of another owner is reported as
/// missing (`NoSuchEntity`), like one that does not exist.
fn owned_key<'a>(
    state: &'a AccountState,
    owner: &CredentialOwner,
    id: &AccessKeyId,
) -> Result<&'a AccessKey, DomainError> {
    state
        .access_keys
        .get(id)
        .map(|k| &**k)
        .filter(|k| owner_eq(&k.owner, owner))
        .ok_or_else(|| no_key(id))
}

fn no_key(id: &AccessKeyId) -> DomainError {
    DomainError::NoSuchEntity(format!("The Access Key with id {id} cannot be found."))
}
