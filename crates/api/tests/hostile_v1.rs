//! Hostile review of the 2026-12-02 changes to iamd's own API (`/v1`):
//! 10,000-question batches with a 16 MiB body, the layered condition
//! context, `/v1/events` through the metadata indexes, access history's
//! shortcuts, the past-view cache and credential reports from the log.
//!
//! Every test performs its attack through the HTTP server. The first ones
//! (`…_attack_…`) succeed today and fail here; the rest are attacks that
//! were tried and hold, kept as regression tests.

use std::time::{Duration, Instant};

use iam_event_store::testing::TestDatabase;
use serde_json::{json, Value};

mod support;
use support::*;

fn body(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| {
        panic!(
            "{e}: {} {}",
            reply.status,
            &reply.body[..reply.body.len().min(500)]
        )
    })
}

fn short(reply: &Reply) -> String {
    format!(
        "{} {}",
        reply.status,
        &reply.body[..reply.body.len().min(400)]
    )
}

fn position(reply: &Reply) -> u64 {
    reply
        .header(iam_api::app::POSITION_HEADER)
        .and_then(|p| p.parse().ok())
        .expect("a log position")
}

fn enc(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A `/v1` POST of an exact JSON text (repeated keys and all), signed.
async fn post_raw(client: &Client, path: &str, text: &str) -> Reply {
    send_raw(
        client.addr,
        client.signed_post(path, "application/json", text, "iamd", &[]),
    )
    .await
}

/// A kernel counter of this process (`VmRSS`, `VmHWM`), in KiB.
fn proc_status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Standard base64 (a credential report's `Content`).
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0);
    for c in text.bytes() {
        let Some(v) = ALPHABET.iter().position(|a| *a == c) else {
            continue;
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn arn(rest: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{rest}")
}

/// A user who may ask iamd about itself only: an enforcement point's own
/// identity, the least a caller of `/v1/authorize` has.
async fn self_asker(root: &Client, name: &str) -> Client {
    let me = arn(&format!("user/{name}"));
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iamd:Authorize", "Resource": me}]});
    user_with_policy(root, name, &policy.to_string()).await
}

// ---------------------------------------------------------------------
// Attacks that succeed today.
// ---------------------------------------------------------------------

/// ATTACK (memory). A question's `resource_policy` is parsed and compiled
/// per question, with no size limit but the body's. Every `?`-segment of a
/// pattern (the text between two `*`s) compiles to a shift-and searcher
/// with a 128-word table — 1 KiB — however short the segment, so the
/// string `a?*a?*a?*…` costs ~1.1 KiB of heap per 3 bytes of request:
/// ~380× amplification. The batch's 16 MiB body makes that ~6 GB for one
/// request by a caller who may only ask about itself (a 3 MiB body here,
/// which only the batch accepts, took ~1.2 GB).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_a_batch_resource_policy_of_short_wildcard_segments_takes_gigabytes() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let pep = self_asker(&root, "pep").await;
    let me = arn("user/pep");
    let pattern = "a?*".repeat(1 << 20); // 3 MiB
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringLike": {"s3:prefix": pattern}}}]});
    let batch = json!({"requests": [{"principal": me, "action": "s3:GetObject",
        "resource": "arn:aws:s3:::b/k", "resource_policy": policy}]});
    // Reset the peak resident size to now (Linux: `5` resets VmHWM).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = proc_status_kib("VmRSS:");
    let reply = pep
        .v1("POST", "/v1/authorize/batch", "", Some(&batch))
        .await;
    let peak = proc_status_kib("VmHWM:");
    let grew_mib = peak.saturating_sub(before) / 1024;
    eprintln!(
        "resource policy of 1,048,576 `a?*` segments: {grew_mib} MiB, {}",
        short(&reply)
    );
    assert!(
        reply.status == 400 || grew_mib < 256,
        "a 3 MiB question made the server's resident memory grow by {grew_mib} MiB ({})",
        short(&reply)
    );
    app.stop().await;
}

/// ATTACK (CPU). A `?`-segment of `m` characters is searched in
/// O(n × ⌈m/64⌉) against a context value of `n`, and a condition matches
/// every value a request gives against every value the policy gives. With
/// nothing but the batch's 16 MiB body to bound them, one question could
/// hold a core for an hour (m = n = 4 Mi) or for hours (190,000 patterns
/// × 190,000 values). Now a question's `resource_policy` is at most 20 KB,
/// its context at most 64 values of at most 1,024 characters, and a batch
/// is given up after 2 s: those questions are refused at once, and the
/// worst batch within the limits ends by the deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_questions_that_would_hold_a_core_are_refused_or_cut_short() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let pep = self_asker(&root, "pep").await;
    let me = arn("user/pep");
    let question = |patterns: Value, values: Value| {
        let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
            "Condition": {"ForAnyValue:StringLike": {"s3:prefix": patterns}}}]});
        json!({"principal": me, "action": "s3:GetObject",
            "resource": "arn:aws:s3:::b/k", "resource_policy": policy,
            "context": {"s3:prefix": values}})
    };
    let many = |n: usize, f: &dyn Fn(usize) -> String| -> Value {
        Value::Array((0..n).map(|i| Value::String(f(i))).collect())
    };
    for (what, attack) in [
        (
            "a 4 Mi `?`-segment against a 4 Mi value",
            question(
                json!(format!("*{}b*", "a?".repeat(2 << 20))),
                json!("a".repeat(4 << 20)),
            ),
        ),
        (
            "190,000 patterns against 190,000 values",
            question(
                many(190_000, &|i| format!("*q{i}*")),
                many(190_000, &|_| "a".repeat(40)),
            ),
        ),
        (
            "a context value of 1,025 characters",
            question(json!("*"), json!("a".repeat(1_025))),
        ),
        (
            "65 context values",
            question(json!("*"), many(65, &|i| i.to_string())),
        ),
    ] {
        let started = Instant::now();
        let reply = tokio::time::timeout(
            Duration::from_secs(20),
            pep.v1(
                "POST",
                "/v1/authorize/batch",
                "",
                Some(&json!({"requests": [attack]})),
            ),
        )
        .await
        .unwrap_or_else(|_| panic!("{what}: still being decided after 20 s"));
        assert_eq!(reply.status, 400, "{what}: {}", short(&reply));
        assert_eq!(body(&reply)["error"]["code"], "ValidationError", "{what}");
        eprintln!("{what}: refused in {:?}", started.elapsed());
    }
    // Within every limit: a 20 KB `?`-segment against 64 values of 312
    // characters (the costliest question for its bytes: the search costs
    // the product of the two lengths), as many as 16 MiB hold. Answered,
    // or refused when the batch passes its 2 s, well within 20 s.
    let segment = format!("*{}b*", "a?".repeat(10_000));
    let worst = question(json!(segment), many(64, &|_| "a".repeat(312)));
    let started = Instant::now();
    let reply = tokio::time::timeout(
        Duration::from_secs(20),
        pep.v1(
            "POST",
            "/v1/authorize/batch",
            "",
            Some(&json!({"requests": vec![worst; 380]})),
        ),
    )
    .await
    .expect("the worst batch within the limits ends by its deadline");
    let took = started.elapsed();
    eprintln!(
        "worst batch within the limits: {} in {took:?}",
        reply.status
    );
    assert!(
        reply.status == 200 || (reply.status == 400 && reply.body.contains("not decided within")),
        "{}",
        short(&reply)
    );
    app.stop().await;
}

