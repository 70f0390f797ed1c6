//! A hostile review of passwords, `/v1/sign-in` and virtual MFA, through
//! the HTTP server, as an outsider or a user of the account would attack
//! them.
//!
//! Each test is an attack; it asserts the secure behaviour: what AWS does
//! (IAM User Guide pages "Setting an account password policy for IAM
//! users", "Permitting IAM users to change their own passwords", "Using
//! multi-factor authentication (MFA) in AWS", "IAM: Allows IAM users to
//! self-manage an MFA device") or what docs/credentials.md promises. A test
//! marked `FOUND` failed when it was written: the attack worked.

use std::net::SocketAddr;
use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use iam_event_store::testing::TestDatabase;
use serde_json::json;

mod support;
use support::*;

const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const NOTHING: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::none"}]}"#;
/// The User Guide's "IAM: Allows IAM users to self-manage an MFA device".
const MFA_SELF_MANAGE: &str = r#"{"Version":"2012-10-17","Statement":[
{"Sid":"AllowListActions","Effect":"Allow","Action":["iam:ListUsers","iam:ListVirtualMFADevices"],"Resource":"*"},
{"Sid":"AllowUserToCreateVirtualMFADevice","Effect":"Allow","Action":["iam:CreateVirtualMFADevice"],"Resource":"arn:aws:iam::*:mfa/*"},
{"Sid":"AllowUserToManageTheirOwnMFA","Effect":"Allow","Action":["iam:EnableMFADevice","iam:ListMFADevices","iam:ResyncMFADevice"],"Resource":"arn:aws:iam::*:user/${aws:username}"},
{"Sid":"AllowUserToDeactivateTheirOwnMFAOnlyWhenUsingMFA","Effect":"Allow","Action":["iam:DeactivateMFADevice"],"Resource":["arn:aws:iam::*:user/${aws:username}"],"Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}},
{"Sid":"BlockMostAccessUnlessSignedInWithMFA","Effect":"Deny","NotAction":["iam:CreateVirtualMFADevice","iam:EnableMFADevice","iam:ListMFADevices","iam:ListUsers","iam:ListVirtualMFADevices","iam:ResyncMFADevice"],"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// `POST /v1/sign-in` with `body` as given, and extra headers.
async fn sign_in_raw(addr: SocketAddr, body: &[u8], extra: &[(&str, &str)]) -> Reply {
    let mut head = format!(
        "POST /v1/sign-in HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    send_raw(addr, bytes).await
}

fn sign_in_json(account: &str, user: &str, password: &str, mfa: Option<&str>) -> String {
    let mut body = json!({"account_id": account, "user_name": user, "password": password});
    if let Some(code) = mfa {
        body["mfa_code"] = code.into();
    }
    body.to_string()
}

async fn sign_in_at(addr: SocketAddr, user: &str, password: &str, mfa: Option<&str>) -> Reply {
    sign_in_raw(
        addr,
        sign_in_json(ACCOUNT, user, password, mfa).as_bytes(),
        &[],
    )
    .await
}

/// The error code and message of a JSON error answer.
fn json_error(r: &Reply) -> (String, String) {
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
    (
        v["error"]["code"].as_str().unwrap_or_default().to_owned(),
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// `client`, signing at the server's (possibly moved) clock.
fn now(client: &Client, app: &TestApp) -> Client {
    Client {
        skew: app.state.clock.offset(),
        ..client.clone()
    }
}

/// A code of `seed` that is none of the codes of the window around now.
fn wrong_code(seed: &[u8], app: &TestApp) -> String {
    let window: Vec<String> = (-2..=2).map(|o| mfa_code(seed, app, o)).collect();
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| !window.contains(c))
        .unwrap()
}

/// Creates a virtual device (with extra parameters) as `creator`; its
/// serial number and seed.
async fn device(creator: &Client, name: &str, extra: &[(&str, &str)]) -> (String, Vec<u8>) {
    let mut params = vec![("VirtualMFADeviceName", name)];
    params.extend_from_slice(extra);
    let created = creator.ok("CreateVirtualMFADevice", &params).await;
    let serial = created.tag("SerialNumber").unwrap();
    use base64::Engine as _;
    let base32 = base64::engine::general_purpose::STANDARD
        .decode(created.tag("Base32StringSeed").unwrap())
        .unwrap();
    let seed = iam_mfa::base32_decode(std::str::from_utf8(&base32).unwrap()).unwrap();
    (serial, seed)
}

/// Enables `serial` for `user` with the codes of the step before and of
/// now; then moves the server clock one step on, so that the next code is
/// fresh.
async fn enable(app: &TestApp, root: &Client, user: &str, serial: &str, seed: &[u8]) {
    now(root, app)
        .ok(
            "EnableMFADevice",
            &[
                ("UserName", user),
                ("SerialNumber", serial),
                ("AuthenticationCode1", &mfa_code(seed, app, -1)),
                ("AuthenticationCode2", &mfa_code(seed, app, 0)),
            ],
        )
        .await;
    app.state.clock.advance(Duration::seconds(30));
}

async fn login_profile(root: &Client, user: &str, password: &str, extra: &[(&str, &str)]) {
    let mut params = vec![("UserName", user), ("Password", password)];
    params.extend_from_slice(extra);
    root.ok("CreateLoginProfile", &params).await;
}

async fn all_events(db: &TestDatabase) -> Vec<iam_event_store::RecordedEvent> {
    iam_event_store::open(db.url())
        .await
        .unwrap()
        .read_all(iam_event_store::Position(0), 100_000)
        .await
        .unwrap()
}

async fn count_events(db: &TestDatabase, event_type: &str) -> usize {
    all_events(db)
        .await
        .iter()
        .filter(|e| e.event_type == event_type)
        .count()
}

fn policy(statements: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
}

// ---------------------------------------------------------------------------
// Sign-in: one answer, one time, one back-off
// ---------------------------------------------------------------------------

/// Unknown account, unknown user, user without a password, wrong password,
/// right password without the MFA code, right password with a wrong code,
/// a user name IAM would never accept: the same status, code and message,
/// and about the same time (the password hash is verified every time).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sign_in_failure_answers_alike_in_the_same_time() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    for user in ["alice", "bob", "carol"] {
        root.ok("CreateUser", &[("UserName", user)]).await;
        login_profile(&root, user, "Right-Password-1", &[]).await;
    }
    root.ok("CreateUser", &[("UserName", "nopass")]).await;
    let (serial, seed) = device(&root, "carol-phone", &[]).await;
    enable(&app, &root, "carol", &serial, &seed).await;

    // The dummy hash is built on first use: warm it up.
    sign_in(&app, "warm-up", "Wrong-Password-1", None).await;
    // Seven cases, four tries each (the best of four, so that a loaded
    // machine's pauses do not decide): each case starts a day later, when
    // the earlier failures are forgotten, so no case meets the back-off
    // (four failures are under both the user's 5 and the address's 20).
    let wrong_carol = wrong_code(&seed, &app);
    let cases: Vec<(&str, String)> = vec![
        (
            "unknown user",
            sign_in_json(ACCOUNT, "ghost", "Right-Password-1", None),
        ),
        (
            "no password",
            sign_in_json(ACCOUNT, "nopass", "Right-Password-1", None),
        ),
        (
            "wrong password",
            sign_in_json(ACCOUNT, "alice", "Wrong-Password-1", None),
        ),
        (
            "other account",
            sign_in_json("210987654321", "bob", "Right-Password-1", None),
        ),
        (
            "missing code",
            sign_in_json(ACCOUNT, "carol", "Right-Password-1", None),
        ),
        (
            "wrong code",
            sign_in_json(ACCOUNT, "carol", "Right-Password-1", Some(&wrong_carol)),
        ),
        (
            "bad name",
            sign_in_json(ACCOUNT, "al ice", "Right-Password-1", None),
        ),
    ];
    let mut answers = Vec::new();
    let mut fastest = Vec::new();
    for (what, body) in &cases {
        app.state.clock.advance(Duration::hours(25));
        let mut best = StdDuration::MAX;
        for _ in 0..4 {
            let started = Instant::now();
            let r = sign_in_raw(app.addr, body.as_bytes(), &[]).await;
            best = best.min(started.elapsed());
            assert_eq!(r.status, 401, "{what}: {}", r.body);
            answers.push((what, json_error(&r)));
        }
        fastest.push((what, best));
    }
    let first = answers[0].1.clone();
    assert_eq!(first.0, "SignInFailed");
    for (what, answer) in &answers {
        assert_eq!(answer, &first, "{what} is told apart");
    }
    let slowest = fastest.iter().map(|(_, d)| *d).max().unwrap();
    let quickest = fastest.iter().map(|(_, d)| *d).min().unwrap();
    assert!(
        slowest < quickest * 3,
        "answer times tell the cases apart: {fastest:?}"
    );
    app.stop().await;
}

/// User names are case-insensitive in IAM: every spelling of one name
/// shares its count, and a header claiming another client address does
/// not reset the address's.
#[tokio::test]
async fn case_variants_and_forwarded_headers_do_not_escape_the_back_off() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    login_profile(&root, "alice", "Alice-Password-1", &[]).await;
    for spelling in ["alice", "ALICE", "Alice", "aLiCe", "alicE"] {
        let r = sign_in(&app, spelling, "Wrong-Password-1", None).await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    for spelling in ["alice", "ALICE", "Alice"] {
        let r = sign_in(&app, spelling, "Alice-Password-1", None).await;
        assert_eq!(r.status, 429, "{spelling} escaped the back-off: {}", r.body);
    }
    // Look-alikes have their own counts, but none of them is alice.
    app.state.clock.advance(Duration::minutes(16));
    for spelling in [
        "\u{ff41}lice",
        "alice\u{200b}",
        " alice",
        "alice\n",
        "alice\u{0}",
        "\u{0430}lice",
    ] {
        let r = sign_in(&app, spelling, "Alice-Password-1", None).await;
        assert_eq!(r.status, 401, "{spelling:?} signed in as alice: {}", r.body);
    }

    // The address: 20 failures with 20 names, each claiming another
    // address; the 21st name is refused too. (Past the day failures are
    // remembered, so only these count.)
    app.state.clock.advance(Duration::hours(25));
    for i in 0..20 {
        let ip = format!("10.0.0.{i}");
        let r = sign_in_raw(
            app.addr,
            sign_in_json(ACCOUNT, &format!("spray{i}"), "Wrong-Password-1", None).as_bytes(),
            &[
                ("x-forwarded-for", &ip),
                ("x-real-ip", &ip),
                ("forwarded", &format!("for={ip}")),
            ],
        )
        .await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    let r = sign_in_raw(
        app.addr,
        sign_in_json(ACCOUNT, "alice", "Alice-Password-1", None).as_bytes(),
        &[("x-forwarded-for", "10.9.9.9")],
    )
    .await;
    assert_eq!(
        r.status, 429,
        "a forwarded-for header reset the count: {}",
        r.body
    );
    app.stop().await;
}

// FOUND (fixed): the back-off is checked before the password is verified and counted
// only after (`ops/sign_in.rs`, `sign_in`: `wait_until` … `attempt(..).await`
// … `fail`), and verifying takes an argon2 run on a blocking thread. Guesses
// sent at once all pass the check before the first is counted: 40
// concurrent guesses at one user name from one address were all verified
// (40 × 401, no 429) where 5 should have been. The same burst also runs up
// to 512 argon2 hashes of 19 MiB at once (the blocking pool's size), ~10 GB,
// for anyone who can open connections. Fix: count an attempt as a failure
// *before* verifying (reserve, then clear on success), and bound concurrent
// password verifications with a semaphore (about the number of cores),
// answering 429/503 when it is full.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_guesses_do_not_outrun_the_back_off() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    login_profile(&root, "alice", "Alice-Password-1", &[]).await;
    let addr = app.addr;
    let guesses: Vec<_> = (0..40)
        .map(|i| {
            tokio::spawn(async move {
                sign_in_at(addr, "alice", &format!("Guess-Number-{i}"), None)
                    .await
                    .status
            })
        })
        .collect();
    let mut verified = 0;
    for g in guesses {
        let status = g.await.unwrap();
        // 503: no core free for another verification (nothing checked).
        assert!(status == 401 || status == 429 || status == 503, "{status}");
        if status == 401 {
            verified += 1;
        }
    }
    assert!(
        verified <= 5,
        "{verified} passwords were checked in one burst; the back-off allows 5"
    );
    app.stop().await;
}

// FOUND (fixed): the back-off never grows past its first round. A name's failures
// are forgotten `FAILURE_MEMORY` (15 minutes) after the last one, and the
// longest wait (`MAX_WAIT`) is also 15 minutes (`ops/sign_in.rs`,
// `Failures::wait_until` and `fail`: `now - last > FAILURE_MEMORY` resets
// the count). Whoever waits out the longest wait as `Retry-After` tells
// (plus the milliseconds any request takes) starts from zero: five free
// guesses and the short ladder again. 90 guesses in three hours per name
// and node here, where a back-off that stays at its 15-minute cap allows
// about 26 (15 to reach the cap, then 4 an hour). Fix: remember failures
// far longer than the longest wait (e.g. 24 hours) so the count stays at
// the cap until a success clears it.
#[tokio::test]
async fn waiting_out_the_longest_wait_does_not_reset_the_back_off() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    // Guesses at one name in three hours of the server's clock, each made
    // as soon as `Retry-After` allows.
    let (mut elapsed, mut failed) = (0i64, 0u32);
    while elapsed < 3 * 3600 {
        let r = sign_in(&app, "target", "Wrong-Password-1", None).await;
        match r.status {
            401 => failed += 1,
            429 => {
                let wait: i64 = r.header("retry-after").unwrap().parse().unwrap();
                app.state.clock.advance(Duration::seconds(wait));
                elapsed += wait;
            }
            s => panic!("{s}: {}", r.body),
        }
    }
    assert!(
        failed <= 30,
        "{failed} guesses in three hours, with every wait waited out"
    );
    app.stop().await;
}

// FOUND (fixed): every throttled attempt appends a `SignInFailed` event
// (`ops/sign_in.rs`, `sign_in`: `record_failure(.., "throttled", ..)` before
// answering 429). The throttled path costs the caller nothing (no argon2,
// no signature), so anyone who can reach the port appends events to the
// account's hash-chained log at network speed — 100 requests, 100 events
// here — growing the log, its replays and its index forever and contending
// with real writes for the log head. Refused requests that are signed are
// folded (`AccessDenied.suppressed`); unsigned ones are not. Fix: fold
// throttled attempts per (name, address) into the next recorded failure or
// a periodic summary (a `suppressed` count), as `AccessDenied` does.
#[tokio::test]
async fn throttled_sign_ins_do_not_each_append_to_the_log() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    for _ in 0..5 {
        let r = sign_in(&app, "victim", "Wrong-Password-1", None).await;
        assert_eq!(r.status, 401);
    }
    let before = count_events(&db, "SignInFailed").await;
    for i in 0..100 {
        let r = sign_in(&app, "victim", &format!("Flood-Password-{i}"), None).await;
        assert_eq!(r.status, 429, "{}", r.body);
    }
    let after = count_events(&db, "SignInFailed").await;
    assert!(
        after - before <= 10,
        "{} events for 100 throttled, unauthenticated requests",
        after - before
    );
    app.stop().await;
}

