//! The IAM domain: identifiers, ARNs, names, quotas, policy documents, commands,
//! events and the pure `decide`/`evolve` functions over them.
//!
//! **Architecture invariant:** this crate performs no I/O. It knows nothing of
//! databases, HTTP or clocks other than the timestamps it is handed.

pub mod policy;

pub mod arn;
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
