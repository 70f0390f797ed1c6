//! X.509 certificates: users' (and the root user's) signing certificates,
//! at most two per owner and each certificate once in the account; and the
//! account's server certificates, named, with a path, renamed and moved,
//! tagged, at most twenty.

use super::entities::{check_new, path_or_root, user};
use super::errors::limit;
use super::tags::{check_new_tags, tag, untag};
use super::{not_routed_here, Ctx, Decision};
use crate::command::Command;
use crate::error::DomainError;
use crate::event::EventData;
use crate::names::ServerCertificateName;
use crate::state::{
    owner_eq, AccountState, CredentialOwner, EntityRef, ServerCertificate, SigningCertificate,
};

/// AWS's quota of signing certificates per user.
pub const SIGNING_CERTIFICATES_PER_USER: (&str, usize) = ("SigningCertificatesPerUser", 2);
/// AWS's quota of server certificates per account.
pub const SERVER_CERTIFICATES_PER_ACCOUNT: (&str, usize) = ("ServerCertificatesPerAccount", 20);

pub(super) fn decide(ctx: &Ctx, command: &Command) -> Decision {
    let state = ctx.state;
    match command {
        Command::UploadSigningCertificate {
            owner,
            certificate_id,
            body,
            now,
        } => {
            let owner = existing_owner(state, owner)?;
            // The id is the certificate's digest: a second upload of one
            // certificate, to anyone in the account, finds it.
            if state.signing_certificates.contains_key(certificate_id) {
                return Err(DomainError::DuplicateCertificate(
                    "The certificate is already associated with a user in this account.".into(),
                ));
            }
            let (quota, max) = SIGNING_CERTIFICATES_PER_USER;
            if signing_certificates_of(state, &owner).count() >= max {
                return Err(limit(quota, max));
            }
            ctx.one(EventData::SigningCertificateUploaded {
                owner,
                certificate_id: certificate_id.clone(),
                body: body.clone(),
                uploaded_at: *now,
            })
        }
        Command::UpdateSigningCertificate {
            owner,
            certificate_id,
            status,
        } => {
            let c = signing_certificate(state, owner, certificate_id)?;
            if c.status == *status {
                return Ok(vec![]);
            }
            ctx.one(EventData::SigningCertificateStatusUpdated {
                owner: c.owner.clone(),
                certificate_id: c.id.clone(),
                status: *status,
            })
        }
        Command::DeleteSigningCertificate {
            owner,
            certificate_id,
        } => {
            let c = signing_certificate(state, owner, certificate_id)?;
            ctx.one(EventData::SigningCertificateDeleted {
                owner: c.owner.clone(),
                certificate_id: c.id.clone(),
            })
        }
        Command::UploadServerCertificate {
            server_certificate_name: name,
            path,
            server_certificate_id: id,
            body,
            chain,
            private_key,
            expiration,
            tags,
            now,
        } => {
            check_new(
                state,
                &state.server_certificates,
                &name.key(),
                || {
                    DomainError::EntityAlreadyExists(format!(
                        "The Server Certificate with name {name} already exists."
                    ))
                },
                id.as_str(),
                SERVER_CERTIFICATES_PER_ACCOUNT,
            )?;
            check_new_tags(&Default::default(), tags, ctx.quotas)?;
            ctx.one(EventData::ServerCertificateUploaded {
                server_certificate_name: name.clone(),
                server_certificate_id: id.clone(),
                path: path_or_root(path),
                body: body.clone(),
                chain: chain.clone(),
                private_key: private_key.clone(),
                expiration: *expiration,
                tags: tags.clone(),
                uploaded_at: *now,
            })
        }
        Command::UpdateServerCertificate {
            server_certificate_name,
            new_server_certificate_name,
            new_path,
        } => {
            let c = server_certificate(state, server_certificate_name)?;
            let new_name = new_server_certificate_name
                .as_ref()
                .filter(|n| n.as_str() != c.name.as_str());
            if let Some(n) = new_name {
                if n.key() != c.name.key() && state.server_certificates.contains_key(&n.key()) {
                    return Err(DomainError::EntityAlreadyExists(format!(
                        "The Server Certificate with name {n} already exists."
                    )));
                }
            }
            let new_path = new_path.as_ref().filter(|p| **p != c.path);
            if new_name.is_none() && new_path.is_none() {
                return Ok(vec![]);
            }
            ctx.one(EventData::ServerCertificateUpdated {
                server_certificate_name: c.name.clone(),
                new_server_certificate_name: new_name.cloned(),
                new_path: new_path.cloned(),
            })
        }
        Command::DeleteServerCertificate {
            server_certificate_name,
        } => {
            let c = server_certificate(state, server_certificate_name)?;
            ctx.one(EventData::ServerCertificateDeleted {
                server_certificate_name: c.name.clone(),
                server_certificate_id: c.id.clone(),
            })
        }
        Command::TagServerCertificate {
            server_certificate_name,
            tags,
        } => {
            let c = server_certificate(state, server_certificate_name)?;
            tag(ctx, certificate_ref(c), &c.tags, tags)
        }
        Command::UntagServerCertificate {
            server_certificate_name,
            tag_keys,
        } => {
            let c = server_certificate(state, server_certificate_name)?;
            untag(ctx, certificate_ref(c), &c.tags, tag_keys)
        }
        other => not_routed_here(other, "certificate"),
    }
}

/// The owner as stored (a user's name as the user spells it), or
/// `NoSuchEntity` for a user that does not exist.
fn existing_owner(
    state: &AccountState,
    owner: &CredentialOwner,
) -> Result<CredentialOwner, DomainError> {
    Ok(match owner {
        CredentialOwner::Root => CredentialOwner::Root,
        CredentialOwner::User { user_name } => CredentialOwner::User {
            user_name: user(state, user_name)?.name.clone(),
        },
    })
}

pub(super) fn signing_certificates_of<'a>(
    state: &'a AccountState,
    owner: &'a CredentialOwner,
) -> impl Iterator<Item = &'a SigningCertificate> + 'a {
    state
        .signing_certificates
        .values()
        .map(|c| &**c)
        .filter(move |c| owner_eq(&c.owner, owner))
}

/// The signing certificate `id` of `owner`, or AWS's `NoSuchEntity` (also
/// when it is someone else's).
fn signing_certificate<'a>(
    state: &'a AccountState,
    owner: &CredentialOwner,
    id: &str,
) -> Result<&'a SigningCertificate, DomainError> {
    let owner = existing_owner(state, owner)?;
    state
        .signing_certificates
        .get(id)
        .map(|c| &**c)
        .filter(|c| owner_eq(&c.owner, &owner))
        .ok_or_else(|| {
            DomainError::NoSuchEntity(format!(
                "The Certificate with id {} cannot be found.",
                crate::names::shown(id)
            ))
        })
}

/// The server certificate `name`, or AWS's `NoSuchEntity`.
pub(super) fn server_certificate<'a>(
    state: &'a AccountState,
    name: &ServerCertificateName,
) -> Result<&'a ServerCertificate, DomainError> {
    state
        .server_certificates
        .get(&name.key())
        .map(|c| &**c)
        .ok_or_else(|| {
            DomainError::NoSuchEntity(format!(
                "The Server Certificate with name {name} cannot be found."
            ))
        })
}

fn certificate_ref(c: &ServerCertificate) -> EntityRef {
    EntityRef::ServerCertificate {
        server_certificate_name: c.name.clone(),
    }
}
