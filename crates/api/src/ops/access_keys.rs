//! Access keys: the caller's own (no `UserName`) or a named user's.

use iam_domain::ids::AccessKeyId;
use iam_domain::names::UserName;
use iam_domain::secrets::seal;
use iam_domain::state::{AccessKeyStatus, CredentialOwner};
use iam_domain::Command;

use super::{page, paging_tail, OpContext, OpResult};
use crate::authz::Target;
use crate::credentials::{random_bytes, secret_access_key, unique_id};
use crate::query::{iso8601, ApiError, Xml};

/// The owner named by `UserName`, or the caller; and what the call is
/// authorized against (the user; the root user for root keys).
fn owner(ctx: &OpContext<'_>) -> Result<(CredentialOwner, Target), ApiError> {
    let owner = match ctx.params.get("UserName") {
        Some(name) => CredentialOwner::User {
            user_name: UserName::parse(name)?,
        },
        None => ctx.caller.owner(),
    };
    let target = owner_target(ctx, &owner);
    Ok((owner, target))
}

fn owner_target(ctx: &OpContext<'_>, owner: &CredentialOwner) -> Target {
    match owner {
        CredentialOwner::Root => Target::arn(ctx.arn("root")),
        CredentialOwner::User { user_name } => ctx.user_target(user_name),
    }
}

fn owner_name(owner: &CredentialOwner) -> Option<&str> {
    match owner {
        CredentialOwner::Root => None,
        CredentialOwner::User { user_name } => Some(user_name.as_str()),
    }
}

fn status_text(s: AccessKeyStatus) -> &'static str {
    match s {
        AccessKeyStatus::Active => "Active",
        AccessKeyStatus::Inactive => "Inactive",
    }
}

pub async fn create(ctx: &OpContext<'_>) -> OpResult {
    let (owner, resource) = owner(ctx)?;
    ctx.authorize("CreateAccessKey", &resource)?;
    let id = unique_id("AKIA");
    let secret = secret_access_key();
    // The secret is sealed before it reaches the log, bound to its key id.
    let sealed = seal(
        &ctx.state.master_key,
        random_bytes(),
        id.as_bytes(),
        secret.as_bytes(),
    );
    let position = ctx
        .execute(Command::CreateAccessKey {
            owner: owner.clone(),
            access_key_id: AccessKeyId::parse(&id)?,
            secret: sealed,
            now: ctx.now,
        })
        .await?;
    let mut x = Xml::new();
    x.open("AccessKey")
        .opt("UserName", owner_name(&owner))
        .elem("AccessKeyId", &id)
        .elem("Status", "Active")
        .elem("SecretAccessKey", &secret)
        .elem("CreateDate", &iso8601(&ctx.now))
        .close("AccessKey");
    Ok((x.finish(), Some(position)))
}

pub fn list(ctx: &OpContext<'_>) -> OpResult {
    let (owner, resource) = owner(ctx)?;
    ctx.authorize("ListAccessKeys", &resource)?;
    let state = ctx.state();
    if let CredentialOwner::User { user_name } = &owner {
        if !state.users.contains_key(&user_name.key()) {
            return Err(ApiError::new(
                404,
                "NoSuchEntity",
                format!("The user with name {} cannot be found.", user_name.as_str()),
            ));
        }
    }
    let (keys, next) = page(
        state
            .access_keys
            .iter()
            .filter(|(_, k)| k.owner == owner)
            .map(|(id, k)| (id.as_str(), k)),
        ctx.params,
    )?;
    let mut x = Xml::new();
    x.open("AccessKeyMetadata");
    for k in keys {
        x.open("member")
            .opt("UserName", owner_name(&k.owner))
            .elem("AccessKeyId", k.id.as_str())
            .elem("Status", status_text(k.status))
            .elem("CreateDate", &iso8601(&k.created_at))
            .close("member");
    }
    x.close("AccessKeyMetadata");
    paging_tail(&mut x, next);
    Ok((x.finish(), None))
}

pub async fn update(ctx: &OpContext<'_>) -> OpResult {
    let (owner, resource) = owner(ctx)?;
    let id = AccessKeyId::parse(ctx.params.required("AccessKeyId")?)?;
    let status = match ctx.params.required("Status")? {
        "Active" => AccessKeyStatus::Active,
        "Inactive" => AccessKeyStatus::Inactive,
        other => {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{other}' at 'status' failed to satisfy constraint: \
                 Member must satisfy enum value set: [Active, Inactive]"
            )))
        }
    };
    ctx.authorize("UpdateAccessKey", &resource)?;
    let position = ctx
        .execute(Command::UpdateAccessKey {
            owner,
            access_key_id: id,
            status,
        })
        .await?;
    Ok((String::new(), Some(position)))
}

pub async fn delete(ctx: &OpContext<'_>) -> OpResult {
    let (owner, resource) = owner(ctx)?;
    let id = AccessKeyId::parse(ctx.params.required("AccessKeyId")?)?;
    ctx.authorize("DeleteAccessKey", &resource)?;
    let position = ctx
        .execute(Command::DeleteAccessKey {
            owner,
            access_key_id: id,
        })
        .await?;
    Ok((String::new(), Some(position)))
}

pub fn last_used(ctx: &OpContext<'_>) -> OpResult {
    let id = AccessKeyId::parse(ctx.params.required("AccessKeyId")?)?;
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
    ctx.authorize("GetAccessKeyLastUsed", &target)?;
    let key = key.ok_or_else(|| {
        ApiError::new(
            404,
            "NoSuchEntity",
            format!("The Access Key with id {} cannot be found", id.as_str()),
        )
    })?;
    let mut x = Xml::new();
    x.opt("UserName", owner_name(&key.owner))
        .open("AccessKeyLastUsed");
    match &key.last_used {
        Some(u) => {
            x.elem("LastUsedDate", &iso8601(&u.used_at))
                .elem("ServiceName", &u.service_name)
                .elem("Region", &u.region);
        }
        None => {
            x.elem("ServiceName", "N/A").elem("Region", "N/A");
        }
    }
    x.close("AccessKeyLastUsed");
    Ok((x.finish(), None))
}
