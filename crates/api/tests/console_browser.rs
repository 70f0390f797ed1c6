//! The web console in a real browser: Debian's `chromium`, driven through
//! WebDriver (`chromium-driver`'s `chromedriver`) with fantoccini, against
//! a server on a real socket and PostgreSQL.
//!
//! `.ci/run` installs `chromium` and `chromium-driver` when they are
//! missing; without them these tests fail and say so (they are never
//! skipped). The screenshots the README shows (docs/images/) are written
//! here.

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client as Browser, ClientBuilder, Locator};
use iam_event_store::testing::TestDatabase;
use serde_json::{json, Value};

mod support;
use support::*;

/// `chromedriver` on a free port, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn browser() -> (Browser, Driver) {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect(
            "chromedriver is not installed: `apt-get install chromium chromium-driver` \
             (.ci/run installs them)",
        );
    let driver = Driver { child, port };
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", driver.port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1440,1000"]
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a chromium session (is the chromium package installed?)");
    (client, driver)
}

fn url(app: &TestApp, path: &str) -> String {
    format!("http://{}{path}", app.addr)
}

async fn text(b: &Browser, id: &str) -> String {
    b.find(Locator::Id(id)).await.unwrap().text().await.unwrap()
}

async fn fill(b: &Browser, id: &str, value: &str) {
    let e = b.find(Locator::Id(id)).await.unwrap();
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

/// Clicks a button that submits a form, and waits for the page it loads
/// (a marker set on the old page must be gone, and the new one complete).
async fn click(b: &Browser, id: &str) {
    submit(b, Locator::Id(id)).await;
}

async fn submit(b: &Browser, locator: Locator<'_>) {
    b.execute("window.__iamdOldPage = true;", vec![])
        .await
        .unwrap();
    b.find(locator).await.unwrap().click().await.unwrap();
    let started = Instant::now();
    loop {
        let done = b
            .execute(
                "return window.__iamdOldPage === undefined && document.readyState === 'complete';",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        if done {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no page loaded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn screenshot(b: &Browser, name: &str) {
    let png = b.screenshot().await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/images");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}

/// Server time (request start to response start) and first contentful
/// paint of the page just loaded, in milliseconds, as the browser measured
/// them.
async fn load_times(b: &Browser) -> (f64, f64) {
    let v: Value = b
        .execute(
            "const n = performance.getEntriesByType('navigation')[0];
             const p = performance.getEntriesByName('first-contentful-paint')[0];
             return [n.responseStart - n.requestStart, p ? p.startTime : -1];",
            vec![],
        )
        .await
        .unwrap();
    (v[0].as_f64().unwrap_or(-1.0), v[1].as_f64().unwrap_or(-1.0))
}

async fn sign_in_with_password(b: &Browser, app: &TestApp, user: &str, password: &str) {
    b.goto(&url(app, "/console/sign-in")).await.unwrap();
    fill(b, "account_id", ACCOUNT).await;
    fill(b, "user_name", user).await;
    fill(b, "password", password).await;
    click(b, "sign-in-password").await;
}

/// The administrator's day: sign in with a password, see the dashboard,
/// create a user and attach a policy, see the access decision and its
/// timeline change after a detach, travel to before the change, filter the
/// audit trail, export it, and sign out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_works_through_the_console() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "admin")]).await;
    root.ok(
        "AttachUserPolicy",
        &[
            ("UserName", "admin"),
            ("PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess"),
        ],
    )
    .await;
    root.ok(
        "CreateLoginProfile",
        &[("UserName", "admin"), ("Password", "Correct-Horse-9")],
    )
    .await;
    let (b, _driver) = browser().await;

    // Sign in; the dashboard.
    sign_in_with_password(&b, &app, "admin", "Correct-Horse-9").await;
    assert_eq!(text(&b, "count-Users").await, "1");
    assert!(text(&b, "chain").await.contains("verifies"));
    let (server_ms, paint_ms) = load_times(&b).await;
    println!("dashboard: server {server_ms:.1} ms, first contentful paint {paint_ms:.1} ms");
    screenshot(&b, "console-dashboard.png").await;

    // Create alice, attach a policy.
    b.goto(&url(&app, "/console/users")).await.unwrap();
    fill(&b, "user_name", "alice").await;
    click(&b, "create-user").await;
    assert!(text(&b, "user-arn").await.ends_with(":user/alice"));
    fill(
        &b,
        "policy_arn",
        "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
    )
    .await;
    click(&b, "attach").await;
    assert!(text(&b, "attached").await.contains("IAMReadOnlyAccess"));
    let attached_at = head(&db).await;

    // The access explorer: allowed now.
    let explore = format!(
        "/console/access?principal={}&action=iam%3AGetUser&resource={}",
        urlencode(&format!("arn:aws:iam::{ACCOUNT}:user/alice")),
        urlencode(&format!("arn:aws:iam::{ACCOUNT}:user/alice")),
    );
    b.goto(&url(&app, &explore)).await.unwrap();
    assert_eq!(text(&b, "decision-now").await, "Allow");

    // Detach: the decision changes, and the timeline shows both.
    b.goto(&url(&app, "/console/users/alice")).await.unwrap();
    submit(&b, Locator::Css("button.detach")).await;
    assert!(!text(&b, "attached").await.contains("IAMReadOnlyAccess"));
    b.goto(&url(&app, &explore)).await.unwrap();
    assert_eq!(text(&b, "decision-now").await, "ImplicitDeny");
    let bands = b.find_all(Locator::Css("svg.timeline rect")).await.unwrap();
    let mut decisions = Vec::new();
    for band in &bands {
        decisions.push(band.attr("data-decision").await.unwrap().unwrap());
    }
    assert_eq!(decisions, ["ImplicitDeny", "Allow", "ImplicitDeny"]);
    screenshot(&b, "console-access.png").await;

    // The slider's moment before the detach: the old state, read-only.
    b.goto(&url(&app, &format!("{explore}&as_of={attached_at}")))
        .await
        .unwrap();
    assert!(text(&b, "as-of-banner").await.contains("Read-only"));
    assert_eq!(text(&b, "decision-then").await, "Allow");
    b.goto(&url(
        &app,
        &format!("/console/users/alice?as_of={attached_at}"),
    ))
    .await
    .unwrap();
    assert!(text(&b, "attached").await.contains("IAMReadOnlyAccess"));
    assert!(
        b.find(Locator::Id("attach")).await.is_err(),
        "no form changes the past"
    );

    // The audit trail, filtered by type; its export.
    b.goto(&url(&app, "/console/audit")).await.unwrap();
    fill(&b, "type", "ManagedPolicyDetached").await;
    click(&b, "filter").await;
    let types = b.find_all(Locator::Css("#events td.type")).await.unwrap();
    assert_eq!(types.len(), 1);
    assert_eq!(types[0].text().await.unwrap(), "ManagedPolicyDetached");
    screenshot(&b, "console-audit.png").await;
    let csv = b
        .find(Locator::Id("export-csv"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(csv.contains("type=ManagedPolicyDetached"), "{csv}");

    // Sign out: the console is closed to this browser.
    click(&b, "sign-out").await;
    assert!(b.current_url().await.unwrap().path().ends_with("/sign-in"));
    b.goto(&url(&app, "/console/users")).await.unwrap();
    assert!(b.current_url().await.unwrap().path().ends_with("/sign-in"));
    b.close().await.unwrap();
    app.stop().await;
}

/// A person without permissions sees AWS's reason for a refusal; a forged
/// CSRF token is refused; an expired session sends the browser back to
/// sign-in; the pages allow nothing inline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_csrf_and_expiry_in_the_browser() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "intern")]).await;
    let key = root.ok("CreateAccessKey", &[("UserName", "intern")]).await;
    let (b, _driver) = browser().await;

    // Sign in with the access key pair.
    b.goto(&url(&app, "/console/sign-in")).await.unwrap();
    fill(&b, "access_key_id", &key.tag("AccessKeyId").unwrap()).await;
    fill(
        &b,
        "secret_access_key",
        &key.tag("SecretAccessKey").unwrap(),
    )
    .await;
    click(&b, "sign-in-keys").await;
    assert!(b
        .current_url()
        .await
        .unwrap()
        .path()
        .starts_with("/console"));

    // A denied action shows AWS's reason.
    b.goto(&url(&app, "/console/users")).await.unwrap();
    let shown = b
        .find(Locator::Css(".error"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        shown.contains("AccessDenied") && shown.contains("iam:ListUsers"),
        "{shown}"
    );
    fill(&b, "user_name", "mallory").await;
    click(&b, "create-user").await;
    let shown = b
        .find(Locator::Css(".error"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        shown.contains("not authorized to perform: iam:CreateUser"),
        "{shown}"
    );

    // A forged CSRF token is refused, with the session's own cookie.
    let cookie = b
        .get_named_cookie(support_cookie())
        .await
        .unwrap()
        .value()
        .to_owned();
    let before = head(&db).await;
    let forged = send_raw(
        app.addr,
        form_post(
            app.addr,
            "/console/users",
            &cookie,
            "csrf=forged&user_name=mallory",
        ),
    )
    .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let missing = send_raw(
        app.addr,
        form_post(app.addr, "/console/users", &cookie, "user_name=mallory"),
    )
    .await;
    assert_eq!(missing.status, 403);
    assert_eq!(changes_since(&db, before).await, Vec::<String>::new());

    // Nothing inline: the policy says so on every page.
    let page = send_raw(
        app.addr,
        format!(
            "GET /console/sign-in HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
            app.addr
        )
        .into_bytes(),
    )
    .await;
    let csp = page.header("content-security-policy").unwrap().to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );

    // Eight hours and a minute later the session is over.
    app.state
        .clock
        .advance(chrono::Duration::minutes(8 * 60 + 1));
    b.goto(&url(&app, "/console/")).await.unwrap();
    assert!(b.current_url().await.unwrap().path().ends_with("/sign-in"));
    b.close().await.unwrap();
    app.stop().await;
}

fn support_cookie() -> &'static str {
    iam_api::console::session::COOKIE
}

fn form_post(addr: SocketAddr, path: &str, cookie: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\
         content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\
         cookie: {}={cookie}\r\n\r\n{body}",
        body.len(),
        iam_api::console::session::COOKIE
    )
    .into_bytes()
}

fn urlencode(s: &str) -> String {
    s.replace(':', "%3A").replace('/', "%2F")
}
