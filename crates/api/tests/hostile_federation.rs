#![allow(clippy::type_complexity, clippy::useless_vec)]
//! A hostile review of web identity federation (`sts:AssumeRoleWithWebIdentity`
//! served to unsigned requests, the OpenID Connect providers it trusts and the
//! issuers it fetches), of instance profiles (`iam:PassRole`) and of the AWS
//! managed policy catalogue, through the HTTP server.
//!
//! Every test is an attack and asserts the safe answer. Tests named
//! `attack_...` failed when they were written: the attack worked. The others
//! document a line that held.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use iam_event_store::testing::TestDatabase;
use iam_federation::testing::{assemble, replace_payload, TestIssuer};
use iam_federation::Alg;
use serde_json::{json, Value};

mod support;
use support::*;

const STS_VERSION: &str = "2011-06-15";
const IAM_VERSION: &str = "2010-05-08";
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";
const CLIENT_ID: &str = "my-app";

const READ_USERS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","iam:ListUsers"],"Resource":"*"}]}"#;
const NOTHING: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::none"}]}"#;
const EVERYTHING_IAM: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}"#;
const ASSUME_ANY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;
const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
/// Anyone the evaluator counts as a principal may assume the role with a
/// web identity: only the token checks stand in the way.
const ANY_WEB_IDENTITY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRoleWithWebIdentity"}]}"#;

// ---------------------------------------------------------------------------
// Local issuers

/// A server task, stopped when dropped.
struct Served(tokio::task::JoinHandle<()>);

impl Drop for Served {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn bind() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

fn serve(listener: tokio::net::TcpListener, router: axum::Router) -> Served {
    Served(tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    }))
}

fn counter() -> Arc<AtomicU64> {
    Arc::new(AtomicU64::new(0))
}

fn hits(c: &Arc<AtomicU64>) -> u64 {
    c.load(Ordering::SeqCst)
}

/// `GET` answering `body`, counted.
fn counted(body: String, hits: Arc<AtomicU64>) -> axum::routing::MethodRouter {
    axum::routing::get(move || {
        hits.fetch_add(1, Ordering::SeqCst);
        let body = body.clone();
        async move { body }
    })
}

/// An issuer at `http://127.0.0.1:PORT` publishing its discovery document
/// and keys, every request counted: the discovery document, the key set,
/// and anything else (`other`).
struct Idp {
    issuer: TestIssuer,
    url: String,
    discovery: Arc<AtomicU64>,
    keys: Arc<AtomicU64>,
    other: Arc<AtomicU64>,
    _served: Served,
}

impl Idp {
    async fn start() -> Idp {
        let (listener, url) = bind().await;
        let issuer = TestIssuer::new(url.clone());
        let (discovery, keys, other) = (counter(), counter(), counter());
        let fallback = other.clone();
        let router = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                counted(
                    issuer.discovery_json(&format!("{url}/keys")),
                    discovery.clone(),
                ),
            )
            .route("/keys", counted(issuer.jwks_json(), keys.clone()))
            .fallback(move || {
                fallback.fetch_add(1, Ordering::SeqCst);
                async { (axum::http::StatusCode::NOT_FOUND, "no") }
            });
        Idp {
            issuer,
            url,
            discovery,
            keys,
            other,
            _served: serve(listener, router),
        }
    }

    /// `127.0.0.1:PORT`: the provider ARN's resource and its keys' prefix.
    fn host(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    fn claims(&self, sub: &str, aud: &str) -> Value {
        self.issuer.claims(sub, aud, Utc::now())
    }

    fn token(&self, sub: &str) -> String {
        self.issuer.sign(self.claims(sub, CLIENT_ID), Alg::Rs256)
    }

    fn sign(&self, claims: Value) -> String {
        self.issuer.sign(claims, Alg::Rs256)
    }

    fn requests(&self) -> u64 {
        hits(&self.discovery) + hits(&self.keys) + hits(&self.other)
    }
}

/// A TCP server that accepts connections and never answers; counts them.
async fn hanging_issuer() -> (String, Arc<AtomicU64>, Served) {
    let (listener, url) = bind().await;
    let accepted = counter();
    let count = accepted.clone();
    let served = Served(tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    }));
    (url, accepted, served)
}

// ---------------------------------------------------------------------------
// Requests