/// Oversized, deep, malformed, non-UTF-8, wrongly typed, duplicated or
/// unbounded input: a 4xx, never a 5xx or a dropped connection, and the
/// server still serves.
#[tokio::test]
async fn hostile_sign_in_bodies_are_refused_without_a_server_error() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    login_profile(&root, "alice", "Alice-Password-1", &[]).await;
    let (serial, seed) = device(&root, "alice-phone", &[]).await;
    enable(&app, &root, "alice", &serial, &seed).await;

    let long_name = "a".repeat(65);
    let long_password = "P".repeat(129);
    let deep = "[".repeat(4000);
    let mut bodies: Vec<(&str, Vec<u8>, Vec<u16>)> = vec![
        ("too large", vec![b' '; 5000], vec![413]),
        ("deep", deep.into_bytes(), vec![400]),
        ("not utf-8", b"{\"account_id\":\"\xff\xfe\"}".to_vec(), vec![400]),
        (
            "wrong type",
            br#"{"account_id":"123456789012","user_name":["alice"],"password":"x"}"#.to_vec(),
            vec![400],
        ),
        (
            "null",
            br#"{"account_id":"123456789012","user_name":"alice","password":null}"#.to_vec(),
            vec![400],
        ),
        (
            "duplicate",
            br#"{"account_id":"123456789012","user_name":"nobody","user_name":"alice","password":"Alice-Password-1"}"#.to_vec(),
            vec![400, 401],
        ),
        (
            "unknown field",
            br#"{"account_id":"123456789012","user_name":"alice","password":"x","mfa":true}"#.to_vec(),
            vec![400],
        ),
        (
            "huge number",
            br#"{"account_id":1e999999,"user_name":"alice","password":"x"}"#.to_vec(),
            vec![400],
        ),
    ];
    for (what, name, password, code) in [
        ("long name", long_name.as_str(), "Alice-Password-1", None),
        ("long password", "alice", long_password.as_str(), None),
        ("nul in name", "alice\u{0}", "Alice-Password-1", None),
        (
            "full-width code",
            "alice",
            "Alice-Password-1",
            Some("１２３４５６"),
        ),
        ("signed code", "alice", "Alice-Password-1", Some("+12345")),
        (
            "long code",
            "alice",
            "Alice-Password-1",
            Some("1234567890123"),
        ),
        ("spaced code", "alice", "Alice-Password-1", Some(" 123456")),
    ] {
        bodies.push((
            what,
            sign_in_json(ACCOUNT, name, password, code).into_bytes(),
            vec![401, 429],
        ));
    }
    for (what, body, expected) in bodies {
        let r = sign_in_raw(app.addr, &body, &[]).await;
        assert!(
            expected.contains(&r.status),
            "{what}: {} {}",
            r.status,
            r.body
        );
    }
    // Chunked, past the limit.
    let chunk = "x".repeat(1000);
    let mut raw = format!(
        "POST /v1/sign-in HTTP/1.1\r\nhost: {}\r\nconnection: close\r\ntransfer-encoding: chunked\r\ncontent-type: application/json\r\n\r\n",
        app.addr
    );
    for _ in 0..6 {
        raw.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    raw.push_str("0\r\n\r\n");
    let r = send_raw(app.addr, raw.into_bytes()).await;
    assert!(
        r.status == 413 || r.status == 400,
        "chunked: {} {}",
        r.status,
        r.body
    );
    let get = send_raw(
        app.addr,
        format!(
            "GET /v1/sign-in HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
            app.addr
        )
        .into_bytes(),
    )
    .await;
    assert!((400..500).contains(&get.status), "GET: {}", get.status);
    root.ok("GetUser", &[("UserName", "alice")]).await;
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Sessions from a sign-in
// ---------------------------------------------------------------------------

/// A password whose reset is required (or that is older than
/// MaxPasswordAge) signs in to a session that may only change it: not
/// read or change anything else, not make itself other credentials, not
/// assume a role or get other temporary credentials, not read the trail.
#[tokio::test]
async fn a_reset_required_session_can_only_change_the_password() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    user_with_policy(&root, "alice", ALLOW_ALL).await;
    login_profile(
        &root,
        "alice",
        "Alice-Password-1",
        &[("PasswordResetRequired", "true")],
    )
    .await;
    let arn = role(&root, "admin", &trust_user("alice", &[], ""), ALLOW_ALL).await;
    root.ok(
        "UpdateAccountPasswordPolicy",
        &[
            ("MinimumPasswordLength", "8"),
            ("AllowUsersToChangePassword", "true"),
        ],
    )
    .await;
    let reply = sign_in(&app, "alice", "Alice-Password-1", None).await;
    let v: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(v["password_reset_required"], true);
    let session = signed_in(&app, &reply);

    for (action, params) in [
        ("ListUsers", vec![]),
        ("GetUser", vec![]),
        ("CreateAccessKey", vec![]),
        (
            "CreateLoginProfile",
            vec![("UserName", "alice"), ("Password", "Other-Password-9")],
        ),
        (
            "UpdateLoginProfile",
            vec![("UserName", "alice"), ("Password", "Other-Password-9")],
        ),
        (
            "UpdateLoginProfile",
            vec![("UserName", "alice"), ("PasswordResetRequired", "false")],
        ),
        ("DeleteLoginProfile", vec![]),
        (
            "CreateVirtualMFADevice",
            vec![("VirtualMFADeviceName", "x")],
        ),
        (
            "PutUserPolicy",
            vec![
                ("UserName", "alice"),
                ("PolicyName", "p"),
                ("PolicyDocument", ALLOW_ALL),
            ],
        ),
        (
            "UpdateAccountPasswordPolicy",
            vec![("MinimumPasswordLength", "6")],
        ),
        (
            "AssumeRole",
            vec![("RoleArn", arn.as_str()), ("RoleSessionName", "escape")],
        ),
        ("GetSessionToken", vec![]),
        (
            "GetFederationToken",
            vec![("Name", "escape"), ("Policy", ALLOW_ALL)],
        ),
        ("DecodeAuthorizationMessage", vec![("EncodedMessage", "x")]),
    ] {
        let r = session.call(action, &params).await;
        assert_eq!(r.status, 403, "{action}: {}", r.body);
    }
    for path in ["/v1/events", "/v1/view"] {
        let r = session.v1("GET", path, "", None).await;
        assert_eq!(r.status, 403, "{path}: {}", r.body);
    }
    let r = session
        .v1(
            "POST",
            "/v1/authorize",
            "",
            Some(
                &json!({"principal": format!("arn:aws:iam::{ACCOUNT}:user/alice"),
                "action": "iam:ListUsers", "resource": "*"}),
            ),
        )
        .await;
    assert!(
        r.status == 403 || r.status == 400,
        "/v1/authorize: {}",
        r.body
    );
    session.ok("GetCallerIdentity", &[]).await;
    session.ok("GetAccountPasswordPolicy", &[]).await;
    // Only the user's own password, and only with the old one.
    refused(
        &session
            .call(
                "ChangePassword",
                &[
                    ("OldPassword", "Wrong-Password-1"),
                    ("NewPassword", "Alice-Password-2"),
                ],
            )
            .await,
        403,
        "AccessDenied",
    );
    session
        .ok(
            "ChangePassword",
            &[
                ("OldPassword", "Alice-Password-1"),
                ("NewPassword", "Alice-Password-2"),
            ],
        )
        .await;
    // Nothing more after the change; a new sign-in is a full session.
    refused(&session.call("ListUsers", &[]).await, 403, "AccessDenied");
    let fresh = sign_in(&app, "alice", "Alice-Password-2", None).await;
    signed_in(&app, &fresh).ok("ListUsers", &[]).await;

    // An expired password (MaxPasswordAge, no HardExpiry): the same.
    root.ok(
        "UpdateAccountPasswordPolicy",
        &[
            ("MaxPasswordAge", "1"),
            ("AllowUsersToChangePassword", "true"),
        ],
    )
    .await;
    app.state.clock.advance(Duration::days(1));
    let expired = sign_in(&app, "alice", "Alice-Password-2", None).await;
    let expired = signed_in(&app, &expired);
    refused(&expired.call("ListUsers", &[]).await, 403, "AccessDenied");
    refused(
        &expired.call("CreateAccessKey", &[]).await,
        403,
        "AccessDenied",
    );
    app.stop().await;
}

