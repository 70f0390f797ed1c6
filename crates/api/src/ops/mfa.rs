//! Virtual MFA devices, and the one check of an MFA code every operation
//! that takes one shares.

use iam_domain::event::MfaCodeUse;
use iam_domain::names::{IamPath, MfaDeviceName, UserName};
use iam_domain::state::{owner_eq, CredentialOwner, VirtualMfaDevice};
use iam_domain::{AccountState, Arn, Command};
use iam_wire::iam;

use super::access_keys::{owner, owner_name};
use super::shapes::Page;
use super::{OpContext, OpResult};
use crate::auth::Caller;
use crate::authz::Target;
use crate::credentials::random_bytes;
use crate::query::ApiError;

/// The issuer an authenticator app shows beside the code.
const ISSUER: &str = "iamd";
/// How far (in 30-second steps) a device's clock may have drifted for
/// `ResyncMFADevice`: ten minutes either way.
const RESYNC_WINDOW: u64 = 20;

pub async fn create_virtual(
    ctx: &OpContext<'_>,
    input: iam::CreateVirtualMFADeviceRequest,
) -> OpResult<iam::CreateVirtualMFADeviceResponse> {
    let name = MfaDeviceName::parse(&input.virtual_mfa_device_name)?;
    let path = input.path.as_deref().map(IamPath::parse).transpose()?;
    let account = ctx
        .state()
        .account_id()
        .cloned()
        .ok_or_else(ApiError::internal)?;
    let serial_number = Arn::mfa(&account, &path.clone().unwrap_or_default(), &name);
    let tags = crate::authz::request_tags(ctx.params)?;
    let target = Target::arn(serial_number.to_string());
    ctx.authorize(&target)?;
    if !tags.is_empty() {
        ctx.authorize_also::<iam_wire::iam::ops::TagMFADevice>(&target)?;
    }
    let seed = iam_mfa::Seed::generate().map_err(|e| {
        tracing::error!(error = %e, "no randomness for an MFA seed");
        ApiError::internal()
    })?;
    let base32 = seed.to_base32();
    let sealed = iam_domain::secrets::seal(
        &ctx.state.master_key,
        random_bytes(),
        serial_number.to_string().as_bytes(),
        base32.as_bytes(),
    );
    let uri = iam_mfa::otpauth_uri(ISSUER, &format!("{name}@{}", ctx.account()), &seed);
    let png = iam_mfa::qr_png(&uri).map_err(|e| {
        tracing::error!(error = %e, "cannot draw an MFA QR code");
        ApiError::internal()
    })?;
    let shown_tags = (!tags.is_empty()).then(|| super::shapes::tag_list(tags.iter()));
    ctx.execute(Command::CreateVirtualMfaDevice {
        device_name: name,
        path,
        tags,
        seed: sealed,
        now: ctx.now,
    })
    .await?;
    Ok(iam::CreateVirtualMFADeviceResponse {
        virtual_mfa_device: iam::VirtualMFADevice {
            serial_number: serial_number.to_string(),
            base32_string_seed: Some(base32.into_bytes()),
            qr_code_png: Some(png),
            user: None,
            enable_date: None,
            tags: shown_tags,
        },
    })
}

pub async fn tag(ctx: &OpContext<'_>, input: iam::TagMFADeviceRequest) -> OpResult<()> {
    let serial_number = Arn::parse(&input.serial_number)?;
    let tags = crate::authz::request_tags(ctx.params)?;
    ctx.authorize(&device_target(ctx, &serial_number))?;
    ctx.execute(Command::TagMfaDevice {
        serial_number,
        tags,
    })
    .await?;
    Ok(())
}

pub async fn untag(ctx: &OpContext<'_>, input: iam::UntagMFADeviceRequest) -> OpResult<()> {
    let serial_number = Arn::parse(&input.serial_number)?;
    let tag_keys = crate::authz::request_tag_keys(ctx.params)?;
    ctx.authorize(&device_target(ctx, &serial_number))?;
    ctx.execute(Command::UntagMfaDevice {
        serial_number,
        tag_keys,
    })
    .await?;
    Ok(())
}

