//! Views of IAM state built from the event log: the current view of every
//! account (kept up to date by following the log), the view of an account as
//! of any past position or time, and the write path that turns commands into
//! appended events.
//!
//! - [`AccountView`]: one account's [`AccountState`](iam_domain::AccountState)
//!   at a log position, with derived indexes for hot paths (the compiled
//!   effective policies of a principal; access key id → key via the state).
//! - [`Projection`]: every account's current view; [`Projection::catch_up`]
//!   reads what is new, [`Projection::follow`] keeps reading as events arrive
//!   (from this process or, on PostgreSQL, any other).
//! - [`Projection::execute`]: decide against the view at version V, append
//!   with expected version V, on a conflict catch up and retry (bounded);
//!   commands for one account that arrive together share one append, each
//!   decided against the state the earlier ones left.
//! - [`Projection::restore`]: a restarting node starts from the newest
//!   checkpoint of every view instead of the beginning of the log.
//! - [`Projection::stats`]: counts of its appends, snapshot and checkpoint
//!   writes (atomics, read by the server's `/metrics`).
//! - [`history::account_as_of`]: time travel from the nearest snapshot plus
//!   replay.
//!
//! **Architecture invariant:** views are only ever built by `evolve` over
//! stored events; nothing writes state any other way, so a view rebuilt from
//! the log always equals the live one.

mod effective;
mod error;
pub mod history;
mod projection;
pub mod report;
pub mod snapshot;
pub mod stats;
mod view;

pub use effective::{EffectivePolicies, PrincipalKey};
pub use error::ProjectionError;
pub use projection::{CommandOutcome, Precondition, Projection, ProjectionConfig};
pub use stats::ProjectionStats;
pub use view::AccountView;