/// ChangePassword is the calling IAM user's own: a role session, a
/// federated user, GetSessionToken credentials without MFA and the root
/// user cannot; another user cannot name alice.
#[tokio::test]
async fn change_password_is_only_for_the_calling_user() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", ALLOW_ALL).await;
    login_profile(&root, "alice", "Alice-Password-1", &[]).await;
    let bob = user_with_policy(&root, "bob", ALLOW_ALL).await;
    login_profile(&root, "bob", "Bob-Password-1", &[]).await;
    let arn = role(&root, "helper", &trust_user("bob", &[], ""), ALLOW_ALL).await;
    let change = [
        ("OldPassword", "Alice-Password-1"),
        ("NewPassword", "Stolen-Password-9"),
    ];

    let role_session = bob.with_credentials_of(
        &bob.ok(
            "AssumeRole",
            &[("RoleArn", &arn), ("RoleSessionName", "session")],
        )
        .await,
    );
    refused(
        &role_session.call("ChangePassword", &change).await,
        400,
        "InvalidUserType",
    );
    let federated = bob.with_credentials_of(
        &bob.ok(
            "GetFederationToken",
            &[("Name", "fed"), ("Policy", ALLOW_ALL)],
        )
        .await,
    );
    let r = federated.call("ChangePassword", &change).await;
    assert!(r.status == 400 || r.status == 403, "{}", r.body);
    let no_mfa = alice.with_credentials_of(&alice.ok("GetSessionToken", &[]).await);
    refused(
        &no_mfa.call("ChangePassword", &change).await,
        403,
        "AccessDenied",
    );
    refused(
        &root.call("ChangePassword", &change).await,
        400,
        "InvalidUserType",
    );
    // bob, with AllowAll and alice's old password, naming alice.
    let mut named = change.to_vec();
    named.push(("UserName", "alice"));
    let r = bob.call("ChangePassword", &named).await;
    assert_ne!(r.status, 200, "{}", r.body);
    // alice's password is unchanged.
    let r = sign_in(&app, "alice", "Alice-Password-1", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.stop().await;
}