/// A request with no signature at all.
async fn unsigned_at(
    addr: SocketAddr,
    method: &str,
    target: &str,
    content_type: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let mut text = format!(
        "{method} {target} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    send_raw(addr, text.into_bytes()).await
}

async fn unsigned(
    app: &TestApp,
    method: &str,
    target: &str,
    content_type: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> Reply {
    unsigned_at(app.addr, method, target, content_type, body, headers).await
}

/// An unsigned `AssumeRoleWithWebIdentity`, as the SDKs send it.
async fn web_identity_at(
    addr: SocketAddr,
    role_arn: &str,
    session: &str,
    token: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let mut params = vec![
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", STS_VERSION),
        ("RoleArn", role_arn),
        ("RoleSessionName", session),
        ("WebIdentityToken", token),
    ];
    params.extend_from_slice(extra);
    unsigned_at(addr, "POST", "/", FORM, &form(&params), &[]).await
}

async fn web_identity(app: &TestApp, role_arn: &str, token: &str) -> Reply {
    web_identity_at(app.addr, role_arn, "web-session", token, &[]).await
}

#[track_caller]
fn ok200(reply: &Reply) {
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[track_caller]
fn not_ok(what: &str, reply: &Reply) {
    assert!(
        (400..500).contains(&reply.status),
        "{what}: answered {} {}",
        reply.status,
        reply.body
    );
}

/// Registers an OpenID Connect provider; returns its ARN.
async fn provider(root: &Client, url: &str, client_ids: &[&str]) -> String {
    let names: Vec<String> = (1..=client_ids.len())
        .map(|i| format!("ClientIDList.member.{i}"))
        .collect();
    let mut params = vec![("Url", url)];
    for (n, id) in names.iter().zip(client_ids) {
        params.push((n.as_str(), id));
    }
    let reply = root.ok("CreateOpenIDConnectProvider", &params).await;
    reply
        .tag("OpenIDConnectProviderArn")
        .expect("the provider's ARN")
}

/// A role with trust policy `trust` and, when given, the inline `policy`.
async fn make_role(root: &Client, name: &str, trust: &str, policy: Option<&str>) -> String {
    root.ok(
        "CreateRole",
        &[("RoleName", name), ("AssumeRolePolicyDocument", trust)],
    )
    .await;
    if let Some(policy) = policy {
        root.ok(
            "PutRolePolicy",
            &[
                ("RoleName", name),
                ("PolicyName", "granted"),
                ("PolicyDocument", policy),
            ],
        )
        .await;
    }
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

/// A trust policy allowing `sts:AssumeRoleWithWebIdentity` to the provider
/// `provider_arn`, with `condition` (`,"Condition":{…}` or empty).
fn federated_trust(provider_arn: &str, condition: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{provider_arn}"}},"Action":"sts:AssumeRoleWithWebIdentity"{condition}}}]}}"#
    )
}

/// A user with no policy, and a client signing as them.
async fn bare_user(root: &Client, name: &str) -> Client {
    root.ok("CreateUser", &[("UserName", name)]).await;
    let key = root.ok("CreateAccessKey", &[("UserName", name)]).await;
    root.with_key(
        &key.tag("AccessKeyId").unwrap(),
        &key.tag("SecretAccessKey").unwrap(),
    )
}

/// Every event after `before`, as read from the log.
async fn events_since(db: &TestDatabase, before: u64) -> Vec<iam_event_store::RecordedEvent> {
    iam_event_store::open(db.url())
        .await
        .unwrap()
        .read_all(iam_event_store::Position(before), 10_000)
        .await
        .unwrap()
}

// ---------------------------------------------------------------------------
// The unsigned path

/// AWS serves `AssumeRoleWithWebIdentity` without credentials, and nothing
/// else. An unsigned request naming any other operation, in either
/// encoding, or dressed as a presigned URL, a bare session token or an
/// empty `Authorization`, must be refused before it does anything.
#[tokio::test]
async fn unsigned_requests_reach_no_operation_but_web_identity() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let session = root.ok("GetSessionToken", &[]).await;
    let token = session.tag("SessionToken").unwrap();
    let before = head(&db).await;

    let create = form(&[
        ("Action", "CreateUser"),
        ("Version", IAM_VERSION),
        ("UserName", "intruder"),
    ]);
    let caller = form(&[("Action", "GetCallerIdentity"), ("Version", STS_VERSION)]);
    let presigned = format!(
        "/?{create}&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}%2F20240101%2Fus-east-1%2Fiam%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature={}",
        app.root.access_key_id,
        "0".repeat(64)
    );
    let lower = presigned.replace("X-Amz-", "x-amz-");
    let attempts = vec![
        (
            "Query POST CreateUser",
            unsigned(&app, "POST", "/", FORM, &create, &[]).await,
        ),
        (
            "Query GET CreateUser",
            unsigned(&app, "GET", &format!("/?{create}"), FORM, "", &[]).await,
        ),
        (
            "GetCallerIdentity",
            unsigned(&app, "POST", "/", FORM, &caller, &[]).await,
        ),
        (
            "query names web identity, the body CreateUser",
            unsigned(
                &app,
                "POST",
                "/?Action=AssumeRoleWithWebIdentity&Version=2011-06-15",
                FORM,
                &create,
                &[],
            )
            .await,
        ),
        (
            "query names CreateUser, the body web identity",
            unsigned(
                &app,
                "POST",
                &format!("/?{create}"),
                FORM,
                &form(&[
                    ("Action", "AssumeRoleWithWebIdentity"),
                    ("Version", STS_VERSION),
                    ("UserName", "intruder"),
                ]),
                &[],
            )
            .await,
        ),
        (
            "web identity under the IAM version",
            unsigned(
                &app,
                "POST",
                "/",
                FORM,
                &form(&[
                    ("Action", "AssumeRoleWithWebIdentity"),
                    ("Version", IAM_VERSION),
                ]),
                &[],
            )
            .await,
        ),
        (
            "JSON /iam/CreateUser",
            unsigned(
                &app,
                "POST",
                "/iam/CreateUser",
                "application/json",
                r#"{"UserName":"intruder"}"#,
                &[],
            )
            .await,
        ),
        (
            "JSON /iam/AssumeRoleWithWebIdentity",
            unsigned(
                &app,
                "POST",
                "/iam/AssumeRoleWithWebIdentity",
                "application/json",
                "{}",
                &[],
            )
            .await,
        ),
        (
            "JSON /sts/GetCallerIdentity",
            unsigned(
                &app,
                "POST",
                "/sts/GetCallerIdentity",
                "application/json",
                "{}",
                &[],
            )
            .await,
        ),
        (
            "JSON /sts/GetSessionToken",
            unsigned(
                &app,
                "POST",
                "/sts/GetSessionToken",
                "application/json",
                "{}",
                &[],
            )
            .await,
        ),
        (
            "GET /v1/events",
            unsigned(&app, "GET", "/v1/events", "application/json", "", &[]).await,
        ),
        (
            "POST /v1/authorize",
            unsigned(
                &app,
                "POST",
                "/v1/authorize",
                "application/json",
                r#"{"principal":"arn:aws:iam::123456789012:root","action":"iam:CreateUser","resource":"*"}"#,
                &[],
            )
            .await,
        ),
        (
            "a session token alone, GetCallerIdentity",
            unsigned(
                &app,
                "POST",
                "/",
                FORM,
                &caller,
                &[("x-amz-security-token", &token)],
            )
            .await,
        ),
        (
            "a session token alone, CreateUser",
            unsigned(
                &app,
                "POST",
                "/",
                FORM,
                &create,
                &[("x-amz-security-token", &token)],
            )
            .await,
        ),
        (
            "a presigned-looking URL",
            unsigned(&app, "GET", &presigned, FORM, "", &[]).await,
        ),
        (
            "a presigned-looking URL in lower case",
            unsigned(&app, "GET", &lower, FORM, "", &[]).await,
        ),
        (
            "an empty Authorization",
            unsigned(&app, "POST", "/", FORM, &create, &[("authorization", "")]).await,
        ),
        (
            "Basic Authorization",
            unsigned(
                &app,
                "POST",
                "/",
                FORM,
                &create,
                &[("authorization", "Basic cm9vdDpyb290")],
            )
            .await,
        ),
    ];
    for (what, reply) in &attempts {
        not_ok(what, reply);
    }
    assert!(changes_since(&db, before).await.is_empty());
    let users = root.ok("ListUsers", &[]).await;
    assert!(!users.body.contains("intruder"), "{}", users.body);
    app.stop().await;
}

/// Inputs AWS refuses are refused before any issuer is fetched: a session
/// name that would bend the session ARN, durations out of range, the OAuth
/// `ProviderId`, tokens past 20,000 characters.
#[tokio::test]
async fn malformed_web_identity_requests_fetch_nothing_and_issue_nothing() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let idp = Idp::start().await;
    provider(&root, &idp.url, &[CLIENT_ID]).await;
    let arn = make_role(&root, "open", ANY_WEB_IDENTITY, Some(READ_USERS)).await;
    let before = head(&db).await;
    let good = idp.token("alice");
    let long = format!("{good}{}", "A".repeat(20_001));
    let huge = "A".repeat(600_000);
    let t = good.as_str();
    let cases: Vec<(&str, Vec<(&str, &str)>, &str)> = vec![
        ("a/b", vec![], t),
        ("x", vec![], t),
        ("a b", vec![], t),
        ("../../root", vec![], t),
        ("ok", vec![("DurationSeconds", "899")], t),
        ("ok", vec![("DurationSeconds", "43201")], t),
        ("ok", vec![("DurationSeconds", "-1")], t),
        ("ok", vec![("ProviderId", "www.amazon.com")], t),
        ("ok", vec![], long.as_str()),
        ("ok", vec![], huge.as_str()),
        ("ok", vec![], "abc"),
    ];
    for (session, extra, token) in cases {
        let reply = web_identity_at(app.addr, &arn, session, token, &extra).await;
        not_ok(
            &format!("{session} {extra:?} ({} bytes)", token.len()),
            &reply,
        );
    }
    // Unsigned, it cannot make the node wait for a log position, nor read
    // the past.
    let body = form(&[
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", STS_VERSION),
        ("RoleArn", &arn),
        ("RoleSessionName", "ok"),
        ("WebIdentityToken", "abc"),
    ]);
    let started = Instant::now();
    let reply = unsigned(
        &app,
        "POST",
        "/",
        FORM,
        &body,
        &[("x-iamd-min-log-position", "999999999")],
    )
    .await;
    not_ok("min log position", &reply);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let body = form(&[
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", STS_VERSION),
        ("RoleArn", &arn),
        ("RoleSessionName", "ok"),
        ("WebIdentityToken", t),
    ]);
    let reply = unsigned(&app, "POST", "/", FORM, &body, &[("x-iamd-as-of", "1")]).await;
    not_ok("as of", &reply);
    assert_eq!(
        idp.requests(),
        0,
        "an issuer was fetched for a malformed request"
    );
    assert!(changes_since(&db, before).await.is_empty());
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Which provider a token belongs to

/// The token's `iss` picks the provider, compared exactly: a provider
/// registered at `HOST/a` says nothing about `HOST`, `HOST/a/`, `HTTPS`,
/// other cases or dot segments, and such a token never makes iamd fetch.
#[tokio::test]
async fn a_token_is_checked_only_by_the_provider_of_its_exact_issuer() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let idp = Idp::start().await;
    let tenant = format!("{}/a", idp.url);
    provider(&root, &tenant, &[CLIENT_ID]).await;
    let arn = make_role(&root, "open", ANY_WEB_IDENTITY, Some(READ_USERS)).await;
    let port = idp.url.rsplit(':').next().unwrap().to_owned();
    let before = head(&db).await;
    for iss in [
        idp.url.clone(),
        format!("{tenant}/"),
        tenant.replace("http://", "https://"),
        tenant.replace("http://", "HTTP://"),
        format!("{}/A", idp.url),
        format!("{tenant}/."),
        format!("{tenant}/../a"),
        format!("{tenant}?"),
        format!("{tenant}#"),
        format!("{tenant}%2F"),
        format!(" {tenant}"),
        format!("{tenant} "),
        format!("http://localhost:{port}/a"),
        format!("http://127.0.0.1:0{port}/a"),
    ] {
        let mut claims = idp.claims("alice", CLIENT_ID);
        claims["iss"] = json!(iss);
        let reply = web_identity(&app, &arn, &idp.sign(claims)).await;
        refused(&reply, 400, "InvalidIdentityToken");
    }
    // `iss` not a string, or absent.
    for iss in [
        json!([tenant.clone()]),
        json!({"url": tenant.clone()}),
        Value::Null,
    ] {
        let mut claims = idp.claims("alice", CLIENT_ID);
        claims["iss"] = iss;
        let reply = web_identity(&app, &arn, &idp.sign(claims)).await;
        refused(&reply, 400, "InvalidIdentityToken");
    }
    assert_eq!(idp.requests(), 0, "an unregistered issuer was fetched");
    // The issuer echoed in the refusal cannot inject XML.
    let mut claims = idp.claims("alice", CLIENT_ID);
    claims["iss"] = json!("</Message></Error><Error><Code>Injected</Code><Message>");
    let reply = web_identity(&app, &arn, &idp.sign(claims)).await;
    refused(&reply, 400, "InvalidIdentityToken");
    assert!(
        !reply.body.contains("<Code>Injected</Code>"),
        "{}",
        reply.body
    );
    // The exact issuer is the provider's (its discovery document lives at
    // /a/.well-known/..., which this issuer does not serve).
    let mut claims = idp.claims("alice", CLIENT_ID);
    claims["iss"] = json!(tenant);
    let reply = web_identity(&app, &arn, &idp.sign(claims)).await;
    refused(&reply, 400, "IDPCommunicationError");
    assert!(hits(&idp.other) >= 1);
    assert!(changes_since(&db, before).await.is_empty());
    app.stop().await;
}

/// Algorithm and key confusion: only RS256 with an RSA key and ES256 with
/// a P-256 key of the issuer's published set verify; a `kid` of the other
/// type, another issuer's key, keys embedded in the header (`jwk`, `jku`),
/// `crit`, mistyped claims are all refused.
#[tokio::test]
async fn tokens_with_the_wrong_key_algorithm_or_claims_are_refused() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let idp = Idp::start().await;
    let provider_arn = provider(&root, &idp.url, &[CLIENT_ID]).await;
    let arn = make_role(
        &root,
        "web",
        &federated_trust(&provider_arn, ""),
        Some(READ_USERS),
    )
    .await;
    let before = head(&db).await;
    ok200(&web_identity(&app, &arn, &idp.token("alice")).await);

    let rsa_kid = idp.issuer.key_id(Alg::Rs256).to_owned();
    let ec_kid = idp.issuer.key_id(Alg::Es256).to_owned();
    let claims = idp.claims("alice", CLIENT_ID);
    let stranger = TestIssuer::new(idp.url.clone());
    let stranger_kid = stranger.key_id(Alg::Rs256).to_owned();
    let now = Utc::now();
    let mut forged: Vec<(&str, String)> = vec![
        (
            "ES256 naming the RSA key",
            idp.issuer.sign_with_header(
                json!({"alg": "ES256", "kid": rsa_kid}),
                claims.clone(),
                Alg::Es256,
            ),
        ),
        (
            "RS256 naming the EC key",
            idp.issuer.sign_with_header(
                json!({"alg": "RS256", "kid": ec_kid}),
                claims.clone(),
                Alg::Rs256,
            ),
        ),
        (
            "PS256",
            idp.issuer.sign_with_header(
                json!({"alg": "PS256", "kid": rsa_kid}),
                claims.clone(),
                Alg::Rs256,
            ),
        ),
        (
            "rs256 in lower case",
            idp.issuer.sign_with_header(
                json!({"alg": "rs256", "kid": rsa_kid}),
                claims.clone(),
                Alg::Rs256,
            ),
        ),
        (
            "alg none",
            assemble(&json!({"alg": "none", "kid": rsa_kid}), &claims, &[]),
        ),
        (
            "alg None with the RSA signature",
            assemble(&json!({"alg": "None", "kid": rsa_kid}), &claims, b"x"),
        ),
        (
            "HS256 keyed by the public key",
            idp.issuer.forge_hs256(claims.clone()),
        ),
        (
            "another key naming the issuer's kid",
            stranger.sign_with_header(
                json!({"alg": "RS256", "kid": rsa_kid}),
                claims.clone(),
                Alg::Rs256,
            ),
        ),
        (
            "another key without kid",
            stranger.sign_with_header(json!({"alg": "RS256"}), claims.clone(), Alg::Rs256),
        ),
        (
            "another key embedded in the header",
            stranger.sign_with_header(
                json!({"alg": "RS256", "kid": stranger_kid, "jwk": stranger.jwk(Alg::Rs256),
                       "jku": format!("{}/keys", idp.url), "x5u": format!("{}/keys", idp.url)}),
                claims.clone(),
                Alg::Rs256,
            ),
        ),
        (
            "crit",
            idp.issuer.sign_with_header(
                json!({"alg": "RS256", "kid": rsa_kid, "crit": ["exp"], "exp": 1}),
                claims.clone(),
                Alg::Rs256,
            ),
        ),
        (
            "kid not a string",
            idp.issuer.sign_with_header(
                json!({"alg": "RS256", "kid": [rsa_kid]}),
                claims.clone(),
                Alg::Rs256,
            ),
        ),
        (
            "subject rewritten after signing",
            replace_payload(&idp.token("mallory"), &idp.claims("alice-admin", CLIENT_ID)),
        ),
    ];
    let mut edit = |what: &'static str, f: &dyn Fn(&mut Value)| {
        let mut c = idp.claims("alice", CLIENT_ID);
        f(&mut c);
        forged.push((what, idp.sign(c)));
    };
    edit("exp as a string", &|c| c["exp"] = json!("99999999999"));
    edit("exp absent", &|c| {
        c.as_object_mut().unwrap().remove("exp");
    });
    edit("exp an hour ago", &|c| {
        c["exp"] = json!((now - chrono::Duration::hours(1)).timestamp())
    });
    edit("nbf in an hour", &|c| {
        c["nbf"] = json!((now + chrono::Duration::hours(1)).timestamp())
    });
    edit("exp NaN-like", &|c| c["exp"] = json!(1e300));
    edit("sub empty", &|c| c["sub"] = json!(""));
    edit("sub a number", &|c| c["sub"] = json!(7));
    edit("aud empty list", &|c| c["aud"] = json!([]));
    edit("aud absent", &|c| {
        c.as_object_mut().unwrap().remove("aud");
    });
    edit("aud in another case", &|c| c["aud"] = json!("MY-APP"));
    edit("aud an object", &|c| c["aud"] = json!({"my-app": true}));
    edit("azp not a string", &|c| c["azp"] = json!(["my-app"]));
    for (what, token) in &forged {
        let reply = web_identity(&app, &arn, token).await;
        assert!(
            reply.status == 400
                && matches!(
                    reply.error_code().as_deref(),
                    Some("InvalidIdentityToken" | "ExpiredTokenException")
                ),
            "{what}: {} {}",
            reply.status,
            reply.body
        );
    }
    let issued: Vec<String> = changes_since(&db, before).await;
    assert_eq!(issued, vec!["TemporaryCredentialsIssued".to_owned()]);
    app.stop().await;
}