/// ATTACK (authorization). Asking by access key is authorized on
/// `user/*` only — the literal resource `arn:aws:iam::ACCOUNT:user/*` —
/// and never on the user the key resolves to. A caller allowed
/// `iamd:Authorize` on `*` but explicitly denied it on `user/admin` is
/// refused when naming admin, yet gets admin's decisions and the names
/// of the policies behind them by naming admin's access key id (which is
/// no secret: it is in the trail, in `ListAccessKeys`, in logs), alone or
/// in a batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_asking_by_access_key_escapes_a_deny_on_the_keys_owner() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let admin_key = {
        root.ok("CreateUser", &[("UserName", "admin")]).await;
        root.ok(
            "PutUserPolicy",
            &[
                ("UserName", "admin"),
                ("PolicyName", "break-glass"),
                (
                    "PolicyDocument",
                    r#"{"Version":"2012-10-17","Statement":[{"Sid":"BreakGlass","Effect":"Allow","Action":"*","Resource":"*"}]}"#,
                ),
            ],
        )
        .await;
        root.ok("CreateAccessKey", &[("UserName", "admin")])
            .await
            .tag("AccessKeyId")
            .unwrap()
    };
    let admin = arn("user/admin");
    let auditor_policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iamd:Authorize", "Resource": "*"},
        {"Effect": "Deny", "Action": "iamd:Authorize", "Resource": admin}]});
    let auditor = user_with_policy(&root, "auditor", &auditor_policy.to_string()).await;

    // By name: the deny holds.
    let by_name = json!({"principal": admin, "action": "s3:DeleteBucket", "resource": "*"});
    let refused = auditor
        .v1("POST", "/v1/authorize", "", Some(&by_name))
        .await;
    assert_eq!(refused.status, 403, "{}", short(&refused));

    // By key: it should hold just the same.
    let by_key = json!({"access_key_id": admin_key, "action": "s3:DeleteBucket", "resource": "*"});
    let single = auditor.v1("POST", "/v1/authorize", "", Some(&by_key)).await;
    let batch = auditor
        .v1(
            "POST",
            "/v1/authorize/batch",
            "",
            Some(&json!({"requests": [by_key]})),
        )
        .await;
    assert!(
        single.status == 403 && batch.status == 403,
        "a caller denied iamd:Authorize on {admin} learnt its decisions by its key:\n\
         single: {}\nbatch: {}",
        short(&single),
        short(&batch)
    );
    app.stop().await;
}