// FOUND (fixed): ChangePassword is an unthrottled password oracle. A wrong
// `OldPassword` is answered at once "The old password is incorrect."
// (`ops/login.rs`, `change_password`), any number of times, with no
// back-off and no trail record, and with an invalid `NewPassword` a right
// guess is told apart (PasswordPolicyViolation) without changing anything.
// Whoever holds a user's access key or a stolen 12-hour console session can
// recover the password (a lasting credential) at argon2 speed, around the
// sign-in back-off that exists to stop exactly that. Fix: count wrong old
// passwords in the same `Failures` under the user's sign-in key (so both
// paths share one budget) and record them as failed sign-ins are.
#[tokio::test]
async fn wrong_old_passwords_back_off_as_sign_ins_do() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    login_profile(&root, "alice", "Alice-Password-1", &[]).await;
    // A new password the policy refuses is refused first, whatever the
    // old one: it tells nothing about the guess.
    refused(
        &alice
            .call(
                "ChangePassword",
                &[("OldPassword", "Alice-Password-1"), ("NewPassword", "x")],
            )
            .await,
        400,
        "PasswordPolicyViolation",
    );
    // Five wrong guesses are answered; the next ones wait.
    for i in 0..5 {
        refused(
            &alice
                .call(
                    "ChangePassword",
                    &[
                        ("OldPassword", &format!("Guess-Password-{i}")),
                        ("NewPassword", "Valid-New-Password-1"),
                    ],
                )
                .await,
            403,
            "AccessDenied",
        );
    }
    // The sixth guess is right: it must not be checked yet.
    let r = alice
        .call(
            "ChangePassword",
            &[
                ("OldPassword", "Alice-Password-1"),
                ("NewPassword", "Valid-New-Password-1"),
            ],
        )
        .await;
    refused(&r, 429, "Throttling");
    // Each wrong guess is in the trail as a failed sign-in.
    let store = iam_event_store::open(db.url()).await.unwrap();
    let failed = store
        .read_all(iam_event_store::Position(0), 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event_type == "SignInFailed")
        .count();
    assert_eq!(failed, 5);
    app.stop().await;
}

// FOUND (fixed): `AllowUsersToChangePassword` grants `iam:GetAccountPasswordPolicy`
// to every caller, not to IAM users: `get_password_policy` passes
// `granted: users_may_change_passwords(..)` whoever calls (`ops/login.rs`),
// so a role session with no permission at all reads the policy. The User
// Guide ("Permitting IAM users to change their own passwords"): the
// setting "allows all users in the account access to the iam:ChangePassword
// action for only their user and to the iam:GetAccountPasswordPolicy
// action". Fix: grant only when `ctx.caller` is `Caller::User`.
#[tokio::test]
async fn the_password_policy_grant_is_for_iam_users_not_role_sessions() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let bob = user_with_policy(
        &root,
        "bob",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#,
    )
    .await;
    let arn = role(&root, "powerless", &trust_user("bob", &[], ""), NOTHING).await;
    root.ok(
        "UpdateAccountPasswordPolicy",
        &[
            ("MinimumPasswordLength", "14"),
            ("AllowUsersToChangePassword", "true"),
        ],
    )
    .await;
    // An IAM user with no permission reads it: AWS's grant.
    bob.ok("GetAccountPasswordPolicy", &[]).await;
    let session = bob.with_credentials_of(
        &bob.ok(
            "AssumeRole",
            &[("RoleArn", &arn), ("RoleSessionName", "session")],
        )
        .await,
    );
    refused(
        &session.call("GetAccountPasswordPolicy", &[]).await,
        403,
        "AccessDenied",
    );
    app.stop().await;
}

/// The password policy's edges: the exact minimum length, 128 characters
/// (which also sign in), 129 refused, characters outside Basic Latin
/// refused without a server error, reuse prevention by the user, and
/// passwords compared case-sensitively.
#[tokio::test]
async fn password_policy_edges_hold() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    root.ok(
        "UpdateAccountPasswordPolicy",
        &[
            ("MinimumPasswordLength", "12"),
            ("RequireSymbols", "true"),
            ("RequireNumbers", "true"),
            ("RequireUppercaseCharacters", "true"),
            ("RequireLowercaseCharacters", "true"),
            ("AllowUsersToChangePassword", "true"),
            ("PasswordReusePrevention", "3"),
        ],
    )
    .await;
    let r = root
        .call(
            "CreateLoginProfile",
            &[("UserName", "alice"), ("Password", "Abcdefgh-12")],
        )
        .await;
    refused(&r, 400, "PasswordPolicyViolation");
    // Twelve multi-byte characters are not twelve Basic Latin ones.
    let r = root
        .call(
            "CreateLoginProfile",
            &[("UserName", "alice"), ("Password", "Ab1!ééééééé")],
        )
        .await;
    assert!(r.status == 400, "{}", r.body);
    let r = root
        .call(
            "CreateLoginProfile",
            &[("UserName", "alice"), ("Password", "Ab1!😀😀😀😀😀😀😀😀")],
        )
        .await;
    assert!(r.status == 400, "{}", r.body);
    let longest = format!("Ab1!{}", "x".repeat(124));
    let too_long = format!("Ab1!{}", "x".repeat(125));
    refused(
        &root
            .call(
                "CreateLoginProfile",
                &[("UserName", "alice"), ("Password", &too_long)],
            )
            .await,
        400,
        "ValidationError",
    );
    login_profile(&root, "alice", "Abcdefgh-123", &[]).await;
    root.ok(
        "UpdateLoginProfile",
        &[("UserName", "alice"), ("Password", &longest)],
    )
    .await;
    let r = sign_in(&app, "alice", &longest, None).await;
    assert_eq!(r.status, 200, "128 characters: {}", r.body);
    let r = sign_in(&app, "alice", &longest.to_uppercase(), None).await;
    assert_eq!(r.status, 401, "case-insensitive password: {}", r.body);

    // Reuse prevention, as the user: the last three are refused.
    let mut history = vec!["Abcdefgh-123".to_owned(), longest.clone()];
    let mut current = longest.clone();
    for n in 0..2 {
        let next = format!("Next-Password-{n}");
        alice
            .ok(
                "ChangePassword",
                &[("OldPassword", &current), ("NewPassword", &next)],
            )
            .await;
        history.push(next.clone());
        current = next;
    }
    for reused in history.iter().rev().take(3) {
        refused(
            &alice
                .call(
                    "ChangePassword",
                    &[("OldPassword", &current), ("NewPassword", reused)],
                )
                .await,
            400,
            "PasswordPolicyViolation",
        );
    }
    // The fourth back is allowed again.
    alice
        .ok(
            "ChangePassword",
            &[("OldPassword", &current), ("NewPassword", &history[0])],
        )
        .await;
    app.stop().await;
}

