//! Tags on users, roles and managed policies: the map a new entity's tags
//! make, tagging and untagging.

use std::collections::BTreeMap;

use crate::event::EventData;
use crate::names::{NameKey, Tag};
use crate::state::{AccountState, EntityRef};

pub(super) fn evolve(state: &mut AccountState, data: &EventData) {
    match data {
        EventData::EntityTagged { target, tags } => {
            if let Some(map) = tag_slot(state, target) {
                for t in tags {
                    map.insert(t.key.key(), t.clone());
                }
            }
        }
        EventData::EntityUntagged { target, tag_keys } => {
            if let Some(map) = tag_slot(state, target) {
                for k in tag_keys {
                    map.remove(&k.key());
                }
            }
        }
        _ => {}
    }
}

/// Tags by folded key; of two with the same key, the later wins.
pub(super) fn tag_map(tags: &[Tag]) -> BTreeMap<NameKey, Tag> {
    tags.iter().map(|t| (t.key.key(), t.clone())).collect()
}

/// The tags of `target`, if it exists and can have any (groups cannot).
fn tag_slot<'a>(
    state: &'a mut AccountState,
    target: &EntityRef,
) -> Option<&'a mut BTreeMap<NameKey, Tag>> {
    match target {
        EntityRef::User { user_name } => state.users.get_mut(&user_name.key()).map(|u| &mut u.tags),
        EntityRef::Role { role_name } => state.roles.get_mut(&role_name.key()).map(|r| &mut r.tags),
        EntityRef::Policy { policy_name } => state
            .policies
            .get_mut(&policy_name.key())
            .map(|p| &mut p.tags),
        EntityRef::MfaDevice { device_name } => state
            .mfa_devices
            .get_mut(&device_name.key())
            .map(|d| &mut d.tags),
        EntityRef::InstanceProfile {
            instance_profile_name,
        } => state
            .instance_profiles
            .get_mut(&instance_profile_name.key())
            .map(|p| &mut p.tags),
        EntityRef::SamlProvider { name } => state
            .saml_providers
            .get_mut(&name.key())
            .map(|p| &mut p.tags),
        EntityRef::ServerCertificate {
            server_certificate_name,
        } => state
            .server_certificates
            .get_mut(&server_certificate_name.key())
            .map(|c| &mut c.tags),
        EntityRef::OidcProvider { url } => state
            .oidc_providers
            .get_mut(url.resource())
            .map(|p| &mut p.tags),
        EntityRef::Group { .. } => None,
    }
}