/// Paged by folded tag key.
pub async fn list_tags(
    ctx: &OpContext<'_>,
    input: iam::ListMFADeviceTagsRequest,
) -> OpResult<iam::ListMFADeviceTagsResponse> {
    let serial_number = Arn::parse(&input.serial_number)?;
    ctx.authorize(&device_target(ctx, &serial_number))?;
    let (device, _) = device(ctx.state(), &input.serial_number)?;
    let page = Page::of(
        device.tags.iter().map(|(k, t)| (k.as_str(), t)),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListMFADeviceTagsResponse {
        is_truncated: page.is_truncated(),
        tags: super::shapes::tag_list(page.items.into_iter()),
        marker: page.next,
    })
}

/// A device as an authorization target: its stored serial number, with
/// its tags (`aws:ResourceTag/*`), or the ARN as given when there is none.
fn device_target(ctx: &OpContext<'_>, serial_number: &Arn) -> Target {
    let state = ctx.authorizing_state();
    match state.mfa_by_arn(serial_number) {
        Some(d) => Target::arn(
            state
                .mfa_arn(d)
                .map_or_else(|| serial_number.to_string(), |a| a.to_string()),
        )
        .with_tags(d.tags.values()),
        None => Target::arn(serial_number.to_string()),
    }
}

/// Enables a device for a user with two consecutive codes from it (which
/// are spent by it).
pub async fn enable(ctx: &OpContext<'_>, input: iam::EnableMFADeviceRequest) -> OpResult<()> {
    let user_name = UserName::parse(&input.user_name)?;
    ctx.authorize(&ctx.user_target(&user_name))?;
    let (device, serial_number) = device(ctx.state(), &input.serial_number)?;
    if device.assignment.is_some() {
        return Err(ApiError::new(
            409,
            "EntityAlreadyExists",
            "MFA device is already in use.",
        ));
    }
    let counter = consecutive(
        ctx,
        device,
        &serial_number,
        (&input.authentication_code1, &input.authentication_code2),
        // The pair may end in the step just begun or just ended.
        CODE_WINDOW + 1,
    )?;
    ctx.execute(Command::EnableMfaDevice {
        owner: CredentialOwner::User { user_name },
        serial_number,
        now: ctx.now,
        counter: Some(counter),
    })
    .await?;
    Ok(())
}

pub async fn resync(ctx: &OpContext<'_>, input: iam::ResyncMFADeviceRequest) -> OpResult<()> {
    let user_name = UserName::parse(&input.user_name)?;
    ctx.authorize(&ctx.user_target(&user_name))?;
    let (device, serial_number) = device(ctx.state(), &input.serial_number)?;
    let counter = consecutive(
        ctx,
        device,
        &serial_number,
        (&input.authentication_code1, &input.authentication_code2),
        RESYNC_WINDOW,
    )?;
    ctx.execute(Command::ResyncMfaDevice {
        owner: CredentialOwner::User { user_name },
        serial_number,
        counter,
    })
    .await?;
    Ok(())
}

pub async fn deactivate(
    ctx: &OpContext<'_>,
    input: iam::DeactivateMFADeviceRequest,
) -> OpResult<()> {
    let (owner, target) = owner(ctx, input.user_name.as_deref())?;
    ctx.authorize(&target)?;
    let serial_number = Arn::parse(&input.serial_number)?;
    ctx.execute(Command::DeactivateMfaDevice {
        owner,
        serial_number,
    })
    .await?;
    Ok(())
}

pub async fn delete_virtual(
    ctx: &OpContext<'_>,
    input: iam::DeleteVirtualMFADeviceRequest,
) -> OpResult<()> {
    let serial_number = Arn::parse(&input.serial_number)?;
    ctx.authorize(&device_target(ctx, &serial_number))?;
    ctx.execute(Command::DeleteVirtualMfaDevice { serial_number })
        .await?;
    Ok(())
}

pub async fn get(
    ctx: &OpContext<'_>,
    input: iam::GetMFADeviceRequest,
) -> OpResult<iam::GetMFADeviceResponse> {
    let (owner, target) = owner(ctx, input.user_name.as_deref())?;
    ctx.authorize(&target)?;
    let state = ctx.state();
    let (device, serial_number) = device(state, &input.serial_number)?;
    let enabled = device
        .assignment
        .as_ref()
        .filter(|a| owner_eq(&a.owner, &owner))
        .ok_or_else(|| no_device(&input.serial_number))?;
    Ok(iam::GetMFADeviceResponse {
        user_name: owner_name(&enabled.owner),
        serial_number: serial_number.to_string(),
        enable_date: Some(enabled.enabled_at),
        certifications: None,
    })
}

