//! Service-specific credentials (`CreateServiceSpecificCredential` and the
//! rest): a password for CodeCommit's Git over HTTPS or Amazon Keyspaces, or
//! an API key for Bedrock or CloudWatch Logs, bound to one user and one
//! service. iamd serves none of those services; it issues, lists and
//! revokes the credentials as AWS does, so that the tools that manage them
//! work, and keeps each secret sealed so a front end could check one later.
//! Authorized on the owning user, as AWS does.

use base64::Engine;
use chrono::Duration;
use iam_domain::names::UserName;
use iam_domain::secrets::seal;
use iam_domain::secrets::SealedSecret;
use iam_domain::service_credentials::{
    credential_form, not_supported, CredentialForm, MAX_CREDENTIAL_AGE_DAYS,
};
use iam_domain::state::{AccountState, ServiceSpecificCredential};
use iam_domain::Command;
use iam_wire::iam;

use super::shapes::Page;
use super::{OpContext, OpResult};
use crate::credentials::{random_bytes, unique_id};
use crate::query::ApiError;

/// A new secret, sealed to the credential `id`: 33 random bytes as 44
/// base64 characters (a CodeCommit password's length), or 48 as an API key.
fn new_secret(ctx: &OpContext<'_>, id: &str, form: CredentialForm) -> (String, SealedSecret) {
    let secret = match form {
        CredentialForm::UserNameAndPassword => {
            base64::engine::general_purpose::STANDARD.encode(random_bytes::<33>())
        }
        CredentialForm::ApiKey => {
            base64::engine::general_purpose::STANDARD.encode(random_bytes::<48>())
        }
    };
    let sealed = seal(
        &ctx.state.master_key,
        random_bytes(),
        id.as_bytes(),
        secret.as_bytes(),
    );
    (secret, sealed)
}

/// The credential as created or reset: with its secret, in the field its
/// form uses.
fn shown(c: &ServiceSpecificCredential, secret: String) -> iam::ServiceSpecificCredential {
    let api_key = c.service_credential_alias.is_some();
    iam::ServiceSpecificCredential {
        create_date: c.created_at,
        expiration_date: c.expires_at,
        service_name: c.service_name.clone(),
        service_user_name: c.service_user_name.clone(),
        service_password: (!api_key).then(|| iam_wire::Secret(secret.clone())),
        service_credential_alias: c.service_credential_alias.clone(),
        service_credential_secret: api_key.then_some(iam_wire::Secret(secret)),
        service_specific_credential_id: c.id.clone(),
        user_name: c.user_name.as_str().to_owned(),
        status: super::shapes::status(c.status),
    }
}

fn metadata(c: &ServiceSpecificCredential) -> iam::ServiceSpecificCredentialMetadata {
    iam::ServiceSpecificCredentialMetadata {
        user_name: c.user_name.as_str().to_owned(),
        status: super::shapes::status(c.status),
        service_user_name: c.service_user_name.clone(),
        service_credential_alias: c.service_credential_alias.clone(),
        create_date: c.created_at,
        expiration_date: c.expires_at,
        service_specific_credential_id: c.id.clone(),
        service_name: c.service_name.clone(),
    }
}

fn stored<'s>(
    state: &'s AccountState,
    user: &UserName,
    id: &str,
) -> Result<&'s ServiceSpecificCredential, ApiError> {
    state
        .service_specific_credentials
        .get(id)
        .map(|c| &**c)
        .filter(|c| c.user_name.key() == user.key())
        .ok_or_else(|| {
            ApiError::new(
                404,
                "NoSuchEntity",
                format!(
                    "No such service specific credential: {}",
                    iam_domain::names::shown(id)
                ),
            )
        })
}

/// The user name a password credential logs in with: `jane-at-123456789012`
/// for the user's first credential for the service, `jane+1-at-...` for a
/// second while the first exists, as AWS names them.
fn service_user_name(
    state: &AccountState,
    user: &UserName,
    account: &str,
    service: &str,
) -> String {
    let taken = |candidate: &str| {
        state
            .service_specific_credentials
            .values()
            .any(|c| c.service_name == service && c.service_user_name.as_deref() == Some(candidate))
    };
    let first = format!("{user}-at-{account}");
    if !taken(&first) {
        return first;
    }
    (1..)
        .map(|n| format!("{user}+{n}-at-{account}"))
        .find(|c| !taken(c))
        .expect("an unbounded range has a free name")
}