/// OpenID Connect Core 3.1.3.7: "The Client MUST validate that the aud
/// (audience) Claim contains its client_id value ... The ID Token MUST be
/// rejected if the ID Token does not list the Client as a valid audience."
/// A token issued to `my-app` (`azp`) for two other services is theirs:
/// either of them could replay it. iamd takes `azp` as the audience as soon
/// as `aud` has two entries (web_identity.rs, the `audience` chain), so the
/// token is accepted with `HOST:aud = my-app`; with one foreign audience
/// it is refused.
#[tokio::test]
async fn attack_a_token_for_other_audiences_is_accepted_through_azp() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let idp = Idp::start().await;
    let provider_arn = provider(&root, &idp.url, &[CLIENT_ID]).await;
    let host = idp.host().to_owned();
    let arn = make_role(
        &root,
        "web",
        &federated_trust(
            &provider_arn,
            &format!(r#","Condition":{{"StringEquals":{{"{host}:aud":"{CLIENT_ID}"}}}}"#),
        ),
        Some(READ_USERS),
    )
    .await;
    // One foreign audience and azp my-app: refused (held).
    let mut claims = idp.claims("alice", "svc-a");
    claims["azp"] = json!(CLIENT_ID);
    refused(
        &web_identity(&app, &arn, &idp.sign(claims)).await,
        400,
        "InvalidIdentityToken",
    );
    // Two foreign audiences and azp my-app.
    let mut claims = idp.claims("alice", "svc-a");
    claims["aud"] = json!(["svc-a", "svc-b"]);
    claims["azp"] = json!(CLIENT_ID);
    let reply = web_identity(&app, &arn, &idp.sign(claims)).await;
    refused(&reply, 400, "InvalidIdentityToken");
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Trust policies

/// AWS puts `aws:PrincipalAccount` and `aws:PrincipalArn` in the request
/// context of signed requests only ("Anonymous requests don't include this
/// key"); `AssumeRoleWithWebIdentity` is unsigned. A trust policy that lets
/// "any principal of my account" assume a role (`Principal: *` or
/// `{"AWS": "*"}` with `aws:PrincipalAccount` / `aws:PrincipalArn` on the
/// account, and `sts:AssumeRole*`) admits no web identity in AWS. iamd
/// evaluates the web identity as the principal
/// `arn:aws:iam::ACCOUNT:oidc-provider/HOST`, and the evaluator fills both
/// keys from that ARN (`fill_global_keys`), so every holder of a token of
/// any provider the account registered (any GitHub repository, when GitHub
/// Actions is one) passes the condition.
#[tokio::test]
async fn attack_a_web_identity_passes_for_a_principal_of_the_account() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let idp = Idp::start().await;
    provider(&root, &idp.url, &[CLIENT_ID]).await;
    let by_account = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"*"}},"Action":"sts:AssumeRole*","Condition":{{"StringEquals":{{"aws:PrincipalAccount":"{ACCOUNT}"}}}}}}]}}"#
    );
    let by_arn = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"sts:*","Condition":{{"ArnLike":{{"aws:PrincipalArn":"arn:aws:iam::{ACCOUNT}:*"}}}}}}]}}"#
    );
    let account_role = make_role(&root, "by-account", &by_account, Some(READ_USERS)).await;
    let arn_role = make_role(&root, "by-arn", &by_arn, Some(READ_USERS)).await;
    // The trust policies do what they say for the account's own users.
    let alice = user_with_policy(&root, "alice", ASSUME_ANY).await;
    for arn in [&account_role, &arn_role] {
        ok200(
            &alice
                .call(
                    "AssumeRole",
                    &[("RoleArn", arn), ("RoleSessionName", "alice")],
                )
                .await,
        );
    }
    let mut admitted = Vec::new();
    for arn in [&account_role, &arn_role] {
        let reply = web_identity(&app, arn, &idp.token("anyone-at-all")).await;
        if reply.status == 200 {
            admitted.push(arn.clone());
        } else {
            refused(&reply, 403, "AccessDenied");
        }
    }
    assert!(
        admitted.is_empty(),
        "a web identity token of an unrelated subject assumed {admitted:?}"
    );
    app.stop().await;
}

