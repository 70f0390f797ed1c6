//! SAML identity providers.

use super::tags::tag_map;
use crate::event::EventData;
use crate::state::{AccountState, SamlProvider, Shared};

pub(super) fn evolve(state: &mut AccountState, data: &EventData) {
    match data {
        EventData::SamlProviderCreated {
            name,
            uuid,
            metadata_document,
            valid_until,
            tags,
            created_at,
        } => {
            state.saml_providers.entry(name.key()).or_insert_with(|| {
                Shared::new(SamlProvider {
                    name: name.clone(),
                    uuid: uuid.clone(),
                    metadata_document: metadata_document.clone(),
                    valid_until: *valid_until,
                    revision: 0,
                    created_at: *created_at,
                    tags: tag_map(tags),
                })
            });
        }
        EventData::SamlProviderUpdated {
            name,
            metadata_document,
            valid_until,
        } => {
            if let Some(p) = state.saml_providers.get_mut(&name.key()) {
                p.metadata_document = metadata_document.clone();
                p.valid_until = *valid_until;
                p.revision += 1;
            }
        }
        EventData::SamlProviderDeleted { name } => {
            state.saml_providers.remove(&name.key());
        }
        _ => {}
    }
}
