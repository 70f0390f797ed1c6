//! Login profiles: a user's console password.

use super::entities::user;
use super::{not_routed_here, Ctx, Decision};
use crate::command::Command;
use crate::error::DomainError;
use crate::event::EventData;
use crate::names::UserName;

pub(super) fn decide(ctx: &Ctx, command: &Command) -> Decision {
    let state = ctx.state;
    match command {
        Command::CreateLoginProfile {
            user_name,
            password_hash,
            password_reset_required,
            now,
        } => {
            let u = user(state, user_name)?;
            if u.login_profile.is_some() {
                return Err(DomainError::EntityAlreadyExists(format!(
                    "Login Profile for user {} already exists.",
                    u.name
                )));
            }
            ctx.one(EventData::LoginProfileCreated {
                user_name: u.name.clone(),
                password_hash: password_hash.clone(),
                password_reset_required: *password_reset_required,
                created_at: *now,
            })
        }
        Command::UpdateLoginProfile {
            user_name,
            password_hash,
            password_reset_required,
            now,
        } => {
            let u = user(state, user_name)?;
            let lp = u
                .login_profile
                .as_ref()
                .ok_or_else(|| no_login_profile(&u.name))?;
            // A new hash always counts: the same password hashes differently.
            let reset = password_reset_required.filter(|r| *r != lp.password_reset_required);
            if password_hash.is_none() && reset.is_none() {
                return Ok(vec![]);
            }
            ctx.one(EventData::LoginProfileUpdated {
                user_name: u.name.clone(),
                password_hash: password_hash.clone(),
                password_reset_required: reset,
                changed_at: password_hash.as_ref().map(|_| *now),
            })
        }
        Command::DeleteLoginProfile { user_name } => {
            let u = user(state, user_name)?;
            if u.login_profile.is_none() {
                return Err(no_login_profile(&u.name));
            }
            ctx.one(EventData::LoginProfileDeleted {
                user_name: u.name.clone(),
            })
        }
        other => not_routed_here(other, "login profile"),
    }
}

fn no_login_profile(u: &UserName) -> DomainError {
    DomainError::NoSuchEntity(format!("Login Profile for User {u} cannot be found."))
}