/// A web identity is neither the account nor another provider: trust
/// policies naming the account (`:root`, the bare id), another provider (at
/// a path of the same host), excluding it with `NotPrincipal`, or
/// conditions on another provider's keys or on the subject in another case
/// do not admit it.
#[tokio::test]
async fn trust_policies_for_the_account_or_another_provider_do_not_admit_a_web_identity() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let idp = Idp::start().await;
    let host = idp.host().to_owned();
    let mine = provider(&root, &idp.url, &[CLIENT_ID]).await;
    let other = provider(&root, &format!("{}/a", idp.url), &[CLIENT_ID]).await;
    let statement = |principal: &str, action: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"{action}"}}]}}"#
        )
    };
    let denied_trusts = vec![
        (
            "account root, sts:*",
            statement(
                &format!(r#"{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}}"#),
                "sts:*",
            ),
        ),
        (
            "account id, *",
            statement(&format!(r#"{{"AWS":"{ACCOUNT}"}}"#), "*"),
        ),
        (
            "the provider at /a",
            statement(&format!(r#"{{"Federated":"{other}"}}"#), "sts:*"),
        ),
        (
            "everyone but the provider at /a",
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRoleWithWebIdentity"}},{{"Effect":"Deny","NotPrincipal":{{"Federated":"{other}"}},"Action":"sts:*"}}]}}"#
            ),
        ),
        (
            "the subject in another case",
            federated_trust(
                &mine,
                &format!(r#","Condition":{{"StringEquals":{{"{host}:sub":"ALICE"}}}}"#),
            ),
        ),
        (
            "the other provider's subject key",
            federated_trust(
                &mine,
                &format!(r#","Condition":{{"StringEquals":{{"{host}/a:sub":"alice"}}}}"#),
            ),
        ),
        (
            "the other provider as aws:FederatedProvider",
            federated_trust(
                &mine,
                &format!(
                    r#","Condition":{{"StringEquals":{{"aws:FederatedProvider":"{other}"}}}}"#
                ),
            ),
        ),
        (
            "a client id the token was not for",
            federated_trust(
                &mine,
                &format!(r#","Condition":{{"StringEquals":{{"{host}:aud":"other-app"}}}}"#),
            ),
        ),
    ];
    let token = idp.token("alice");
    for (i, (what, trust)) in denied_trusts.iter().enumerate() {
        let name = format!("denied-{i}");
        let created = root
            .call(
                "CreateRole",
                &[("RoleName", &name), ("AssumeRolePolicyDocument", trust)],
            )
            .await;
        if what.starts_with("everyone but") && created.status == 400 {
            // AWS refuses NotPrincipal in trust policies: refused up front.
            refused(&created, 400, "MalformedPolicyDocument");
            continue;
        }
        assert_eq!(created.status, 200, "{what}: {}", created.body);
        let arn = format!("arn:aws:iam::{ACCOUNT}:role/{name}");
        let reply = web_identity(&app, &arn, &token).await;
        assert_eq!(reply.status, 403, "{what}: {}", reply.body);
    }
    // The right provider, subject and audience.
    let arn = make_role(
        &root,
        "allowed",
        &federated_trust(
            &mine,
            &format!(
                r#","Condition":{{"StringEquals":{{"{host}:sub":"alice","{host}:aud":"{CLIENT_ID}","aws:FederatedProvider":"{mine}"}}}}"#
            ),
        ),
        Some(READ_USERS),
    )
    .await;
    ok200(&web_identity(&app, &arn, &token).await);
    app.stop().await;
}

// ---------------------------------------------------------------------------
// The session

/// A web identity session has its role's permissions, within any session
/// policy, and nothing else: the token's keys stay with it (a role policy
/// conditioned on `HOST:sub` tells two subjects apart), it cannot mint
/// other credentials (`GetSessionToken`, `GetFederationToken`), and it is
/// the role's session, not the provider: a role trusting only the provider
/// cannot be chained into with `sts:AssumeRole`.
#[tokio::test]
async fn a_web_identity_session_has_its_roles_permissions_and_nothing_more() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let idp = Idp::start().await;
    let host = idp.host().to_owned();
    let provider_arn = provider(&root, &idp.url, &[CLIENT_ID]).await;
    root.ok("CreateUser", &[("UserName", "target")]).await;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}},
            {{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*","Condition":{{"StringEquals":{{"{host}:sub":"alice"}}}}}},
            {{"Effect":"Allow","Action":["sts:AssumeRole","sts:GetFederationToken","sts:GetSessionToken"],"Resource":"*"}}]}}"#
    );
    let web = make_role(
        &root,
        "web",
        &federated_trust(&provider_arn, ""),
        Some(&policy),
    )
    .await;
    let provider_only = make_role(
        &root,
        "provider-only",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{provider_arn}"}},"Action":["sts:AssumeRole","sts:AssumeRoleWithWebIdentity"]}}]}}"#
        ),
        Some(EVERYTHING_IAM),
    )
    .await;
    let chained = make_role(
        &root,
        "chained",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{web}"}},"Action":"sts:AssumeRole"}}]}}"#
        ),
        Some(NOTHING),
    )
    .await;

    let reply = web_identity(&app, &web, &idp.token("alice")).await;
    ok200(&reply);
    let alice = root.with_credentials_of(&reply);
    ok200(&alice.call("GetUser", &[("UserName", "target")]).await);
    ok200(&alice.call("ListUsers", &[]).await);
    refused(
        &alice.call("CreateUser", &[("UserName", "evil")]).await,
        403,
        "AccessDenied",
    );
    refused(
        &alice
            .call(
                "AttachRolePolicy",
                &[
                    ("RoleName", "web"),
                    ("PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess"),
                ],
            )
            .await,
        403,
        "AccessDenied",
    );
    not_ok("GetSessionToken", &alice.call("GetSessionToken", &[]).await);
    not_ok(
        "GetFederationToken",
        &alice.call("GetFederationToken", &[("Name", "fed")]).await,
    );
    refused(
        &alice
            .call(
                "AssumeRole",
                &[("RoleArn", &provider_only), ("RoleSessionName", "sess")],
            )
            .await,
        403,
        "AccessDenied",
    );
    // Chaining into a role that trusts the role is AWS's role chaining.
    let reply = alice
        .call(
            "AssumeRole",
            &[("RoleArn", &chained), ("RoleSessionName", "sess")],
        )
        .await;
    ok200(&reply);
    let chained_session = alice.with_credentials_of(&reply);
    refused(
        &chained_session.call("ListUsers", &[]).await,
        403,
        "AccessDenied",
    );

    // Another subject: the role's ListUsers is alice's only.
    let reply = web_identity(&app, &web, &idp.token("bob")).await;
    ok200(&reply);
    let bob = root.with_credentials_of(&reply);
    ok200(&bob.call("GetUser", &[("UserName", "target")]).await);
    refused(&bob.call("ListUsers", &[]).await, 403, "AccessDenied");

    // Session policies only narrow.
    let reply = web_identity_at(
        app.addr,
        &web,
        "narrow",
        &idp.token("alice"),
        &[(
            "Policy",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}"#,
        )],
    )
    .await;
    ok200(&reply);
    let narrow = root.with_credentials_of(&reply);
    refused(&narrow.call("ListUsers", &[]).await, 403, "AccessDenied");
    let reply = web_identity_at(
        app.addr,
        &web,
        "wide",
        &idp.token("alice"),
        &[(
            "PolicyArns.member.1.arn",
            "arn:aws:iam::aws:policy/AdministratorAccess",
        )],
    )
    .await;
    ok200(&reply);
    let wide = root.with_credentials_of(&reply);
    refused(
        &wide.call("CreateUser", &[("UserName", "evil")]).await,
        403,
        "AccessDenied",
    );
    let users = root.ok("ListUsers", &[]).await;
    assert!(!users.body.contains("evil"));
    app.stop().await;
}

// ---------------------------------------------------------------------------
// The audit trail

