//! SAML identity providers: their metadata documents and tags, with AWS's
//! quota. The shell parses each metadata document before it reaches here
//! (`iam_federation::saml::SamlMetadata`), so a provider whose assertions
//! could never be verified is never recorded.

use super::errors::limit;
use super::tags::{check_new_tags, tag, untag};
use super::{not_routed_here, Ctx, Decision};
use crate::command::Command;
use crate::error::DomainError;
use crate::event::EventData;
use crate::names::SamlProviderName;
use crate::state::{AccountState, EntityRef, SamlProvider};

/// AWS's quota of SAML providers per account.
const PROVIDERS_PER_ACCOUNT: (&str, usize) = ("SAMLProvidersPerAccount", 100);

pub(super) fn decide(ctx: &Ctx, command: &Command) -> Decision {
    let state = ctx.state;
    match command {
        Command::CreateSamlProvider {
            name,
            uuid,
            metadata_document,
            valid_until,
            tags,
            now,
        } => {
            if state.saml_providers.contains_key(&name.key()) {
                return Err(DomainError::EntityAlreadyExists(format!(
                    "SAMLProvider {name} already exists"
                )));
            }
            let (quota, max) = PROVIDERS_PER_ACCOUNT;
            if state.saml_providers.len() >= max {
                return Err(limit(quota, max));
            }
            check_new_tags(&Default::default(), tags, ctx.quotas)?;
            ctx.one(EventData::SamlProviderCreated {
                name: name.clone(),
                uuid: uuid.clone(),
                metadata_document: metadata_document.clone(),
                valid_until: *valid_until,
                tags: tags.clone(),
                created_at: *now,
            })
        }
        Command::UpdateSamlProvider {
            name,
            metadata_document,
            valid_until,
        } => {
            let p = provider(state, name)?;
            ctx.one(EventData::SamlProviderUpdated {
                name: p.name.clone(),
                metadata_document: metadata_document.clone(),
                valid_until: *valid_until,
            })
        }
        Command::DeleteSamlProvider { name } => {
            let p = provider(state, name)?;
            ctx.one(EventData::SamlProviderDeleted {
                name: p.name.clone(),
            })
        }
        Command::TagSamlProvider { name, tags } => {
            let p = provider(state, name)?;
            tag(ctx, provider_ref(p), &p.tags, tags)
        }
        Command::UntagSamlProvider { name, tag_keys } => {
            let p = provider(state, name)?;
            untag(ctx, provider_ref(p), &p.tags, tag_keys)
        }
        other => not_routed_here(other, "SAML provider"),
    }
}

/// The provider `name`, or AWS's `NoSuchEntity`.
fn provider<'a>(
    state: &'a AccountState,
    name: &SamlProviderName,
) -> Result<&'a SamlProvider, DomainError> {
    state
        .saml_providers
        .get(&name.key())
        .map(|p| &**p)
        .ok_or_else(|| DomainError::NoSuchEntity(format!("SAMLProvider {name} does not exist")))
}

fn provider_ref(p: &SamlProvider) -> EntityRef {
    EntityRef::SamlProvider {
        name: p.name.clone(),
    }
}
