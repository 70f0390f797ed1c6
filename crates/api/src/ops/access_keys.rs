//! Access keys: the caller's own (no `UserName`) or a named user's.

use iam_domain::ids::AccessKeyId;
use iam_domain::names::UserName;
use iam_domain::secrets::seal;
use iam_domain::state::{AccessKey, CredentialOwner};
use iam_domain::Command;
use iam_wire::iam;

use super::shapes::Page;
use super::{OpContext, OpResult};
use crate::authz::Target;
use crate::credentials::{random_bytes, secret_access_key, unique_id};
use crate::query::ApiError;

/// The owner named by `UserName`, or the caller; and what the call is
/// authorized against (the user; the root user for root keys).
pub(super) fn owner(
    ctx: &OpContext<'_>,
    user_name: Option<&str>,
) -> Result<(CredentialOwner, Target), ApiError> {
    let owner = match user_name {
        Some(name) => CredentialOwner::User {
            user_name: UserName::parse(name)?,
        },
        None => ctx.caller.owner()?,
    };
    let target = owner_target(ctx, &owner);
    Ok((owner, target))
}

pub(super) fn owner_target(ctx: &OpContext<'_>, owner: &CredentialOwner) -> Target {
    match owner {
        CredentialOwner::Root => Target::arn(ctx.arn("root")),
        CredentialOwner::User { user_name } => ctx.user_target(user_name),
    }
}

pub(super) fn owner_name(owner: &CredentialOwner) -> Option<String> {
    match owner {
        CredentialOwner::Root => None,
        CredentialOwner::User { user_name } => Some(user_name.as_str().to_owned()),
    }
}

fn metadata(k: &AccessKey) -> iam::AccessKeyMetadata {
    iam::AccessKeyMetadata {
        access_key_id: Some(k.id.as_str().to_owned()),
        create_date: Some(k.created_at),
        status: Some(super::shapes::status(k.status)),
        user_name: owner_name(&k.owner),
    }
}

pub async fn create(
    ctx: &OpContext<'_>,
    input: iam::CreateAccessKeyRequest,
) -> OpResult<iam::CreateAccessKeyResponse> {
    let (owner, resource) = owner(ctx, input.user_name.as_deref())?;
    ctx.authorize(&resource)?;
    let id = unique_id("AKIA");
    let secret = secret_access_key();
    // The secret is sealed before it reaches the log, bound to its key id.
    let sealed = seal(
        &ctx.state.master_key,
        random_bytes(),
        id.as_bytes(),
        secret.as_bytes(),
    );
    ctx.execute(Command::CreateAccessKey {
        owner: owner.clone(),
        access_key_id: AccessKeyId::parse(&id)?,
        secret: sealed,
        now: ctx.now,
    })
    .await?;
    Ok(iam::CreateAccessKeyResponse {
        access_key: iam::AccessKey {
            access_key_id: id,
            create_date: Some(ctx.now),
            secret_access_key: iam_wire::Secret(secret),
            status: iam::StatusType::Active,
            // Root's keys have no user name; AWS leaves the element empty.
            user_name: owner_name(&owner).unwrap_or_default(),
        },
    })
}

pub async fn list(
    ctx: &OpContext<'_>,
    input: iam::ListAccessKeysRequest,
) -> OpResult<iam::ListAccessKeysResponse> {
    let (owner, resource) = owner(ctx, input.user_name.as_deref())?;
    ctx.authorize(&resource)?;
    let state = ctx.state();
    if let CredentialOwner::User { user_name } = &owner {
        if !state.users.contains_key(&user_name.key()) {
            return Err(super::entity::no_such("user", user_name.as_str()));
        }
    }
    let page = Page::of(
        state
            .access_keys
            .iter()
            .filter(|(_, k)| k.owner == owner)
            .map(|(id, k)| (id.as_str(), metadata(k))),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListAccessKeysResponse {
        is_truncated: page.is_truncated(),
        access_key_metadata: page.items,
        marker: page.next,
    })
}

pub async fn update(ctx: &OpContext<'_>, input: iam::UpdateAccessKeyRequest) -> OpResult<()> {
    let (owner, resource) = owner(ctx, input.user_name.as_deref())?;
    let id = AccessKeyId::parse(&input.access_key_id)?;
    let status = super::shapes::requested_status(&input.status)?;
    ctx.authorize(&resource)?;
    ctx.execute(Command::UpdateAccessKey {
        owner,
        access_key_id: id,
        status,
    })
    .await?;
    Ok(())
}

pub async fn delete(ctx: &OpContext<'_>, input: iam::DeleteAccessKeyRequest) -> OpResult<()> {
    let (owner, resource) = owner(ctx, input.user_name.as_deref())?;
    let id = AccessKeyId::parse(&input.access_key_id)?;
    ctx.authorize(&resource)?;
    ctx.execute(Command::DeleteAccessKey {
        owner,
        access_key_id: id,
    })
    .await?;
    Ok(())
}

pub async fn last_used(
    ctx: &OpContext<'_>,
    input: iam::GetAccessKeyLastUsedRequest,
) -> OpResult<iam::GetAccessKeyLastUsedResponse> {
    let id = AccessKeyId::parse(&input.access_key_id)?;
    let state = ctx.state();
    // Authorized before the key is looked up, so the answer does not tell
    // a caller which keys exist: a key that does not exist is authorized
    // on every user (`user/*`), and a refusal names `user/*` unless the
    // caller may read the key's owner.
    let any_user = ctx.arn("user/*");
    let key = state.access_keys.get(&id);
    let target = match key {
        Some(k) => owner_target(ctx, &k.owner).named_as(any_user),
        None => Target::arn(any_user),
    };
    ctx.authorize(&target)?;
    let key = key.ok_or_else(|| {
        ApiError::new(
            404,
            "NoSuchEntity",
            format!("The Access Key with id {} cannot be found", id.as_str()),
        )
    })?;
    let used = match &key.last_used {
        Some(u) => iam::AccessKeyLastUsed {
            last_used_date: Some(u.used_at),
            service_name: u.service_name.clone(),
            region: u.region.clone(),
        },
        None => iam::AccessKeyLastUsed {
            last_used_date: None,
            service_name: "N/A".into(),
            region: "N/A".into(),
        },
    };
    Ok(iam::GetAccessKeyLastUsedResponse {
        access_key_last_used: Some(used),
        user_name: owner_name(&key.owner),
    })
}
