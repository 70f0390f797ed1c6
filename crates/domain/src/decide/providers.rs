//! OpenID Connect identity providers: their client ids (audiences),
//! thumbprints and tags, with AWS's limits.

use super::errors::limit;
use super::tags::{check_new_tags, tag, untag};
use super::{not_routed_here, Ctx, Decision};
use crate::command::Command;
use crate::error::DomainError;
use crate::event::EventData;
use crate::names::OidcProviderUrl;
use crate::state::{AccountState, EntityRef, OidcProvider};

/// AWS's quotas: providers per account, client ids per provider, and
/// thumbprints per provider.
const PROVIDERS_PER_ACCOUNT: (&str, usize) = ("OpenIdConnectProvidersPerAccount", 100);
const CLIENT_IDS_PER_PROVIDER: (&str, usize) = ("ClientIdsPerOpenIdConnectProvider", 100);
const MAX_THUMBPRINTS: usize = 5;

pub(super) fn decide(ctx: &Ctx, command: &Command) -> Decision {
    let state = ctx.state;
    match command {
        Command::CreateOpenIdConnectProvider {
            url,
            client_ids,
            thumbprints,
            tags,
            now,
        } => {
            if state.oidc_providers.contains_key(url.resource()) {
                return Err(DomainError::EntityAlreadyExists(format!(
                    "Provider with url {url} already exists."
                )));
            }
            let (quota, max) = PROVIDERS_PER_ACCOUNT;
            if state.oidc_providers.len() >= max {
                return Err(limit(quota, max));
            }
            let client_ids = distinct(client_ids);
            client_ids.iter().try_for_each(|c| check_client_id(c))?;
            let (quota, max) = CLIENT_IDS_PER_PROVIDER;
            if client_ids.len() > max {
                return Err(limit(quota, max));
            }
            let thumbprints = check_thumbprints(thumbprints)?;
            check_new_tags(&Default::default(), tags, ctx.quotas)?;
            ctx.one(EventData::OidcProviderCreated {
                url: url.clone(),
                client_ids,
                thumbprints,
                tags: tags.clone(),
                created_at: *now,
            })
        }
        Command::DeleteOpenIdConnectProvider { url } => {
            let p = provider(state, url)?;
            ctx.one(EventData::OidcProviderDeleted { url: p.url.clone() })
        }
        Command::AddClientIdToOpenIdConnectProvider { url, client_id } => {
            let p = provider(state, url)?;
            check_client_id(client_id)?;
            if p.client_ids.contains(client_id) {
                return Ok(vec![]);
            }
            let (quota, max) = CLIENT_IDS_PER_PROVIDER;
            if p.client_ids.len() >= max {
                return Err(limit(quota, max));
            }
            ctx.one(EventData::OidcProviderClientIdAdded {
                url: p.url.clone(),
                client_id: client_id.clone(),
            })
        }
        Command::RemoveClientIdFromOpenIdConnectProvider { url, client_id } => {
            let p = provider(state, url)?;
            // AWS: removing a client id the provider does not have
            // succeeds and changes nothing.
            if !p.client_ids.contains(client_id) {
                return Ok(vec![]);
            }
            ctx.one(EventData::OidcProviderClientIdRemoved {
                url: p.url.clone(),
                client_id: client_id.clone(),
            })
        }
        Command::UpdateOpenIdConnectProviderThumbprint { url, thumbprints } => {
            let p = provider(state, url)?;
            let thumbprints = check_thumbprints(thumbprints)?;
            if p.thumbprints == thumbprints {
                return Ok(vec![]);
            }
            ctx.one(EventData::OidcProviderThumbprintsUpdated {
                url: p.url.clone(),
                thumbprints,
            })
        }
        Command::TagOpenIdConnectProvider { url, tags } => {
            let p = provider(state, url)?;
            tag(ctx, provider_ref(p), &p.tags, tags)
        }
        Command::UntagOpenIdConnectProvider { url, tag_keys } => {
            let p = provider(state, url)?;
            untag(ctx, provider_ref(p), &p.tags, tag_keys)
        }
        other => not_routed_here(other, "OpenID Connect provider"),
    }
}

/// The provider `url` names, or AWS's `NoSuchEntity`.
fn provider<'a>(
    state: &'a AccountState,
    url: &OidcProviderUrl,
) -> Result<&'a OidcProvider, DomainError> {
    state
        .oidc_providers
        .get(url.resource())
        .map(|p| &**p)
        .ok_or_else(|| {
            DomainError::NoSuchEntity(format!("OpenIDConnect Provider not found for url {url}"))
        })
}

fn provider_ref(p: &OidcProvider) -> EntityRef {
    EntityRef::OidcProvider { url: p.url.clone() }
}

/// The values once each, in the order first given.
fn distinct(values: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for v in values {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    out
}

/// A client id: 1 to 255 characters, none of them a control character.
fn check_client_id(id: &str) -> Result<(), DomainError> {
    crate::names::check_plain_text(id, 255, "clientIDList")
}

/// At most five thumbprints of 40 hexadecimal digits each, kept once each
/// in the order given and in lower case.
fn check_thumbprints(given: &[String]) -> Result<Vec<String>, DomainError> {
    let all = distinct(
        &given
            .iter()
            .map(|t| t.to_ascii_lowercase())
            .collect::<Vec<_>>(),
    );
    if all.len() > MAX_THUMBPRINTS {
        return Err(DomainError::InvalidInput(
            "Thumbprint list must contain fewer than 5 entries.".into(),
        ));
    }
    if let Some(bad) = all
        .iter()
        .find(|t| t.len() != 40 || !t.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(DomainError::validation(format!(
            "1 validation error detected: Value '{}' at 'thumbprintList' failed to satisfy constraint: Member must have length 40 of hexadecimal digits",
            crate::names::shown(bad)
        )));
    }
    Ok(all)
}
