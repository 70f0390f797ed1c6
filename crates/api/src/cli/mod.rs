//! The `iamd` subcommands. Their names, flags and output formats are stable:
//! other tools call them.

mod eval;
mod migrate;
mod replay;
mod serve;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "iamd",
    version,
    about = "AWS-compatible IAM with an event-sourced audit log"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the event log lives: `postgres://...` or `sqlite://PATH`.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    #[arg(long = "database-url", env = "DATABASE_URL")]
    pub database_url: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply database migrations (running it twice is harmless).
    Migrate(DatabaseArgs),
    /// Check the event log's hash chain end to end, its signed digests and
    /// the snapshots' MACs.
    Verify(verify::VerifyArgs),
    /// Evaluate policy scenarios (JSON) and print the decisions as JSON.
    Eval {
        /// Scenario file, or `-` for standard input.
        file: PathBuf,
    },
    /// Print an account's view as of a past time or log position (JSON).
    Replay(replay::ReplayArgs),
    /// Run the HTTP server.
    Serve(serve::ServeArgs),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Eval { file } => eval::run(&file),
        Command::Migrate(db) => runtime()?.block_on(migrate::run(&db.database_url)),
        Command::Verify(args) => runtime()?.block_on(verify::run(args)),
        Command::Replay(args) => runtime()?.block_on(replay::run(args)),
        Command::Serve(args) => runtime()?.block_on(serve::run(args)),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