/// Every issuance is recorded with the provider, subject and audience and
/// never the token; refused tokens append nothing; anonymous refusals of
/// valid tokens are recorded at most `PER_MINUTE` (20) a minute, however
/// many role ARNs the caller invents.
#[tokio::test]
async fn the_trail_records_who_and_never_the_token_and_is_not_flooded() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let idp = Idp::start().await;
    let provider_arn = provider(&root, &idp.url, &[CLIENT_ID]).await;
    let web = make_role(
        &root,
        "web",
        &federated_trust(&provider_arn, ""),
        Some(READ_USERS),
    )
    .await;

    let before = head(&db).await;
    let token = idp.token("repo:acme/web");
    let reply = web_identity(&app, &web, &token).await;
    ok200(&reply);
    let events = events_since(&db, before).await;
    let issued: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == "TemporaryCredentialsIssued")
        .collect();
    assert_eq!(issued.len(), 1, "{events:?}");
    let payload = issued[0].payload.to_string();
    assert!(payload.contains(&provider_arn), "{payload}");
    assert!(payload.contains("repo:acme/web"), "{payload}");
    let secrets = [
        token.clone(),
        token.split('.').nth(1).unwrap().to_owned(),
        token.split('.').nth(2).unwrap().to_owned(),
        reply.tag("SecretAccessKey").unwrap(),
        reply.tag("SessionToken").unwrap(),
    ];
    for e in &events {
        let text = format!("{} {}", e.payload, e.metadata);
        for s in &secrets {
            assert!(
                !text.contains(s.as_str()),
                "the trail holds a secret: {text}"
            );
        }
    }

    // Refused tokens append nothing.
    let before = head(&db).await;
    let mut wrong_audience = idp.claims("x", "other-app");
    wrong_audience["sub"] = json!("x");
    for bad in [
        "not.a.token".to_owned(),
        replace_payload(&token, &idp.claims("root", CLIENT_ID)),
        idp.sign(wrong_audience),
        idp.issuer.forge_hs256(idp.claims("x", CLIENT_ID)),
    ] {
        let reply = web_identity(&app, &web, &bad).await;
        assert_eq!(reply.status, 400, "{}", reply.body);
    }
    assert!(events_since(&db, before).await.is_empty());

    // Valid tokens refused by trust, for 30 invented roles.
    let before = head(&db).await;
    for i in 0..30 {
        let arn = format!("arn:aws:iam::{ACCOUNT}:role/invented-{i}");
        refused(&web_identity(&app, &arn, &token).await, 403, "AccessDenied");
    }
    let events = events_since(&db, before).await;
    let denied = events
        .iter()
        .filter(|e| e.event_type == "AccessDenied")
        .count();
    assert!(
        (1..=20).contains(&denied),
        "{denied} anonymous refusals recorded in a minute"
    );
    assert_eq!(denied, events.len(), "refusals changed state");
    for e in &events {
        let text = format!("{} {}", e.payload, e.metadata);
        assert!(!text.contains(&token), "the trail holds the token: {text}");
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------
// What iamd fetches

/// Cold cache under concurrency, then invented key ids under concurrency:
/// the issuer is fetched once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tokens_and_invented_key_ids_fetch_the_issuer_once() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let idp = Idp::start().await;
    let provider_arn = provider(&root, &idp.url, &[CLIENT_ID]).await;
    let web = make_role(
        &root,
        "web",
        &federated_trust(&provider_arn, ""),
        Some(READ_USERS),
    )
    .await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (addr, web, token) = (app.addr, web.clone(), idp.token(&format!("user-{i}")));
        tasks.spawn(async move { web_identity_at(addr, &web, "s1", &token, &[]).await });
    }
    while let Some(reply) = tasks.join_next().await {
        ok200(&reply.unwrap());
    }
    assert_eq!((hits(&idp.discovery), hits(&idp.keys)), (1, 1));
    for i in 0..20 {
        let token = idp.issuer.sign_with_header(
            json!({"alg": "RS256", "kid": format!("invented-{i}")}),
            idp.claims("alice", CLIENT_ID),
            Alg::Rs256,
        );
        let (addr, web) = (app.addr, web.clone());
        tasks.spawn(async move { web_identity_at(addr, &web, "s2", &token, &[]).await });
    }
    while let Some(reply) = tasks.join_next().await {
        refused(&reply.unwrap(), 400, "InvalidIdentityToken");
    }
    assert_eq!((hits(&idp.discovery), hits(&idp.keys)), (1, 1));
    app.stop().await;
}

/// The module's promise (federation.rs): "tokens with invented key ids
/// cannot make iamd hammer an issuer". A failed fetch is not remembered:
/// `Issuers::keys` sets `last_fetch` but only returns early when it also
/// holds keys, so while an issuer fails (answers 500, is down, rate-limits
/// iamd) every anonymous request naming it — any three base64 parts with
/// its `iss`, no valid signature needed — makes iamd fetch its discovery
/// document again.
#[tokio::test]
async fn attack_an_issuer_that_fails_is_fetched_again_for_every_anonymous_request() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let (listener, url) = bind().await;
    let discovery = counter();
    let count = discovery.clone();
    let _served = serve(
        listener,
        axum::Router::new().route(
            "/.well-known/openid-configuration",
            axum::routing::get(move || {
                count.fetch_add(1, Ordering::SeqCst);
                async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "down") }
            }),
        ),
    );
    provider(&root, &url, &[CLIENT_ID]).await;
    let web = make_role(&root, "web", ANY_WEB_IDENTITY, Some(READ_USERS)).await;
    // Not even signed by anyone.
    let token = assemble(
        &json!({"alg": "RS256", "kid": "k"}),
        &json!({"iss": url, "sub": "x", "aud": CLIENT_ID, "exp": 4_000_000_000u64}),
        b"not-a-signature",
    );
    for _ in 0..5 {
        refused(
            &web_identity(&app, &web, &token).await,
            400,
            "IDPCommunicationError",
        );
    }
    assert!(
        hits(&discovery) <= 1,
        "5 anonymous requests made iamd fetch the failing issuer {} times",
        hits(&discovery)
    );
    app.stop().await;
}

/// An issuer that accepts connections and never answers: each fetch waits
/// out `FETCH_TIMEOUT` (5 s), and the requests naming it wait on one lock
/// per issuer and then fetch again, one after another (the failed fetch is
/// not shared with the waiters). Three concurrent anonymous requests take
/// three timeouts; a thousand hold the server's connections for hours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_anonymous_requests_for_a_hanging_issuer_wait_one_fetch_after_another() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let (url, accepted, _served) = hanging_issuer().await;
    provider(&root, &url, &[CLIENT_ID]).await;
    let web = make_role(&root, "web", ANY_WEB_IDENTITY, Some(READ_USERS)).await;
    let token = assemble(
        &json!({"alg": "RS256", "kid": "k"}),
        &json!({"iss": url, "sub": "x", "aud": CLIENT_ID, "exp": 4_000_000_000u64}),
        b"not-a-signature",
    );
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..3 {
        let (addr, web, token) = (app.addr, web.clone(), token.clone());
        tasks.spawn(async move {
            let reply = web_identity_at(addr, &web, "queued", &token, &[]).await;
            (reply, started.elapsed())
        });
    }
    let mut slowest = Duration::ZERO;
    while let Some(done) = tasks.join_next().await {
        let (reply, took) = done.unwrap();
        refused(&reply, 400, "IDPCommunicationError");
        slowest = slowest.max(took);
    }
    assert!(
        slowest < Duration::from_secs(9) && hits(&accepted) <= 1,
        "3 concurrent requests took {slowest:?}; the issuer was dialled {} times",
        hits(&accepted)
    );
    app.stop().await;
}

