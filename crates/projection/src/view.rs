//! One account's view: its state at a log position, plus caches derived
//! from it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use iam_domain::ids::AccountId;
use iam_domain::{evolve, AccountState, Event};
use iam_event_store::{Position, RecordedEvent};

use crate::effective::{EffectivePolicies, PrincipalKey};
use crate::error::ProjectionError;

/// An account's state after applying its stream up to `stream_version`
/// (the last applied event sits at global `position`).
#[derive(Debug, Default)]
pub struct AccountView {
    pub account_id: Option<AccountId>,
    pub state: AccountState,
    /// Events of the account's stream applied so far (the expected version
    /// for the next append).
    pub stream_version: u64,
    /// Global position of the last applied event.
    pub position: Position,
    /// Compiled effective policies by principal, built on first use and
    /// dropped whenever the account changes.
    effective: Mutex<HashMap<PrincipalKey, Arc<EffectivePolicies>>>,
}

impl Clone for AccountView {
    fn clone(&self) -> Self {
        AccountView {
            account_id: self.account_id.clone(),
            state: self.state.clone(),
            stream_version: self.stream_version,
            position: self.position,
            effective: Mutex::new(HashMap::new()),
        }
    }
}

impl PartialEq for AccountView {
    fn eq(&self, other: &Self) -> bool {
        self.state == other.state
            && self.stream_version == other.stream_version
            && self.position == other.position
    }
}

/// Reads a stored event as a domain event.
pub fn domain_event(recorded: &RecordedEvent) -> Result<Event, ProjectionError> {
    Event::from_stored(
        &recorded.event_type,
        recorded.schema_version,
        &recorded.payload,
    )
    .map_err(|e| unreadable(recorded, e))
}

/// Like [`domain_event`], taking the payload out of the stored event.
pub fn take_domain_event(recorded: &mut RecordedEvent) -> Result<Event, ProjectionError> {
    let payload = std::mem::take(&mut recorded.payload);
    Event::from_stored_owned(&recorded.event_type, recorded.schema_version, payload)
        .map_err(|e| unreadable(recorded, e))
}

fn unreadable(recorded: &RecordedEvent, e: iam_domain::UpcastError) -> ProjectionError {
    ProjectionError::Unreadable {
        position: recorded.position.0,
        event_type: recorded.event_type.clone(),
        reason: e.to_string(),
    }
}

impl AccountView {
    /// A view from a saved state (a snapshot).
    pub fn from_parts(
        account_id: Option<AccountId>,
        state: AccountState,
        stream_version: u64,
        position: Position,
    ) -> Self {
        AccountView {
            account_id,
            state,
            stream_version,
            position,
            effective: Mutex::new(HashMap::new()),
        }
    }

    /// Applies the next event of this account's stream.
    pub fn apply(&mut self, recorded: &RecordedEvent) -> Result<(), ProjectionError> {
        let event = domain_event(recorded)?;
        self.apply_event(&event, recorded.stream_version, recorded.position);
        Ok(())
    }

    /// Applies the next event, consuming the stored form.
    pub fn apply_owned(&mut self, mut recorded: RecordedEvent) -> Result<(), ProjectionError> {
        let event = take_domain_event(&mut recorded)?;
        self.apply_event(&event, recorded.stream_version, recorded.position);
        Ok(())
    }

    /// Applies an already-decoded event.
    pub fn apply_event(&mut self, event: &Event, stream_version: u64, position: Position) {
        evolve(&mut self.state, event);
        if self.account_id.is_none() {
            self.account_id = Some(event.account_id.clone());
        }
        self.stream_version = stream_version;
        self.position = position;
        match self.effective.get_mut() {
            Ok(cache) => cache.clear(),
            Err(poisoned) => poisoned.into_inner().clear(),
        }
    }

    /// The compiled identity policies and boundary of a user or role, built
    /// once per version of the account.
    pub fn effective_policies(&self, principal: &PrincipalKey) -> Option<Arc<EffectivePolicies>> {
        let mut cache = self.effective.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = cache.get(principal) {
            return Some(found.clone());
        }
        let built = Arc::new(EffectivePolicies::build(&self.state, principal)?);
        cache.insert(principal.clone(), built.clone());
        Some(built)
    }
}
