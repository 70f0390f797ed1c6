//! `iamd serve`: run the HTTP server until SIGTERM or SIGINT.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::app::{Application, Config};
use crate::server::{ServerOptions, TlsFiles};

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
    /// Create --account-id even though the event log already holds another
    /// account (otherwise refused).
    #[arg(long = "add-account")]
    pub add_account: bool,
    /// Accept OpenID Connect providers at plain-HTTP loopback URLs
    /// (http://127.0.0.1:PORT, http://localhost:PORT) for
    /// AssumeRoleWithWebIdentity: for local and test issuers only.
    #[arg(long = "allow-loopback-http-issuers")]
    pub allow_loopback_http_issuers: bool,
    /// Connections served at once; more are accepted and closed at once.
    #[arg(long = "max-connections", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Seconds a client has to send a complete request head; also how long
    /// an idle keep-alive connection stays open.
    #[arg(long = "header-timeout", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_secs: u64,
    /// Seconds a client has to send a request's whole body.
    #[arg(long = "body-timeout", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_secs: u64,
    /// Serve HTTPS with this PEM certificate chain (leaf first); needs
    /// --tls-key.
    #[arg(long = "tls-cert", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long = "tls-key", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// `text`, or `json`: one JSON object a line, for log collectors; each
    /// request's lines carry its `request_id`, the one the caller got
    /// (`x-amzn-requestid`) and the audit trail's events record.
    #[arg(long = "log-format", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// Serve Prometheus metrics at `/metrics` on this address (no
    /// authentication: bind it where only the scraper reaches).
    #[arg(long = "metrics-listen")]
    pub metrics_listen: Option<SocketAddr>,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    if args.log_format == "json" {
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt()
            // Colour codes only for a terminal: logs piped to a file or a
            // log collector stay plain text.
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .with_env_filter(filter)
            .init();
    }
    if args.database_url.is_none() {
        std::fs::create_dir_all(&args.data_dir)?;
    }
    let database_url = super::database_url(args.database_url.as_deref(), &args.data_dir);
    tracing::info!(
        database = %iam_event_store::redact_url(&database_url),
        data_dir = %args.data_dir.display(),
        account = %args.account_id,
        "starting iamd"
    );
    let app = Application::build(Config {
        listen: args.listen,
        database_url,
        account_id: args.account_id,
        data_dir: args.data_dir,
        root_credentials: None,
        master_key: None,
        add_account: args.add_account,
        allow_loopback_http_issuers: args.allow_loopback_http_issuers,
        server: ServerOptions {
            max_connections: args.max_connections as usize,
            header_timeout: Duration::from_secs(args.header_timeout_secs),
            body_timeout: Duration::from_secs(args.body_timeout_secs),
            tls: match (args.tls_cert, args.tls_key) {
                (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
                _ => None,
            },
            metrics_listen: args.metrics_listen,
            ..ServerOptions::default()
        },
    })
    .await?;
    let shutdown = shutdown_signal();
    tracing::info!(tls = app.is_tls(), address = %app.local_addr(), "iamd listening");
    tracing::info!("stop with Ctrl-C or SIGTERM (requests under way are answered first)");
    app.run_until_stopped(shutdown).await?;
    tracing::info!("iamd stopped");
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled, so a signal that arrives
/// right after the server says it is listening still stops it gracefully
/// instead of killing it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let mut signals = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let term = async {
                match signals.0.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let int = async {
                match signals.1.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = term => {},
                _ = int => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