/// A hanging issuer holds up only the requests naming it: signed requests
/// and other providers' tokens are answered meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_issuer_does_not_hold_up_other_requests() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let (url, _accepted, _served) = hanging_issuer().await;
    let idp = Idp::start().await;
    provider(&root, &url, &[CLIENT_ID]).await;
    provider(&root, &idp.url, &[CLIENT_ID]).await;
    let web = make_role(&root, "web", ANY_WEB_IDENTITY, Some(READ_USERS)).await;
    let token = assemble(
        &json!({"alg": "RS256", "kid": "k"}),
        &json!({"iss": url, "sub": "x", "aud": CLIENT_ID, "exp": 4_000_000_000u64}),
        b"x",
    );
    let (addr, w) = (app.addr, web.clone());
    let stuck = tokio::spawn(async move { web_identity_at(addr, &w, "stuck", &token, &[]).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    root.ok("ListUsers", &[]).await;
    ok200(&web_identity(&app, &web, &idp.token("alice")).await);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    refused(&stuck.await.unwrap(), 400, "IDPCommunicationError");
    app.stop().await;
}

/// What an issuer's documents can make iamd do: no redirect is followed,
/// oversized documents and a discovery document naming another issuer are
/// refused, and a `jwks_uri` that is plain HTTP to a host other than the
/// loopback (`0.0.0.0`, `10.x`, `[::ffff:127.0.0.1]`, userinfo tricks,
/// `file:`) is never dialled, quickly.
#[tokio::test]
async fn issuer_documents_cannot_redirect_bloat_or_point_iamd_elsewhere() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let (listener, base) = bind().await;
    let port = base.rsplit(':').next().unwrap().to_owned();
    let keys_issuer = TestIssuer::new(base.clone());
    let (keys, real, huge_keys) = (counter(), counter(), counter());
    let discovery = |tenant: &str, jwks: &str| {
        json!({"issuer": format!("{base}/{tenant}"), "jwks_uri": jwks}).to_string()
    };
    let pad = "x".repeat(1 << 20);
    let mut router = axum::Router::new()
        .route("/keys", counted(keys_issuer.jwks_json(), keys.clone()))
        .route(
            "/huge-keys",
            counted(format!(r#"{{"keys":[],"pad":"{pad}"}}"#), huge_keys.clone()),
        )
        .route(
            "/real/.well-known/openid-configuration",
            counted(discovery("redirect", &format!("{base}/keys")), real.clone()),
        );
    let redirect_to = format!("{base}/real/.well-known/openid-configuration");
    router = router.route(
        "/redirect/.well-known/openid-configuration",
        axum::routing::get(move || {
            let to = redirect_to.clone();
            async move { (axum::http::StatusCode::FOUND, [("location", to)], "") }
        }),
    );
    let tenants: Vec<(&str, String)> = vec![
        (
            "huge-discovery",
            json!({"issuer": format!("{base}/huge-discovery"), "jwks_uri": format!("{base}/keys"), "pad": pad})
                .to_string(),
        ),
        ("huge-jwks", discovery("huge-jwks", &format!("{base}/huge-keys"))),
        ("mismatch", discovery("mismatch/", &format!("{base}/keys"))),
        ("far-jwks", discovery("far-jwks", "http://10.255.255.1/keys")),
        (
            "zero-jwks",
            discovery("zero-jwks", &format!("http://0.0.0.0:{port}/keys")),
        ),
        (
            "mapped-jwks",
            discovery("mapped-jwks", &format!("http://[::ffff:127.0.0.1]:{port}/keys")),
        ),
        (
            "userinfo-jwks",
            discovery(
                "userinfo-jwks",
                &format!("http://127.0.0.1:{port}@10.255.255.1/keys"),
            ),
        ),
        (
            "localhost-suffix-jwks",
            discovery("localhost-suffix-jwks", "http://localhost.10.255.255.1.nip.io/keys"),
        ),
        ("file-jwks", discovery("file-jwks", "file:///etc/passwd")),
        (
            "gopher-jwks",
            discovery("gopher-jwks", &format!("gopher://127.0.0.1:{port}/keys")),
        ),
        ("good", discovery("good", &format!("{base}/keys"))),
    ];
    for (tenant, body) in &tenants {
        router = router.route(
            &format!("/{tenant}/.well-known/openid-configuration"),
            counted(body.clone(), counter()),
        );
    }
    let _served = serve(listener, router);
    let web = make_role(&root, "web", ANY_WEB_IDENTITY, Some(READ_USERS)).await;
    let names: Vec<&str> = std::iter::once("redirect")
        .chain(tenants.iter().map(|(t, _)| *t))
        .collect();
    for tenant in names {
        let issuer = format!("{base}/{tenant}");
        provider(&root, &issuer, &[CLIENT_ID]).await;
        let mut claims = keys_issuer.claims("alice", CLIENT_ID, Utc::now());
        claims["iss"] = json!(issuer);
        let token = keys_issuer.sign(claims, Alg::Rs256);
        let started = Instant::now();
        let reply = web_identity(&app, &web, &token).await;
        if tenant == "good" {
            ok200(&reply);
        } else {
            refused(&reply, 400, "IDPCommunicationError");
            assert_eq!(hits(&keys), 0, "{tenant}: the key set was fetched");
        }
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{tenant}: {:?}",
            started.elapsed()
        );
    }
    assert_eq!(hits(&real), 0, "a redirect was followed");
    assert_eq!(hits(&keys), 1);
    app.stop().await;
}

/// A node started without `--allow-loopback-http-issuers` neither registers
/// a plain-HTTP loopback provider nor fetches one another node of the same
/// log registered.
#[tokio::test]
async fn a_node_without_loopback_issuers_neither_registers_nor_fetches_them() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let idp = Idp::start().await;
    let strict = spawn_strict(db.url()).await;
    let strict_root = strict.root();
    let reply = strict_root
        .call(
            "CreateOpenIDConnectProvider",
            &[("Url", &idp.url), ("ClientIDList.member.1", CLIENT_ID)],
        )
        .await;
    not_ok("a loopback provider on a strict node", &reply);

    provider(&root, &idp.url, &[CLIENT_ID]).await;
    let web = make_role(&root, "web", ANY_WEB_IDENTITY, Some(READ_USERS)).await;
    // The strict node sees the provider and the role.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let seen = strict
            .state
            .projection
            .view(&strict.state.account_id)
            .is_some_and(|v| !v.state.oidc_providers.is_empty() && !v.state.roles.is_empty());
        if seen {
            break;
        }
        assert!(Instant::now() < deadline, "the strict node never caught up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let reply = web_identity(&strict, &web, &idp.token("alice")).await;
    refused(&reply, 400, "InvalidIdentityToken");
    assert_eq!(
        idp.requests(),
        0,
        "the strict node fetched a loopback issuer"
    );
    ok200(&web_identity(&app, &web, &idp.token("alice")).await);
    strict.stop().await;
    app.stop().await;
}

/// `TestApp::spawn` with `allow_loopback_http_issuers: false`.
async fn spawn_strict(database_url: &str) -> TestApp {
    TestApp::spawn_configured(database_url, |c| c.allow_loopback_http_issuers = false).await
}

// ---------------------------------------------------------------------------
// OpenID Connect providers

/// Managing providers needs permission on the provider: a caller without
/// it changes nothing; a condition on the provider's tags holds for every
/// operation and every spelling of its ARN; tags at creation need
/// `iam:TagOpenIDConnectProvider`; URLs that are not HTTPS (or loopback
/// HTTP, on a node allowing it) are refused.
#[tokio::test]
async fn managing_providers_needs_permission_on_the_provider() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let red_url = "http://127.0.0.1:9/red";
    let red = {
        let reply = root
            .ok(
                "CreateOpenIDConnectProvider",
                &[
                    ("Url", red_url),
                    ("ClientIDList.member.1", "c1"),
                    ("Tags.member.1.Key", "team"),
                    ("Tags.member.1.Value", "red"),
                ],
            )
            .await;
        reply.tag("OpenIDConnectProviderArn").unwrap()
    };
    let blue = {
        let reply = root
            .ok(
                "CreateOpenIDConnectProvider",
                &[
                    ("Url", "http://127.0.0.1:9/blue"),
                    ("ClientIDList.member.1", "c1"),
                    ("Tags.member.1.Key", "team"),
                    ("Tags.member.1.Value", "blue"),
                ],
            )
            .await;
        reply.tag("OpenIDConnectProviderArn").unwrap()
    };
    let changes = |arn: &str| -> Vec<(&'static str, Vec<(&'static str, String)>)> {
        let arn = arn.to_owned();
        vec![
            (
                "DeleteOpenIDConnectProvider",
                vec![("OpenIDConnectProviderArn", arn.clone())],
            ),
            (
                "AddClientIDToOpenIDConnectProvider",
                vec![
                    ("OpenIDConnectProviderArn", arn.clone()),
                    ("ClientID", "evil".into()),
                ],
            ),
            (
                "RemoveClientIDFromOpenIDConnectProvider",
                vec![
                    ("OpenIDConnectProviderArn", arn.clone()),
                    ("ClientID", "c1".into()),
                ],
            ),
            (
                "UpdateOpenIDConnectProviderThumbprint",
                vec![
                    ("OpenIDConnectProviderArn", arn.clone()),
                    ("ThumbprintList.member.1", "0".repeat(40)),
                ],
            ),
            (
                "TagOpenIDConnectProvider",
                vec![
                    ("OpenIDConnectProviderArn", arn.clone()),
                    ("Tags.member.1.Key", "team".into()),
                    ("Tags.member.1.Value", "blue".into()),
                ],
            ),
            (
                "UntagOpenIDConnectProvider",
                vec![
                    ("OpenIDConnectProviderArn", arn.clone()),
                    ("TagKeys.member.1", "team".into()),
                ],
            ),
        ]
    };

    // No permission at all.
    let nobody = user_with_policy(&root, "nobody", READ_USERS).await;
    for (action, params) in changes(&red) {
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        refused(&nobody.call(action, &params).await, 403, "AccessDenied");
    }
    refused(
        &nobody
            .call(
                "CreateOpenIDConnectProvider",
                &[("Url", "http://127.0.0.1:9/mine")],
            )
            .await,
        403,
        "AccessDenied",
    );

    // Everything on providers tagged blue.
    let blue_admin = user_with_policy(
        &root,
        "blue-admin",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*OpenIDConnectProvider*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"blue"}}}]}"#,
    )
    .await;
    let after_users = head(&db).await;
    let red_spellings = [
        red.clone(),
        red.replace("/red", "/RED"),
        format!("{red}/"),
        red.replace(":9/red", ":9//red"),
        red.replace(":9/red", ":09/red"),
        red.replace("oidc-provider/", "oidc-provider/http://"),
        red.replace("oidc-provider/", "OIDC-PROVIDER/"),
        red.replace("arn:aws:iam::", "arn:aws:iam::*"),
    ];
    for spelling in &red_spellings {
        for (action, params) in changes(spelling) {
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let reply = blue_admin.call(action, &params).await;
            not_ok(&format!("{action} {spelling}"), &reply);
        }
    }
    assert!(changes_since(&db, after_users).await.is_empty());
    let got = root
        .ok(
            "GetOpenIDConnectProvider",
            &[("OpenIDConnectProviderArn", &red)],
        )
        .await;
    assert_eq!(
        got.all("member").iter().filter(|m| *m == "c1").count(),
        1,
        "{}",
        got.body
    );
    assert!(!got.body.contains("evil"), "{}", got.body);
    assert!(got.body.contains("<Value>red</Value>"), "{}", got.body);
    // Blue is blue-admin's.
    ok200(
        &blue_admin
            .call(
                "AddClientIDToOpenIDConnectProvider",
                &[("OpenIDConnectProviderArn", &blue), ("ClientID", "ok")],
            )
            .await,
    );

    // Tags at creation need iam:TagOpenIDConnectProvider.
    let creator = user_with_policy(
        &root,
        "creator",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateOpenIDConnectProvider","Resource":"*"}]}"#,
    )
    .await;
    refused(
        &creator
            .call(
                "CreateOpenIDConnectProvider",
                &[
                    ("Url", "http://127.0.0.1:9/tagged"),
                    ("Tags.member.1.Key", "team"),
                    ("Tags.member.1.Value", "blue"),
                ],
            )
            .await,
        403,
        "AccessDenied",
    );
    ok200(
        &creator
            .call(
                "CreateOpenIDConnectProvider",
                &[("Url", "http://127.0.0.1:9/untagged")],
            )
            .await,
    );

    // URLs.
    for url in [
        "http://10.0.0.1:80",
        "http://127.0.0.1:80@evil.example",
        "http://evil.example@127.0.0.1:80",
        "http://127.0.0.1.evil.example:80",
        "http://127.0.0.1:80\\@evil.example",
        "https://example.com:8443",
        "http://localhost.:80",
        "http://0.0.0.0:80",
        "http://127.0.0.2:80",
        "http://[::ffff:127.0.0.1]:80",
        "http://127.0.0.1:80/a?b",
        "http://127.0.0.1:80/a#b",
        "http://127.0.0.1:80/a/",
        "ftp://127.0.0.1:21",
        "file:///etc/passwd",
        "http://127.0.0.1:80/a/../b",
    ] {
        let reply = root
            .call(
                "CreateOpenIDConnectProvider",
                &[("Url", url), ("ClientIDList.member.1", "c")],
            )
            .await;
        assert!(
            reply.status == 400 || url.ends_with("/a/../b"),
            "{url}: {} {}",
            reply.status,
            reply.body
        );
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Instance profiles

const PROFILE_OPS: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":["iam:AddRoleToInstanceProfile","iam:RemoveRoleFromInstanceProfile","iam:GetInstanceProfile"],"Resource":"*"},
    {"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::123456789012:role/app/*"}]}"#;

