//! The account itself and its password policy.

use chrono::{DateTime, Utc};

use super::{ev, not_routed_here, Ctx, Decision};
use crate::command::Command;
use crate::error::DomainError;
use crate::event::EventData;
use crate::ids::AccountId;
use crate::state::AccountState;

/// `CreateAccount`, the one command decided before the account exists.
pub(super) fn create(state: &AccountState, account_id: &AccountId, now: DateTime<Utc>) -> Decision {
    if let Some(a) = &state.account {
        return Err(DomainError::EntityAlreadyExists(format!(
            "Account {} already exists.",
            a.id
        )));
    }
    Ok(vec![ev(
        account_id,
        EventData::AccountCreated { created_at: now },
    )])
}

/// How long a credential report is served after it was generated, and a
/// new one is not generated (AWS's four hours).
pub const CREDENTIAL_REPORT_KEPT: chrono::Duration = chrono::Duration::hours(4);

pub(super) fn decide(ctx: &Ctx, command: &Command) -> Decision {
    match command {
        Command::UpdateAccountPasswordPolicy { policy } => {
            policy.validate()?;
            if ctx.state.password_policy.as_ref() == Some(policy) {
                return Ok(vec![]);
            }
            ctx.one(EventData::PasswordPolicyUpdated {
                policy: policy.clone(),
            })
        }
        Command::DeleteAccountPasswordPolicy => {
            if ctx.state.password_policy.is_none() {
                return Err(DomainError::NoSuchEntity(format!(
                    "The Password Policy with domain name {} cannot be found.",
                    ctx.account
                )));
            }
            ctx.one(EventData::PasswordPolicyDeleted {})
        }
        Command::GenerateCredentialReport { now, log_position } => {
            // A report younger than four hours is the one AWS keeps
            // serving: generating again records nothing.
            if ctx
                .state
                .credential_report
                .as_ref()
                .is_some_and(|r| *now - r.generated_at < CREDENTIAL_REPORT_KEPT)
            {
                return Ok(vec![]);
            }
            ctx.one(EventData::CredentialReportGenerated {
                generated_at: *now,
                log_position: *log_position,
            })
        }
        Command::CreateAccountAlias { account_alias } => {
            match &ctx.state.account_alias {
                Some(a) if a == account_alias => Ok(vec![]),
                // AWS allows one alias: creating another replaces it.
                Some(old) => Ok(vec![
                    ev(
                        ctx.account,
                        EventData::AccountAliasDeleted {
                            account_alias: old.clone(),
                        },
                    ),
                    ev(
                        ctx.account,
                        EventData::AccountAliasCreated {
                            account_alias: account_alias.clone(),
                        },
                    ),
                ]),
                None => ctx.one(EventData::AccountAliasCreated {
                    account_alias: account_alias.clone(),
                }),
            }
        }
        Command::DeleteAccountAlias { account_alias } => {
            if ctx.state.account_alias.as_ref() != Some(account_alias) {
                return Err(DomainError::NoSuchEntity(format!(
                    "The account alias {account_alias} cannot be found."
                )));
            }
            ctx.one(EventData::AccountAliasDeleted {
                account_alias: account_alias.clone(),
            })
        }
        Command::SetSecurityTokenServicePreferences {
            global_endpoint_token_version,
        } => {
            if ctx.state.global_endpoint_token_version == Some(*global_endpoint_token_version) {
                return Ok(vec![]);
            }
            ctx.one(EventData::SecurityTokenServicePreferencesSet {
                global_endpoint_token_version: *global_endpoint_token_version,
            })
        }
        other => not_routed_here(other, "account"),
    }
}
