//! The HTTP edge: every AWS operation, in either of two encodings, goes
//! through one pipeline.
//!
//! ```text
//! request ─▶ body limit ─▶ SigV4 (caller) ─▶ operation lookup ─▶ decode + validate
//!         ─▶ registry ─▶ handler (authorize, decide, append) ─▶ encode ─▶ response
//! ```
//!
//! - `POST /` (and `GET /`): AWS's Query protocol, as the SDKs speak it:
//!   form parameters in, XML out, the operation named by `Action`.
//! - `POST /iam/{Action}`, `POST /sts/{Action}`: the same operations with a
//!   JSON body and a JSON result (the model's member names; timestamps as
//!   ISO 8601 strings, blobs as base64), errors as
//!   `{"error": {"code": "...", "message": "..."}}` with the same status.
//!
//! Both are signed with SigV4 exactly alike; handlers never see headers.

pub mod denials;
pub mod registry;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use iam_domain::metadata::{Actor, EventMetadata};
use iam_event_store::{Position, Until};
use iam_wire::{OperationSpec, Service};

use crate::app::{AppState, MAX_BODY, MIN_POSITION_HEADER, POSITION_HEADER};
use crate::auth::{self, Keys};
use crate::authz::RequestFacts;
use crate::ops::OpContext;
use crate::query::{ApiError, Params, MAX_JSON_VALUES};

/// Request header naming a past moment (an RFC 3339 time or a log
/// position) an AWS read is answered at.
pub const AS_OF_HEADER: &str = "x-iamd-as-of";

/// The view a request reads, the one it is authorized by, and the past
/// position it reads at, if any.
type Views = (
    Option<Arc<iam_projection::AccountView>>,
    Option<Arc<iam_projection::AccountView>>,
    Option<Position>,
);

/// The answer to a change, or a call of iamd's own API, asked at a past
/// moment: history is read, never written.
pub fn as_of_write() -> ApiError {
    ApiError::validation(format!(
        "{AS_OF_HEADER} is accepted by reads of the AWS API only (Get*, List*): the past is not \
         written, and iamd's own API takes as_of in the request"
    ))
}

/// How a request's parameters and its answer are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// AWS's Query protocol: form parameters, XML answers.
    Query,
    /// iamd's JSON encoding of the same shapes.
    Json,
}

/// The service whose model has an operation called `name`. IAM's and STS's
/// operation names are disjoint.
pub fn service_of(name: &str) -> Option<Service> {
    [Service::Iam, Service::Sts]
        .into_iter()
        .find(|s| s.operation(name).is_some())
}

/// `/` — the Query protocol.
pub async fn query(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    serve(state, request, Format::Query, None, Vec::new()).await
}

/// `/iam/{Action}` — IAM in the JSON encoding.
pub async fn json_iam(
    State(state): State<AppState>,
    Path(action): Path<String>,
    request: axum::extract::Request,
) -> Response {
    serve(
        state,
        request,
        Format::Json,
        Some((Service::Iam, action)),
        Vec::new(),
    )
    .await
}

/// `/sts/{Action}` — STS in the JSON encoding.
pub async fn json_sts(
    State(state): State<AppState>,
    Path(action): Path<String>,
    request: axum::extract::Request,
) -> Response {
    serve(
        state,
        request,
        Format::Json,
        Some((Service::Sts, action)),
        Vec::new(),
    )
    .await
}

/// The routes of iamd's own API (`/v1/...`), one per operation of its
/// model, at the model's method and path.
pub fn v1_routes(mut router: axum::Router<AppState>) -> axum::Router<AppState> {
    use axum::routing::on;
    for spec in Service::Iamd.operations() {
        let method = match spec.method {
            "GET" => axum::routing::MethodFilter::GET,
            _ => axum::routing::MethodFilter::POST,
        };
        let service = spec.service;
        let name = spec.name;
        let route = if spec.path.contains('{') {
            on(
                method,
                move |State(state): State<AppState>,
                      Path(path): Path<Vec<(String, String)>>,
                      request: axum::extract::Request| async move {
                    serve(
                        state,
                        request,
                        Format::Json,
                        Some((service, name.to_owned())),
                        path,
                    )
                    .await
                },
            )
        } else {
            on(
                method,
                move |State(state): State<AppState>, request: axum::extract::Request| async move {
                    serve(
                        state,
                        request,
                        Format::Json,
                        Some((service, name.to_owned())),
                        Vec::new(),
                    )
                    .await
                },
            )
        };
        router = router.route(spec.path, route);
    }
    router
}