/// HardExpiry: an expired password no longer signs in; the user's access
/// keys still work and may set a new password (User Guide, "Setting an
/// account password policy for IAM users": "IAM users with
/// iam:ChangePassword permission and active access keys can reset their
/// own IAM user console password programmatically"), which then signs in.
#[tokio::test]
async fn a_hard_expired_password_does_not_sign_in_but_keys_may_replace_it() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    login_profile(&root, "alice", "Alice-Password-1", &[]).await;
    root.ok(
        "UpdateAccountPasswordPolicy",
        &[
            ("MaxPasswordAge", "1"),
            ("HardExpiry", "true"),
            ("AllowUsersToChangePassword", "true"),
        ],
    )
    .await;
    app.state.clock.advance(Duration::days(1));
    let r = sign_in(&app, "alice", "Alice-Password-1", None).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(json_error(&r).0, "SignInFailed");
    now(&alice, &app)
        .ok(
            "ChangePassword",
            &[
                ("OldPassword", "Alice-Password-1"),
                ("NewPassword", "Alice-Password-2"),
            ],
        )
        .await;
    let r = sign_in(&app, "alice", "Alice-Password-2", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.stop().await;
}

/// A sign-in session is the user's: a login profile deleted since stops new
/// sign-ins, the "revoke sessions" deny on aws:TokenIssueTime holds for
/// it, and a user deleted and created again under the name is someone else.
/// An MFA code given by a user without a device does not make an MFA
/// session.
#[tokio::test]
async fn sign_in_sessions_end_with_their_user_and_their_revocation() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    user_with_policy(
        &root,
        "alice",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","NotAction":"sts:GetCallerIdentity","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#,
    )
    .await;
    login_profile(&root, "alice", "Alice-Password-1", &[]).await;
    // No device: a code given anyway makes no MFA session.
    let s = signed_in(
        &app,
        &sign_in(&app, "alice", "Alice-Password-1", Some("123456")).await,
    );
    refused(&s.call("ListUsers", &[]).await, 403, "AccessDenied");

    user_with_policy(&root, "bob", ALLOW_ALL).await;
    login_profile(&root, "bob", "Bob-Password-1", &[]).await;
    let bob = signed_in(&app, &sign_in(&app, "bob", "Bob-Password-1", None).await);
    bob.ok("ListUsers", &[]).await;
    root.ok("DeleteLoginProfile", &[("UserName", "bob")]).await;
    let r = sign_in(&app, "bob", "Bob-Password-1", None).await;
    assert_eq!(r.status, 401, "{}", r.body);
    // Revoke: deny everything to tokens issued before now.
    let cut = (app.state.clock.now() + Duration::seconds(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", "bob"),
            ("PolicyName", "revoke"),
            ("PolicyDocument", &policy(&format!(
                r#"{{"Effect":"Deny","Action":"*","Resource":"*","Condition":{{"DateLessThan":{{"aws:TokenIssueTime":"{cut}"}}}}}}"#
            ))),
        ],
    )
    .await;
    refused(&bob.call("ListUsers", &[]).await, 403, "AccessDenied");

    // carol's session outlives carol: a new carol is not her.
    user_with_policy(&root, "carol", ALLOW_ALL).await;
    login_profile(&root, "carol", "Carol-Password-1", &[]).await;
    let carol = signed_in(
        &app,
        &sign_in(&app, "carol", "Carol-Password-1", None).await,
    );
    root.ok("DeleteLoginProfile", &[("UserName", "carol")])
        .await;
    root.ok(
        "DeleteUserPolicy",
        &[("UserName", "carol"), ("PolicyName", "granted")],
    )
    .await;
    let keys = root.ok("ListAccessKeys", &[("UserName", "carol")]).await;
    for key in keys.all("AccessKeyId") {
        root.ok(
            "DeleteAccessKey",
            &[("UserName", "carol"), ("AccessKeyId", &key)],
        )
        .await;
    }
    root.ok("DeleteUser", &[("UserName", "carol")]).await;
    user_with_policy(&root, "carol", ALLOW_ALL).await;
    refused(
        &carol.call("GetCallerIdentity", &[]).await,
        403,
        "InvalidClientTokenId",
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------
// MFA
// ---------------------------------------------------------------------------

/// A user who may self-manage an MFA device (the User Guide's policy)
/// cannot enable one for another user, take over one in use, deactivate
/// or resync another's, or delete one in use.
#[tokio::test]
async fn a_user_cannot_enable_take_over_or_remove_anothers_device() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    user_with_policy(&root, "alice", ALLOW_ALL).await;
    let mallory = user_with_policy(&root, "mallory", MFA_SELF_MANAGE).await;
    let (alice_serial, alice_seed) = device(&root, "alice-phone", &[]).await;
    enable(&app, &root, "alice", &alice_serial, &alice_seed).await;
    let mallory = now(&mallory, &app);

    // mallory's own device, offered to alice.
    let (own, own_seed) = device(&mallory, "mallory-phone", &[]).await;
    refused(
        &mallory
            .call(
                "EnableMFADevice",
                &[
                    ("UserName", "alice"),
                    ("SerialNumber", &own),
                    ("AuthenticationCode1", &mfa_code(&own_seed, &app, -1)),
                    ("AuthenticationCode2", &mfa_code(&own_seed, &app, 0)),
                ],
            )
            .await,
        403,
        "AccessDenied",
    );
    // alice's device (in use), for mallory: codes are not even needed to
    // be refused, and giving them does not help.
    let r = mallory
        .call(
            "EnableMFADevice",
            &[
                ("UserName", "mallory"),
                ("SerialNumber", &alice_serial),
                ("AuthenticationCode1", &mfa_code(&alice_seed, &app, 0)),
                ("AuthenticationCode2", &mfa_code(&alice_seed, &app, 1)),
            ],
        )
        .await;
    refused(&r, 409, "EntityAlreadyExists");
    // Another spelling of alice's serial is the same device.
    let upper = alice_serial.replace("alice-phone", "ALICE-PHONE");
    let r = mallory
        .call(
            "EnableMFADevice",
            &[
                ("UserName", "mallory"),
                ("SerialNumber", &upper),
                ("AuthenticationCode1", &mfa_code(&alice_seed, &app, 0)),
                ("AuthenticationCode2", &mfa_code(&alice_seed, &app, 1)),
            ],
        )
        .await;
    assert_ne!(r.status, 200, "{}", r.body);
    for (action, user) in [
        ("DeactivateMFADevice", "alice"),
        ("ResyncMFADevice", "alice"),
    ] {
        let mut params = vec![("UserName", user), ("SerialNumber", alice_serial.as_str())];
        let (c1, c2) = (
            mfa_code(&alice_seed, &app, 0),
            mfa_code(&alice_seed, &app, 1),
        );
        if action == "ResyncMFADevice" {
            params.push(("AuthenticationCode1", &c1));
            params.push(("AuthenticationCode2", &c2));
        }
        refused(&mallory.call(action, &params).await, 403, "AccessDenied");
    }
    // Naming herself, with alice's serial: not her device.
    let r = mallory
        .call(
            "ResyncMFADevice",
            &[
                ("UserName", "mallory"),
                ("SerialNumber", &alice_serial),
                ("AuthenticationCode1", &mfa_code(&alice_seed, &app, 0)),
                ("AuthenticationCode2", &mfa_code(&alice_seed, &app, 1)),
            ],
        )
        .await;
    assert_ne!(r.status, 200, "{}", r.body);
    refused(
        &now(&root, &app)
            .call("DeleteVirtualMFADevice", &[("SerialNumber", &alice_serial)])
            .await,
        409,
        "DeleteConflict",
    );
    let listed = now(&root, &app)
        .ok("ListMFADevices", &[("UserName", "alice")])
        .await;
    assert_eq!(listed.all("SerialNumber"), vec![alice_serial.clone()]);
    // Still alice's, and her codes still work.
    let alice_key = root.ok("CreateAccessKey", &[("UserName", "alice")]).await;
    let alice = now(
        &root.with_key(
            &alice_key.tag("AccessKeyId").unwrap(),
            &alice_key.tag("SecretAccessKey").unwrap(),
        ),
        &app,
    );
    alice
        .ok(
            "GetSessionToken",
            &[
                ("SerialNumber", &alice_serial),
                ("TokenCode", &mfa_code(&alice_seed, &app, 0)),
            ],
        )
        .await;
    app.stop().await;
}

