//! The HTTP application: router, shared state, and the bound server.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use iam_domain::ids::AccountId;
use iam_domain::metadata::EventMetadata;
use iam_domain::secrets::MasterKey;
use iam_domain::Command;
use iam_event_store::EventStore;
use iam_projection::{Projection, ProjectionConfig};

use crate::auth;
use crate::credentials::RootCredentials;
use crate::edge;
use crate::query::ApiError;

/// What `iamd serve` is configured with.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    pub account_id: String,
    pub data_dir: PathBuf,
    /// Root credentials; `None` reads the environment or the data dir.
    pub root_credentials: Option<RootCredentials>,
    /// The master key; `None` reads the environment or the data dir.
    pub master_key: Option<MasterKey>,
    /// Timeouts, connection cap, body memory budget and TLS of the serve
    /// loop (`crate::server`); `ServerOptions::default()` for production.
    pub server: crate::server::ServerOptions,
    /// Create `account_id` even though the log already holds another
    /// account (`iamd serve --add-account`). Without it a node started with
    /// another `--account-id` on an existing log refuses to start, rather
    /// than silently creating a second account behind the same root keys.
    pub add_account: bool,
    /// Accept OpenID Connect providers at plain-HTTP loopback URLs
    /// (`iamd serve --allow-loopback-http-issuers`): local and test issuers.
    pub allow_loopback_http_issuers: bool,
}

/// Response header carrying the log position a request's change reached
/// (or the node's position for reads).
pub const POSITION_HEADER: &str = "x-iamd-log-position";
/// Request header naming a log position the serving node must reach first.
pub const MIN_POSITION_HEADER: &str = "x-iamd-min-log-position";
/// The largest request body accepted (AWS's own Query API limit is far
/// larger than any IAM request needs).
pub const MAX_BODY: usize = 1 << 20;

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn EventStore>,
    pub projection: Arc<Projection>,
    pub account_id: AccountId,
    pub root: RootCredentials,
    pub master_key: Arc<MasterKey>,
    /// When this node last recorded each access key's use (see
    /// `record_key_use`).
    /// Requests and decisions counted for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Which refusals this node recorded lately (`edge::denials`).
    pub denials: Arc<std::sync::Mutex<crate::edge::denials::DenialGate>>,
    /// The past views asked about lately (`as_of`, `x-iamd-as-of`).
    pub past_views: Arc<iam_projection::history::PastViews>,
    pub key_use:
        Arc<std::sync::Mutex<std::collections::HashMap<String, chrono::DateTime<chrono::Utc>>>>,
    /// What time it is (tests move it: `crate::clock`).
    pub clock: crate::clock::Clock,
    /// Failed sign-ins lately, for the back-off (`ops::sign_in`).
    pub sign_in_failures: Arc<crate::ops::sign_in::Failures>,
    /// Session tokens opened lately (`session::OpenedTokens`).
    pub sessions: Arc<crate::session::OpenedTokens>,
    /// OpenID Connect issuers' keys fetched lately (`federation`).
    pub issuers: Arc<crate::federation::Issuers>,
    /// When this node last recorded each principal's use of each action
    /// (`access_advisor`).
    pub service_use: Arc<crate::access_advisor::ServiceUse>,
    /// SAML providers' metadata, parsed (`AssumeRoleWithSAML`).
    pub saml_metadata: Arc<crate::federation::SamlMetadataCache>,
    /// Password verifications running now (`ops::sign_in::Verifications`).
    pub verifications: Arc<crate::ops::sign_in::Verifications>,
    /// Whole-log verifications, one at a time (`ops::audit::VerificationGate`).
    pub log_verifications: Arc<crate::ops::audit::VerificationGate>,
}

/// How often an access key's last use is written to the log: at most once
/// a minute per key and node, so reads stay reads.
pub const KEY_USE_INTERVAL: chrono::Duration = chrono::Duration::minutes(1);

