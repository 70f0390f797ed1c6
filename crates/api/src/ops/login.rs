//! Passwords: users' login profiles, the account password policy, and a
//! user changing their own password.
//!
//! A password reaches iamd only here and at sign-in: it is checked against
//! the account's policy (`iam_domain::password_policy`), hashed with
//! argon2id (m = 19 MiB, t = 2, p = 1, a random 16-byte salt) off the async
//! threads, and only the hash is recorded. Reuse prevention compares a new
//! password with the stored hashes of the last N.

use iam_domain::names::UserName;
use iam_domain::password_policy::{check_password, PasswordPolicy};
use iam_domain::secrets::{hash_password, verify_password, PasswordHash};
use iam_domain::state::LoginProfile;
use iam_domain::{AccountState, Command};
use iam_wire::iam;

use super::{sign_in, OpContext, OpResult};
use crate::auth::Caller;
use crate::authz::Extra;
use crate::credentials::random_bytes;
use crate::query::ApiError;

pub async fn create(
    ctx: &OpContext<'_>,
    input: iam::CreateLoginProfileRequest,
) -> OpResult<iam::CreateLoginProfileResponse> {
    let name = user_name(ctx, input.user_name.as_deref())?;
    ctx.authorize(&ctx.user_target(&name))?;
    let Some(password) = input.password else {
        return Err(ApiError::validation(
            "Password is required to create a login profile.",
        ));
    };
    let hash = acceptable_hash(ctx.state(), None, password.0).await?;
    let reset = input.password_reset_required.unwrap_or(false);
    ctx.execute(Command::CreateLoginProfile {
        user_name: name.clone(),
        password_hash: hash,
        password_reset_required: reset,
        now: ctx.now,
    })
    .await?;
    let state = ctx.current();
    let profile = state
        .as_deref()
        .and_then(|v| v.state.users.get(&name.key()))
        .and_then(|u| {
            u.login_profile
                .as_ref()
                .map(|lp| (u.name.clone(), lp.clone()))
        });
    let (stored_name, profile) = profile.ok_or_else(ApiError::internal)?;
    Ok(iam::CreateLoginProfileResponse {
        login_profile: shape(&stored_name, &profile),
    })
}

pub async fn get(
    ctx: &OpContext<'_>,
    input: iam::GetLoginProfileRequest,
) -> OpResult<iam::GetLoginProfileResponse> {
    let name = user_name(ctx, input.user_name.as_deref())?;
    ctx.authorize(&ctx.user_target(&name))?;
    let (stored_name, profile) = profile(ctx.state(), &name)?;
    Ok(iam::GetLoginProfileResponse {
        login_profile: shape(stored_name, profile),
    })
}

pub async fn update(ctx: &OpContext<'_>, input: iam::UpdateLoginProfileRequest) -> OpResult<()> {
    let name = UserName::parse(&input.user_name)?;
    ctx.authorize(&ctx.user_target(&name))?;
    let (_, current) = profile(ctx.state(), &name)?;
    let hash = match input.password {
        Some(p) => Some(acceptable_hash(ctx.state(), Some(current), p.0).await?),
        None => None,
    };
    ctx.execute(Command::UpdateLoginProfile {
        user_name: name,
        password_hash: hash,
        password_reset_required: input.password_reset_required,
        now: ctx.now,
    })
    .await?;
    Ok(())
}

pub async fn delete(ctx: &OpContext<'_>, input: iam::DeleteLoginProfileRequest) -> OpResult<()> {
    let name = user_name(ctx, input.user_name.as_deref())?;
    ctx.authorize(&ctx.user_target(&name))?;
    ctx.execute(Command::DeleteLoginProfile { user_name: name })
        .await?;
    Ok(())
}

