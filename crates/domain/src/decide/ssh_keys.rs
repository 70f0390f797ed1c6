//! Users' SSH public keys: at most five each, one fingerprint once per
//! user, active or inactive.

use super::entities::user;
use super::errors::limit;
use super::{not_routed_here, Ctx, Decision};
use crate::command::Command;
use crate::error::DomainError;
use crate::event::EventData;
use crate::names::UserName;
use crate::state::{AccountState, SshPublicKey};

/// AWS's quota of SSH public keys per user.
const KEYS_PER_USER: (&str, usize) = ("SSHPublicKeysPerUser", 5);

pub(super) fn decide(ctx: &Ctx, command: &Command) -> Decision {
    let state = ctx.state;
    match command {
        Command::UploadSshPublicKey {
            user_name,
            ssh_public_key_id,
            body,
            fingerprint,
            now,
        } => {
            let u = user(state, user_name)?;
            let mine: Vec<&SshPublicKey> = keys_of(state, user_name).collect();
            if mine.iter().any(|k| &k.fingerprint == fingerprint) {
                return Err(DomainError::DuplicateSshPublicKey(
                    "The public key is already associated with the user.".into(),
                ));
            }
            let (quota, max) = KEYS_PER_USER;
            if mine.len() >= max {
                return Err(limit(quota, max));
            }
            if state.ssh_public_keys.contains_key(ssh_public_key_id)
                || state.issued_ids.contains(ssh_public_key_id.as_str())
            {
                return Err(super::errors::id_taken(ssh_public_key_id));
            }
            ctx.one(EventData::SshPublicKeyUploaded {
                user_name: u.name.clone(),
                ssh_public_key_id: ssh_public_key_id.clone(),
                body: body.clone(),
                fingerprint: fingerprint.clone(),
                uploaded_at: *now,
            })
        }
        Command::UpdateSshPublicKey {
            user_name,
            ssh_public_key_id,
            status,
        } => {
            let k = key(state, user_name, ssh_public_key_id)?;
            if k.status == *status {
                return Ok(vec![]);
            }
            ctx.one(EventData::SshPublicKeyStatusUpdated {
                user_name: k.user_name.clone(),
                ssh_public_key_id: k.id.clone(),
                status: *status,
            })
        }
        Command::DeleteSshPublicKey {
            user_name,
            ssh_public_key_id,
        } => {
            let k = key(state, user_name, ssh_public_key_id)?;
            ctx.one(EventData::SshPublicKeyDeleted {
                user_name: k.user_name.clone(),
                ssh_public_key_id: k.id.clone(),
            })
        }
        other => not_routed_here(other, "SSH public key"),
    }
}

pub(super) fn keys_of<'a>(
    state: &'a AccountState,
    user_name: &'a UserName,
) -> impl Iterator<Item = &'a SshPublicKey> + 'a {
    state
        .ssh_public_keys
        .values()
        .map(|k| &**k)
        .filter(move |k| k.user_name.key() == user_name.key())
}

/// The key `id` of `user_name`, or AWS's `NoSuchEntity` (also when the
/// key is another user's).
fn key<'a>(
    state: &'a AccountState,
    user_name: &UserName,
    id: &str,
) -> Result<&'a SshPublicKey, DomainError> {
    user(state, user_name)?;
    state
        .ssh_public_keys
        .get(id)
        .map(|k| &**k)
        .filter(|k| k.user_name.key() == user_name.key())
        .ok_or_else(|| {
            DomainError::NoSuchEntity(format!("The Public Key with id {id} cannot be found."))
        })
}