/// A response's parts, before the encoding's framing.
struct Answer {
    body: String,
    position: Position,
}

async fn serve(
    state: AppState,
    request: axum::extract::Request,
    format: Format,
    named: Option<(Service, String)>,
    path_params: Vec<(String, String)>,
) -> Response {
    use tracing::Instrument;
    let request_id = uuid::Uuid::new_v4().to_string();
    // Every line logged while the request is served carries its id: the
    // one the caller gets and the audit trail's events record.
    let span = tracing::info_span!("request", request_id = %request_id);
    serve_in_span(state, request, format, named, path_params, request_id)
        .instrument(span)
        .await
}

async fn serve_in_span(
    state: AppState,
    request: axum::extract::Request,
    format: Format,
    named: Option<(Service, String)>,
    path_params: Vec<(String, String)>,
    request_id: String,
) -> Response {
    let started = std::time::Instant::now();
    let metrics = state.metrics.clone();
    let json_op = named
        .as_ref()
        .and_then(|(s, a)| s.operation(a))
        .map(|o| o.name);
    let (response, operation) =
        serve_counted(state, request, format, named, path_params, request_id).await;
    metrics.observe(
        json_op.or(operation).unwrap_or("unknown"),
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// Serves a request; also names its operation, when it is one of the
/// models' (for the metrics' label).
async fn serve_counted(
    state: AppState,
    request: axum::extract::Request,
    format: Format,
    named: Option<(Service, String)>,
    path_params: Vec<(String, String)>,
    request_id: String,
) -> (Response, Option<&'static str>) {
    let (parts, body) = request.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
    let secure_transport = parts
        .extensions
        .get::<crate::server::Transport>()
        .is_some_and(|t| t.tls);
    // The namespace of an error before the operation is known.
    let early_service = named.as_ref().map(|(s, _)| *s).unwrap_or(Service::Iam);
    // `_reservation` holds the body's share of the server's body budget
    // until the answer is made.
    let limits = RequestLimits::of(named.as_ref());
    let (body, _reservation) =
        match crate::server::read_body(body, &parts.extensions, limits.body).await {
            Ok(read) => read,
            Err(err) => {
                // The rest of the body is not read: the connection cannot
                // carry another request.
                let mut response = error_response(format, &err, early_service, &request_id);
                response
                    .headers_mut()
                    .insert("connection", HeaderValue::from_static("close"));
                return (response, None);
            }
        };
    let (method, uri, headers) = (parts.method, parts.uri, parts.headers);
    let raw_query = uri.query().unwrap_or("");
    if !body.is_empty() && (crate::sigv4::is_presigned(raw_query) || unsigned_payload(&headers)) {
        // The signature of a presigned request covers its query string, not
        // a body sent along (UNSIGNED-PAYLOAD): parameters read from such a
        // body would be unsigned, e.g. a URL presigned for GetUser POSTed
        // with `Action=CreateUser`.
        let action = Params::action(raw_query, b"").unwrap_or_default();
        let service = named
            .as_ref()
            .map(|(s, _)| *s)
            .or_else(|| service_of(&action))
            .unwrap_or(Service::Iam);
        let err = ApiError::new(
            400,
            "InvalidRequest",
            "Presigned requests and requests with an unsigned payload must not carry a body; \
             their parameters come from the signed query string only.",
        );
        return (error_response(format, &err, service, &request_id), None);
    }
    // Only the operation's name is read before the caller is
    // authenticated (it picks the error's namespace); the parameters are
    // parsed after, so an anonymous body costs nothing but its bytes.
    let (service, action) = match &named {
        Some((service, action)) => (Some(*service), action.clone()),
        None => {
            let form = if method == Method::POST {
                &body[..]
            } else {
                b""
            };
            let action = Params::action(raw_query, form).unwrap_or_default();
            (service_of(&action), action)
        }
    };
    let request = Request {
        path_params,
        state: &state,
        peer,
        method: &method,
        uri: &uri,
        headers: &headers,
        body: &body,
        request_id: &request_id,
        secure_transport,
        format,
        max_json_values: limits.json_values,
    };
    let namespace_service = service.unwrap_or(early_service);
    let operation = service.and_then(|s| s.operation(&action)).map(|o| o.name);
    let response = match request.handle(service, &action).await {
        Ok(answer) => {
            let content_type = match format {
                Format::Query => "text/xml",
                Format::Json => "application/json",
            };
            let mut response = (StatusCode::OK, answer.body).into_response();
            let h = response.headers_mut();
            h.insert("content-type", HeaderValue::from_static(content_type));
            if let Ok(v) = HeaderValue::from_str(&request_id) {
                h.insert("x-amzn-requestid", v);
            }
            if let Ok(v) = HeaderValue::from_str(&answer.position.0.to_string()) {
                h.insert(POSITION_HEADER, v);
            }
            response
        }
        Err(err) => error_response(format, &err, namespace_service, &request_id),
    };
    (response, operation)
}

/// A JSON request's body: an object (an empty body is `{}`).
fn json_params(body: &[u8], max_values: usize) -> Result<Params, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Params::from_tree(
            iam_wire::Node::Struct(Default::default()),
        ));
    }
    Params::check_json_size(body, max_values)?;
    match iam_wire::Node::from_json_slice(body) {
        Ok(tree @ iam_wire::Node::Struct(_)) => Ok(Params::from_tree(tree)),
        Ok(_) => Err(ApiError::new(
            400,
            "SerializationException",
            "The request body must be a JSON object.",
        )),
        Err(e) => Err(ApiError::new(
            400,
            "SerializationException",
            format!("The request body is not valid JSON: {e}"),
        )),
    }
}

