//! `iamd serve`: run the HTTP server until SIGTERM or SIGINT.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::app::{Application, Config};

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7070")]
    pub listen: SocketAddr,
    /// The event log; defaults to an embedded SQLite database in the data dir.
    #[arg(long = "database-url", env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Where the embedded database and generated secrets live.
    #[arg(long = "data-dir", default_value = "./iam-data")]
    pub data_dir: PathBuf,
    /// The account this server administers.
    #[arg(long = "account-id", default_value = "123456789012")]
    pub account_id: String,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        // Colour codes only for a terminal: logs piped to a file or a log
        // collector stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let database_url = match args.database_url {
        Some(url) => url,
        None => {
            std::fs::create_dir_all(&args.data_dir)?;
            format!("sqlite://{}", args.data_dir.join("events.db").display())
        }
    };
    let app = Application::build(Config {
        listen: args.listen,
        database_url,
        account_id: args.account_id,
        data_dir: args.data_dir,
        root_credentials: None,
        master_key: None,
    })
    .await?;
    tracing::info!(address = %app.local_addr(), "iamd listening");
    app.run_until_stopped(shutdown_signal()).await?;
    tracing::info!("iamd stopped");
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
