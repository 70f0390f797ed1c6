//! The web console, served by `iamd serve` under `/console`: sign-in, a
//! dashboard, users, the access explorer with its timeline, the audit
//! trail, and a time slider that shows any page as of a past moment.
//!
//! Pages are rendered on the server (maud) and every piece of data on them
//! comes from an API call made as the signed-in person (`api::Api`, through
//! the same router as any client): the console never reads the store, and
//! a person sees and changes only what their policies allow; a refusal
//! shows AWS's reason. Assets (htmx, the stylesheet) are embedded in the
//! binary; the Content-Security-Policy allows nothing inline and nothing
//! from elsewhere. Sessions and CSRF: `session`.

mod api;
mod editor;
mod entities;
mod entity_pages;
mod pages;
pub mod session;
mod timeline;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequest, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use axum::{Form, Router};
use maud::Markup;
use serde_json::{json, Value};

use iam_wire::iam::ops as iam;
use iam_wire::sts::ops as sts;
use iam_wire::Operation;

use crate::app::AppState;
use api::{Api, Keys, Refusal};
use session::{ConsoleSession, Sessions};

/// The Content-Security-Policy of every console response: only this
/// origin's scripts and styles, none inline, no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const HTMX: &[u8] = include_bytes!("../../assets/console/htmx.min.js");
const CSS: &[u8] = include_bytes!("../../assets/console/console.css");

/// What the console's handlers share.
pub struct Console {
    app: AppState,
    /// The API routes the console calls (without the console's own).
    api: Router,
    sessions: Sessions,
}

/// The console's routes, calling `api` for everything they show.
pub fn routes(app: AppState, api: Router) -> Router {
    let console = Arc::new(Console {
        app,
        api,
        sessions: Sessions::default(),
    });
    Router::new()
        .route("/console", get(dashboard))
        .route("/console/", get(dashboard))
        .route("/console/sign-in", get(sign_in_page).post(sign_in))
        .route("/console/sign-out", post(sign_out))
        .route("/console/chain", get(chain))
        .route("/console/users/{name}", get(user))
        .route("/console/access", get(access))
        .route("/console/diff", get(diff))
        .route("/console/audit", get(audit))
        .route("/console/events/{position}", get(event))
        .route("/console/assets/{file}", get(asset))
        .merge(entities::routes())
        .route("/console/{*rest}", any(not_found))
        .layer(axum::middleware::from_fn(guard))
        .with_state(console)
}

/// Around every console route: a form posted from another site (as the
/// browser tells, `Sec-Fetch-Site`) is refused before its handler sees it,
/// and every answer — rejections of extractors and 405s included — gets
/// the security headers.
async fn guard(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let from_elsewhere = request
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| site != "same-origin" && site != "none");
    if request.method() == Method::POST && from_elsewhere {
        return csrf_refused();
    }
    secured(next.run(request).await)
}

async fn not_found() -> Response {
    secured(
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            pages::message("Not found", "There is no such page.").into_string(),
        )
            .into_response(),
    )
}

/// The largest console form (a policy document of the largest kind, 10,240
/// characters, URL-encoded), with room to spare.
const MAX_FORM: usize = 64 * 1024;

/// A console form, read as the API reads bodies (`server::read_body`):
/// within the serve loop's body timeout and body budget, at most
/// [`MAX_FORM`] bytes; then parsed as axum's `Form`.
struct Fields(HashMap<String, String>);

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Fields, Response> {
        let (parts, body) = request.into_parts();
        let (bytes, _reservation) =
            match crate::server::read_body(body, &parts.extensions, MAX_FORM).await {
                Ok(read) => read,
                Err(e) => {
                    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
                    let mut response = (status, e.message).into_response();
                    // The rest of the body is not read: the connection
                    // cannot carry another request.
                    response
                        .headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                    return Err(response);
                }
            };
        let request = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
        let Form(fields) = Form::<HashMap<String, String>>::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Fields(fields))
    }
}