/// Records that an account access key was used (for
/// `GetAccessKeyLastUsed`) after a request it signed succeeded — a refused
/// request writes nothing — at most once per [`KEY_USE_INTERVAL`] per key.
/// The write happens before the response, so what a client sees next is in
/// order; a failure to record is logged, never returned.
pub(crate) async fn record_key_use(
    state: &AppState,
    authenticated: &auth::Authenticated,
    now: chrono::DateTime<chrono::Utc>,
) {
    let key_id = authenticated.caller.access_key_id().to_owned();
    {
        let mut recent = state.key_use.lock().unwrap_or_else(|p| p.into_inner());
        if recent
            .get(&key_id)
            .is_some_and(|last| now - *last < KEY_USE_INTERVAL)
        {
            return;
        }
        let recorded = state.projection.view(&state.account_id).and_then(|v| {
            let id = iam_domain::ids::AccessKeyId::parse(&key_id).ok()?;
            v.state
                .access_keys
                .get(&id)?
                .last_used
                .as_ref()
                .map(|u| u.used_at)
        });
        recent.insert(key_id.clone(), now);
        if recorded.is_some_and(|last| now - last < KEY_USE_INTERVAL) {
            return;
        }
    }
    let Ok(access_key_id) = iam_domain::ids::AccessKeyId::parse(&key_id) else {
        return;
    };
    let command = Command::RecordAccessKeyUse {
        access_key_id,
        used_at: now,
        service_name: authenticated.service.clone(),
        region: authenticated.region.clone(),
    };
    let mut metadata = EventMetadata::system(
        &authenticated.caller.arn(),
        uuid::Uuid::new_v4().to_string(),
    );
    metadata.actor.principal_id = Some(authenticated.caller.user_id());
    metadata.actor.access_key_id = Some(key_id);
    if let Err(error) = state
        .projection
        .execute(&state.account_id, &command, &metadata)
        .await
    {
        tracing::warn!(%error, "could not record an access key's use");
    }
}

/// The routes: the APIs and the web console (which calls the APIs'
/// routes, in process). Built apart from any socket so tests can drive it
/// directly.
pub fn router(state: AppState) -> Router {
    let api = api_router(state.clone());
    api.clone().merge(crate::console::routes(state, api))
}

/// The APIs' routes alone.
fn api_router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/", get(edge::query).post(edge::query))
        .route("/iam/{action}", post(edge::json_iam))
        .route("/sts/{action}", post(edge::json_sts))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/sign-in", post(crate::ops::sign_in::sign_in))
        .merge(edge::v1_routes(Router::new()))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// `/metrics` in Prometheus' text format.
async fn metrics(state: &AppState) -> ([(&'static str, &'static str); 1], String) {
    let views = state.projection.position().0;
    let head = state
        .store
        .head()
        .await
        .map(|h| h.position.0)
        .unwrap_or(views);
    (
        [("content-type", "text/plain; version=0.0.4")],
        state.metrics.render(head, views, state.projection.stats()),
    )
}

/// The OpenAPI document of `/v1`: public, as AWS's API references are.
async fn openapi() -> ([(&'static str, &'static str); 1], &'static str) {
    (
        [("content-type", "application/json")],
        iam_wire::IAMD_OPENAPI,
    )
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The event store answers and this node's views have caught up with it.
/// Anonymous, so it says no more than ready or not: the log position would
/// let anyone watch every IAM change as it happens (positions are logged
/// here, and returned to authenticated callers in `x-iamd-log-position`).
async fn readyz(State(state): State<AppState>) -> (StatusCode, String) {
    match state.store.head().await {
        Ok(head) if state.projection.position() >= head.position => (StatusCode::OK, "ok".into()),
        Ok(head) => {
            tracing::info!(
                views = state.projection.position().0,
                log = head.position.0,
                "not ready: the views are catching up"
            );
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: catching up with the event log".into(),
            )
        }
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: event store unreachable".into(),
            )
        }
    }
}

async fn not_found(uri: Uri) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let err = ApiError::new(404, "NotFound", format!("No such endpoint: {}", uri.path()));
    // The JSON routes answer in JSON, the rest as the Query protocol does.
    let json = ["/v1/", "/iam/", "/sts/"]
        .iter()
        .any(|p| uri.path().starts_with(p));
    let format = if json {
        edge::Format::Json
    } else {
        edge::Format::Query
    };
    edge::error_response(format, &err, iam_wire::Service::Iam, &request_id)
}

/// A server bound to its address, not yet serving.
pub struct Application {
    listener: tokio::net::TcpListener,
    /// `/metrics`, apart from the API (`--metrics-listen`).
    metrics_listener: Option<tokio::net::TcpListener>,
    router: Router,
    follower: tokio::task::JoinHandle<()>,
    state: AppState,
    server: crate::server::ServerOptions,
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl Application {
    /// Opens (and migrates) the store, loads secrets, catches the views up,
    /// creates the account on first start, and binds the listen address.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        Self::build_with_quotas(config, iam_domain::Quotas::default()).await
    }

