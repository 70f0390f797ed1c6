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
        other => not_routed_here(other, "account"),
    }
}