/// Security headers on every console answer (`no-store` unless the
/// answer says how it may be cached).
fn secured(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

fn html(markup: Markup) -> Response {
    secured(
        (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            markup.into_string(),
        )
            .into_response(),
    )
}

fn to_sign_in() -> Response {
    secured(Redirect::to("/console/sign-in").into_response())
}

/// The browser's connection, as the API should see it.
#[derive(Clone, Copy)]
struct Peer {
    addr: SocketAddr,
    tls: bool,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Peer, Self::Rejection> {
        Ok(Peer {
            addr: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))),
            tls: parts
                .extensions
                .get::<crate::server::Transport>()
                .is_some_and(|t| t.tls),
        })
    }
}

/// A signed-in request: the session, its API, the moment asked about.
struct Signed<'a> {
    session: ConsoleSession,
    api: Api<'a>,
    /// The time slider's moment (a log position or RFC 3339 time).
    as_of: Option<String>,
}

impl Console {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.app.clock.now()
    }

    fn signed<'a>(
        &'a self,
        headers: &HeaderMap,
        peer: Peer,
        query: &HashMap<String, String>,
    ) -> Option<Signed<'a>> {
        let id = session::cookie_id(headers)?;
        let session = self.sessions.get(&id, self.now())?;
        let as_of = query
            .get("as_of")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        Some(Signed {
            api: Api {
                router: &self.api,
                keys: session.keys.clone(),
                peer: peer.addr,
                tls: peer.tls,
                as_of: as_of.clone(),
                now: self.now(),
            },
            session,
            as_of,
        })
    }
}

/// The moment a page shows, for links and the banner.
fn moment(as_of: &Option<String>) -> String {
    as_of
        .as_ref()
        .map(|m| format!("?as_of={}", urlencode(m)))
        .unwrap_or_default()
}

fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

async fn asset(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "htmx.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        "console.css" => (CSS, "text/css; charset=utf-8"),
        _ => return secured(StatusCode::NOT_FOUND.into_response()),
    };
    let mut response = ([(header::CONTENT_TYPE, kind)], body).into_response();
    response = secured(response);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

async fn sign_in_page(State(c): State<Arc<Console>>, headers: HeaderMap, peer: Peer) -> Response {
    let signed_in = session::cookie_id(&headers)
        .and_then(|id| c.sessions.get(&id, c.now()))
        .is_some();
    if signed_in {
        return secured(Redirect::to("/console/").into_response());
    }
    sign_in_form(StatusCode::OK, None, peer.tls)
}