/// Whatever the profile's state, every role key it holds names a role.
fn no_dangling_member(app: &TestApp) {
    let view = app.state.projection.view(&app.state.account_id).unwrap();
    for p in view.state.instance_profiles.values() {
        for key in &p.roles {
            assert!(
                view.state.roles.get(key).is_some(),
                "instance profile {} holds a role that does not exist: {key:?}",
                p.name
            );
        }
    }
}

/// `AddRoleToInstanceProfile` needs `iam:PassRole` on the stored role:
/// another spelling of its name, or a role outside the allowed path, is
/// refused.
#[tokio::test]
async fn adding_a_role_to_an_instance_profile_needs_pass_role_on_that_role() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok(
        "CreateRole",
        &[
            ("RoleName", "Admin"),
            ("AssumeRolePolicyDocument", EC2_TRUST),
        ],
    )
    .await;
    root.ok(
        "CreateRole",
        &[
            ("RoleName", "svc"),
            ("Path", "/app/"),
            ("AssumeRolePolicyDocument", EC2_TRUST),
        ],
    )
    .await;
    root.ok("CreateInstanceProfile", &[("InstanceProfileName", "p")])
        .await;
    let ops = user_with_policy(&root, "ops", PROFILE_OPS).await;
    let no_pass = user_with_policy(
        &root,
        "no-pass",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*InstanceProfile*","Resource":"*"}]}"#,
    )
    .await;
    for name in ["Admin", "admin", "ADMIN", "app/Admin"] {
        let reply = ops
            .call(
                "AddRoleToInstanceProfile",
                &[("InstanceProfileName", "p"), ("RoleName", name)],
            )
            .await;
        not_ok(name, &reply);
    }
    refused(
        &no_pass
            .call(
                "AddRoleToInstanceProfile",
                &[("InstanceProfileName", "p"), ("RoleName", "svc")],
            )
            .await,
        403,
        "AccessDenied",
    );
    let got = root
        .ok("GetInstanceProfile", &[("InstanceProfileName", "p")])
        .await;
    assert!(got.tag("RoleName").is_none(), "{}", got.body);
    ok200(
        &ops.call(
            "AddRoleToInstanceProfile",
            &[("InstanceProfileName", "p"), ("RoleName", "SVC")],
        )
        .await,
    );
    let got = root
        .ok("GetInstanceProfile", &[("InstanceProfileName", "p")])
        .await;
    assert_eq!(got.tag("RoleName").as_deref(), Some("svc"));
    app.stop().await;
}

/// `AddRoleToInstanceProfile` racing `DeleteRole` of the same role, over
/// and over: no profile is left holding the name of a deleted role (which
/// a role created later under that name, say at a path the caller may not
/// pass, would silently fill).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_deleted_while_being_added_leaves_no_dangling_member() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateInstanceProfile", &[("InstanceProfileName", "p")])
        .await;
    let ops = user_with_policy(&root, "ops", PROFILE_OPS).await;
    for _ in 0..12 {
        root.ok(
            "CreateRole",
            &[
                ("RoleName", "racer"),
                ("Path", "/app/"),
                ("AssumeRolePolicyDocument", EC2_TRUST),
            ],
        )
        .await;
        let (added, deleted) = tokio::join!(
            ops.call(
                "AddRoleToInstanceProfile",
                &[("InstanceProfileName", "p"), ("RoleName", "racer")],
            ),
            root.call("DeleteRole", &[("RoleName", "racer")]),
        );
        assert!(
            !(added.status == 200 && deleted.status == 200),
            "both the add and the delete succeeded: {} / {}",
            added.body,
            deleted.body
        );
        no_dangling_member(&app);
        if deleted.status != 200 {
            if added.status == 200 {
                root.ok(
                    "RemoveRoleFromInstanceProfile",
                    &[("InstanceProfileName", "p"), ("RoleName", "racer")],
                )
                .await;
            }
            root.ok("DeleteRole", &[("RoleName", "racer")]).await;
        }
    }
    root.ok(
        "CreateRole",
        &[
            ("RoleName", "racer"),
            ("AssumeRolePolicyDocument", EC2_TRUST),
        ],
    )
    .await;
    let got = root
        .ok("GetInstanceProfile", &[("InstanceProfileName", "p")])
        .await;
    assert!(got.tag("RoleName").is_none(), "{}", got.body);
    let listed = root
        .ok("ListInstanceProfilesForRole", &[("RoleName", "racer")])
        .await;
    assert!(
        listed.tag("InstanceProfileName").is_none(),
        "{}",
        listed.body
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------
// AWS managed policies

/// Nobody, root included, changes an AWS (or iamd) managed policy, in any
/// spelling of its ARN: no version, default, deletion or tag.
#[tokio::test]
async fn aws_managed_policies_cannot_be_changed_in_any_spelling() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let admin = user_with_policy(&root, "admin", EVERYTHING_IAM).await;
    let canonical = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    let got = root.ok("GetPolicy", &[("PolicyArn", canonical)]).await;
    let default = got.tag("DefaultVersionId").unwrap();
    let before = head(&db).await;
    for client in [&root, &admin] {
        for arn in [
            canonical,
            "arn:aws:iam::aws:policy/readonlyaccess",
            "arn:aws:iam::aws:policy/IAMREADONLYACCESS",
            "arn:aws:iam::aws:policy/iamd/IamdAuditorAccess",
            "arn:aws:iam::aws:policy/AdministratorAccess",
        ] {
            let attempts = [
                (
                    "CreatePolicyVersion",
                    vec![
                        ("PolicyArn", arn),
                        ("PolicyDocument", READ_USERS),
                        ("SetAsDefault", "true"),
                    ],
                ),
                (
                    "SetDefaultPolicyVersion",
                    vec![("PolicyArn", arn), ("VersionId", default.as_str())],
                ),
                (
                    "SetDefaultPolicyVersion",
                    vec![("PolicyArn", arn), ("VersionId", "v1")],
                ),
                (
                    "DeletePolicyVersion",
                    vec![("PolicyArn", arn), ("VersionId", "v1")],
                ),
                ("DeletePolicy", vec![("PolicyArn", arn)]),
                (
                    "TagPolicy",
                    vec![
                        ("PolicyArn", arn),
                        ("Tags.member.1.Key", "k"),
                        ("Tags.member.1.Value", "v"),
                    ],
                ),
                (
                    "UntagPolicy",
                    vec![("PolicyArn", arn), ("TagKeys.member.1", "k")],
                ),
            ];
            for (action, params) in attempts {
                let reply = client.call(action, &params).await;
                not_ok(&format!("{action} {arn}"), &reply);
            }
        }
    }
    assert!(changes_since(&db, before).await.is_empty());
    let got = root.ok("GetPolicy", &[("PolicyArn", canonical)]).await;
    assert_eq!(got.tag("DefaultVersionId").unwrap(), default);
    assert!(got.tag("Tags").is_none(), "{}", got.body);
    app.stop().await;
}

