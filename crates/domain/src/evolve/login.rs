//! Login profiles (console passwords): created, updated, deleted.

use crate::event::EventData;
use crate::state::{AccountState, LoginProfile};

pub(super) fn evolve(state: &mut AccountState, data: &EventData) {
    match data {
        EventData::LoginProfileCreated {
            user_name,
            password_hash,
            password_reset_required,
            created_at,
        } => {
            if let Some(u) = state.users.get_mut(&user_name.key()) {
                u.login_profile = Some(LoginProfile {
                    password_hash: password_hash.clone(),
                    password_reset_required: *password_reset_required,
                    created_at: *created_at,
                    password_changed_at: None,
                    previous_hashes: Vec::new(),
                });
            }
        }
        EventData::LoginProfileUpdated {
            user_name,
            password_hash,
            password_reset_required,
            changed_at,
        } => {
            if let Some(lp) = state
                .users
                .get_mut(&user_name.key())
                .and_then(|u| u.login_profile.as_mut())
            {
                if let Some(h) = password_hash {
                    let old = std::mem::replace(&mut lp.password_hash, h.clone());
                    lp.previous_hashes.insert(0, old);
                    lp.previous_hashes.truncate(LoginProfile::REMEMBERED);
                    lp.password_changed_at = *changed_at;
                }
                if let Some(r) = password_reset_required {
                    lp.password_reset_required = *r;
                }
            }
        }
        EventData::LoginProfileDeleted { user_name } => {
            if let Some(u) = state.users.get_mut(&user_name.key()) {
                u.login_profile = None;
            }
        }
        _ => {}
    }
}
