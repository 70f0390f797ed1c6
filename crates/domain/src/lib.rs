//! The IAM domain: identifiers, ARNs, names, quotas, policy documents, commands,
//! events and the pure `decide`/`evolve` functions over them.
//!
//! **Architecture invariant:** this crate performs no I/O. It knows nothing of
//! databases, HTTP or clocks other than the timestamps it is handed.
//!
//! ## How the pieces fit
//!
//! The shell (the server) turns a request into a [`Command`], filling in
//! everything non-deterministic: generated unique ids ([`ids`]), the time
//! `now`, secrets already sealed ([`secrets`]). [`decide()`] checks the command
//! against the account's [`AccountState`] and the [`Quotas`] and returns
//! past-tense [`Event`]s or an AWS-coded [`DomainError`]. The shell appends
//! the events to the stream `account-<ID>` (type [`Event::event_type`],
//! version [`SCHEMA_VERSION`], payload [`Event::to_payload`], plus an
//! [`EventMetadata`]), and every reader folds them with [`evolve()`], reading
//! stored ones back with [`Event::from_stored`], which upcasts old versions.
//! Names are validated newtypes ([`names`], [`arn`]) whose case-folded
//! [`names::NameKey`] keys every map, so names are unique case-insensitively.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use iam_domain::{decide, evolve, AccountState, Command, Event, Quotas, SCHEMA_VERSION};
//! use iam_domain::ids::{AccountId, UserId};
//! use iam_domain::names::UserName;
//!
//! let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
//! let quotas = Quotas::default();
//! let mut state = AccountState::default();
//! let account_id = AccountId::parse("123456789012")?;
//! for cmd in [
//!     Command::CreateAccount { account_id, now },
//!     Command::CreateUser {
//!         user_name: UserName::parse("alice")?,
//!         path: None,
//!         user_id: UserId::parse("AIDAEXAMPLEEXAMPLE01")?,
//!         permissions_boundary: None,
//!         tags: vec![],
//!         now,
//!     },
//! ] {
//!     for event in decide(&state, &cmd, &quotas)? {
//!         // Store (event_type, SCHEMA_VERSION, payload); read it back the same way.
//!         let stored = Event::from_stored(event.event_type(), SCHEMA_VERSION, &event.to_payload())?;
//!         evolve(&mut state, &stored);
//!     }
//! }
//! // Names are unique case-insensitively.
//! let again = Command::CreateUser {
//!     user_name: UserName::parse("ALICE")?,
//!     path: None,
//!     user_id: UserId::parse("AIDAEXAMPLEEXAMPLE02")?,
//!     permissions_boundary: None,
//!     tags: vec![],
//!     now,
//! };
//! assert_eq!(decide(&state, &again, &quotas).unwrap_err().code(), "EntityAlreadyExists");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod policy;

pub mod arn;
pub mod aws_policies;
pub mod command;
pub mod decide;
pub mod error;
pub mod event;
pub mod evolve;
pub mod ids;
pub mod metadata;
pub mod names;
pub mod password_policy;
pub mod quotas;
pub mod secrets;
pub mod service_credentials;
pub mod service_linked;
pub mod state;

pub use arn::Arn;
pub use command::Command;
pub use decide::decide;
pub use error::DomainError;
pub use event::{Event, EventData, UpcastError, SCHEMA_VERSION};
pub use evolve::evolve;
pub use metadata::{Actor, EventMetadata};
pub use quotas::Quotas;
pub use state::AccountState;