pub async fn list(
    ctx: &OpContext<'_>,
    input: iam::ListMFADevicesRequest,
) -> OpResult<iam::ListMFADevicesResponse> {
    let (owner, target) = owner(ctx, input.user_name.as_deref())?;
    ctx.authorize(&target)?;
    let state = ctx.state();
    if let CredentialOwner::User { user_name } = &owner {
        if !state.users.contains_key(&user_name.key()) {
            return Err(super::entity::no_such("user", user_name.as_str()));
        }
    }
    let devices: Vec<(String, iam::MFADevice)> = state
        .mfa_devices
        .values()
        .filter_map(|d| {
            let a = d
                .assignment
                .as_ref()
                .filter(|a| owner_eq(&a.owner, &owner))?;
            let serial = state.mfa_arn(d)?.to_string();
            Some((
                serial.clone(),
                iam::MFADevice {
                    user_name: owner_name(&a.owner).unwrap_or_else(|| ctx.account().to_owned()),
                    serial_number: serial,
                    enable_date: a.enabled_at,
                },
            ))
        })
        .collect();
    let page = Page::of(
        devices.iter().map(|(k, d)| (k.as_str(), d.clone())),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListMFADevicesResponse {
        is_truncated: page.is_truncated(),
        mfa_devices: page.items,
        marker: page.next,
    })
}

pub async fn list_virtual(
    ctx: &OpContext<'_>,
    input: iam::ListVirtualMFADevicesRequest,
) -> OpResult<iam::ListVirtualMFADevicesResponse> {
    ctx.authorize_arn(ctx.arn("mfa/*"))?;
    let state = ctx.state();
    let wanted = input
        .assignment_status
        .unwrap_or(iam::AssignmentStatusType::Any);
    let devices: Vec<(String, iam::VirtualMFADevice)> = state
        .mfa_devices
        .values()
        .filter(|d| match wanted {
            iam::AssignmentStatusType::Assigned => d.assignment.is_some(),
            iam::AssignmentStatusType::Unassigned => d.assignment.is_none(),
            iam::AssignmentStatusType::Any => true,
        })
        .filter_map(|d| {
            let serial = state.mfa_arn(d)?.to_string();
            let user = d.assignment.as_ref().and_then(|a| match &a.owner {
                CredentialOwner::User { user_name } => state
                    .users
                    .get(&user_name.key())
                    .map(|u| super::shapes::listed_user(state, u)),
                CredentialOwner::Root => Some(iam::User {
                    user_id: ctx.account().to_owned(),
                    arn: ctx.arn("root"),
                    create_date: state.account.as_ref().map_or(ctx.now, |a| a.created_at),
                    ..Default::default()
                }),
            });
            Some((
                serial.clone(),
                iam::VirtualMFADevice {
                    serial_number: serial,
                    base32_string_seed: None,
                    qr_code_png: None,
                    user,
                    enable_date: d.assignment.as_ref().map(|a| a.enabled_at),
                    tags: None,
                },
            ))
        })
        .collect();
    let page = Page::of(
        devices.iter().map(|(k, d)| (k.as_str(), d.clone())),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListVirtualMFADevicesResponse {
        is_truncated: page.is_truncated(),
        virtual_mfa_devices: page.items,
        marker: page.next,
    })
}

/// The device a serial number names, with its stored serial number.
fn device<'a>(
    state: &'a AccountState,
    serial: &str,
) -> Result<(&'a VirtualMfaDevice, Arn), ApiError> {
    let arn = Arn::parse(serial).map_err(|_| no_device(serial))?;
    let device = state.mfa_by_arn(&arn).ok_or_else(|| no_device(serial))?;
    let stored = state.mfa_arn(device).ok_or_else(|| no_device(serial))?;
    Ok((device, stored))
}

fn no_device(serial: &str) -> ApiError {
    ApiError::new(
        404,
        "NoSuchEntity",
        format!("MFA device with serial number {serial} cannot be found."),
    )
}

