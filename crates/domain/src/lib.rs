//! The IAM domain: identifiers, ARNs, names, quotas, policy documents, commands,
//! events and the pure `decide`/`evolve` functions over them.
//!
//! **Architecture invariant:** this crate performs no I/O. It knows nothing of
//! databases, HTTP or clocks other than the timestamps it is handed.

pub mod policy;
