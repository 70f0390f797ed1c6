//! The HTTP application: router, shared state, and the bound server.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use iam_domain::ids::AccountId;
use iam_domain::metadata::{Actor, EventMetadata};
use iam_domain::secrets::MasterKey;
use iam_domain::Command;
use iam_event_store::{EventStore, Position};
use iam_projection::{Projection, ProjectionConfig};

use crate::auth::{self, Keys, RequestFacts};
use crate::credentials::RootCredentials;
use crate::ops::{self, OpContext, Protocol};
use crate::query::{ApiError, Params};

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
    pub key_use:
        Arc<std::sync::Mutex<std::collections::HashMap<String, chrono::DateTime<chrono::Utc>>>>,
}

/// How often an access key's last use is written to the log: at most once
/// a minute per key and node, so reads stay reads.
pub const KEY_USE_INTERVAL: chrono::Duration = chrono::Duration::minutes(1);

/// Records that an account access key was used (for
/// `GetAccessKeyLastUsed`) after a request it signed succeeded — a refused
/// request writes nothing — at most once per [`KEY_USE_INTERVAL`] per key.
/// The write happens before the response, so what a client sees next is in
/// order; a failure to record is logged, never returned.
async fn record_key_use(
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
    let metadata = EventMetadata {
        actor: Actor {
            principal_arn: authenticated.caller.arn(),
            principal_id: Some(authenticated.caller.user_id()),
            access_key_id: Some(key_id),
            session_name: None,
        },
        request_id: uuid::Uuid::new_v4().to_string(),
        source_ip: None,
        user_agent: None,
        correlation_id: None,
        causation_id: None,
    };
    if let Err(error) = state
        .projection
        .execute(&state.account_id, &command, &metadata)
        .await
    {
        tracing::warn!(%error, "could not record an access key's use");
    }
}

/// The routes. Built apart from any socket so tests can drive it directly.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/", get(query).post(query))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The event store answers and this node's views have caught up with it.
async fn readyz(State(state): State<AppState>) -> (StatusCode, String) {
    match state.store.head().await {
        Ok(head) if state.projection.position() >= head.position => (
            StatusCode::OK,
            format!("ok: log position {}", head.position),
        ),
        Ok(head) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "not ready: views at {} of {}",
                state.projection.position(),
                head.position
            ),
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

async fn not_found(uri: Uri) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let err = ApiError::new(404, "NotFound", format!("No such endpoint: {}", uri.path()));
    xml_error(&err, crate::query::IAM_NAMESPACE, &request_id)
}

fn xml_error(err: &ApiError, namespace: &str, request_id: &str) -> Response {
    let mut response = (err.status_code(), err.to_xml(namespace, request_id)).into_response();
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("text/xml"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amzn-requestid", v);
    }
    response
}

/// Every AWS Query call: authenticate, authorize inside the operation,
/// execute, answer in XML.
async fn query(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = request.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            let err = ApiError::new(
                413,
                "RequestEntityTooLarge",
                format!("Request body exceeds {MAX_BODY} bytes"),
            );
            return xml_error(&err, crate::query::IAM_NAMESPACE, &request_id);
        }
    };
    let (method, uri, headers) = (parts.method, parts.uri, parts.headers);
    let raw_query = uri.query().unwrap_or("");
    let params = Params::parse(&[
        raw_query.as_bytes(),
        if method == Method::POST { &body } else { b"" },
    ]);
    let action = params.get("Action").unwrap_or("").to_owned();
    let protocol = Protocol::of(&action);
    match handle(
        &state,
        peer,
        &method,
        &uri,
        &headers,
        &body,
        &params,
        &action,
        &request_id,
    )
    .await
    {
        Ok((xml, position)) => {
            let mut response = (StatusCode::OK, xml).into_response();
            let h = response.headers_mut();
            h.insert("content-type", HeaderValue::from_static("text/xml"));
            if let Ok(v) = HeaderValue::from_str(&request_id) {
                h.insert("x-amzn-requestid", v);
            }
            if let Ok(v) = HeaderValue::from_str(&position.0.to_string()) {
                h.insert(POSITION_HEADER, v);
            }
            response
        }
        Err(err) => xml_error(&err, protocol.namespace(), &request_id),
    }
}