/// A user changes their own password, giving the current one. Allowed to
/// every user when the account's password policy lets users change their
/// own passwords (unless a policy explicitly denies it), else by an
/// identity policy allowing `iam:ChangePassword` on the user.
pub async fn change_password(
    ctx: &OpContext<'_>,
    input: iam::ChangePasswordRequest,
) -> OpResult<()> {
    let Caller::User { user_name, .. } = ctx.caller else {
        return Err(ApiError::new(
            400,
            "InvalidUserType",
            "ChangePassword may be called only by an IAM user.",
        ));
    };
    let state = ctx.state();
    ctx.authorize_extra(
        None,
        &ctx.user_target(user_name),
        &Extra {
            granted: users_may_change_passwords(state),
            ..Extra::default()
        },
    )?;
    let (_, current) = profile(state, user_name)?;
    // The new password's own rules first: whether the old one was right is
    // told only by a change that happens (or by a refusal that counts as a
    // failed guess).
    check_password(state.password_policy.as_ref(), &input.new_password.0)?;
    // A wrong old password is a guess at the password, as a failed sign-in
    // is: it counts (before the check) against the user's name, backs off
    // alike, and is in the trail. Only a change clears the count.
    let failures = &ctx.state.sign_in_failures;
    let key = sign_in::user_key(user_name.as_str());
    if failures
        .wait_until(&key, sign_in::FREE_FAILURES, ctx.now)
        .is_some()
    {
        return Err(ApiError::new(
            429,
            "Throttling",
            "Too many wrong passwords: try again later.",
        ));
    }
    failures.fail(&key, ctx.now);
    let old_ok = {
        let hash = current.password_hash.clone();
        let old = input.old_password.0;
        blocking(move || verify_password(&hash, &old)).await?
    };
    if !old_ok {
        let ip = ctx.facts.source_ip.unwrap_or_default();
        sign_in::record_failed_sign_in(
            ctx.state,
            user_name.as_str(),
            ip,
            "wrong OldPassword in ChangePassword",
            0,
            (ctx.now, &ctx.metadata.request_id),
        )
        .await;
        return Err(ApiError::new(
            403,
            "AccessDenied",
            "The old password is incorrect.",
        ));
    }
    let hash = acceptable_hash(state, Some(current), input.new_password.0).await?;
    ctx.execute(Command::UpdateLoginProfile {
        user_name: user_name.clone(),
        password_hash: Some(hash),
        // A password the user chose themselves ends a required reset.
        password_reset_required: Some(false),
        now: ctx.now,
    })
    .await?;
    failures.clear(&key);
    Ok(())
}

pub async fn get_password_policy(
    ctx: &OpContext<'_>,
    _: (),
) -> OpResult<iam::GetAccountPasswordPolicyResponse> {
    let state = ctx.state();
    ctx.authorize_extra(
        None,
        &crate::authz::Target::arn("*"),
        &Extra {
            // The account setting grants it to IAM users, not to roles.
            granted: matches!(ctx.caller, Caller::User { .. })
                && users_may_change_passwords(ctx.authorizing_state()),
            ..Extra::default()
        },
    )?;
    let policy = state.password_policy.as_ref().ok_or_else(|| {
        ApiError::new(
            404,
            "NoSuchEntity",
            format!(
                "The Password Policy with domain name {} cannot be found.",
                ctx.account()
            ),
        )
    })?;
    Ok(iam::GetAccountPasswordPolicyResponse {
        password_policy: iam::PasswordPolicy {
            minimum_password_length: Some(i32::from(policy.minimum_password_length)),
            require_symbols: Some(policy.require_symbols),
            require_numbers: Some(policy.require_numbers),
            require_uppercase_characters: Some(policy.require_uppercase_characters),
            require_lowercase_characters: Some(policy.require_lowercase_characters),
            allow_users_to_change_password: Some(policy.allow_users_to_change_password),
            expire_passwords: Some(policy.max_password_age.is_some()),
            max_password_age: policy.max_password_age.map(i32::from),
            password_reuse_prevention: policy.password_reuse_prevention.map(i32::from),
            hard_expiry: policy.max_password_age.map(|_| policy.hard_expiry),
        },
    })
}

