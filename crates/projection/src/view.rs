//! One account's view: its state at a log position, plus caches derived
//! from it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use iam_domain::ids::AccountId;
use iam_domain::{evolve, AccountState, Event};
use iam_event_store::{Position, RecordedEvent};

use crate::effective::{EffectivePolicies, Inputs, PrincipalKey};
use crate::error::ProjectionError;

/// An account's state after applying its stream up to `stream_version`
/// (the last applied event sits at global `position`).
#[derive(Debug)]
pub struct AccountView {
    pub account_id: Option<AccountId>,
    pub state: AccountState,
    /// Events of the account's stream applied so far (the expected version
    /// for the next append).
    pub stream_version: u64,
    /// Global position of the last applied event.
    pub position: Position,
    /// Compiled effective policies by principal, built on first use. The
    /// cache is shared by the versions of the view a write copies, and an
    /// entry is used by a version only once its inputs are checked to be
    /// that version's very entities (see [`Inputs`]): a write compiles
    /// nothing again for principals it did not touch.
    effective: Arc<Mutex<HashMap<PrincipalKey, Arc<Cached>>>>,
    /// Names this exact state among every view in the process: new for each
    /// view made and each event applied. A cache entry checked against one
    /// generation is used by it without checking again.
    generation: u64,
}

/// A new, process-wide unique [`AccountView::generation`]. Clones get one
/// too: a clone may be changed apart from its original.
fn next_generation() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Default for AccountView {
    fn default() -> Self {
        AccountView {
            account_id: None,
            state: AccountState::default(),
            stream_version: 0,
            position: Position::START,
            effective: Arc::default(),
            generation: next_generation(),
        }
    }
}

/// A principal's compiled policies and what they were built from.
#[derive(Debug)]
struct Cached {
    policies: Arc<EffectivePolicies>,
    inputs: Inputs,
    /// The stream version of the state it was built from: a view older
    /// than that does not replace it.
    built_at: u64,
    /// The generation of the view it was last checked against (or built
    /// by): that view uses it without checking again.
    checked_for: AtomicU64,
}

impl Clone for AccountView {
    fn clone(&self) -> Self {
        AccountView {
            account_id: self.account_id.clone(),
            state: self.state.clone(),
            stream_version: self.stream_version,
            position: self.position,
            effective: self.effective.clone(),
            generation: next_generation(),
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
            effective: Arc::default(),
            generation: next_generation(),
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
        self.generation = next_generation();
    }

    /// The compiled identity policies and boundary of a user or role, built
    /// once and reused for as long as nothing they were built from changes.
    pub fn effective_policies(&self, principal: &PrincipalKey) -> Option<Arc<EffectivePolicies>> {
        let cached = self
            .effective
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(principal)
            .cloned();
        if let Some(cached) = &cached {
            if cached.checked_for.load(Ordering::Acquire) == self.generation
                || cached.inputs.still_current(&self.state, principal)
            {
                cached.checked_for.store(self.generation, Ordering::Release);
                return Some(cached.policies.clone());
            }
        }
        let cache = || self.effective.lock().unwrap_or_else(|p| p.into_inner());
        let Some((built, inputs)) = EffectivePolicies::build_with_inputs(&self.state, principal)
        else {
            // Gone (deleted or renamed): keep nothing of it alive.
            if cached.is_some() {
                cache().remove(principal);
            }
            return None;
        };
        let fresh = Arc::new(Cached {
            policies: Arc::new(built),
            inputs,
            built_at: self.stream_version,
            checked_for: AtomicU64::new(self.generation),
        });
        let mut cache = cache();
        // A reader still on an older version does not evict a newer entry.
        let newer_cached = cache
            .get(principal)
            .is_some_and(|c| c.built_at > self.stream_version);
        if !newer_cached {
            cache.insert(principal.clone(), fresh.clone());
        }
        Some(fresh.policies.clone())
    }
}
