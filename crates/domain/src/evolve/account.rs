//! The account itself and its password policy.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::event::EventData;
use crate::ids::AccountId;
use crate::state::{Account, AccountState, CredentialReport};

/// `AccountCreated`, the one event applied before the account exists; a
/// second one changes nothing.
pub(super) fn create(state: &mut AccountState, id: &AccountId, created_at: DateTime<Utc>) {
    if state.account.is_none() {
        state.account = Some(Account {
            id: id.clone(),
            created_at,
            root_mfa_devices: BTreeSet::new(),
        });
    }
}

pub(super) fn evolve(state: &mut AccountState, data: &EventData) {
    match data {
        EventData::PasswordPolicyUpdated { policy } => {
            state.password_policy = Some(policy.clone());
        }
        EventData::PasswordPolicyDeleted {} => state.password_policy = None,
        EventData::AccountAliasCreated { account_alias } => {
            state.account_alias = Some(account_alias.clone());
        }
        EventData::AccountAliasDeleted { account_alias }
            if state.account_alias.as_ref() == Some(account_alias) =>
        {
            state.account_alias = None;
        }
        EventData::SecurityTokenServicePreferencesSet {
            global_endpoint_token_version,
        } => state.global_endpoint_token_version = Some(*global_endpoint_token_version),
        EventData::CredentialReportGenerated {
            generated_at,
            log_position,
        } => {
            state.credential_report = Some(CredentialReport {
                generated_at: *generated_at,
                log_position: *log_position,
            })
        }
        _ => {}
    }
}