pub async fn update_password_policy(
    ctx: &OpContext<'_>,
    input: iam::UpdateAccountPasswordPolicyRequest,
) -> OpResult<()> {
    ctx.authorize_arn("*".into())?;
    // Omitted values take AWS's defaults, not the current policy's.
    let in_range = |v: Option<i32>, what: &str, range: std::ops::RangeInclusive<i32>| {
        v.map(|v| {
            if range.contains(&v) {
                Ok(v)
            } else {
                Err(ApiError::validation(format!(
                    "{what} must be between {} and {}.",
                    range.start(),
                    range.end()
                )))
            }
        })
        .transpose()
    };
    let policy = PasswordPolicy {
        minimum_password_length: in_range(
            input.minimum_password_length,
            "MinimumPasswordLength",
            6..=128,
        )?
        .unwrap_or(6) as u8,
        require_symbols: input.require_symbols.unwrap_or(false),
        require_numbers: input.require_numbers.unwrap_or(false),
        require_uppercase_characters: input.require_uppercase_characters.unwrap_or(false),
        require_lowercase_characters: input.require_lowercase_characters.unwrap_or(false),
        allow_users_to_change_password: input.allow_users_to_change_password.unwrap_or(false),
        max_password_age: in_range(input.max_password_age, "MaxPasswordAge", 1..=1095)?
            .map(|d| d as u16),
        password_reuse_prevention: in_range(
            input.password_reuse_prevention,
            "PasswordReusePrevention",
            1..=24,
        )?
        .map(|n| n as u8),
        hard_expiry: input.hard_expiry.unwrap_or(false),
    };
    ctx.execute(Command::UpdateAccountPasswordPolicy { policy })
        .await?;
    Ok(())
}

pub async fn delete_password_policy(ctx: &OpContext<'_>, _: ()) -> OpResult<()> {
    ctx.authorize_arn("*".into())?;
    ctx.execute(Command::DeleteAccountPasswordPolicy).await?;
    Ok(())
}

/// Whether the account lets every user change their own password: its
/// custom policy's setting, or, without one, AWS's default policy's.
pub fn users_may_change_passwords(state: &AccountState) -> bool {
    state
        .password_policy
        .as_ref()
        .unwrap_or(&PasswordPolicy::aws_default())
        .allow_users_to_change_password
}

/// The hash of a new password that the account's policy accepts: its
/// rules, and, for a profile that exists, none of its last N passwords.
async fn acceptable_hash(
    state: &AccountState,
    current: Option<&LoginProfile>,
    password: String,
) -> Result<PasswordHash, ApiError> {
    let policy = state.password_policy.clone();
    check_password(policy.as_ref(), &password)?;
    let reused: Vec<PasswordHash> =
        match (policy.and_then(|p| p.password_reuse_prevention), current) {
            (Some(n), Some(profile)) => std::iter::once(&profile.password_hash)
                .chain(&profile.previous_hashes)
                .take(usize::from(n))
                .cloned()
                .collect(),
            _ => Vec::new(),
        };
    blocking(move || {
        if reused.iter().any(|h| verify_password(h, &password)) {
            return Err(ApiError::from(
                iam_domain::DomainError::PasswordPolicyViolation(
                    "Password does not conform to the account password policy: it was used recently."
                        .into(),
                ),
            ));
        }
        Ok(hash_password(&password, &random_bytes()))
    })
    .await?
}

/// Runs argon2 (tens of milliseconds of CPU) off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "a password hashing task failed");
        ApiError::internal()
    })
}

/// The user an operation names, or the calling user when it names none.
pub(super) fn user_name(ctx: &OpContext<'_>, given: Option<&str>) -> Result<UserName, ApiError> {
    match given {
        Some(name) => Ok(UserName::parse(name)?),
        None => match ctx.caller {
            Caller::User { user_name, .. } => Ok(user_name.clone()),
            _ => Err(Caller::needs_user_name()),
        },
    }
}

/// A user's login profile; `NoSuchEntity` (AWS's wording) if the user or
/// the profile does not exist.
fn profile<'a>(
    state: &'a AccountState,
    name: &UserName,
) -> Result<(&'a UserName, &'a LoginProfile), ApiError> {
    state
        .users
        .get(&name.key())
        .and_then(|u| u.login_profile.as_ref().map(|lp| (&u.name, lp)))
        .ok_or_else(|| {
            ApiError::new(
                404,
                "NoSuchEntity",
                format!("Login Profile for User {name} cannot be found."),
            )
        })
}

fn shape(name: &UserName, profile: &LoginProfile) -> iam::LoginProfile {
    iam::LoginProfile {
        user_name: name.as_str().to_owned(),
        create_date: profile.created_at,
        password_reset_required: Some(profile.password_reset_required),
        max_signin_session_duration: None,
    }
}