/// ATTACK (context). `check_context` refuses the keys iamd sets, but not
/// the other keys AWS derives from the principal, which iamd leaves unset
/// and so takes from the request: `aws:PrincipalIsAWSService` (always
/// present in AWS, `false` for users and roles), `aws:PrincipalOrgID`,
/// `aws:PrincipalServiceName`, `aws:SourceIdentity`, … A data-perimeter
/// Deny that exempts AWS services (`BoolIfExists
/// aws:PrincipalIsAWSService false`, AWS's own recommended form) stops
/// applying when an enforcement point passes the client's claim through:
/// the same threat the refusal of `aws:PrincipalArn` is there for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_a_client_claiming_to_be_an_aws_service_escapes_a_deny() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    let perimeter = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"s3:*","Resource":"*"},
        {"Sid":"Perimeter","Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{
            "NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"},
            "BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}}]}"#;
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", "alice"),
            ("PolicyName", "perimeter"),
            ("PolicyDocument", perimeter),
        ],
    )
    .await;
    let ask = |context: Value| {
        json!({"principal": arn("user/alice"), "action": "s3:GetObject",
            "resource": "arn:aws:s3:::payroll/x", "context": context})
    };
    let outside = body(
        &root
            .v1(
                "POST",
                "/v1/authorize",
                "",
                Some(&ask(json!({"aws:SourceIp": "203.0.113.9"}))),
            )
            .await,
    );
    assert_eq!(outside["decision"], "ExplicitDeny", "{outside}");
    let claimed = root
        .v1(
            "POST",
            "/v1/authorize",
            "",
            Some(&ask(
                json!({"aws:SourceIp": "203.0.113.9", "aws:PrincipalIsAWSService": "true"}),
            )),
        )
        .await;
    assert!(
        claimed.status == 400 || body(&claimed)["decision"] == "ExplicitDeny",
        "alice, outside the perimeter, is allowed by claiming to be an AWS service: {}",
        short(&claimed)
    );
    app.stop().await;
}

// ---------------------------------------------------------------------
// Attacks that hold (regression tests).
// ---------------------------------------------------------------------