#[allow(clippy::too_many_arguments)]
async fn handle(
    state: &AppState,
    peer: SocketAddr,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    params: &Params,
    action: &str,
    request_id: &str,
) -> Result<(String, Position), ApiError> {
    if let Some(min) = headers.get(MIN_POSITION_HEADER) {
        let wanted = min
            .to_str()
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| {
                ApiError::validation(format!("{MIN_POSITION_HEADER} must be a log position"))
            })?;
        state
            .projection
            .wait_for(Position(wanted), Duration::from_secs(5))
            .await?;
    }
    let now = chrono::Utc::now();
    let header_pairs: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_bytes()))
        .collect();
    let http = crate::sigv4::HttpRequest {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers: &header_pairs,
        body,
    };
    let view = state.projection.view(&state.account_id);
    let authenticated = auth::authenticate(
        &http,
        &Keys {
            account_id: state.account_id.as_str(),
            root: &state.root,
            master_key: &state.master_key,
            view: view.as_deref(),
        },
        now,
    )?;
    let caller = authenticated.caller.clone();
    if action.is_empty() {
        return Err(ApiError::new(
            400,
            "MissingAction",
            "Missing Action parameter",
        ));
    }
    let protocol = Protocol::of(action);
    let version = params.get("Version");
    if version.is_some_and(|v| v != protocol.version()) {
        return Err(ApiError::new(
            400,
            "InvalidAction",
            format!(
                "Could not find operation {action} for version {}",
                version.unwrap_or_default()
            ),
        ));
    }
    let source_ip = peer.ip().to_string();
    let user_agent = headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let metadata = EventMetadata {
        actor: Actor {
            principal_arn: caller.arn(),
            principal_id: Some(caller.user_id()),
            access_key_id: Some(caller.access_key_id().to_owned()),
            session_name: None,
        },
        request_id: request_id.to_owned(),
        source_ip: Some(source_ip.clone()),
        user_agent,
        correlation_id: None,
        causation_id: None,
    };
    let ctx = OpContext {
        state,
        caller: &caller,
        params,
        view,
        facts: RequestFacts {
            source_ip: Some(&source_ip),
            secure_transport: false,
            now,
            request_keys: auth::request_keys(params)?,
        },
        metadata,
        now,
    };
    let (result, position) = ops::dispatch(action, &ctx).await?;
    if authenticated.account_key {
        record_key_use(state, &authenticated, now).await;
    }
    let mut x = crate::query::Xml::new();
    x.open_ns(&format!("{action}Response"), protocol.namespace());
    if !result.is_empty() {
        x.open(&format!("{action}Result"))
            .raw(&result)
            .close(&format!("{action}Result"));
    }
    x.open("ResponseMetadata")
        .elem("RequestId", request_id)
        .close("ResponseMetadata");
    x.close(&format!("{action}Response"));
    Ok((
        x.finish(),
        position.unwrap_or_else(|| state.projection.position()),
    ))
}

/// A server bound to its address, not yet serving.
pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    follower: tokio::task::JoinHandle<()>,
    state: AppState,
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
        let master_key = Arc::new(match config.master_key {
            Some(k) => k,
            None => crate::credentials::master_key(&config.data_dir)?,
        });
        let store = iam_event_store::open(&config.database_url).await?;
        let projection = Projection::new(
            store.clone(),
            ProjectionConfig {
                quotas,
                ..ProjectionConfig::default()
            },
        );
        projection.restore().await?;
        projection.catch_up().await?;
        if projection.view(&account_id).is_none() {
            let bootstrap = EventMetadata {
                actor: Actor {
                    principal_arn: "iamd:bootstrap".into(),
                    principal_id: None,
                    access_key_id: None,
                    session_name: None,
                },
                request_id: uuid::Uuid::new_v4().to_string(),
                source_ip: None,
                user_agent: None,
                correlation_id: None,
                causation_id: None,
            };
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
        let follower = {
            let projection = projection.clone();
            tokio::spawn(projection.follow())
        };
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        let state = AppState {
            store,
            projection,
            account_id,
            root,
            master_key,
            key_use: Default::default(),
        };
        Ok(Application {
            listener,
            router: router(state.clone()),
            follower,
            state,
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

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let result = axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await;
        self.follower.abort();
        result?;
        Ok(())
    }
}
