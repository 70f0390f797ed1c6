//! Signing and server certificates.

use super::tags::tag_map;
use crate::event::EventData;
use crate::state::{AccessKeyStatus, AccountState, ServerCertificate, Shared, SigningCertificate};

pub(super) fn evolve(state: &mut AccountState, data: &EventData) {
    match data {
        EventData::SigningCertificateUploaded {
            owner,
            certificate_id,
            body,
            uploaded_at,
        } => {
            state
                .signing_certificates
                .entry(certificate_id.clone())
                .or_insert_with(|| {
                    Shared::new(SigningCertificate {
                        id: certificate_id.clone(),
                        owner: owner.clone(),
                        body: body.clone(),
                        status: AccessKeyStatus::Active,
                        uploaded_at: *uploaded_at,
                    })
                });
        }
        EventData::SigningCertificateStatusUpdated {
            certificate_id,
            status,
            ..
        } => {
            if let Some(c) = state.signing_certificates.get_mut(certificate_id) {
                c.status = *status;
            }
        }
        EventData::SigningCertificateDeleted { certificate_id, .. } => {
            state.signing_certificates.remove(certificate_id);
        }
        EventData::ServerCertificateUploaded {
            server_certificate_name: name,
            server_certificate_id: id,
            path,
            body,
            chain,
            private_key,
            expiration,
            tags,
            uploaded_at,
        } => {
            state.issued_ids.insert(id.as_str().into());
            state
                .server_certificates
                .entry(name.key())
                .or_insert_with(|| {
                    Shared::new(ServerCertificate {
                        name: name.clone(),
                        id: id.clone(),
                        path: path.clone(),
                        body: body.clone(),
                        chain: chain.clone(),
                        private_key: private_key.clone(),
                        expiration: *expiration,
                        uploaded_at: *uploaded_at,
                        tags: tag_map(tags),
                    })
                });
        }
        EventData::ServerCertificateUpdated {
            server_certificate_name,
            new_server_certificate_name,
            new_path,
        } => {
            let old = server_certificate_name.key();
            let Some(mut c) = state.server_certificates.remove(&old) else {
                return;
            };
            if let Some(p) = new_path {
                c.path = p.clone();
            }
            if let Some(n) = new_server_certificate_name {
                c.name = n.clone();
            }
            state.server_certificates.insert(c.name.key(), c);
        }
        EventData::ServerCertificateDeleted {
            server_certificate_name,
            ..
        } => {
            state
                .server_certificates
                .remove(&server_certificate_name.key());
        }
        _ => {}
    }
}