/// A customer managed policy named like an AWS one (`ReadOnlyAccess`, or
/// `AdministratorAccess` at the path `/aws:/`) is a different policy: it
/// does not stand in for the AWS one, nor the AWS one for it, in
/// attachments, in `ListEntitiesForPolicy` or when it is deleted.
#[tokio::test]
async fn a_customer_policy_named_like_an_aws_policy_is_another_policy() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let aws = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    let customer = root
        .ok(
            "CreatePolicy",
            &[
                ("PolicyName", "ReadOnlyAccess"),
                ("PolicyDocument", EVERYTHING_IAM),
            ],
        )
        .await
        .tag("Arn")
        .unwrap();
    assert_eq!(
        customer,
        format!("arn:aws:iam::{ACCOUNT}:policy/ReadOnlyAccess")
    );
    let reader = bare_user(&root, "reader").await;
    root.ok(
        "AttachUserPolicy",
        &[("UserName", "reader"), ("PolicyArn", aws)],
    )
    .await;
    ok200(&reader.call("ListUsers", &[]).await);
    refused(
        &reader.call("CreateUser", &[("UserName", "evil")]).await,
        403,
        "AccessDenied",
    );
    let entities = root
        .ok("ListEntitiesForPolicy", &[("PolicyArn", &customer)])
        .await;
    assert!(!entities.body.contains("reader"), "{}", entities.body);
    let entities = root
        .ok("ListEntitiesForPolicy", &[("PolicyArn", aws)])
        .await;
    assert!(entities.body.contains("reader"), "{}", entities.body);
    let got = root.ok("GetPolicy", &[("PolicyArn", &customer)]).await;
    assert_eq!(
        got.tag("AttachmentCount").as_deref(),
        Some("0"),
        "{}",
        got.body
    );
    ok200(&root.call("DeletePolicy", &[("PolicyArn", &customer)]).await);
    ok200(&reader.call("ListUsers", &[]).await);
    let attached = root
        .ok("ListAttachedUserPolicies", &[("UserName", "reader")])
        .await;
    assert_eq!(attached.all("PolicyArn"), vec![aws.to_owned()]);

    // A path that looks like the catalogue's.
    let reply = root
        .call(
            "CreatePolicy",
            &[
                ("PolicyName", "AdministratorAccess"),
                ("Path", "/aws:/"),
                ("PolicyDocument", READ_USERS),
            ],
        )
        .await;
    if reply.status == 200 {
        let arn = reply.tag("Arn").unwrap();
        let odd = bare_user(&root, "odd").await;
        root.ok(
            "AttachUserPolicy",
            &[("UserName", "odd"), ("PolicyArn", &arn)],
        )
        .await;
        ok200(&odd.call("ListUsers", &[]).await);
        refused(
            &odd.call("CreateUser", &[("UserName", "evil")]).await,
            403,
            "AccessDenied",
        );
        let attached = root
            .ok("ListAttachedUserPolicies", &[("UserName", "odd")])
            .await;
        assert_eq!(attached.all("PolicyArn"), vec![arn]);
        let entities = root
            .ok(
                "ListEntitiesForPolicy",
                &[("PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess")],
            )
            .await;
        assert!(!entities.body.contains("odd"), "{}", entities.body);
    }
    let users = root.ok("ListUsers", &[]).await;
    assert!(!users.body.contains("evil"));
    app.stop().await;
}

/// Odd spellings of AWS policy ARNs attach nothing but a catalogue policy
/// under its canonical ARN; a `Deny` on `iam:PolicyARN` and a condition on
/// `iam:PermissionsBoundary` hold whatever the case of the name; an AWS
/// policy as a boundary bounds.
#[tokio::test]
async fn aws_policy_arns_cannot_be_spelled_around_conditions() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let canonical: Vec<String> = [
        "ReadOnlyAccess",
        "AdministratorAccess",
        "IAMReadOnlyAccess",
        "iamd/IamdAuditorAccess",
    ]
    .iter()
    .map(|n| format!("arn:aws:iam::aws:policy/{n}"))
    .collect();
    root.ok("CreateUser", &[("UserName", "odd")]).await;
    for spelling in [
        "arn:aws:iam::aws:policy//ReadOnlyAccess",
        "arn:aws:iam::aws:policy/ReadOnlyAccess/",
        "arn:aws:iam::aws:policy/./ReadOnlyAccess",
        "arn:aws:iam::aws:policy/job-function/../ReadOnlyAccess",
        "arn:aws:iam::AWS:policy/ReadOnlyAccess",
        "arn:aws:iam::aws:Policy/ReadOnlyAccess",
        "arn:aws:iam::aws:policy/ReadOnlyAccess ",
        " arn:aws:iam::aws:policy/ReadOnlyAccess",
        "arn:aws:iam:us-east-1:aws:policy/ReadOnlyAccess",
        "arn:aws-cn:iam::aws:policy/ReadOnlyAccess",
        "arn:aws:iam::000000000000:policy/ReadOnlyAccess",
        "arn:aws:iam::aws:policy/iamd/ReadOnlyAccess",
        "arn:aws:iam::aws:policy/IamdAuditorAccess",
        "arn:aws:iam::aws:policy/IAMD/IamdAuditorAccess",
        "arn:aws:iam::aws:policy/*",
        "arn:aws:iam::aws:policy/Administrator*",
        "arn:aws:iam::aws:policy/administratoraccess",
    ] {
        let _ = root
            .call(
                "AttachUserPolicy",
                &[("UserName", "odd"), ("PolicyArn", spelling)],
            )
            .await;
    }
    let attached = root
        .ok("ListAttachedUserPolicies", &[("UserName", "odd")])
        .await;
    for arn in attached.all("PolicyArn") {
        assert!(canonical.contains(&arn), "attached as {arn}");
    }
    assert!(attached.all("PolicyArn").len() <= 1, "{}", attached.body);

    // A delegate who may attach anything but AdministratorAccess, and
    // create users only within IAMReadOnlyAccess.
    let deleg = user_with_policy(
        &root,
        "deleg",
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":["iam:AttachUserPolicy","iam:AttachRolePolicy","iam:PutUserPermissionsBoundary","iam:CreateUser","iam:ListUsers"],"Resource":"*"},
            {"Effect":"Deny","Action":["iam:AttachUserPolicy","iam:AttachRolePolicy"],"Resource":"*","Condition":{"ArnEquals":{"iam:PolicyARN":"arn:aws:iam::aws:policy/AdministratorAccess"}}},
            {"Effect":"Deny","Action":["iam:CreateUser","iam:PutUserPermissionsBoundary"],"Resource":"*","Condition":{"StringNotEquals":{"iam:PermissionsBoundary":"arn:aws:iam::aws:policy/IAMReadOnlyAccess"}}}]}"#,
    )
    .await;
    for spelling in [
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "arn:aws:iam::aws:policy/administratoraccess",
        "arn:aws:iam::aws:policy/ADMINISTRATORACCESS",
    ] {
        refused(
            &deleg
                .call(
                    "AttachUserPolicy",
                    &[("UserName", "deleg"), ("PolicyArn", spelling)],
                )
                .await,
            403,
            "AccessDenied",
        );
        refused(
            &deleg
                .call(
                    "CreateUser",
                    &[("UserName", "sub"), ("PermissionsBoundary", spelling)],
                )
                .await,
            403,
            "AccessDenied",
        );
        refused(
            &deleg
                .call(
                    "PutUserPermissionsBoundary",
                    &[("UserName", "deleg"), ("PermissionsBoundary", spelling)],
                )
                .await,
            403,
            "AccessDenied",
        );
    }
    refused(
        &deleg.call("CreateUser", &[("UserName", "sub")]).await,
        403,
        "AccessDenied",
    );
    let reply = deleg
        .call(
            "CreateUser",
            &[
                ("UserName", "sub"),
                (
                    "PermissionsBoundary",
                    "arn:aws:iam::aws:policy/iamreadonlyaccess",
                ),
            ],
        )
        .await;
    if reply.status == 200 {
        let got = root.ok("GetUser", &[("UserName", "sub")]).await;
        assert_eq!(
            got.tag("PermissionsBoundaryArn").as_deref(),
            Some("arn:aws:iam::aws:policy/IAMReadOnlyAccess"),
            "{}",
            got.body
        );
    }
    let attached = root
        .ok("ListAttachedUserPolicies", &[("UserName", "deleg")])
        .await;
    assert!(attached.all("PolicyArn").is_empty(), "{}", attached.body);

    // An AWS policy as a boundary bounds an AWS policy that grants all.
    let bounded = bare_user(&root, "bounded").await;
    root.ok(
        "AttachUserPolicy",
        &[
            ("UserName", "bounded"),
            ("PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess"),
        ],
    )
    .await;
    root.ok(
        "PutUserPermissionsBoundary",
        &[
            ("UserName", "bounded"),
            (
                "PermissionsBoundary",
                "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
            ),
        ],
    )
    .await;
    ok200(&bounded.call("ListUsers", &[]).await);
    refused(
        &bounded.call("CreateUser", &[("UserName", "evil")]).await,
        403,
        "AccessDenied",
    );
    refused(
        &bounded
            .call("DeleteUserPermissionsBoundary", &[("UserName", "bounded")])
            .await,
        403,
        "AccessDenied",
    );
    app.stop().await;
}

/// The token's subject is the provider's to choose, not the caller's, but
/// it still reaches policies as text: as a policy variable
/// (`${HOST:sub}`) it is literal (`*` matches no user but one named `*`),
/// and echoed back it is escaped.
#[tokio::test]
async fn a_subject_is_literal_text_in_policies_and_answers() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let idp = Idp::start().await;
    let host = idp.host().to_owned();
    let provider_arn = provider(&root, &idp.url, &[CLIENT_ID]).await;
    root.ok("CreateUser", &[("UserName", "target")]).await;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::{ACCOUNT}:user/${{{host}:sub}}"}}]}}"#
    );
    let web = make_role(
        &root,
        "web",
        &federated_trust(&provider_arn, ""),
        Some(&policy),
    )
    .await;
    let reply = web_identity(&app, &web, &idp.token("target")).await;
    ok200(&reply);
    let own = root.with_credentials_of(&reply);
    ok200(&own.call("GetUser", &[("UserName", "target")]).await);
    for sub in ["*", "t*", "targe?", "${aws:username}"] {
        let reply = web_identity(&app, &web, &idp.token(sub)).await;
        ok200(&reply);
        let session = root.with_credentials_of(&reply);
        refused(
            &session.call("GetUser", &[("UserName", "target")]).await,
            403,
            "AccessDenied",
        );
    }
    let reply = web_identity(&app, &web, &idp.token("</SubjectFromWebIdentityToken><x>&")).await;
    ok200(&reply);
    assert!(!reply.body.contains("<x>"), "{}", reply.body);
    assert_eq!(
        reply.tag("SubjectFromWebIdentityToken").as_deref(),
        Some("&lt;/SubjectFromWebIdentityToken&gt;&lt;x&gt;&amp;")
    );
    app.stop().await;
}
