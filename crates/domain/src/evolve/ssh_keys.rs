//! Users' SSH public keys.

use crate::event::EventData;
use crate::state::{AccessKeyStatus, AccountState, Shared, SshPublicKey};

pub(super) fn evolve(state: &mut AccountState, data: &EventData) {
    match data {
        EventData::SshPublicKeyUploaded {
            user_name,
            ssh_public_key_id,
            body,
            fingerprint,
            uploaded_at,
        } => {
            state.issued_ids.insert(ssh_public_key_id.as_str().into());
            state
                .ssh_public_keys
                .entry(ssh_public_key_id.clone())
                .or_insert_with(|| {
                    Shared::new(SshPublicKey {
                        id: ssh_public_key_id.clone(),
                        user_name: user_name.clone(),
                        body: body.clone(),
                        fingerprint: fingerprint.clone(),
                        status: AccessKeyStatus::Active,
                        uploaded_at: *uploaded_at,
                    })
                });
        }
        EventData::SshPublicKeyStatusUpdated {
            ssh_public_key_id,
            status,
            ..
        } => {
            if let Some(k) = state.ssh_public_keys.get_mut(ssh_public_key_id) {
                k.status = *status;
            }
        }
        EventData::SshPublicKeyDeleted {
            ssh_public_key_id, ..
        } => {
            state.ssh_public_keys.remove(ssh_public_key_id);
        }
        _ => {}
    }
}
