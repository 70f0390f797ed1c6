//! Access keys: created, activated or deactivated, deleted, used.

use super::entities::{canonical_owner, owner_exists};
use crate::event::EventData;
use crate::state::{AccessKey, AccessKeyLastUsed, AccessKeyStatus, AccountState, Shared};

pub(super) fn evolve(state: &mut AccountState, data: &EventData) {
    match data {
        // A key of a missing owner, or a second key with an id in use, is ignored.
        EventData::AccessKeyCreated {
            owner,
            access_key_id,
            secret,
            created_at,
        } if owner_exists(state, owner) && !state.access_keys.contains_key(access_key_id) => {
            state.access_keys.insert(
                access_key_id.clone(),
                Shared::new(AccessKey {
                    id: access_key_id.clone(),
                    owner: canonical_owner(state, owner),
                    status: AccessKeyStatus::Active,
                    created_at: *created_at,
                    secret: secret.clone(),
                    last_used: None,
                }),
            );
        }
        EventData::AccessKeyStatusUpdated {
            access_key_id,
            status,
            ..
        } => {
            if let Some(k) = state.access_keys.get_mut(access_key_id) {
                k.status = *status;
            }
        }
        EventData::AccessKeyDeleted { access_key_id, .. } => {
            state.access_keys.remove(access_key_id);
        }
        EventData::AccessKeyUsed {
            access_key_id,
            used_at,
            service_name,
            region,
        } => {
            if let Some(k) = state.access_keys.get_mut(access_key_id) {
                k.last_used = Some(AccessKeyLastUsed {
                    used_at: *used_at,
                    service_name: service_name.clone(),
                    region: region.clone(),
                });
            }
        }
        _ => {}
    }
}