/// Someone else's serial number (with its owner's right code) does not
/// authenticate, and wrong codes given on it do not lock its owner out.
#[tokio::test]
async fn anothers_serial_neither_authenticates_nor_locks_out_its_owner() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", ALLOW_ALL).await;
    let mallory = user_with_policy(&root, "mallory", ALLOW_ALL).await;
    let arn = role(&root, "target", &trust_user("mallory", &[], ""), ALLOW_ALL).await;
    login_profile(&root, "mallory", "Mallory-Password-1", &[]).await;
    let (serial, seed) = device(&root, "alice-phone", &[]).await;
    enable(&app, &root, "alice", &serial, &seed).await;
    let (alice, mallory) = (now(&alice, &app), now(&mallory, &app));
    let right = mfa_code(&seed, &app, 0);
    refused(
        &mallory
            .call(
                "GetSessionToken",
                &[("SerialNumber", &serial), ("TokenCode", &right)],
            )
            .await,
        403,
        "AccessDenied",
    );
    refused(
        &mallory
            .call(
                "AssumeRole",
                &[
                    ("RoleArn", &arn),
                    ("RoleSessionName", "session"),
                    ("SerialNumber", &serial),
                    ("TokenCode", &right),
                ],
            )
            .await,
        403,
        "AccessDenied",
    );
    // mallory has no device: her sign-in with alice's code is no MFA session.
    let s = signed_in(
        &app,
        &sign_in(&app, "mallory", "Mallory-Password-1", Some(&right)).await,
    );
    let me = s.ok("GetCallerIdentity", &[]).await;
    assert!(me.body.contains("user/mallory"));
    let wrong = wrong_code(&seed, &app);
    for _ in 0..12 {
        refused(
            &mallory
                .call(
                    "GetSessionToken",
                    &[("SerialNumber", &serial), ("TokenCode", &wrong)],
                )
                .await,
            403,
            "AccessDenied",
        );
    }
    // alice is not backed off by mallory's attempts, and her code is unspent.
    alice
        .ok(
            "GetSessionToken",
            &[("SerialNumber", &serial), ("TokenCode", &right)],
        )
        .await;
    app.stop().await;
}

/// Guessing codes backs off per device, whatever spelling of the serial
/// number the guesser uses: five wrong codes, then even the right code
/// (under another case of the device name) is refused until the wait is
/// over.
#[tokio::test]
async fn the_device_back_off_holds_for_every_spelling_of_the_serial() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", ALLOW_ALL).await;
    let (serial, seed) = device(&root, "alice-phone", &[]).await;
    enable(&app, &root, "alice", &serial, &seed).await;
    let alice = now(&alice, &app);
    let wrong = wrong_code(&seed, &app);
    let spellings = [
        serial.clone(),
        serial.replace("alice-phone", "ALICE-PHONE"),
        serial.replace("alice-phone", "Alice-Phone"),
    ];
    for i in 0..5 {
        refused(
            &alice
                .call(
                    "GetSessionToken",
                    &[("SerialNumber", &spellings[i % 3]), ("TokenCode", &wrong)],
                )
                .await,
            403,
            "AccessDenied",
        );
    }
    for spelling in &spellings {
        refused(
            &alice
                .call(
                    "GetSessionToken",
                    &[
                        ("SerialNumber", spelling),
                        ("TokenCode", &mfa_code(&seed, &app, 0)),
                    ],
                )
                .await,
            403,
            "AccessDenied",
        );
    }
    app.state.clock.advance(Duration::seconds(2));
    now(&alice, &app)
        .ok(
            "GetSessionToken",
            &[
                ("SerialNumber", &spellings[1]),
                ("TokenCode", &mfa_code(&seed, &app, 0)),
            ],
        )
        .await;
    app.stop().await;
}

// FOUND (fixed): the per-device back-off on wrong codes (docs/credentials.md, "Wrong
// codes back off per device") is consulted only by `mfa::verify_for`
// (GetSessionToken, AssumeRole); a sign-in checks its codes itself
// (`ops/sign_in.rs`, `attempt`) without it, and its wrong codes do not count
// on the device. A device being guessed through STS still takes codes at
// sign-in at once: whoever holds both a password and an access key of the
// user gets two independent guessing budgets per device. Fix: in `attempt`,
// refuse when `wait_until("mfa:<serial>")` holds for the user's device and
// `fail` that key on a wrong code (one helper shared with `verify_for`).
#[tokio::test]
async fn a_device_backed_off_for_guessing_takes_no_code_at_sign_in() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", ALLOW_ALL).await;
    login_profile(&root, "alice", "Alice-Password-1", &[]).await;
    let (serial, seed) = device(&root, "alice-phone", &[]).await;
    enable(&app, &root, "alice", &serial, &seed).await;
    let alice = now(&alice, &app);
    let wrong = wrong_code(&seed, &app);
    for _ in 0..5 {
        refused(
            &alice
                .call(
                    "GetSessionToken",
                    &[("SerialNumber", &serial), ("TokenCode", &wrong)],
                )
                .await,
            403,
            "AccessDenied",
        );
    }
    // The device is backed off for STS…
    refused(
        &alice
            .call(
                "GetSessionToken",
                &[
                    ("SerialNumber", &serial),
                    ("TokenCode", &mfa_code(&seed, &app, 0)),
                ],
            )
            .await,
        403,
        "AccessDenied",
    );
    // …and must be for a sign-in too.
    let r = sign_in(
        &app,
        "alice",
        "Alice-Password-1",
        Some(&mfa_code(&seed, &app, 0)),
    )
    .await;
    assert_ne!(r.status, 200, "a backed-off device authenticated a sign-in");
    app.stop().await;
}

