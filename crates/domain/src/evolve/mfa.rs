//! Virtual MFA devices: created, enabled for a user or the root user,
//! deactivated, deleted.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::entities::{canonical_owner, owner_exists};
use crate::arn::Arn;
use crate::event::EventData;
use crate::names::NameKey;
use crate::state::{
    owner_eq, AccountState, CredentialOwner, MfaAssignment, Shared, VirtualMfaDevice,
};

pub(super) fn evolve(state: &mut AccountState, data: &EventData) {
    match data {
        EventData::VirtualMfaDeviceCreated {
            serial_number,
            seed,
            created_at,
            tags,
        } => {
            let Arn::Mfa { path, name, .. } = serial_number else {
                return;
            };
            state.mfa_devices.entry(name.key()).or_insert_with(|| {
                Shared::new(VirtualMfaDevice {
                    name: name.clone(),
                    path: path.clone(),
                    seed: seed.clone(),
                    created_at: *created_at,
                    assignment: None,
                    last_counter: None,
                    tags: super::tags::tag_map(tags),
                })
            });
        }
        EventData::MfaDeviceEnabled {
            owner,
            serial_number,
            enabled_at,
            counter,
        } => {
            enable(state, owner, serial_number, *enabled_at);
            spend(state, serial_number, *counter);
        }
        EventData::MfaDeviceResynced {
            serial_number,
            counter,
        } => spend(state, serial_number, Some(*counter)),
        EventData::TemporaryCredentialsIssued(issued) => {
            if let Some(used) = &issued.mfa {
                spend(state, &used.serial_number, Some(used.counter));
            }
        }
        EventData::MfaDeviceDeactivated {
            owner,
            serial_number,
        } => deactivate(state, owner, serial_number),
        EventData::VirtualMfaDeviceDeleted { serial_number } => {
            let Arn::Mfa { name, .. } = serial_number else {
                return;
            };
            let key = name.key();
            // A device in use is not deleted.
            if state
                .mfa_devices
                .get(&key)
                .is_some_and(|d| d.assignment.is_none())
            {
                state.mfa_devices.remove(&key);
            }
        }
        _ => {}
    }
}

/// Assigns a free device to an existing owner, recorded on both sides.
fn enable(
    state: &mut AccountState,
    owner: &CredentialOwner,
    serial_number: &Arn,
    enabled_at: DateTime<Utc>,
) {
    let Arn::Mfa { name, .. } = serial_number else {
        return;
    };
    let key = name.key();
    if !owner_exists(state, owner) {
        return;
    }
    let owner = canonical_owner(state, owner);
    let Some(dev) = state.mfa_devices.get_mut(&key) else {
        return;
    };
    if dev.assignment.is_some() {
        return;
    }
    dev.assignment = Some(MfaAssignment {
        owner: owner.clone(),
        enabled_at,
    });
    if let Some(set) = owner_mfa_set(state, &owner) {
        set.insert(key);
    }
}

/// Frees a device `owner` uses; the owner's list of devices drops it either way.
fn deactivate(state: &mut AccountState, owner: &CredentialOwner, serial_number: &Arn) {
    let Arn::Mfa { name, .. } = serial_number else {
        return;
    };
    let key = name.key();
    if let Some(dev) = state.mfa_devices.get_mut(&key) {
        if dev
            .assignment
            .as_ref()
            .is_some_and(|a| owner_eq(&a.owner, owner))
        {
            dev.assignment = None;
        }
    }
    if let Some(set) = owner_mfa_set(state, owner) {
        set.remove(&key);
    }
}

/// The devices `owner` uses, if the owner exists.
fn owner_mfa_set<'a>(
    state: &'a mut AccountState,
    owner: &CredentialOwner,
) -> Option<&'a mut BTreeSet<NameKey>> {
    match owner {
        CredentialOwner::Root => state.account.as_mut().map(|a| &mut a.root_mfa_devices),
        CredentialOwner::User { user_name } => state
            .users
            .get_mut(&user_name.key())
            .map(|u| &mut u.mfa_devices),
    }
}

/// Marks the device's codes up to `counter` as spent.
fn spend(state: &mut AccountState, serial_number: &Arn, counter: Option<u64>) {
    let (Arn::Mfa { name, .. }, Some(counter)) = (serial_number, counter) else {
        return;
    };
    if let Some(dev) = state.mfa_devices.get_mut(&name.key()) {
        dev.last_counter = Some(dev.last_counter.map_or(counter, |c| c.max(counter)));
    }
}