/// An error in the request's encoding.
pub fn error_response(
    format: Format,
    err: &ApiError,
    service: Service,
    request_id: &str,
) -> Response {
    let (body, content_type) = match format {
        Format::Query => (err.to_xml(service.namespace(), request_id), "text/xml"),
        Format::Json => (err.to_json(), "application/json"),
    };
    let mut response = (err.status_code(), body).into_response();
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amzn-requestid", v);
    }
    response
}

/// `x-amz-content-sha256: UNSIGNED-PAYLOAD`: the signature does not cover
/// the body.
fn unsigned_payload(headers: &HeaderMap) -> bool {
    headers
        .get_all("x-amz-content-sha256")
        .iter()
        .any(|v| v.as_bytes().trim_ascii() == b"UNSIGNED-PAYLOAD")
}

/// One request on its way through the pipeline.
struct Request<'r> {
    /// Members named by the path of a REST route (`/v1/events/{position}`).
    path_params: Vec<(String, String)>,
    state: &'r AppState,
    peer: SocketAddr,
    method: &'r Method,
    uri: &'r Uri,
    headers: &'r HeaderMap,
    body: &'r [u8],
    request_id: &'r str,
    secure_transport: bool,
    format: Format,
    max_json_values: usize,
}

/// How large a request may be: its body's bytes and, for JSON, its values.
/// Every operation takes at most [`MAX_BODY`] and [`MAX_JSON_VALUES`]
/// except a batch of decisions, which asks up to 10,000 questions (its
/// model's list maximum) of a few values each.
struct RequestLimits {
    body: usize,
    json_values: usize,
}

impl RequestLimits {
    /// A batch's body: 10,000 questions of up to 1.6 KiB each.
    const BATCH_BODY: usize = 16 << 20;
    /// A batch's values: 40 a question (a principal, action and resource,
    /// and a context of several keys, some with lists of values).
    const BATCH_JSON_VALUES: usize = 400_000;

    fn of(named: Option<&(Service, String)>) -> RequestLimits {
        let batch = named.and_then(|(s, a)| s.operation(a)).is_some_and(|o| {
            o.name == <iam_wire::iamd::ops::AuthorizeBatch as iam_wire::Operation>::SPEC.name
        });
        match batch {
            true => RequestLimits {
                body: Self::BATCH_BODY,
                json_values: Self::BATCH_JSON_VALUES,
            },
            false => RequestLimits {
                body: MAX_BODY,
                json_values: MAX_JSON_VALUES,
            },
        }
    }
}