/// A code is accepted once across every operation that takes one: the
/// codes that enabled the device, a code spent by GetSessionToken at
/// sign-in and the reverse, and one code sent to five sign-ins at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_is_spent_once_across_sts_and_sign_in() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", ALLOW_ALL).await;
    login_profile(&root, "alice", "Alice-Password-1", &[]).await;
    let (serial, seed) = device(&root, "alice-phone", &[]).await;
    // Enabled with the codes of the step before and of now, by hand: those
    // two are spent.
    let (c1, c2) = (mfa_code(&seed, &app, -1), mfa_code(&seed, &app, 0));
    root.ok(
        "EnableMFADevice",
        &[
            ("UserName", "alice"),
            ("SerialNumber", &serial),
            ("AuthenticationCode1", &c1),
            ("AuthenticationCode2", &c2),
        ],
    )
    .await;
    for spent in [&c1, &c2] {
        let r = sign_in(&app, "alice", "Alice-Password-1", Some(spent)).await;
        assert_eq!(r.status, 401, "an enabling code signed in: {}", r.body);
    }
    // GetSessionToken, then the same code at sign-in.
    app.state.clock.advance(Duration::seconds(30));
    let alice = now(&alice, &app);
    let c = mfa_code(&seed, &app, 0);
    alice
        .ok(
            "GetSessionToken",
            &[("SerialNumber", &serial), ("TokenCode", &c)],
        )
        .await;
    let r = sign_in(&app, "alice", "Alice-Password-1", Some(&c)).await;
    assert_eq!(r.status, 401, "{}", r.body);
    // The previous step's code, older than a spent one: refused too.
    let r = sign_in(
        &app,
        "alice",
        "Alice-Password-1",
        Some(&mfa_code(&seed, &app, -1)),
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);
    // Sign-in, then the same code in GetSessionToken.
    app.state.clock.advance(Duration::seconds(30));
    let alice = now(&alice, &app);
    let c = mfa_code(&seed, &app, 0);
    let r = sign_in(&app, "alice", "Alice-Password-1", Some(&c)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    refused(
        &alice
            .call(
                "GetSessionToken",
                &[("SerialNumber", &serial), ("TokenCode", &c)],
            )
            .await,
        403,
        "AccessDenied",
    );
    // Five sign-ins with one fresh code at once: one session.
    app.state.clock.advance(Duration::seconds(30));
    let c = mfa_code(&seed, &app, 0);
    let addr = app.addr;
    let tries: Vec<_> = (0..5)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move {
                sign_in_at(addr, "alice", "Alice-Password-1", Some(&c))
                    .await
                    .status
            })
        })
        .collect();
    let mut ok = 0;
    for t in tries {
        if t.await.unwrap() == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 1, "one code made {ok} sessions");
    app.stop().await;
}

/// Resync needs two fresh consecutive codes of the owner's device: not the
/// ones already spent, not another user's device.
#[tokio::test]
async fn resync_takes_only_fresh_codes_of_the_callers_own_device() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", ALLOW_ALL).await;
    let (serial, seed) = device(&root, "alice-phone", &[]).await;
    let (c1, c2) = (mfa_code(&seed, &app, -1), mfa_code(&seed, &app, 0));
    root.ok(
        "EnableMFADevice",
        &[
            ("UserName", "alice"),
            ("SerialNumber", &serial),
            ("AuthenticationCode1", &c1),
            ("AuthenticationCode2", &c2),
        ],
    )
    .await;
    refused(
        &alice
            .call(
                "ResyncMFADevice",
                &[
                    ("UserName", "alice"),
                    ("SerialNumber", &serial),
                    ("AuthenticationCode1", &c1),
                    ("AuthenticationCode2", &c2),
                ],
            )
            .await,
        400,
        "InvalidAuthenticationCode",
    );
    // Codes from before the device's last accepted one, within the drift.
    refused(
        &alice
            .call(
                "ResyncMFADevice",
                &[
                    ("UserName", "alice"),
                    ("SerialNumber", &serial),
                    ("AuthenticationCode1", &mfa_code(&seed, &app, -5)),
                    ("AuthenticationCode2", &mfa_code(&seed, &app, -4)),
                ],
            )
            .await,
        400,
        "InvalidAuthenticationCode",
    );
    alice
        .ok(
            "ResyncMFADevice",
            &[
                ("UserName", "alice"),
                ("SerialNumber", &serial),
                ("AuthenticationCode1", &mfa_code(&seed, &app, 3)),
                ("AuthenticationCode2", &mfa_code(&seed, &app, 4)),
            ],
        )
        .await;
    // The codes up to the resync are spent; the one after works.
    refused(
        &alice
            .call(
                "GetSessionToken",
                &[
                    ("SerialNumber", &serial),
                    ("TokenCode", &mfa_code(&seed, &app, 1)),
                ],
            )
            .await,
        403,
        "AccessDenied",
    );
    app.state.clock.advance(Duration::seconds(5 * 30));
    now(&alice, &app)
        .ok(
            "GetSessionToken",
            &[
                ("SerialNumber", &serial),
                ("TokenCode", &mfa_code(&seed, &app, 0)),
            ],
        )
        .await;
    app.stop().await;
}

// FOUND (fixed): DeleteVirtualMFADevice is authorized on the serial number as the
// request spells it (`ops/mfa.rs`, `delete_virtual`:
// `Target::arn(serial_number.to_string())`), while the device is found by
// its case-folded name. A deny on `mfa/protected` does not match
// `mfa/PROTECTED`, which deletes the device `protected`. Every other device
// operation authorizes the stored serial (`device_target`), as iamd does for
// users, roles and policies. Fix: authorize `device_target(ctx, &serial)`
// in `delete_virtual` (the stored ARN, with its tags).
#[tokio::test]
async fn a_deny_on_a_device_holds_for_every_spelling_of_its_serial() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let (serial, _) = device(&root, "protected", &[]).await;
    let mallory = user_with_policy(
        &root,
        "mallory",
        &policy(&format!(
            r#"{{"Effect":"Allow","Action":["iam:DeleteVirtualMFADevice","iam:TagMFADevice","iam:UntagMFADevice"],"Resource":"*"}},
               {{"Effect":"Deny","Action":["iam:DeleteVirtualMFADevice","iam:TagMFADevice"],"Resource":"arn:aws:iam::{ACCOUNT}:mfa/protected"}}"#
        )),
    )
    .await;
    refused(
        &mallory
            .call("DeleteVirtualMFADevice", &[("SerialNumber", &serial)])
            .await,
        403,
        "AccessDenied",
    );
    let upper = serial.replace("protected", "PROTECTED");
    refused(
        &mallory
            .call(
                "TagMFADevice",
                &[
                    ("SerialNumber", &upper),
                    ("Tags.member.1.Key", "k"),
                    ("Tags.member.1.Value", "v"),
                ],
            )
            .await,
        403,
        "AccessDenied",
    );
    let r = mallory
        .call("DeleteVirtualMFADevice", &[("SerialNumber", &upper)])
        .await;
    let still = root.ok("ListVirtualMFADevices", &[]).await;
    assert!(
        still.all("SerialNumber").contains(&serial),
        "the denied device was deleted through {upper}: {} {}",
        r.status,
        r.body
    );
    refused(&r, 403, "AccessDenied");
    app.stop().await;
}

// FOUND (fixed): a deny on `aws:ResourceTag/*` does not protect a device from
// DeleteVirtualMFADevice: `delete_virtual` authorizes `Target::arn(..)`
// without the device's tags (`ops/mfa.rs`), though the `mfa` resource type
// takes `aws:ResourceTag/${TagKey}` and Tag/Untag/ListMFADeviceTags pass the
// tags (`device_target`). Fix: as above, authorize `device_target`.
#[tokio::test]
async fn a_resource_tag_deny_protects_a_device_from_deletion() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let (serial, _) = device(
        &root,
        "break-glass",
        &[
            ("Tags.member.1.Key", "protected"),
            ("Tags.member.1.Value", "true"),
        ],
    )
    .await;
    let mallory = user_with_policy(
        &root,
        "mallory",
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":["iam:DeleteVirtualMFADevice","iam:UntagMFADevice"],"Resource":"*"},
            {"Effect":"Deny","Action":["iam:DeleteVirtualMFADevice","iam:UntagMFADevice"],"Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/protected":"true"}}}]}"#,
    )
    .await;
    refused(
        &mallory
            .call(
                "UntagMFADevice",
                &[("SerialNumber", &serial), ("TagKeys.member.1", "protected")],
            )
            .await,
        403,
        "AccessDenied",
    );
    let r = mallory
        .call("DeleteVirtualMFADevice", &[("SerialNumber", &serial)])
        .await;
    refused(&r, 403, "AccessDenied");
    app.stop().await;
}