/// Two consecutive codes of the device within `window` steps of now,
/// newer than any it accepted; the counter of the second.
fn consecutive(
    ctx: &OpContext<'_>,
    device: &VirtualMfaDevice,
    serial_number: &Arn,
    (code1, code2): (&str, &str),
    window: u64,
) -> Result<u64, ApiError> {
    let seed = seed_of(ctx.state, &device.seed, serial_number)?;
    let invalid = || {
        ApiError::new(
            400,
            "InvalidAuthenticationCode",
            "Authentication code for device is not valid.",
        )
    };
    let counter = iam_mfa::verify_consecutive(&seed, code1, code2, ctx.now.timestamp(), window)
        .map_err(|_| invalid())?;
    if device
        .last_counter
        .is_some_and(|last| counter.saturating_sub(1) <= last)
    {
        return Err(invalid());
    }
    Ok(counter)
}

/// How many 30-second steps either side of now a code may be from: one,
/// as AWS accepts a code just before and just after its window.
pub const CODE_WINDOW: u64 = 1;

/// Checks an MFA code the caller gives (`SerialNumber`, `TokenCode`) against
/// its own enabled device, and returns the use to record: the log refuses
/// the same code twice ([`iam_domain::event::MfaCodeUse`]). Every failure
/// is the same `AccessDenied`, which says nothing of which part was wrong.
pub fn verify_code(ctx: &OpContext<'_>, serial: &str, code: &str) -> Result<MfaCodeUse, ApiError> {
    let owner = match ctx.caller {
        Caller::Root { .. } => CredentialOwner::Root,
        Caller::User { user_name, .. } => CredentialOwner::User {
            user_name: user_name.clone(),
        },
        Caller::RoleSession { .. } | Caller::FederatedUser { .. } | Caller::Anonymous => {
            return Err(mfa_failed())
        }
    };
    let state = ctx.authorizing_state();
    let serial_number = Arn::parse(serial).map_err(|_| mfa_failed())?;
    let device = state
        .mfa_by_arn(&serial_number)
        .filter(|d| {
            d.assignment
                .as_ref()
                .is_some_and(|a| owner_eq(&a.owner, &owner))
        })
        .ok_or_else(mfa_failed)?;
    let stored = state.mfa_arn(device).ok_or_else(mfa_failed)?;
    check_code(ctx.state, device, &stored, code, ctx.now).ok_or_else(mfa_failed)
}

/// The one check of a code of a device, for every operation that takes
/// one and for sign-in: the step it belongs to, if it is right and newer
/// than any the device accepted. Six digits fall to guessing without a
/// limit, so wrong codes for a device back off as failed sign-ins do
/// (`ops::sign_in`), on each node; a right one clears the count.
pub fn check_code(
    app: &crate::app::AppState,
    device: &VirtualMfaDevice,
    serial_number: &Arn,
    code: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<MfaCodeUse> {
    let failures = &app.sign_in_failures;
    let key = format!("mfa:{}", serial_number.to_string().to_lowercase());
    if failures
        .wait_until(&key, super::sign_in::FREE_FAILURES, now)
        .is_some()
    {
        return None;
    }
    let seed = seed_of(app, &device.seed, serial_number).ok()?;
    let verified = iam_mfa::verify(&seed, code, now.timestamp(), CODE_WINDOW)
        .ok()
        .filter(|counter| device.last_counter.is_none_or(|last| *counter > last));
    let Some(counter) = verified else {
        failures.fail(&key, now);
        return None;
    };
    failures.clear(&key);
    Some(MfaCodeUse {
        serial_number: serial_number.clone(),
        counter,
    })
}

/// A device's seed: sealed under the master key with its serial number as
/// associated data, as Base32 text.
fn seed_of(
    app: &crate::app::AppState,
    sealed: &iam_domain::secrets::SealedSecret,
    serial_number: &Arn,
) -> Result<Vec<u8>, ApiError> {
    let text = iam_domain::secrets::open_string(
        &app.master_key,
        sealed,
        serial_number.to_string().as_bytes(),
    )
    .map_err(|e| {
        tracing::error!(error = %e, %serial_number, "cannot open a sealed MFA seed");
        ApiError::internal()
    })?;
    iam_mfa::base32_decode(&text).ok_or_else(ApiError::internal)
}

fn mfa_failed() -> ApiError {
    ApiError::new(
        403,
        "AccessDenied",
        "MultiFactorAuthentication failed with invalid MFA one time pass code.",
    )
}