impl Request<'_> {
    /// Authenticates first (nothing about operations or parameters is
    /// answered to an unauthenticated caller), then finds the operation,
    /// then runs it.
    async fn handle(&self, service: Option<Service>, action: &str) -> Result<Answer, ApiError> {
        let now = self.state.clock.now();
        let header_pairs: Vec<(&str, &[u8])> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_bytes()))
            .collect();
        let http = crate::sigv4::HttpRequest {
            method: self.method.as_str(),
            path: self.uri.path(),
            query: self.uri.query().unwrap_or(""),
            headers: &header_pairs,
            body: self.body,
        };
        // AWS serves a few operations without credentials (the ID token is
        // the credential): an unsigned request reaches only those, as the
        // anonymous caller.
        let unsigned = !self.headers.contains_key(axum::http::header::AUTHORIZATION)
            && !crate::sigv4::is_presigned(http.query);
        let unsigned_operation = service
            .filter(|_| unsigned)
            .and_then(|s| s.operation(action))
            .filter(|spec| registry::accepts_unsigned(spec));
        let (authenticated, view) = match unsigned_operation {
            Some(spec) => (
                auth::Authenticated {
                    caller: auth::Caller::Anonymous,
                    region: String::new(),
                    service: spec.service.name().to_owned(),
                    account_key: false,
                },
                self.state.projection.view(&self.state.account_id),
            ),
            None => match authenticate_at_position(self.state, &http, self.headers, now).await {
                Ok(ok) => ok,
                Err(e) => {
                    // Logged, never appended: the caller is unknown.
                    tracing::info!(
                        code = %e.code,
                        request_id = self.request_id,
                        source_ip = %self.peer.ip(),
                        "authentication failed"
                    );
                    return Err(e);
                }
            },
        };
        let params = match self.format {
            Format::Query => Params::from_request(
                self.uri.query().unwrap_or(""),
                if *self.method == Method::POST {
                    self.body
                } else {
                    b""
                },
            )?,
            // A GET of iamd's API takes its members from the query string.
            Format::Json if *self.method == Method::GET => {
                Params::from_request(self.uri.query().unwrap_or(""), b"")?
                    .with_members(&self.path_params)
            }
            Format::Json => {
                json_params(self.body, self.max_json_values)?.with_members(&self.path_params)
            }
        };
        let spec = self.operation(&params, service, action, &authenticated)?;
        let (view, authorizing_view, as_of) = self.moment(spec, view).await?;
        let source_ip = self.peer.ip().to_string();
        let caller = authenticated.caller.clone();
        let ctx = OpContext {
            state: self.state,
            spec,
            action: spec.name,
            caller: &caller,
            params: &params,
            view,
            authorizing_view,
            as_of,
            facts: RequestFacts {
                source_ip: Some(&source_ip),
                secure_transport: self.secure_transport,
                now,
            },
            metadata: self.metadata(&caller, &source_ip, spec),
            now,
            authorized: Default::default(),
            checks: Default::default(),
            written: Default::default(),
            first_target: Default::default(),
            denied: Default::default(),
        };
        let result = registry::dispatch(&ctx, self.format, self.request_id).await;
        // The access advisor counts attempts, allowed or not.
        record_service_use(self.state, &authenticated, spec, now).await;
        let body = match result {
            Ok(body) => body,
            Err(e) => {
                record_denial(&ctx).await;
                return Err(e);
            }
        };
        if authenticated.account_key {
            crate::app::record_key_use(self.state, &authenticated, now).await;
        }
        let written = ctx
            .as_of
            .or(*ctx.written.lock().unwrap_or_else(|p| p.into_inner()));
        Ok(Answer {
            body,
            position: written.unwrap_or_else(|| self.state.projection.position()),
        })
    }

    /// The views a request reads and is authorized by: both the current
    /// one, or, with `x-iamd-as-of`, the account as it was then (read) and
    /// as it is (authorization), and the position of that moment. Only AWS
    /// reads (`Get*`, `List*`) can be answered at a past moment.
    async fn moment(
        &self,
        spec: &'static OperationSpec,
        view: Option<Arc<iam_projection::AccountView>>,
    ) -> Result<Views, ApiError> {
        let Some(header) = self.headers.get(AS_OF_HEADER) else {
            return Ok((view.clone(), view, None));
        };
        let is_read = spec.name.starts_with("Get") || spec.name.starts_with("List");
        // GetCallerIdentity authorizes nothing: answering it at a moment
        // would tell anyone the log position of any time.
        let public = spec.service != Service::Iam;
        if public || !is_read {
            return Err(as_of_write());
        }
        let text = header.to_str().unwrap_or_default();
        let until = crate::ops::decisions::parse_as_of(&iam_wire::Document(
            serde_json::Value::String(text.to_owned()),
        ))
        .map_err(|_| {
            ApiError::validation(format!(
                "{AS_OF_HEADER} must be an RFC 3339 time or a log position"
            ))
        })?;
        if let Until::Time(t) = until {
            if t > self.state.clock.now() {
                return Err(ApiError::validation(format!(
                    "{AS_OF_HEADER} names a time after now: the future has no view yet"
                )));
            }
        }
        let (past, position) = crate::ops::decisions::view_as_of(self.state, until).await?;
        Ok((Some(past), view, Some(position)))
    }

    /// The operation the request names, checked against the service its
    /// signature was scoped to and the API version it asks for.
    fn operation(
        &self,
        params: &Params,
        service: Option<Service>,
        action: &str,
        authenticated: &auth::Authenticated,
    ) -> Result<&'static OperationSpec, ApiError> {
        if action.is_empty() {
            return Err(ApiError::new(
                400,
                "MissingAction",
                "Missing Action parameter",
            ));
        }
        // An unknown name is answered for the API version of the service
        // the signature was scoped to (the request names no other).
        let scoped = match authenticated.service.as_str() {
            "sts" => Service::Sts,
            _ => Service::Iam,
        };
        let Some(service) = service else {
            return Err(ApiError::invalid_action(action, scoped.version()));
        };
        if authenticated.service != service.name() {
            // A signature scoped to one service is not valid for another's
            // actions (AWS's own message).
            return Err(ApiError::new(
                403,
                "SignatureDoesNotMatch",
                format!(
                    "Credential should be scoped to correct service: '{}'. ",
                    service.name()
                ),
            ));
        }
        let version = match self.format {
            Format::Query => params.get("Version"),
            Format::Json => None,
        };
        if let Some(version) = version.filter(|v| *v != service.version()) {
            return Err(ApiError::invalid_action(action, version));
        }
        service
            .operation(action)
            .ok_or_else(|| ApiError::invalid_action(action, service.version()))
    }

    fn metadata(
        &self,
        caller: &auth::Caller,
        source_ip: &str,
        spec: &OperationSpec,
    ) -> EventMetadata {
        EventMetadata {
            actor: Actor {
                principal_arn: caller.arn(),
                principal_id: Some(caller.user_id()),
                access_key_id: Some(caller.access_key_id().to_owned()),
                session_name: caller.session_name(),
            },
            request_id: self.request_id.to_owned(),
            source_ip: Some(source_ip.to_owned()),
            // Bounded: the caller chooses it, and it is stored with every
            // event the request appends (refusals included).
            user_agent: self
                .headers
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .map(|ua| clip(ua, 256)),
            correlation_id: None,
            causation_id: None,
            action: Some(format!("{}:{}", spec.service.name(), spec.name)),
            target: None,
        }
    }
}

