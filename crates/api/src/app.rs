//! The HTTP application: router, shared state, and the bound server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use iam_event_store::EventStore;

/// What `iamd serve` is configured with.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    pub account_id: String,
}

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn EventStore>,
    pub account_id: String,
}

/// The routes. Built apart from any socket so tests can drive it directly.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The event store answers.
async fn readyz(State(state): State<AppState>) -> (StatusCode, String) {
    match state.store.head().await {
        Ok(head) => (
            StatusCode::OK,
            format!("ok: log position {}", head.position),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: event store unreachable".into(),
            )
        }
    }
}

/// A server bound to its address, not yet serving.
pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
}

impl Application {
    /// Opens (and migrates) the store and binds the listen address.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let store = iam_event_store::open(&config.database_url).await?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        let state = AppState {
            store,
            account_id: config.account_id,
        };
        Ok(Application {
            listener,
            router: router(state),
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await?;
        Ok(())
    }
}