/// The sign-in page with a new sign-in token, in its forms and its cookie.
fn sign_in_form(status: StatusCode, error: Option<&str>, tls: bool) -> Response {
    let token = session::sign_in_token();
    let mut response = html(pages::sign_in(&token, error));
    *response.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(&session::set_sign_in_cookie(Some(&token), tls)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// Signs in with a password (through `/v1/sign-in`, as any client would)
/// or with an access key pair (checked with `sts:GetCallerIdentity`).
/// The form must carry the sign-in token of its page's cookie: another
/// site cannot sign a browser in (as the other site's person).
async fn sign_in(
    State(c): State<Arc<Console>>,
    headers: HeaderMap,
    peer: Peer,
    Fields(form): Fields,
) -> Response {
    if !session::sign_in_token_matches(&headers, form.get("csrf").map(String::as_str)) {
        let expired = "The sign-in form has expired or did not come from this page: sign in again.";
        return sign_in_form(StatusCode::FORBIDDEN, Some(expired), peer.tls);
    }
    let field = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let now = c.now();
    let (keys, expires_at) = if form.get("method").map(String::as_str) == Some("keys") {
        let keys = Keys {
            access_key_id: field("access_key_id"),
            secret_access_key: form.get("secret_access_key").cloned().unwrap_or_default(),
            session_token: None,
        };
        (keys, now + session::MAX_SESSION)
    } else {
        let mut body = json!({
            "account_id": field("account_id"),
            "user_name": field("user_name"),
            "password": form.get("password").cloned().unwrap_or_default(),
        });
        let code = field("mfa_code");
        if !code.is_empty() {
            body["mfa_code"] = json!(code);
        }
        match password_sign_in(&c, peer, &body).await {
            Ok(found) => found,
            Err(message) => return sign_in_form(StatusCode::OK, Some(&message), peer.tls),
        }
    };
    let api = Api {
        router: &c.api,
        keys: keys.clone(),
        peer: peer.addr,
        tls: peer.tls,
        as_of: None,
        now,
    };
    let me = match api.aws(sts::GetCallerIdentity::SPEC, &json!({})).await {
        Ok(me) => me,
        Err(e) => return sign_in_form(StatusCode::OK, Some(&e.to_string()), peer.tls),
    };
    let id = c.sessions.start(
        keys,
        me["Arn"].as_str().unwrap_or_default().to_owned(),
        me["Account"].as_str().unwrap_or_default().to_owned(),
        expires_at,
        now,
    );
    let mut response = Redirect::to("/console/").into_response();
    for cookie in [
        session::set_cookie(Some(&id), peer.tls),
        session::set_sign_in_cookie(None, peer.tls),
    ] {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    secured(response)
}

/// `/v1/sign-in` through the router: the same back-off, trail and answer.
async fn password_sign_in(
    c: &Console,
    peer: Peer,
    body: &Value,
) -> Result<(Keys, chrono::DateTime<chrono::Utc>), String> {
    use tower::ServiceExt;
    let mut request = axum::http::Request::post("/v1/sign-in")
        .header(header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .map_err(|_| "The sign-in could not be sent.".to_owned())?;
    request.extensions_mut().insert(ConnectInfo(peer.addr));
    request
        .extensions_mut()
        .insert(crate::server::Transport { tls: peer.tls });
    let response = c
        .api
        .clone()
        .oneshot(request)
        .await
        .map_err(|_| "The sign-in could not be sent.".to_owned())?;
    let ok = response.status().is_success();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if !ok {
        return Err(answer["error"]["message"]
            .as_str()
            .unwrap_or("The sign-in failed.")
            .to_owned());
    }
    let creds = &answer["credentials"];
    let expires = creds["expiration"]
        .as_str()
        .and_then(|e| chrono::DateTime::parse_from_rfc3339(e).ok())
        .map(|e| e.with_timezone(&chrono::Utc))
        .unwrap_or_else(|| c.now());
    Ok((
        Keys {
            access_key_id: creds["access_key_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            secret_access_key: creds["secret_access_key"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            session_token: creds["session_token"].as_str().map(str::to_owned),
        },
        expires,
    ))
}

/// A form's CSRF check: whether it carries the session's token.
fn checked(session: &ConsoleSession, form: &HashMap<String, String>) -> bool {
    session.csrf_matches(form.get("csrf").map(String::as_str))
}

/// The answer to a form without the session's CSRF token.
fn csrf_refused() -> Response {
    secured(
        (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            pages::message("Refused", "The form's CSRF token is not this session's.").into_string(),
        )
            .into_response(),
    )
}

async fn sign_out(
    State(c): State<Arc<Console>>,
    headers: HeaderMap,
    peer: Peer,
    Fields(form): Fields,
) -> Response {
    let tls = peer.tls;
    if let Some(id) = session::cookie_id(&headers) {
        if let Some(s) = c.sessions.get(&id, c.now()) {
            if !checked(&s, &form) {
                return csrf_refused();
            }
        }
        c.sessions.end(&id);
    }
    let mut response = Redirect::to("/console/sign-in").into_response();
    if let Ok(v) = HeaderValue::from_str(&session::set_cookie(None, tls)) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    secured(response)
}

async fn dashboard(
    State(c): State<Arc<Console>>,
    headers: HeaderMap,
    peer: Peer,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(s) = c.signed(&headers, peer, &query) else {
        return to_sign_in();
    };
    let summary = s.api.aws(iam::GetAccountSummary::SPEC, &json!({})).await;
    let head = s.api.head().await;
    let recent = s
        .api
        .v1(
            "GET",
            "/v1/events",
            &format!("after={}&limit=10&outcome=changed", head.saturating_sub(10)),
            None,
        )
        .await;
    let report = credential_report(&s.api).await;
    html(pages::dashboard(
        &pages::Frame::of(&s, head, "Dashboard"),
        summary,
        recent,
        report,
    ))
}

/// Whether the log's hash chain verifies: a fragment for the dashboard
/// (htmx asks with `HX-Request`), a page without script.
async fn chain(
    State(c): State<Arc<Console>>,
    headers: HeaderMap,
    peer: Peer,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(s) = c.signed(&headers, peer, &query) else {
        return to_sign_in();
    };
    let verify = s.api.v1("GET", "/v1/verify", "", None).await;
    if headers.contains_key("hx-request") {
        return html(pages::chain(&verify));
    }
    let head = s.api.head().await;
    html(pages::chain_page(
        &pages::Frame::of(&s, head, "The hash chain"),
        &verify,
    ))
}

/// The credential report's rows, generated first if need be.
async fn credential_report(api: &Api<'_>) -> Result<Vec<HashMap<String, String>>, Refusal> {
    let got = match api.aws(iam::GetCredentialReport::SPEC, &json!({})).await {
        Ok(got) => got,
        Err(e) if e.code.starts_with("Report") => {
            api.aws(iam::GenerateCredentialReport::SPEC, &json!({}))
                .await?;
            api.aws(iam::GetCredentialReport::SPEC, &json!({})).await?
        }
        Err(e) => return Err(e),
    };
    use base64::Engine;
    let csv = got["Content"]
        .as_str()
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    let mut lines = csv.lines();
    let names = csv_fields(lines.next().unwrap_or_default());
    Ok(lines
        .map(|l| names.iter().cloned().zip(csv_fields(l)).collect())
        .collect())
}

/// The fields of one CSV line as the credential report writes it: a field
/// with a comma or a quote is quoted, its quotes doubled (IAM user names
/// may hold commas).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

async fn user(
    State(c): State<Arc<Console>>,
    headers: HeaderMap,
    peer: Peer,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(s) = c.signed(&headers, peer, &query) else {
        return to_sign_in();
    };
    render_user(&s, &name, None).await
}

async fn render_user(s: &Signed<'_>, name: &str, error: Option<&Refusal>) -> Response {
    let input = json!({"UserName": name});
    let got = s.api.aws(iam::GetUser::SPEC, &input).await;
    let attached = s.api.aws(iam::ListAttachedUserPolicies::SPEC, &input).await;
    let inline = s.api.aws(iam::ListUserPolicies::SPEC, &input).await;
    let groups = s.api.aws(iam::ListGroupsForUser::SPEC, &input).await;
    let keys = s.api.aws(iam::ListAccessKeys::SPEC, &input).await;
    let mfa = s.api.aws(iam::ListMFADevices::SPEC, &input).await;
    let tags = s.api.aws(iam::ListUserTags::SPEC, &input).await;
    let head = s.api.head().await;
    html(pages::user(
        &pages::Frame::of(s, head, name),
        name,
        pages::UserParts {
            user: got,
            attached,
            inline,
            groups,
            keys,
            mfa,
            tags,
        },
        error,
    ))
}

/// The access explorer: the decision now and at the slider's moment, and
/// the access history as a timeline.
async fn access(
    State(c): State<Arc<Console>>,
    headers: HeaderMap,
    peer: Peer,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(s) = c.signed(&headers, peer, &query) else {
        return to_sign_in();
    };
    let field = |k: &str| trimmed(&query, k);
    let (principal, action, resource) = (field("principal"), field("action"), field("resource"));
    let asked = !principal.is_empty() && !action.is_empty() && !resource.is_empty();
    // The history replays the account from the principal's creation (a
    // second on a long log): htmx asks for it after the page has painted.
    let history = async {
        s.api
            .v1(
                "GET",
                "/v1/access-history",
                &format!(
                    "action={}&principal={}&resource={}",
                    urlencode(&action),
                    urlencode(&principal),
                    urlencode(&resource)
                ),
                None,
            )
            .await
    };
    let inline_history = query.get("part").map(String::as_str) == Some("history");
    if asked && inline_history && headers.contains_key("hx-request") {
        let head = s.api.head().await;
        return html(pages::history(
            &pages::Frame::of(&s, head, "Access history"),
            &principal,
            &history.await,
            head,
        ));
    }
    let head = s.api.head().await;
    let mut results = None;
    if asked {
        let ask = |as_of: Value| json!({"principal": principal, "action": action, "resource": resource, "as_of": as_of});
        let now = s
            .api
            .v1("POST", "/v1/authorize", "", Some(&ask(Value::Null)))
            .await;
        let then = match &s.as_of {
            Some(m) => Some(
                s.api
                    .v1(
                        "POST",
                        "/v1/authorize",
                        "",
                        Some(&ask(m.parse::<u64>().map_or(json!(m), |p| json!(p)))),
                    )
                    .await,
            ),
            None => None,
        };
        // Without script, `part=history` shows the history in the page.
        let history = match inline_history {
            true => Some(history.await),
            false => None,
        };
        results = Some(pages::AccessResults { now, then, history });
    }
    html(pages::access(
        &pages::Frame::of(&s, head, "Access explorer"),
        (&principal, &action, &resource),
        results,
        head,
    ))
}

/// A query field, trimmed (empty when absent).
fn trimmed(query: &HashMap<String, String>, key: &str) -> String {
    query
        .get(key)
        .map(|v| v.trim().to_owned())
        .unwrap_or_default()
}

/// What a principal gained and lost between two moments (`/v1/diff`), and
/// the events in between.
async fn diff(
    State(c): State<Arc<Console>>,
    headers: HeaderMap,
    peer: Peer,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(s) = c.signed(&headers, peer, &query) else {
        return to_sign_in();
    };
    let field = |k: &str| trimmed(&query, k);
    let (principal, from, to) = (field("principal"), field("from"), field("to"));
    let head = s.api.head().await;
    let mut changes = None;
    if !principal.is_empty() && !from.is_empty() {
        let mut ask = vec![
            format!("from={}", urlencode(&from)),
            format!("principal={}", urlencode(&principal)),
        ];
        if !to.is_empty() {
            ask.push(format!("to={}", urlencode(&to)));
        }
        changes = Some(s.api.v1("GET", "/v1/diff", &ask.join("&"), None).await);
    }
    html(pages::diff(
        &pages::Frame::of(&s, head, "Compare two moments"),
        (&principal, &from, &to),
        changes,
    ))
}

/// The `/v1/events` query of the audit page's filters.
fn events_query(query: &HashMap<String, String>) -> String {
    let mut parts = Vec::new();
    for key in ["actor", "target", "type", "since", "until", "after"] {
        if let Some(v) = query.get(key).filter(|v| !v.trim().is_empty()) {
            parts.push(format!("{key}={}", urlencode(v.trim())));
        }
    }
    if query.get("denied").is_some_and(|v| !v.is_empty()) {
        parts.push("outcome=denied".into());
    }
    parts.push("limit=50".into());
    parts.sort();
    parts.join("&")
}

async fn audit(
    State(c): State<Arc<Console>>,
    headers: HeaderMap,
    peer: Peer,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(s) = c.signed(&headers, peer, &query) else {
        return to_sign_in();
    };
    let listed = s
        .api
        .v1("GET", "/v1/events", &events_query(&query), None)
        .await;
    match query.get("format").map(String::as_str) {
        Some("json") => {
            let body = match &listed {
                Ok(v) => v["events"].to_string(),
                Err(e) => json!({"error": {"code": e.code, "message": e.message}}).to_string(),
            };
            return secured(
                (
                    [
                        (header::CONTENT_TYPE, "application/json"),
                        (
                            header::CONTENT_DISPOSITION,
                            "attachment; filename=\"iamd-events.json\"",
                        ),
                    ],
                    body,
                )
                    .into_response(),
            );
        }
        Some("csv") => {
            return secured(
                (
                    [
                        (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                        (
                            header::CONTENT_DISPOSITION,
                            "attachment; filename=\"iamd-events.csv\"",
                        ),
                    ],
                    pages::events_csv(listed.as_ref().ok()),
                )
                    .into_response(),
            );
        }
        _ => {}
    }
    let head = s.api.head().await;
    html(pages::audit(
        &pages::Frame::of(&s, head, "Audit trail"),
        &query,
        listed,
    ))
}

async fn event(
    State(c): State<Arc<Console>>,
    headers: HeaderMap,
    peer: Peer,
    Path(position): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(s) = c.signed(&headers, peer, &query) else {
        return to_sign_in();
    };
    // Not axum's `Path<u64>`, whose rejection repeats the path.
    let Ok(position) = position.parse::<u64>() else {
        return not_found().await;
    };
    let got = s
        .api
        .v1("GET", &format!("/v1/events/{position}"), "", None)
        .await;
    let head = s.api.head().await;
    html(pages::event(
        &pages::Frame::of(&s, head, &format!("Event {position}")),
        got,
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn report_fields_keep_quoted_commas() {
        assert_eq!(
            super::csv_fields(r#"a,"b,c","d""e",,f"#),
            ["a", "b,c", "d\"e", "", "f"]
        );
    }
}
