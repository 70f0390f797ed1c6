//! Users' service-specific credentials.

use crate::event::EventData;
use crate::state::{AccessKeyStatus, AccountState, ServiceSpecificCredential, Shared};

pub(super) fn evolve(state: &mut AccountState, data: &EventData) {
    match data {
        EventData::ServiceSpecificCredentialCreated {
            user_name,
            service_name,
            service_specific_credential_id: id,
            service_user_name,
            service_credential_alias,
            secret,
            created_at,
            expires_at,
        } => {
            state.issued_ids.insert(id.as_str().into());
            state
                .service_specific_credentials
                .entry(id.clone())
                .or_insert_with(|| {
                    Shared::new(ServiceSpecificCredential {
                        id: id.clone(),
                        user_name: user_name.clone(),
                        service_name: service_name.clone(),
                        service_user_name: service_user_name.clone(),
                        service_credential_alias: service_credential_alias.clone(),
                        secret: secret.clone(),
                        status: AccessKeyStatus::Active,
                        created_at: *created_at,
                        expires_at: *expires_at,
                    })
                });
        }
        EventData::ServiceSpecificCredentialReset {
            service_specific_credential_id: id,
            secret,
            ..
        } => {
            if let Some(c) = state.service_specific_credentials.get_mut(id) {
                c.secret = secret.clone();
            }
        }
        EventData::ServiceSpecificCredentialStatusUpdated {
            service_specific_credential_id: id,
            status,
            ..
        } => {
            if let Some(c) = state.service_specific_credentials.get_mut(id) {
                c.status = *status;
            }
        }
        EventData::ServiceSpecificCredentialDeleted {
            service_specific_credential_id: id,
            ..
        } => {
            state.service_specific_credentials.remove(id);
        }
        _ => {}
    }
}