/// Shadowing iamd's keys: every spelling of every key iamd sets is refused
/// (ASCII case folding is the evaluator's own; a key with a trailing space
/// or a non-ASCII look-alike is another key, which no policy reads), in a
/// batch too; and a question's own keys never leak into the next
/// question's shared base context about the same principal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_keys_cannot_shadow_what_iamd_sets_nor_leak_between_questions() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    root.ok(
        "TagUser",
        &[
            ("UserName", "alice"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "payroll"),
        ],
    )
    .await;
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"s3:*","Resource":"*"},
        {"Sid":"NoPayrollTeam","Effect":"Deny","Action":"s3:DeleteObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"payroll"}}},
        {"Sid":"NotAlice","Effect":"Deny","Action":"s3:PutObject","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"*:user/alice","aws:username":"alice"}}},
        {"Sid":"NotBefore2030","Effect":"Deny","Action":"s3:GetObject","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2100-01-01T00:00:00Z"}}},
        {"Sid":"Office","Effect":"Deny","Action":"s3:ListBucket","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", "alice"),
            ("PolicyName", "p"),
            ("PolicyDocument", policy),
        ],
    )
    .await;
    let alice = arn("user/alice");
    let q = |action: &str, context: Value| json!({"principal": alice, "action": action, "resource": "arn:aws:s3:::b/k", "context": context});
    for key in [
        "AWS:PRINCIPALTAG/TEAM",
        "aws:principaltag/team",
        "Aws:PrincipalTag/Team ",
        "aws:PrincipalTag/",
        "AWS:PrincipalArn",
        "aws:USERNAME",
        "aws:UserId",
        "aws:currenttime",
        "AWS:EPOCHTIME",
        "aws:PrincipalType",
        "aws:PrincipalAccount",
    ] {
        for path in ["/v1/authorize", "/v1/authorize/batch"] {
            let question = q("s3:DeleteObject", json!({key: "x"}));
            let request = match path {
                "/v1/authorize" => question,
                _ => json!({"requests": [q("s3:GetObject", json!({})), question]}),
            };
            let reply = root.v1("POST", path, "", Some(&request)).await;
            assert_eq!(reply.status, 400, "{key} at {path}: {}", short(&reply));
        }
    }
    // Other spellings are other keys: accepted, and every deny still holds.
    let lookalikes = json!({
        "aws:\u{212a}ey": "x",
        "aws:username\u{0}": "bob",
        "aws:CurrentTime\t": "2200-01-01T00:00:00Z",
    });
    for action in ["s3:DeleteObject", "s3:PutObject", "s3:GetObject"] {
        let reply = body(
            &root
                .v1(
                    "POST",
                    "/v1/authorize",
                    "",
                    Some(&q(action, lookalikes.clone())),
                )
                .await,
        );
        assert_eq!(reply["decision"], "ExplicitDeny", "{action}: {reply}");
    }
    // One question's own keys are its own: the next question about the
    // same principal (sharing its base context) does not see them.
    let batch = json!({"requests": [
        q("s3:ListBucket", json!({"aws:SourceIp": "10.1.2.3"})),
        q("s3:ListBucket", json!({})),
        q("s3:ListBucket", json!({"aws:SourceIp": []})),
        q("s3:ListBucket", json!({"aws:SourceIp": "10.9.9.9"})),
    ]});
    let results = body(
        &root
            .v1("POST", "/v1/authorize/batch", "", Some(&batch))
            .await,
    );
    let decisions: Vec<&str> = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["decision"].as_str().unwrap())
        .collect();
    assert_eq!(
        decisions,
        ["ExplicitDeny", "Allow", "Allow", "ExplicitDeny"],
        "{results}"
    );
    app.stop().await;
}

