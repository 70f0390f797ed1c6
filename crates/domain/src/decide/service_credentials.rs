//! Users' service-specific credentials: two per service per user, for the
//! services that take them, active or inactive, the secret replaced on
//! reset.

use super::entities::user;
use super::errors::limit;
use super::{not_routed_here, Ctx, Decision};
use crate::command::Command;
use crate::error::DomainError;
use crate::event::EventData;
use crate::names::UserName;
use crate::service_credentials::{credential_form, not_supported, CredentialForm};
use crate::state::{AccountState, ServiceSpecificCredential};

/// AWS's quota of credentials per user for one service.
const PER_USER_PER_SERVICE: (&str, usize) = ("ServiceSpecificCredentialsPerUserPerService", 2);

pub(super) fn decide(ctx: &Ctx, command: &Command) -> Decision {
    let state = ctx.state;
    match command {
        Command::CreateServiceSpecificCredential {
            user_name,
            service_name,
            service_specific_credential_id: id,
            service_user_name,
            service_credential_alias,
            secret,
            expires_at,
            now,
        } => {
            let u = user(state, user_name)?;
            let form = credential_form(service_name).ok_or_else(|| not_supported(service_name))?;
            // The shell fills the fields of the service's form and no other.
            let shaped = match form {
                CredentialForm::UserNameAndPassword => {
                    service_user_name.is_some()
                        && service_credential_alias.is_none()
                        && expires_at.is_none()
                }
                CredentialForm::ApiKey => {
                    service_user_name.is_none() && service_credential_alias.is_some()
                }
            };
            if !shaped {
                return Err(DomainError::InvalidInput(format!(
                    "The credential does not have the form {service_name} takes."
                )));
            }
            let (quota, max) = PER_USER_PER_SERVICE;
            if credentials_of(state, &u.name)
                .filter(|c| &c.service_name == service_name)
                .count()
                >= max
            {
                return Err(limit(quota, max));
            }
            if state.service_specific_credentials.contains_key(id)
                || state.issued_ids.contains(id.as_str())
            {
                return Err(super::errors::id_taken(id));
            }
            // The shell chose the user name from the state it read; a
            // credential appended since may have taken it, and the service
            // logs in by it.
            if service_user_name.as_ref().is_some_and(|name| {
                state.service_specific_credentials.values().any(|c| {
                    &c.service_name == service_name && c.service_user_name.as_ref() == Some(name)
                })
            }) {
                return Err(DomainError::ConcurrentModification(format!(
                    "The service user name {} was just given to another credential. \
                     Submit your request again.",
                    service_user_name.as_deref().unwrap_or_default()
                )));
            }
            ctx.one(EventData::ServiceSpecificCredentialCreated {
                user_name: u.name.clone(),
                service_name: service_name.clone(),
                service_specific_credential_id: id.clone(),
                service_user_name: service_user_name.clone(),
                service_credential_alias: service_credential_alias.clone(),
                secret: secret.clone(),
                created_at: *now,
                expires_at: *expires_at,
            })
        }
        Command::ResetServiceSpecificCredential {
            user_name,
            service_specific_credential_id: id,
            secret,
        } => {
            let c = credential(state, user_name, id)?;
            ctx.one(EventData::ServiceSpecificCredentialReset {
                user_name: c.user_name.clone(),
                service_specific_credential_id: c.id.clone(),
                secret: secret.clone(),
            })
        }
        Command::UpdateServiceSpecificCredential {
            user_name,
            service_specific_credential_id: id,
            status,
        } => {
            let c = credential(state, user_name, id)?;
            if c.status == *status {
                return Ok(vec![]);
            }
            ctx.one(EventData::ServiceSpecificCredentialStatusUpdated {
                user_name: c.user_name.clone(),
                service_specific_credential_id: c.id.clone(),
                status: *status,
            })
        }
        Command::DeleteServiceSpecificCredential {
            user_name,
            service_specific_credential_id: id,
        } => {
            let c = credential(state, user_name, id)?;
            ctx.one(EventData::ServiceSpecificCredentialDeleted {
                user_name: c.user_name.clone(),
                service_specific_credential_id: c.id.clone(),
            })
        }
        other => not_routed_here(other, "service-specific credential"),
    }
}

pub(super) fn credentials_of<'a>(
    state: &'a AccountState,
    user_name: &'a UserName,
) -> impl Iterator<Item = &'a ServiceSpecificCredential> + 'a {
    state
        .service_specific_credentials
        .values()
        .map(|c| &**c)
        .filter(move |c| c.user_name.key() == user_name.key())
}

/// The credential `id` of `user_name`, or AWS's `NoSuchEntity` (also when
/// it is another user's).
fn credential<'a>(
    state: &'a AccountState,
    user_name: &UserName,
    id: &str,
) -> Result<&'a ServiceSpecificCredential, DomainError> {
    user(state, user_name)?;
    state
        .service_specific_credentials
        .get(id)
        .map(|c| &**c)
        .filter(|c| c.user_name.key() == user_name.key())
        .ok_or_else(|| {
            DomainError::NoSuchEntity(format!(
                "No such service specific credential: {}",
                crate::names::shown(id)
            ))
        })
}
