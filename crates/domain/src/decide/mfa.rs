//! Virtual MFA devices: creating and deleting them, and enabling or
//! deactivating them for a user or the root user.

use chrono::{DateTime, Utc};

use super::entities::{path_or_root, resolve_owner};
use super::errors::limit;
use super::{not_routed_here, Ctx, Decision};
use crate::arn::Arn;
use crate::command::Command;
use crate::error::DomainError;
use crate::event::EventData;
use crate::state::{owner_eq, AccountState, CredentialOwner, VirtualMfaDevice};

pub(super) fn decide(ctx: &Ctx, command: &Command) -> Decision {
    let (state, quotas) = (ctx.state, ctx.quotas);
    match command {
        Command::CreateVirtualMfaDevice {
            device_name,
            path,
            tags,
            seed,
            now,
        } => {
            super::tags::check_new_tags(&Default::default(), tags, quotas)?;
            if state.mfa_devices.contains_key(&device_name.key()) {
                return Err(DomainError::EntityAlreadyExists(format!(
                    "MFADevice entity at the same path and name already exists: {device_name}."
                )));
            }
            if state.mfa_devices.len() >= quotas.virtual_mfa_devices() {
                return Err(limit(
                    "VirtualMFADevicesPerAccount",
                    quotas.virtual_mfa_devices(),
                ));
            }
            ctx.one(EventData::VirtualMfaDeviceCreated {
                serial_number: Arn::mfa(ctx.account, &path_or_root(path), device_name),
                seed: seed.clone(),
                created_at: *now,
                tags: tags.clone(),
            })
        }
        Command::EnableMfaDevice {
            owner,
            serial_number,
            now,
            counter,
        } => enable(ctx, owner, serial_number, *now, *counter),
        Command::ResyncMfaDevice {
            owner,
            serial_number,
            counter,
        } => {
            let (_, dev, stored) = enabled_for(state, owner, serial_number)?;
            if dev.last_counter.is_some_and(|last| *counter <= last) {
                return Err(DomainError::InvalidAuthenticationCode(
                    "Authentication code for device is not valid.".into(),
                ));
            }
            ctx.one(EventData::MfaDeviceResynced {
                serial_number: stored,
                counter: *counter,
            })
        }
        Command::DeactivateMfaDevice {
            owner,
            serial_number,
        } => {
            let (owner, _, stored) = enabled_for(state, owner, serial_number)?;
            ctx.one(EventData::MfaDeviceDeactivated {
                owner,
                serial_number: stored,
            })
        }
        Command::DeleteVirtualMfaDevice { serial_number } => {
            let (dev, serial_number) = device(state, serial_number)?;
            if dev.assignment.is_some() {
                return Err(DomainError::DeleteConflict(
                    "MFA device is still in use; deactivate it first.".into(),
                ));
            }
            ctx.one(EventData::VirtualMfaDeviceDeleted { serial_number })
        }
        other => not_routed_here(other, "MFA device"),
    }
}

/// Enables a free device for `owner`, within the per-user quota of devices
/// in use (which the root user has too).
fn enable(
    ctx: &Ctx,
    owner: &CredentialOwner,
    serial_number: &Arn,
    now: DateTime<Utc>,
    counter: Option<u64>,
) -> Decision {
    let state = ctx.state;
    let owner = resolve_owner(state, owner)?;
    let (dev, serial_number) = device(state, serial_number)?;
    if dev.assignment.is_some() {
        return Err(DomainError::EntityAlreadyExists(
            "MFA device is already in use.".into(),
        ));
    }
    let in_use = match &owner {
        CredentialOwner::Root => state
            .account
            .as_ref()
            .map_or(0, |a| a.root_mfa_devices.len()),
        CredentialOwner::User { user_name } => state
            .users
            .get(&user_name.key())
            .map_or(0, |u| u.mfa_devices.len()),
    };
    let max = ctx.quotas.mfa_devices_per_user;
    if in_use >= max {
        return Err(limit("MFADevicesPerUser", max));
    }
    ctx.one(EventData::MfaDeviceEnabled {
        owner,
        serial_number,
        enabled_at: now,
        counter,
    })
}

/// The device a serial number names, with the serial number its events
/// record (the stored spelling of its name); `NoSuchEntity` if there is none.
fn device<'a>(
    state: &'a AccountState,
    serial_number: &Arn,
) -> Result<(&'a VirtualMfaDevice, Arn), DomainError> {
    let dev = state.mfa_by_arn(serial_number).ok_or_else(|| {
        DomainError::NoSuchEntity(format!(
            "MFA device with serial number {serial_number} cannot be found."
        ))
    })?;
    let stored = state.mfa_arn(dev).unwrap_or_else(|| serial_number.clone());
    Ok((dev, stored))
}

/// The device a serial number names, enabled for `owner` (resolved to its
/// stored spelling); `NoSuchEntity` otherwise.
fn enabled_for<'a>(
    state: &'a AccountState,
    owner: &CredentialOwner,
    serial_number: &Arn,
) -> Result<(CredentialOwner, &'a VirtualMfaDevice, Arn), DomainError> {
    let owner = resolve_owner(state, owner)?;
    let (dev, stored) = device(state, serial_number)?;
    if !dev
        .assignment
        .as_ref()
        .is_some_and(|a| owner_eq(&a.owner, &owner))
    {
        return Err(DomainError::NoSuchEntity(format!(
            "MFA device {serial_number} is not enabled for this principal."
        )));
    }
    Ok((owner, dev, stored))
}