/// Batch authorization: every distinct principal is authorized, also the
/// ten-thousandth; a repeated key in a question's object means the same
/// (the last) to authorization and to the decision; non-object and deeply
/// nested bodies are refused or cut without harm.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_asks_only_about_principals_the_caller_may_ask_about() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "secret")]).await;
    let pep = self_asker(&root, "pep").await;
    let (me, secret) = (arn("user/pep"), arn("user/secret"));
    let mine = json!({"principal": me, "action": "s3:GetObject", "resource": "*"});
    let theirs = json!({"principal": secret, "action": "s3:GetObject", "resource": "*"});

    // The one forbidden principal last of 10,000.
    let mut requests: Vec<Value> = (0..9_999).map(|_| mine.clone()).collect();
    requests.push(theirs.clone());
    let reply = pep
        .v1(
            "POST",
            "/v1/authorize/batch",
            "",
            Some(&json!({"requests": requests})),
        )
        .await;
    assert_eq!(reply.status, 403, "{}", short(&reply));
    assert!(!reply.body.contains("results"), "{}", short(&reply));

    // The same principal by another spelling, path or as a role.
    for other in [
        arn("user/PEP"),
        arn("user/x/pep"),
        arn("role/pep"),
        format!("arn:aws:iam::{ACCOUNT}:user/pep "),
    ] {
        let batch = json!({"requests": [mine, {"principal": other, "action": "s3:GetObject", "resource": "*"}]});
        let reply = pep
            .v1("POST", "/v1/authorize/batch", "", Some(&batch))
            .await;
        assert!(
            reply.status == 403 || reply.status == 400,
            "{other}: {}",
            short(&reply)
        );
    }

    // A repeated key: the last one is what is both authorized and decided.
    let text = format!(
        r#"{{"requests":[{{"principal":"{me}","action":"s3:GetObject","resource":"*","principal":"{secret}"}}]}}"#
    );
    let reply = post_raw(&pep, "/v1/authorize/batch", &text).await;
    assert_eq!(reply.status, 403, "{}", short(&reply));
    let text = format!(
        r#"{{"requests":[{{"principal":"{secret}","action":"s3:GetObject","resource":"*","principal":"{me}"}}],"requests":[{{"principal":"{secret}","action":"s3:GetObject","resource":"*"}}]}}"#
    );
    let reply = post_raw(&pep, "/v1/authorize/batch", &text).await;
    assert_eq!(reply.status, 403, "{}", short(&reply));

    // Bodies that are no object, or nested far deeper than any shape.
    for text in ["[]", "\"requests\"", "7", "null", "{\"requests\":[]}"] {
        let reply = post_raw(&pep, "/v1/authorize/batch", text).await;
        assert_eq!(reply.status, 400, "{text}: {}", short(&reply));
    }
    let deep = format!(
        r#"{{"requests":[{{"principal":"{me}","action":"s3:GetObject","resource":"*","context":{{"k":{}1{}}}}}]}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let started = Instant::now();
    let reply = post_raw(&pep, "/v1/authorize/batch", &deep).await;
    assert_eq!(reply.status, 400, "{}", short(&reply));
    assert!(started.elapsed() < Duration::from_secs(10));
    let deep = format!(
        r#"{{"requests":[{{"principal":"{me}","action":"s3:GetObject","resource":"*","context":{{"k":{}1{}}}}}]}}"#,
        "[".repeat(120),
        "]".repeat(120)
    );
    let reply = post_raw(&pep, "/v1/authorize/batch", &deep).await;
    assert!(
        reply.status == 400 || reply.status == 200,
        "{}",
        short(&reply)
    );

    // Anonymous: a 16 MiB body is read (within the shared body budget) but
    // never parsed; an anonymous body past it is refused unread.
    let anonymous = |len: usize| {
        let mut raw = format!(
            "POST /v1/authorize/batch HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\
             content-type: application/json\r\ncontent-length: {len}\r\n\r\n",
            app.addr
        )
        .into_bytes();
        raw.extend(std::iter::repeat_n(b'[', len));
        raw
    };
    let reply = send_raw(app.addr, anonymous(16 << 20)).await;
    assert_eq!(reply.status, 403, "{}", short(&reply));
    let reply = send_raw(app.addr, anonymous((16 << 20) + 1)).await;
    assert_eq!(reply.status, 413, "{}", short(&reply));
    app.stop().await;
}

/// `/v1/events` through the indexes: another account's events that name
/// the same actor and target strings never show, and paging by target or
/// by actor, one at a time or more, returns each event exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trail_by_index_shows_only_this_accounts_events_once_each() {
    use iam_domain::command::Command;
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = arn("user/alice");
    let other: iam_domain::ids::AccountId = "210987654321".parse().unwrap();
    let forged = |n: usize| {
        let mut m = iam_domain::EventMetadata::system(&alice, format!("forged-{n}"));
        m.target = Some(alice.clone());
        m
    };
    app.state
        .projection
        .execute(
            &other,
            &Command::CreateAccount {
                account_id: other.clone(),
                now: chrono::Utc::now(),
            },
            &forged(0),
        )
        .await
        .unwrap();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    for i in 0..6 {
        let tag = format!("k{i}");
        root.ok(
            "TagUser",
            &[
                ("UserName", "alice"),
                ("Tags.member.1.Key", &tag),
                ("Tags.member.1.Value", "v"),
            ],
        )
        .await;
        // Interleaved: the other account's events naming alice too.
        app.state
            .projection
            .execute(
                &other,
                &Command::CreateUser {
                    user_name: iam_domain::names::UserName::parse(&format!("u{i}")).unwrap(),
                    path: None,
                    user_id: iam_domain::ids::UserId::parse(&format!("AIDAFORGED{i:0>11}"))
                        .unwrap(),
                    permissions_boundary: None,
                    tags: vec![],
                    now: chrono::Utc::now(),
                },
                &forged(i + 1),
            )
            .await
            .unwrap();
    }
    let all = body(&root.v1("GET", "/v1/events", "limit=1000", None).await);
    let expected: Vec<u64> = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == alice)
        .map(|e| e["position"].as_u64().unwrap())
        .collect();
    assert_eq!(expected.len(), 7, "{all}");
    assert!(all["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["stream"] != format!("account-{other}")
            && !e["stream"].as_str().unwrap().contains("210987654321")));
    for filter in [
        format!("target={}", enc(&alice)),
        format!("actor={}", enc(&alice)),
    ] {
        for limit in [1, 2, 3, 1000] {
            let (mut seen, mut after) = (Vec::new(), 0u64);
            for _ in 0..100 {
                let page = body(
                    &root
                        .v1(
                            "GET",
                            "/v1/events",
                            &format!("{filter}&limit={limit}&after={after}"),
                            None,
                        )
                        .await,
                );
                for e in page["events"].as_array().unwrap() {
                    assert!(
                        !e["stream"].as_str().unwrap().contains("210987654321"),
                        "{e}"
                    );
                    seen.push(e["position"].as_u64().unwrap());
                }
                match page["next"].as_u64() {
                    Some(n) => after = n,
                    None => break,
                }
            }
            match filter.starts_with("target") {
                true => assert_eq!(seen, expected, "{filter} limit {limit}"),
                // No event of this account is by alice (root did it all).
                false => assert_eq!(seen, Vec::<u64>::new(), "{filter} limit {limit}"),
            }
        }
    }
    // Nobody learns anything without iamd:ListEvents on the account.
    let nosy = self_asker(&root, "nosy").await;
    for query in [
        format!("target={}", enc(&alice)),
        format!("actor={}", enc(&alice)),
        "after=999999".to_owned(),
        "limit=0".to_owned(),
    ] {
        let reply = nosy.v1("GET", "/v1/events", &query, None).await;
        assert!(
            reply.status == 403 || reply.status == 400,
            "{query}: {}",
            short(&reply)
        );
        assert!(!reply.body.contains("alice"), "{}", short(&reply));
    }
    app.stop().await;
}