    /// Like [`Application::build`], with the deployment's own IAM quotas.
    pub async fn build_with_quotas(
        config: Config,
        quotas: iam_domain::Quotas,
    ) -> anyhow::Result<Application> {
        let account_id = AccountId::parse(&config.account_id)
            .map_err(|e| anyhow::anyhow!("--account-id: {}", e.message()))?;
        let root = match config.root_credentials {
            Some(r) => r,
            None => crate::credentials::root_credentials(&config.data_dir)?,
        };
        let store = iam_event_store::open(&config.database_url).await?;
        // A database sealed with a master key never gets a new one silently,
        // and a node with another key refuses to start (its secrets would
        // not open: every access key would fail).
        let master_key = Arc::new(match config.master_key {
            Some(k) => k,
            None => {
                let sealed = crate::integrity::database_is_sealed(store.as_ref()).await?;
                crate::credentials::master_key(&config.data_dir, !sealed)?
            }
        });
        crate::integrity::confirm_master_key(store.as_ref(), &master_key, &config.data_dir).await?;
        let digest_key = crate::integrity::digest_signing_key(&master_key);
        tracing::info!(
            public_key = %hex::encode(digest_key.verifying_key().as_bytes()),
            "signing digests of the log"
        );
        if let Err(error) =
            crate::integrity::write_public_key(&config.data_dir, &digest_key.verifying_key())
        {
            tracing::warn!(%error, "could not write the digests' public key");
        }
        let projection = Projection::new(
            store.clone(),
            ProjectionConfig {
                quotas,
                snapshot_key: crate::integrity::snapshot_key(&master_key),
                ..ProjectionConfig::default()
            },
        );
        projection.restore().await?;
        projection.catch_up().await?;
        if projection.view(&account_id).is_none() {
            let existing = projection.accounts();
            if !existing.is_empty() && !config.add_account {
                let names: Vec<String> = existing.iter().map(|a| a.to_string()).collect();
                anyhow::bail!(
                    "--account-id {account_id}: this event log already holds account {}; \
                     start with that --account-id, or pass --add-account to create {account_id} \
                     beside it",
                    names.join(", ")
                );
            }
            let bootstrap =
                EventMetadata::system("iamd:bootstrap", uuid::Uuid::new_v4().to_string());
            let create = Command::CreateAccount {
                account_id: account_id.clone(),
                now: chrono::Utc::now(),
            };
            match projection.execute(&account_id, &create, &bootstrap).await {
                Ok(_) => {}
                // Another node created it first.
                Err(iam_projection::ProjectionError::Domain(e))
                    if e.code() == "EntityAlreadyExists" => {}
                Err(e) => return Err(e.into()),
            }
        }
        // The digests are signed beside the follower, and stop with it.
        let signed = crate::integrity::sign_unsigned_head(store.as_ref(), &digest_key).await;
        let follower = {
            let projection = projection.clone();
            let digests = crate::integrity::sign_digests(
                store.clone(),
                digest_key,
                crate::integrity::DigestSchedule::from_env(),
                signed,
            );
            tokio::spawn(async move {
                tokio::join!(projection.follow(), digests);
            })
        };
        let tls = config
            .server
            .tls
            .as_ref()
            .map(crate::server::load_tls)
            .transpose()?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        let metrics_listener = match config.server.metrics_listen {
            Some(addr) => Some(
                tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot listen on {addr} for metrics: {e}"))?,
            ),
            None => None,
        };
        let state = AppState {
            store,
            projection,
            account_id,
            root,
            master_key,
            key_use: Default::default(),
            denials: Default::default(),
            past_views: Default::default(),
            metrics: Default::default(),
            clock: Default::default(),
            sign_in_failures: Default::default(),
            sessions: Default::default(),
            verifications: Default::default(),
            log_verifications: Default::default(),
            issuers: Arc::new(crate::federation::Issuers::new(
                config.allow_loopback_http_issuers,
            )),
            saml_metadata: Arc::default(),
            service_use: Arc::default(),
        };
        Ok(Application {
            metrics_listener,
            listener,
            router: router(state.clone()),
            follower,
            state,
            server: config.server,
            tls,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The bound address of the metrics listener, if there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// Whether the server speaks TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests
    /// (see `crate::server` for the limits it enforces).
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let metrics = self.metrics_listener.map(|listener| {
            let state = self.state.clone();
            let router = Router::new().route(
                "/metrics",
                get(move || {
                    let state = state.clone();
                    async move { metrics(&state).await }
                }),
            );
            tokio::spawn(async move {
                if let Err(error) = axum::serve(listener, router).await {
                    tracing::warn!(%error, "the metrics listener stopped");
                }
            })
        });
        let result =
            crate::server::serve(self.listener, self.router, &self.server, self.tls, shutdown)
                .await;
        if let Some(task) = metrics {
            task.abort();
        }
        self.follower.abort();
        result
    }
}
