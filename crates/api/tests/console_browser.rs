//! The web console in a real browser: Debian's `chromium`, driven through
//! WebDriver (`chromium-driver`'s `chromedriver`) with fantoccini, against
//! a server on a real socket and PostgreSQL.
//!
//! `.ci/run` installs `chromium` and `chromium-driver` when they are
//! missing; without them these tests fail and say so (they are never
//! skipped). The screenshots the README shows (docs/images/) are written
//! here.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::{Client as Browser, Locator};
use iam_event_store::testing::TestDatabase;
use serde_json::Value;

mod browser;
mod support;
use browser::{browser, load_times};
use support::*;

fn url(app: &TestApp, path: &str) -> String {
    format!("http://{}{path}", app.addr)
}

async fn text(b: &Browser, id: &str) -> String {
    b.find(Locator::Id(id)).await.unwrap().text().await.unwrap()
}

/// Waits (at most 20 s) for an element a fragment brings.
async fn wait_for(b: &Browser, locator: Locator<'_>) {
    b.wait()
        .at_most(Duration::from_secs(20))
        .for_element(locator)
        .await
        .unwrap();
}

/// The text of element `id` once it contains `needle` (within 20 s).
async fn eventually_text(b: &Browser, id: &str, needle: &str) -> String {
    let started = Instant::now();
    loop {
        let now = text(b, id).await;
        if now.contains(needle) {
            return now;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{id} never said {needle:?}: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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

/// A user `admin` with AdministratorAccess and the password
/// `Correct-Horse-9`.
async fn administrator(root: &Client) {
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
    administrator(&root).await;
    let (b, _driver) = browser().await;

    // Sign in; the dashboard.
    sign_in_with_password(&b, &app, "admin", "Correct-Horse-9").await;
    assert_eq!(text(&b, "count-Users").await, "1");
    // The chain's verification arrives after the page (htmx).
    wait_for(&b, Locator::Id("chain-ok")).await;
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
    // The history arrives after the page (htmx).
    wait_for(&b, Locator::Css("svg.timeline")).await;
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
    // What alice lost since then, and the event that took it.
    submit(&b, Locator::Id("diff-link")).await;
    assert!(text(&b, "lost").await.contains("IAMReadOnlyAccess"));
    assert!(text(&b, "diff-events")
        .await
        .contains("ManagedPolicyDetached"));
    b.goto(&url(&app, &format!("{explore}&as_of={attached_at}")))
        .await
        .unwrap();
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

    // The policy editor checks the text as it is typed: AWS's message and
    // the place, then "valid" once it is fixed.
    b.goto(&url(&app, "/console/policies")).await.unwrap();
    let editor = b.find(Locator::Id("document")).await.unwrap();
    editor.clear().await.unwrap();
    editor
        .send_keys("{\"Version\": \"2012-10-17\",\n\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3\", \"Resource\": \"*\"}]}")
        .await
        .unwrap();
    let said = eventually_text(&b, "document-validation", "line 2, column 15").await;
    assert!(said.contains("prefaced by a vendor"), "{said}");
    editor.clear().await.unwrap();
    editor
        .send_keys(r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#)
        .await
        .unwrap();
    eventually_text(&b, "document-validation", "Valid policy.").await;

    // Sign out: the console is closed to this browser.
    click(&b, "sign-out").await;
    assert!(b.current_url().await.unwrap().path().ends_with("/sign-in"));
    b.goto(&url(&app, "/console/users")).await.unwrap();
    assert!(b.current_url().await.unwrap().path().ends_with("/sign-in"));
    b.close().await.unwrap();
    app.stop().await;
}

/// Whether the page needs no sideways scrolling at the window's width
/// (wide tables scroll inside their own box), and every visible form
/// control has a label.
async fn fits_and_is_labelled(b: &Browser) -> (bool, Vec<String>) {
    let v: Value = b
        .execute(
            "const fits = document.documentElement.scrollWidth <= window.innerWidth;
             const unlabelled = [...document.querySelectorAll('input, select, textarea')]
               .filter(e => e.type !== 'hidden' && e.labels.length === 0 && !e.getAttribute('aria-label'))
               .map(e => e.id || e.name);
             return [fits, unlabelled];",
            vec![],
        )
        .await
        .unwrap();
    let unlabelled = v[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap_or_default().to_owned())
        .collect();
    (v[0].as_bool().unwrap(), unlabelled)
}

/// The `id` of the element that has the keyboard focus.
async fn focused(b: &Browser) -> String {
    b.active_element()
        .await
        .unwrap()
        .attr("id")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// The console at a phone's 360 px and a desktop's 1440 px: nothing needs
/// sideways scrolling, every control is labelled; and a person signs in
/// and moves through a page with the keyboard alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn narrow_and_wide_screens_and_the_keyboard() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    administrator(&root).await;
    let (b, _driver) = browser().await;

    // The keyboard alone: Tab from the top of the sign-in page reaches
    // the password form's fields in order, Enter submits it.
    b.goto(&url(&app, "/console/sign-in")).await.unwrap();
    let tab = char::from(Key::Tab).to_string();
    let body = b.find(Locator::Css("body")).await.unwrap();
    body.send_keys(&tab).await.unwrap();
    let mut order = Vec::new();
    for value in [ACCOUNT, "admin", "Correct-Horse-9", ""] {
        order.push(focused(&b).await);
        let field = b.active_element().await.unwrap();
        if !value.is_empty() {
            field.send_keys(value).await.unwrap();
        }
        field.send_keys(&tab).await.unwrap();
    }
    assert_eq!(order, ["account_id", "user_name", "password", "mfa_code"]);
    assert_eq!(focused(&b).await, "sign-in-password");
    b.execute("window.__iamdOldPage = true;", vec![])
        .await
        .unwrap();
    b.active_element()
        .await
        .unwrap()
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    wait_for(&b, Locator::Id("count-Users")).await;
    // The first Tabs of a signed-in page go through the navigation.
    body_tab_from_top(&b).await;
    assert_eq!(
        b.active_element().await.unwrap().text().await.unwrap(),
        "iamd"
    );

    let explore = format!(
        "/console/access?principal={}&action=iam%3AGetUser&resource=*",
        urlencode(&format!("arn:aws:iam::{ACCOUNT}:user/admin")),
    );
    for (width, height) in [(360, 780), (1440, 900)] {
        b.set_window_size(width, height).await.unwrap();
        for path in [
            "/console/",
            "/console/users",
            "/console/users/admin",
            explore.as_str(),
            "/console/audit",
            "/console/diff?principal=arn%3Aaws%3Aiam%3A%3A123456789012%3Auser%2Fadmin&from=1",
        ] {
            b.goto(&url(&app, path)).await.unwrap();
            if path.contains("access") {
                wait_for(&b, Locator::Css("svg.timeline")).await;
            }
            let (fits, unlabelled) = fits_and_is_labelled(&b).await;
            assert!(fits, "{path} needs sideways scrolling at {width} px");
            assert!(unlabelled.is_empty(), "{path}: unlabelled {unlabelled:?}");
        }
    }
    b.close().await.unwrap();
    app.stop().await;
}

/// Focus at the top of the page, then one Tab.
async fn body_tab_from_top(b: &Browser) {
    b.execute(
        "document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);",
        vec![],
    )
    .await
    .unwrap();
    b.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys(&char::from(Key::Tab).to_string())
        .await
        .unwrap();
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