/// Access history's shortcuts (the replay starts just before the
/// principal's first targeted event; no decision is taken again while the
/// groups, the managed policies and the principal's own entity are the very
/// same) agree with a decision taken after every event, at that event's
/// time, through group membership, managed policy versions, a boundary
/// whose policy is edited, tags, a move away and back, a time condition
/// running out between events, deletion and re-creation under the same
/// name, and refusal records naming the principal before it exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_history_agrees_with_a_decision_after_every_event() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = arn("user/alice");
    // A refusal naming alice before she exists (anyone can record one).
    let nobody = self_asker(&root, "nobody").await;
    let start = head(&db).await + 1;
    let refused = nobody.call("GetUser", &[("UserName", "alice")]).await;
    assert_eq!(refused.status, 403, "{}", short(&refused));
    let doc = |effect: &str, action: &str| {
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": effect, "Action": action, "Resource": "*"}]})
        .to_string()
    };
    let read = arn("policy/read");
    let bound = arn("policy/bound");
    let steps: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("CreateUser", vec![("UserName", "alice".into())]),
        ("CreatePolicy", vec![("PolicyName", "read".into()), ("PolicyDocument", doc("Allow", "s3:GetObject"))]),
        ("CreatePolicy", vec![("PolicyName", "bound".into()), ("PolicyDocument", doc("Allow", "s3:*"))]),
        ("CreateGroup", vec![("GroupName", "readers".into())]),
        ("AttachGroupPolicy", vec![("GroupName", "readers".into()), ("PolicyArn", read.clone())]),
        ("AddUserToGroup", vec![("GroupName", "readers".into()), ("UserName", "alice".into())]),
        ("CreatePolicyVersion", vec![("PolicyArn", read.clone()), ("PolicyDocument", doc("Allow", "sqs:*")), ("SetAsDefault", "true".into())]),
        ("CreateUser", vec![("UserName", "bob".into())]),
        ("SetDefaultPolicyVersion", vec![("PolicyArn", read.clone()), ("VersionId", "v1".into())]),
        ("PutUserPermissionsBoundary", vec![("UserName", "alice".into()), ("PermissionsBoundary", bound.clone())]),
        ("CreatePolicyVersion", vec![("PolicyArn", bound.clone()), ("PolicyDocument", doc("Allow", "sqs:*")), ("SetAsDefault", "true".into())]),
        ("TagUser", vec![("UserName", "bob".into()), ("Tags.member.1.Key", "a".into()), ("Tags.member.1.Value", "b".into())]),
        ("CreatePolicyVersion", vec![("PolicyArn", bound.clone()), ("PolicyDocument", doc("Allow", "s3:*")), ("SetAsDefault", "true".into())]),
        ("PutUserPolicy", vec![("UserName", "alice".into()), ("PolicyName", "tagged".into()), ("PolicyDocument",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"x"}}}]}"#.into())]),
        ("TagUser", vec![("UserName", "alice".into()), ("Tags.member.1.Key", "team".into()), ("Tags.member.1.Value", "x".into())]),
        ("UntagUser", vec![("UserName", "alice".into()), ("TagKeys.member.1", "team".into())]),
        ("UpdateUser", vec![("UserName", "alice".into()), ("NewPath", "/moved/".into())]),
        ("CreateGroup", vec![("GroupName", "while-away".into())]),
        ("UpdateUser", vec![("UserName", "alice".into()), ("NewPath", "/".into())]),
    ];
    for (action, params) in &steps {
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        root.ok(action, &params).await;
    }
    // A deny that runs out between two events.
    let until = (chrono::Utc::now() + chrono::Duration::seconds(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let timed = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{{"DateLessThan":{{"aws:CurrentTime":"{until}"}}}}}}]}}"#
    );
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", "alice"),
            ("PolicyName", "timed"),
            ("PolicyDocument", &timed),
        ],
    )
    .await;
    root.ok("CreateGroup", &[("GroupName", "before-it-ends")])
        .await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    root.ok("CreateGroup", &[("GroupName", "after-it-ended")])
        .await;
    root.ok(
        "DeleteUserPolicy",
        &[("UserName", "alice"), ("PolicyName", "timed")],
    )
    .await;
    // Deleted and made again under the same name, then given access again.
    for (action, params) in [
        (
            "RemoveUserFromGroup",
            vec![("GroupName", "readers"), ("UserName", "alice")],
        ),
        (
            "DeleteUserPolicy",
            vec![("UserName", "alice"), ("PolicyName", "tagged")],
        ),
        ("DeleteUserPermissionsBoundary", vec![("UserName", "alice")]),
        ("DeleteUser", vec![("UserName", "alice")]),
        ("CreateGroup", vec![("GroupName", "while-gone")]),
        ("CreateUser", vec![("UserName", "alice")]),
        ("CreateGroup", vec![("GroupName", "after")]),
        (
            "AddUserToGroup",
            vec![("GroupName", "readers"), ("UserName", "alice")],
        ),
        (
            "CreatePolicyVersion",
            vec![
                ("PolicyArn", read.as_str()),
                (
                    "PolicyDocument",
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}"#,
                ),
                ("SetAsDefault", "true"),
            ],
        ),
        ("CreateUser", vec![("UserName", "carol")]),
    ] {
        root.ok(action, &params).await;
    }
    let end = position(&root.ok("GetUser", &[("UserName", "bob")]).await);

    let query = format!(
        "action=s3%3AGetObject&principal={}&resource={}",
        enc(&alice),
        enc("arn:aws:s3:::payroll/x")
    );
    let history = body(&root.v1("GET", "/v1/access-history", &query, None).await);
    let segments = history["segments"].as_array().unwrap().clone();
    // Each position's time, as stored (the trail shows whole seconds).
    let store = iam_event_store::open(db.url()).await.unwrap();
    let times: std::collections::BTreeMap<u64, String> = store
        .read_all(iam_event_store::Position(0), 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            let t = e
                .recorded_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            (e.position.0, t)
        })
        .collect();
    let (mut mismatches, mut compared) = (Vec::new(), 0);
    for p in start..=end {
        // At the event's own time: the log position recorded last by then
        // is this one (unless appended together with the next), and the
        // time conditions read is its own.
        let Some(as_of) = times.get(&p) else { continue };
        let ask = json!({"principal": alice, "action": "s3:GetObject",
            "resource": "arn:aws:s3:::payroll/x", "as_of": as_of});
        let reply = root.v1("POST", "/v1/authorize", "", Some(&ask)).await;
        let replayed = match reply.status {
            404 => Value::Null,
            _ => {
                let b = body(&reply);
                if b["position"] != p {
                    // Appended together with the next event (one instant).
                    continue;
                }
                b["decision"].clone()
            }
        };
        let segment = segments.iter().find(|s| {
            s["from"]["position"].as_u64().unwrap() <= p
                && s["to"]["position"].as_u64().is_none_or(|to| p < to)
        });
        let history_says = segment.map_or(Value::Null, |s| s["decision"].clone());
        compared += 1;
        if history_says != replayed {
            mismatches.push(format!(
                "position {p}: history {history_says}, replay {replayed}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}\n{history:#}");
    assert!(
        compared as u64 + 3 >= end - start,
        "{compared} of {}",
        end - start
    );
    // It went through every kind of change above.
    let decisions: Vec<&str> = segments
        .iter()
        .map(|s| s["decision"].as_str().unwrap())
        .collect();
    assert!(decisions.len() >= 8, "{decisions:?}");
    app.stop().await;
}

/// The past-view cache: a refused cut (beyond the node's position, a time
/// after now) leaves nothing behind, and a view is never served for a cut
/// it does not cover, whichever order the cuts are asked in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_views_are_never_served_for_another_cut() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let created = position(&root.ok("CreateUser", &[("UserName", "alice")]).await);
    let head = position(&root.ok("GetUser", &[("UserName", "alice")]).await);
    let ask = |as_of: Value| {
        json!({"principal": arn("user/alice"), "action": "s3:GetObject",
            "resource": "arn:aws:s3:::payroll/x", "as_of": as_of})
    };
    // Not yet there: refused, and nothing is remembered for them.
    let future = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc3339();
    for as_of in [
        json!(head + 1),
        json!(head + 2),
        json!(u64::MAX),
        json!(future),
    ] {
        let reply = root
            .v1("POST", "/v1/authorize", "", Some(&ask(as_of.clone())))
            .await;
        assert_eq!(reply.status, 400, "{as_of}: {}", short(&reply));
    }
    let granted = position(
        &root
            .ok(
                "PutUserPolicy",
                &[
                    ("UserName", "alice"),
                    ("PolicyName", "read"),
                    (
                        "PolicyDocument",
                        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
                    ),
                ],
            )
            .await,
    );
    assert!(granted > head);
    // Ask the later cut first, then cuts inside and outside what it covers.
    for (p, expected) in [
        (granted, "Allow"),
        (granted - 1, "ImplicitDeny"),
        (created, "ImplicitDeny"),
        (granted, "Allow"),
        (
            head + 1,
            if head + 1 >= granted {
                "Allow"
            } else {
                "ImplicitDeny"
            },
        ),
    ] {
        let reply = body(
            &root
                .v1("POST", "/v1/authorize", "", Some(&ask(json!(p))))
                .await,
        );
        assert_eq!(reply["decision"], expected, "at {p}: {reply}");
    }
    // The same view through the AWS API's reads.
    let then = root
        .call_with(
            "ListUserPolicies",
            &[("UserName", "alice")],
            &[("x-iamd-as-of", &(granted - 1).to_string())],
        )
        .await;
    assert_eq!(then.status, 200, "{}", short(&then));
    assert!(then.all("member").is_empty(), "{}", then.body);
    app.stop().await;
}

/// Credential reports from the log: generating again within four hours
/// records nothing (however often it is asked), the report is the view of
/// the moment it was generated (later users are not in it), a past moment
/// asked with `x-iamd-as-of` has that moment's report or none, and a caller
/// without the permission learns nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_reports_come_from_one_moment_and_do_not_flood_the_log() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let before = position(&root.ok("CreateUser", &[("UserName", "early")]).await);
    let reporter = user_with_policy(
        &root,
        "reporter",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GenerateCredentialReport","iam:GetCredentialReport"],"Resource":"*"}]}"#,
    )
    .await;
    let head = head(&db).await;
    for _ in 0..20 {
        reporter.ok("GenerateCredentialReport", &[]).await;
    }
    let generated = changes_since(&db, head).await;
    assert_eq!(
        generated
            .iter()
            .filter(|t| *t == "CredentialReportGenerated")
            .count(),
        1,
        "{generated:?}"
    );
    root.ok("CreateUser", &[("UserName", "late")]).await;
    let report = reporter.ok("GetCredentialReport", &[]).await;
    let csv = String::from_utf8(base64_decode(&report.tag("Content").unwrap())).unwrap();
    assert!(csv.contains("\nearly,"), "{csv}");
    assert!(!csv.contains("\nlate,"), "{csv}");
    // Before it was generated, there was no report.
    let then = reporter
        .call_with(
            "GetCredentialReport",
            &[],
            &[("x-iamd-as-of", &before.to_string())],
        )
        .await;
    assert_eq!(then.status, 410, "{}", short(&then));
    // Generating is a write: never at a past moment.
    let past = reporter
        .call_with(
            "GenerateCredentialReport",
            &[],
            &[("x-iamd-as-of", &before.to_string())],
        )
        .await;
    assert_eq!(past.status, 400, "{}", short(&past));
    // Without the permission: refused, nothing of the report.
    let nosy = self_asker(&root, "nosy").await;
    for action in ["GetCredentialReport", "GenerateCredentialReport"] {
        let reply = nosy.call(action, &[]).await;
        assert_eq!(reply.status, 403, "{action}: {}", short(&reply));
        assert!(!reply.body.contains("early"), "{}", short(&reply));
    }
    app.stop().await;
}
