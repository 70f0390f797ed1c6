//! `iamd` driven end to end by the official AWS SDK for Rust (aws-sdk-iam,
//! aws-sdk-sts): each test starts the server on a free port against a fresh
//! PostgreSQL database (`DATABASE_URL`, which `cargo xtask test` provides)
//! and points SDK clients at `http://127.0.0.1:PORT`, region `us-east-1`,
//! with static keys.
//!
//! Whatever the SDK cannot parse (a response shape, a header, a status)
//! fails here. `coverage` checks that every operation the server registers
//! is called by some test in this binary.

#[path = "sdk/harness.rs"]
mod harness;

#[path = "sdk/access_advisor.rs"]
mod access_advisor;
#[path = "sdk/access_keys.rs"]
mod access_keys;
#[path = "sdk/account.rs"]
mod account;
#[path = "sdk/authorization.rs"]
mod authorization;
#[path = "sdk/aws_managed_policies.rs"]
mod aws_managed_policies;
#[path = "sdk/certificates.rs"]
mod certificates;
#[path = "sdk/coverage.rs"]
mod coverage;
#[path = "sdk/groups.rs"]
mod groups;
#[path = "sdk/identity.rs"]
mod identity;
#[path = "sdk/instance_profiles.rs"]
mod instance_profiles;
#[path = "sdk/managed_policies.rs"]
mod managed_policies;
#[path = "sdk/nodes.rs"]
mod nodes;
#[path = "sdk/organizations.rs"]
mod organizations;
#[path = "sdk/paging.rs"]
mod paging;
#[path = "sdk/passwords_mfa.rs"]
mod passwords_mfa;
#[path = "sdk/roles.rs"]
mod roles;
#[path = "sdk/saml.rs"]
mod saml;
#[path = "sdk/service_credentials.rs"]
mod service_credentials;
#[path = "sdk/ssh_keys.rs"]
mod ssh_keys;
#[path = "sdk/sts.rs"]
mod sts;
#[path = "sdk/tags_and_boundaries.rs"]
mod tags_and_boundaries;
#[path = "sdk/user_policies.rs"]
mod user_policies;
#[path = "sdk/users.rs"]
mod users;
#[path = "sdk/web_identity.rs"]
mod web_identity;
