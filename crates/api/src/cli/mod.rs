//! The `iamd` subcommands. Their names, flags and output formats are stable:
//! other tools call them.

mod audit;
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

/// Where the event log lives: `--database-url` (`postgres://...` or
/// `sqlite://PATH`), else the embedded SQLite database in `--data-dir`,
/// the same default as `iamd serve`, so `iamd verify` with no flags checks
/// the server's own log.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    #[arg(long = "database-url", env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Where `iamd serve` keeps its data (events.db, master key, digest.pub).
    #[arg(long = "data-dir", default_value = "./iam-data")]
    pub data_dir: PathBuf,
}

impl DatabaseArgs {
    /// The database URL these flags name.
    pub fn url(&self) -> String {
        database_url(self.database_url.as_deref(), &self.data_dir)
    }
}

/// The event log's URL: the one given, else `<data-dir>/events.db`. A
/// `sqlite://` URL naming a directory (such as `sqlite://./iam-data`) means
/// the `events.db` inside it.
pub fn database_url(given: Option<&str>, data_dir: &std::path::Path) -> String {
    match given {
        Some(url) => match url.strip_prefix("sqlite://") {
            Some(path) if std::path::Path::new(path).is_dir() => {
                format!(
                    "sqlite://{}",
                    std::path::Path::new(path).join("events.db").display()
                )
            }
            _ => url.to_owned(),
        },
        None => format!("sqlite://{}", data_dir.join("events.db").display()),
    }
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
    /// Page through the audit trail (JSON), as `GET /v1/events` does.
    Events(audit::EventsArgs),
    /// Decide a request now or at a past moment (JSON), as `POST /v1/authorize` does.
    Authorize(audit::AuthorizeArgs),
    /// How a principal's decision on an action and resource changed over the
    /// log (JSON), as `GET /v1/access-history` does.
    AccessHistory(audit::HistoryArgs),
    /// The statements a principal gained and lost between two moments
    /// (JSON), as `GET /v1/diff` does.
    Diff(audit::DiffArgs),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Eval { file } => eval::run(&file),
        Command::Migrate(db) => runtime()?.block_on(migrate::run(&db.url())),
        Command::Verify(args) => runtime()?.block_on(verify::run(args)),
        Command::Replay(args) => runtime()?.block_on(replay::run(args)),
        Command::Serve(args) => runtime()?.block_on(serve::run(args)),
        Command::Events(args) => runtime()?.block_on(audit::events(args)),
        Command::Authorize(args) => runtime()?.block_on(audit::authorize(args)),
        Command::AccessHistory(args) => runtime()?.block_on(audit::access_history(args)),
        Command::Diff(args) => runtime()?.block_on(audit::diff(args)),
    }
}

/// An error and its causes on one line, each cause once: errors that quote
/// their source in their own message (`cannot open database X: connection
/// refused`) are not followed by that source again.
pub fn describe_error(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if part.is_empty() || text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
