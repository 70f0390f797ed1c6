//! OpenID Connect identity providers.

use super::tags::tag_map;
use crate::event::EventData;
use crate::state::{AccountState, OidcProvider, Shared};

pub(super) fn evolve(state: &mut AccountState, data: &EventData) {
    match data {
        EventData::OidcProviderCreated {
            url,
            client_ids,
            thumbprints,
            tags,
            created_at,
        } => {
            state
                .oidc_providers
                .entry(url.resource().to_owned())
                .or_insert_with(|| {
                    Shared::new(OidcProvider {
                        url: url.clone(),
                        client_ids: client_ids.clone(),
                        thumbprints: thumbprints.clone(),
                        created_at: *created_at,
                        tags: tag_map(tags),
                    })
                });
        }
        EventData::OidcProviderDeleted { url } => {
            state.oidc_providers.remove(url.resource());
        }
        EventData::OidcProviderClientIdAdded { url, client_id } => {
            if let Some(p) = state.oidc_providers.get_mut(url.resource()) {
                if !p.client_ids.contains(client_id) {
                    p.client_ids.push(client_id.clone());
                }
            }
        }
        EventData::OidcProviderClientIdRemoved { url, client_id } => {
            if let Some(p) = state.oidc_providers.get_mut(url.resource()) {
                p.client_ids.retain(|c| c != client_id);
            }
        }
        EventData::OidcProviderThumbprintsUpdated { url, thumbprints } => {
            if let Some(p) = state.oidc_providers.get_mut(url.resource()) {
                p.thumbprints = thumbprints.clone();
            }
        }
        _ => {}
    }
}
