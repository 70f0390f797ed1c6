//! Policy evaluation with AWS IAM's semantics (pure; no I/O).
//!
//! This crate answers one question: given a request and every policy that
//! bears on it, is it allowed, explicitly denied or implicitly denied, and by
//! which statements? It is the heart of iamd's authorization and follows the
//! AWS IAM User Guide (policy evaluation logic, cross-account logic, condition
//! operators, multi-valued keys, policy variables, permissions boundaries).
//! Where AWS is ambiguous the decision taken is written in
//! `docs/policy-semantics.md`.
//!
//! Documents are parsed by [`iam_domain::policy`]; here they are compiled once
//! ([`CompiledPolicy`]: patterns pre-parsed, values pre-typed), grouped per
//! layer in [`PolicySet`]s indexed by action service prefix and resource
//! prefix, and combined in an
//! [`Authorizer`]. [`Authorizer::evaluate_into`] with a reused buffer does not
//! allocate, except for two rare pattern shapes (a variable between two
//! `*`s, and a segment with `?` of over 512 characters between two `*`s; see
//! the `glob` module). Wildcard matching is linear in the input for patterns
//! without `?`, and O(input × ⌈segment / 64⌉) for a segment with `?`.
//!
//! ```
//! use chrono::Utc;
//! use iam_domain::policy::PolicyDocument;
//! use iam_evaluator::{Authorizer, CompiledPolicy, Context, Outcome, PolicySet, Principal, Request};
//!
//! let doc = PolicyDocument::parse(r#"{
//!   "Version": "2012-10-17",
//!   "Statement": [
//!     {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::home/${aws:username}/*"},
//!     {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
//!      "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
//!   ]}"#).unwrap();
//! let auth = Authorizer::new(PolicySet::new(vec![CompiledPolicy::compile(&doc)]));
//! let alice = Principal::parse("arn:aws:iam::123456789012:user/alice");
//! let mut ctx = Context::new();
//! ctx.insert("aws:SecureTransport", "true");
//! let req = Request::new(alice, "s3:GetObject", "arn:aws:s3:::home/alice/notes.txt", None, ctx, Utc::now());
//! assert_eq!(auth.evaluate(&req).outcome, Outcome::Allow);
//! ```
//!
//! The `iamd eval` command is [`scenario::run_scenarios`] over JSON.
//!
//! # Conformance cases
//!
//! `tests/conformance/*.json` hold the expected answers, written from the AWS
//! documentation: each case is a scenario (the `iamd eval` format), the
//! expected decision, optionally the deciding statements, and the page and
//! passage it comes from. `tests/conformance.rs` loads them (unknown fields are
//! an error) through a small runner trait so that another implementation can
//! answer the same files. `tests/conformance/generate.py` writes the files.
//!
//! # Fuzzing the policy parser
//!
//! The repository has a `cargo fuzz` target outside the workspace:
//!
//! ```text
//! cargo install cargo-fuzz            # once; needs a nightly toolchain
//! cd fuzz && cargo +nightly fuzz run parse_policy -- -max_total_time=60
//! ```

mod condition;
mod decision;
mod glob;
mod policy;
mod request;
pub mod scenario;

pub use decision::{Authorizer, Decision, Layer, Matched, Outcome, Overlay, Reason};
pub use policy::{CompiledPolicy, PolicySet};
pub use request::{Context, ContextValue, Principal, PrincipalKind, Request};