pub async fn create(
    ctx: &OpContext<'_>,
    input: iam::CreateServiceSpecificCredentialRequest,
) -> OpResult<iam::CreateServiceSpecificCredentialResponse> {
    let user_name = UserName::parse(&input.user_name)?;
    ctx.authorize(&ctx.user_target(&user_name))?;
    let form =
        credential_form(&input.service_name).ok_or_else(|| not_supported(&input.service_name))?;
    let expires_at = match (form, input.credential_age_days) {
        (_, None) => None,
        (CredentialForm::ApiKey, Some(days))
            if (1..=MAX_CREDENTIAL_AGE_DAYS).contains(&i64::from(days)) =>
        {
            Some(ctx.now + Duration::days(i64::from(days)))
        }
        (CredentialForm::ApiKey, Some(_)) => {
            return Err(ApiError::new(
                400,
                "InvalidInput",
                format!("CredentialAgeDays must be between 1 and {MAX_CREDENTIAL_AGE_DAYS}."),
            ))
        }
        (CredentialForm::UserNameAndPassword, Some(_)) => {
            return Err(ApiError::new(
                400,
                "InvalidInput",
                format!(
                    "CredentialAgeDays is valid only for services that take API keys, not {}.",
                    input.service_name
                ),
            ))
        }
    };
    let id = unique_id("ACCA");
    let state = ctx.state();
    // The user's own spelling of its name, when it exists (decide refuses
    // the command otherwise).
    let owner = state
        .users
        .get(&user_name.key())
        .map_or(user_name.clone(), |u| u.name.clone());
    let (service_user_name, alias) = match form {
        CredentialForm::UserNameAndPassword => (
            Some(service_user_name(
                state,
                &owner,
                ctx.account(),
                &input.service_name,
            )),
            None,
        ),
        // The alias names the user and the account, and ends with the
        // credential id's last characters so that two keys differ.
        CredentialForm::ApiKey => (
            None,
            Some(format!(
                "{owner}-at-{}-{}",
                ctx.account(),
                id[id.len() - 8..].to_ascii_lowercase()
            )),
        ),
    };
    let (secret, sealed) = new_secret(ctx, &id, form);
    ctx.execute(Command::CreateServiceSpecificCredential {
        user_name: user_name.clone(),
        service_name: input.service_name.clone(),
        service_specific_credential_id: id.clone(),
        service_user_name,
        service_credential_alias: alias,
        secret: sealed,
        expires_at,
        now: ctx.now,
    })
    .await?;
    let view = ctx.current().ok_or_else(ApiError::internal)?;
    let c = stored(&view.state, &user_name, &id)?;
    Ok(iam::CreateServiceSpecificCredentialResponse {
        service_specific_credential: Some(shown(c, secret)),
    })
}

/// Without `UserName`, the caller's own; `AllUsers` lists every user's,
/// and is authorized on every user (`user/*`).
pub async fn list(
    ctx: &OpContext<'_>,
    input: iam::ListServiceSpecificCredentialsRequest,
) -> OpResult<iam::ListServiceSpecificCredentialsResponse> {
    let all = input.all_users.unwrap_or(false);
    if all && input.user_name.is_some() {
        return Err(ApiError::new(
            400,
            "InvalidInput",
            "UserName and AllUsers cannot be given together.",
        ));
    }
    let user_name = if all {
        ctx.authorize_arn(ctx.arn("user/*"))?;
        None
    } else {
        let name = super::login::user_name(ctx, input.user_name.as_deref())?;
        ctx.authorize(&ctx.user_target(&name))?;
        Some(name)
    };
    if let Some(service) = input.service_name.as_deref() {
        credential_form(service).ok_or_else(|| not_supported(service))?;
    }
    let state = ctx.state();
    if let Some(name) = &user_name {
        if !state.users.contains_key(&name.key()) {
            return Err(super::entity::no_such("user", name.as_str()));
        }
    }
    let page = Page::of(
        state
            .service_specific_credentials
            .iter()
            .filter(|(_, c)| {
                user_name
                    .as_ref()
                    .is_none_or(|n| c.user_name.key() == n.key())
                    && input
                        .service_name
                        .as_deref()
                        .is_none_or(|s| s == c.service_name)
            })
            .map(|(id, c)| (id.as_str(), &**c)),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListServiceSpecificCredentialsResponse {
        service_specific_credentials: Some(page.items.iter().map(|c| metadata(c)).collect()),
        is_truncated: page.is_truncated(),
        marker: page.next,
    })
}

/// A new secret, shown once; the old one stops working at once.
pub async fn reset(
    ctx: &OpContext<'_>,
    input: iam::ResetServiceSpecificCredentialRequest,
) -> OpResult<iam::ResetServiceSpecificCredentialResponse> {
    let user_name = super::login::user_name(ctx, input.user_name.as_deref())?;
    ctx.authorize(&ctx.user_target(&user_name))?;
    let id = input.service_specific_credential_id;
    let existing = stored(ctx.state(), &user_name, &id)?;
    let form = credential_form(&existing.service_name).ok_or_else(ApiError::internal)?;
    let (secret, sealed) = new_secret(ctx, &id, form);
    ctx.execute(Command::ResetServiceSpecificCredential {
        user_name: user_name.clone(),
        service_specific_credential_id: id.clone(),
        secret: sealed,
    })
    .await?;
    let view = ctx.current().ok_or_else(ApiError::internal)?;
    let c = stored(&view.state, &user_name, &id)?;
    Ok(iam::ResetServiceSpecificCredentialResponse {
        service_specific_credential: Some(shown(c, secret)),
    })
}

pub async fn update(
    ctx: &OpContext<'_>,
    input: iam::UpdateServiceSpecificCredentialRequest,
) -> OpResult<()> {
    let user_name = super::login::user_name(ctx, input.user_name.as_deref())?;
    ctx.authorize(&ctx.user_target(&user_name))?;
    ctx.execute(Command::UpdateServiceSpecificCredential {
        user_name,
        service_specific_credential_id: input.service_specific_credential_id,
        status: super::shapes::requested_status(&input.status)?,
    })
    .await?;
    Ok(())
}

pub async fn delete(
    ctx: &OpContext<'_>,
    input: iam::DeleteServiceSpecificCredentialRequest,
) -> OpResult<()> {
    let user_name = super::login::user_name(ctx, input.user_name.as_deref())?;
    ctx.authorize(&ctx.user_target(&user_name))?;
    ctx.execute(Command::DeleteServiceSpecificCredential {
        user_name,
        service_specific_credential_id: input.service_specific_credential_id,
    })
    .await?;
    Ok(())
}