/// `text` without control characters, cut to `max` characters: what a
/// caller chose is stored bounded and printable.
fn clip(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

/// Runs one operation of iamd's own API in this process, as the account's
/// root, with `params` as its JSON body: the audit commands of the CLI
/// (`iamd events`, `iamd authorize`, ...) go through the very decoder,
/// handler and encoder the HTTP API does. Whoever can open the database
/// may read everything in it anyway.
pub async fn call_local(
    state: &AppState,
    spec: &'static OperationSpec,
    params: &serde_json::Value,
) -> Result<String, ApiError> {
    let name = spec.name;
    let now = state.clock.now();
    let params = Params::from_json(params);
    let caller = auth::Caller::Root {
        account_id: state.account_id.as_str().to_owned(),
        access_key_id: String::new(),
        session: None,
    };
    let view = state.projection.view(&state.account_id);
    let ctx = OpContext {
        state,
        spec,
        action: spec.name,
        caller: &caller,
        params: &params,
        view: view.clone(),
        authorizing_view: view,
        as_of: None,
        facts: RequestFacts {
            source_ip: None,
            secure_transport: true,
            now,
        },
        metadata: EventMetadata {
            action: Some(format!("iamd:{name}")),
            ..EventMetadata::system("iamd:cli", uuid::Uuid::new_v4().to_string())
        },
        now,
        authorized: Default::default(),
        checks: Default::default(),
        written: Default::default(),
        first_target: Default::default(),
        denied: Default::default(),
    };
    registry::dispatch(&ctx, Format::Json, "local").await
}

/// Appends the refusal of an authenticated request to the trail, as
/// [`denials`] rules; a failure to record is logged.
async fn record_denial(ctx: &OpContext<'_>) {
    let Some((action, target)) = ctx.denied.lock().unwrap_or_else(|p| p.into_inner()).take() else {
        return;
    };
    let admitted = ctx
        .state
        .denials
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .admit(&ctx.caller.arn(), &action, &target, ctx.now);
    let Some(suppressed) = admitted else { return };
    let target = clip(&target, 2048);
    let mut metadata = ctx.metadata.clone();
    metadata.action = Some(action.clone());
    metadata.target = Some(target.clone());
    let command = iam_domain::Command::RecordAccessDenied {
        action,
        target,
        suppressed,
        at: ctx.now,
    };
    if let Err(error) = ctx
        .state
        .projection
        .execute(&ctx.state.account_id, &command, &metadata)
        .await
    {
        tracing::warn!(%error, "could not record a refusal in the trail");
    }
}

/// Authenticates the request, then honours `x-iamd-min-log-position`: only
/// a caller whose signature verified may make this node wait for a log
/// position (and so learn anything about it). After the wait the caller is
/// authenticated again against the newer view, so a key deactivated at or
/// before that position no longer works; the view returned is the newer one.
///
/// A key this node does not know yet (created on another node, which is
/// what the header is for) cannot be verified before waiting. For such a
/// request the node first catches up to the log's current head — never to
/// the position the unauthenticated caller named — and tries once more.
async fn authenticate_at_position(
    state: &AppState,
    http: &crate::sigv4::HttpRequest<'_>,
    headers: &HeaderMap,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<
    (
        auth::Authenticated,
        Option<Arc<iam_projection::AccountView>>,
    ),
    ApiError,
> {
    const WAIT: Duration = Duration::from_secs(5);
    let authenticate = |view: Option<&iam_projection::AccountView>| {
        auth::authenticate(
            http,
            &Keys {
                account_id: state.account_id.as_str(),
                root: &state.root,
                master_key: &state.master_key,
                view,
                sessions: &state.sessions,
            },
            now,
        )
    };
    let min = headers.get(MIN_POSITION_HEADER);
    let mut view = state.projection.view(&state.account_id);
    let authenticated = match authenticate(view.as_deref()) {
        Err(e) if e.code == "InvalidClientTokenId" && min.is_some() => {
            let head = state.store.head().await.map_err(|error| {
                tracing::warn!(%error, "cannot read the log's head");
                ApiError::internal()
            })?;
            // Not reaching it in time is answered as the unknown key it is.
            let _ = state.projection.wait_for(head.position, WAIT).await;
            view = state.projection.view(&state.account_id);
            authenticate(view.as_deref())?
        }
        other => other?,
    };
    let Some(min) = min else {
        return Ok((authenticated, view));
    };
    let wanted = min
        .to_str()
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| {
            ApiError::validation(format!("{MIN_POSITION_HEADER} must be a log position"))
        })?;
    state.projection.wait_for(Position(wanted), WAIT).await?;
    let view = state.projection.view(&state.account_id);
    let authenticated = authenticate(view.as_deref())?;
    Ok((authenticated, view))
}

/// Records the caller's use of this operation for the access advisor
/// (`crate::access_advisor`): a user's or a role's, never the root user's
/// nor an unsigned caller's.
async fn record_service_use(
    state: &AppState,
    authenticated: &auth::Authenticated,
    spec: &OperationSpec,
    now: chrono::DateTime<chrono::Utc>,
) {
    let accessor = match &authenticated.caller {
        auth::Caller::User { user_name, .. } | auth::Caller::FederatedUser { user_name, .. } => {
            iam_domain::state::Accessor::User {
                user_name: user_name.clone(),
            }
        }
        auth::Caller::RoleSession { role_name, .. } => iam_domain::state::Accessor::Role {
            role_name: role_name.clone(),
        },
        auth::Caller::Root { .. } | auth::Caller::Anonymous => return,
    };
    let record = iam_domain::command::ServiceAccessRecord {
        accessor,
        service: spec.service.name().to_owned(),
        action: spec.name.to_owned(),
        region: (!authenticated.region.is_empty()).then(|| authenticated.region.clone()),
        at: now,
    };
    crate::access_advisor::record(state, &authenticated.caller.arn(), vec![record]).await;
}