/// Tags given when a device is created or tagged are request tags: a deny
/// on `aws:RequestTag` holds for both.
#[tokio::test]
async fn request_tag_denies_hold_for_device_tags() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let (serial, _) = device(&root, "plain", &[]).await;
    let mallory = user_with_policy(
        &root,
        "mallory",
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":["iam:CreateVirtualMFADevice","iam:TagMFADevice"],"Resource":"*"},
            {"Effect":"Deny","Action":["iam:CreateVirtualMFADevice","iam:TagMFADevice"],"Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"admins"}}}]}"#,
    )
    .await;
    refused(
        &mallory
            .call(
                "CreateVirtualMFADevice",
                &[
                    ("VirtualMFADeviceName", "sneaky"),
                    ("Tags.member.1.Key", "team"),
                    ("Tags.member.1.Value", "admins"),
                ],
            )
            .await,
        403,
        "AccessDenied",
    );
    refused(
        &mallory
            .call(
                "TagMFADevice",
                &[
                    ("SerialNumber", &serial),
                    ("Tags.member.1.Key", "TEAM"),
                    ("Tags.member.1.Value", "admins"),
                ],
            )
            .await,
        403,
        "AccessDenied",
    );
    app.stop().await;
}

// FOUND (fixed): ListVirtualMFADevices shows each assigned device's user with the
// user's tags and permissions boundary (`ops/mfa.rs`, `list_virtual`:
// `super::shapes::user(state, u)`, not `listed_user`). The action is granted
// on `*` to every user by the User Guide's self-manage policies, so any user
// reads every MFA user's tags and boundary, which GetUser would refuse them.
// AWS: "IAM resource-listing operations return a subset of the available
// attributes … this operation does not return tags" (API reference,
// ListVirtualMFADevices). Fix: use `shapes::listed_user` there.
#[tokio::test]
async fn listing_virtual_devices_does_not_reveal_users_tags_or_boundaries() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    root.ok(
        "TagUser",
        &[
            ("UserName", "alice"),
            ("Tags.member.1.Key", "clearance"),
            ("Tags.member.1.Value", "topsecret-project-x"),
        ],
    )
    .await;
    let bound = root
        .ok(
            "CreatePolicy",
            &[
                ("PolicyName", "alice-secret-boundary"),
                ("PolicyDocument", ALLOW_ALL),
            ],
        )
        .await
        .tag("Arn")
        .unwrap();
    root.ok(
        "PutUserPermissionsBoundary",
        &[("UserName", "alice"), ("PermissionsBoundary", &bound)],
    )
    .await;
    let (serial, seed) = device(&root, "alice-phone", &[]).await;
    enable(&app, &root, "alice", &serial, &seed).await;
    let lister = now(
        &user_with_policy(
            &root,
            "lister",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListVirtualMFADevices","Resource":"*"}]}"#,
        )
        .await,
        &app,
    );
    refused(
        &lister.call("GetUser", &[("UserName", "alice")]).await,
        403,
        "AccessDenied",
    );
    let listed = lister.ok("ListVirtualMFADevices", &[]).await;
    assert!(listed.body.contains(&serial));
    assert!(
        !listed.body.contains("topsecret-project-x"),
        "alice's tags: {}",
        listed.body
    );
    assert!(
        !listed.body.contains("alice-secret-boundary"),
        "alice's boundary: {}",
        listed.body
    );
    app.stop().await;
}

/// A seed is shown once, to its creator: never in any later answer (the
/// device lists and gets, in both encodings, now and as of the moment after
/// creation, the trail, the view); no password hash either.
#[tokio::test]
async fn seeds_and_password_hashes_never_appear_after_creation() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    login_profile(&root, "alice", "Alice-Password-1", &[]).await;
    let created = root
        .ok(
            "CreateVirtualMFADevice",
            &[("VirtualMFADeviceName", "alice-phone")],
        )
        .await;
    let position = created
        .header("x-iamd-log-position")
        .expect("a log position")
        .to_owned();
    let seed_b64 = created.tag("Base32StringSeed").unwrap();
    let png_b64 = created.tag("QRCodePNG").unwrap();
    use base64::Engine as _;
    let base32 = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(&seed_b64)
            .unwrap(),
    )
    .unwrap();
    let serial = created.tag("SerialNumber").unwrap();
    let seed = iam_mfa::base32_decode(&base32).unwrap();
    let unassigned = root
        .call_with("ListVirtualMFADevices", &[], &[("x-iamd-as-of", &position)])
        .await;
    enable(&app, &root, "alice", &serial, &seed).await;
    let root = now(&root, &app);
    let mut answers = vec![
        ("as-of list", unassigned),
        ("list", root.ok("ListVirtualMFADevices", &[]).await),
        (
            "list unassigned",
            root.ok("ListVirtualMFADevices", &[("AssignmentStatus", "Any")])
                .await,
        ),
        (
            "get",
            root.ok(
                "GetMFADevice",
                &[("UserName", "alice"), ("SerialNumber", &serial)],
            )
            .await,
        ),
        (
            "list user's",
            root.ok("ListMFADevices", &[("UserName", "alice")]).await,
        ),
        (
            "login profile",
            root.ok("GetLoginProfile", &[("UserName", "alice")]).await,
        ),
        (
            "as-of login profile",
            root.call_with(
                "GetLoginProfile",
                &[("UserName", "alice")],
                &[("x-iamd-as-of", &position)],
            )
            .await,
        ),
        (
            "json list",
            root.json("iam", "ListVirtualMFADevices", &json!({})).await,
        ),
        (
            "events",
            root.v1("GET", "/v1/events", "limit=1000", None).await,
        ),
        ("view", root.v1("GET", "/v1/view", "", None).await),
    ];
    let events: serde_json::Value =
        serde_json::from_str(&answers[answers.len() - 2].1.body).unwrap_or_default();
    for e in events["events"].as_array().cloned().unwrap_or_default() {
        let p = e["position"].as_i64().unwrap_or(0);
        answers.push((
            "event",
            root.v1("GET", &format!("/v1/events/{p}"), "", None).await,
        ));
    }
    for (what, r) in &answers {
        assert_eq!(r.status, 200, "{what}: {}", r.body);
        for secret in [
            base32.as_str(),
            seed_b64.as_str(),
            &png_b64[200..260],
            "$argon2",
            "password_hash",
        ] {
            assert!(
                !r.body.contains(secret),
                "{what} shows {secret}: {}",
                r.body
            );
        }
        assert!(!r.body.contains("\"seed\""), "{what}: {}", r.body);
    }
    // The past is read, never written: a ChangePassword at a moment is
    // refused before its old password is looked at.
    let key = root.ok("CreateAccessKey", &[("UserName", "alice")]).await;
    let alice = root.with_key(
        &key.tag("AccessKeyId").unwrap(),
        &key.tag("SecretAccessKey").unwrap(),
    );
    let r = alice
        .call_with(
            "ChangePassword",
            &[
                ("OldPassword", "Alice-Password-1"),
                ("NewPassword", "Alice-Password-2"),
            ],
            &[("x-iamd-as-of", &position)],
        )
        .await;
    refused(&r, 400, "ValidationError");
    let r = sign_in(
        &app,
        "alice",
        "Alice-Password-1",
        Some(&mfa_code(&seed, &app, 0)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.stop().await;
}
