//! The iamd server and command line: the only crate that knows HTTP, the AWS
//! wire protocols and the process environment.
//!
//! [`app::router`] builds the HTTP application (testable without a socket),
//! [`app::Application`] binds it to an address, and [`cli`] holds the
//! subcommands of the `iamd` binary.

pub mod access_advisor;
pub mod app;
pub mod auth;
pub mod authz;
pub mod cli;
pub mod clock;
pub mod console;
pub mod credentials;
pub mod edge;
pub mod federation;
pub mod integrity;
pub mod metrics;
pub mod ops;
pub mod query;
pub mod sealed;
pub mod server;
pub mod session;
pub mod sigv4;
pub mod x509;
