//! iamd's own API (`/v1`) through the HTTP server: decisions now and at
//! past moments, the audit trail and its chain, and who may ask.

use iam_event_store::testing::TestDatabase;
use serde_json::{json, Value};

mod support;
use support::*;

fn body(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body)
        .unwrap_or_else(|e| panic!("{e}: {} {}", reply.status, reply.body))
}

fn position(reply: &Reply) -> u64 {
    reply
        .header(iam_api::app::POSITION_HEADER)
        .and_then(|p| p.parse().ok())
        .expect("a log position")
}

const READ_PAYROLL: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Payroll","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::payroll/*"}]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_now_and_at_past_moments() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let before = position(&root.ok("CreateUser", &[("UserName", "alice")]).await);
    let granted = position(
        &root
            .ok(
                "PutUserPolicy",
                &[
                    ("UserName", "alice"),
                    ("PolicyName", "payroll"),
                    ("PolicyDocument", READ_PAYROLL),
                ],
            )
            .await,
    );
    let ask = |as_of: Value| {
        json!({
            "principal": format!("arn:aws:iam::{ACCOUNT}:user/alice"),
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::payroll/march.csv",
            "context": {"aws:SourceIp": "10.0.0.1", "s3:prefix": ["a", "b"]},
            "as_of": as_of,
        })
    };
    let now = body(
        &root
            .v1("POST", "/v1/authorize", "", Some(&ask(Value::Null)))
            .await,
    );
    assert_eq!(now["decision"], "Allow", "{now}");
    assert_eq!(
        now["matched"],
        json!([{"policy": "user/alice/inline/payroll", "statement": 0, "sid": "Payroll", "effect": "Allow"}])
    );
    assert!(now["position"].as_u64().unwrap() >= granted);

    // Before the policy was put, at that position and as a number or text.
    for as_of in [json!(before), json!(before.to_string())] {
        let then = body(
            &root
                .v1("POST", "/v1/authorize", "", Some(&ask(as_of)))
                .await,
        );
        assert_eq!(then["decision"], "ImplicitDeny", "{then}");
        assert_eq!(then["position"], before);
        assert_eq!(then["matched"], json!([]));
    }
    // At the position of the grant itself, it holds.
    let at = body(
        &root
            .v1("POST", "/v1/authorize", "", Some(&ask(json!(granted))))
            .await,
    );
    assert_eq!(at["decision"], "Allow");
    // Before alice existed: no such principal.
    let unborn = root
        .v1("POST", "/v1/authorize", "", Some(&ask(json!(before - 1))))
        .await;
    assert_eq!(unborn.status, 404, "{}", unborn.body);
    assert_eq!(body(&unborn)["error"]["code"], "NoSuchEntity");
    // A time before the account's first event: the empty view.
    let far = root
        .v1(
            "POST",
            "/v1/authorize",
            "",
            Some(&ask(json!("2000-01-01T00:00:00Z"))),
        )
        .await;
    assert_eq!(far.status, 404, "{}", far.body);
    // The future has no view yet.
    let future = root
        .v1(
            "POST",
            "/v1/authorize",
            "",
            Some(&ask(json!(granted + 1000))),
        )
        .await;
    assert_eq!(future.status, 400, "{}", future.body);

    // An explicit deny wins, and names its statement.
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", "alice"),
            ("PolicyName", "no-office"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#,
            ),
        ],
    )
    .await;
    let denied = body(
        &root
            .v1("POST", "/v1/authorize", "", Some(&ask(Value::Null)))
            .await,
    );
    assert_eq!(denied["decision"], "ExplicitDeny", "{denied}");
    assert_eq!(
        denied["matched"][0]["policy"],
        "user/alice/inline/no-office"
    );
    assert_eq!(denied["matched"][0]["sid"], Value::Null);

    // By access key: the key's owner; an inactive key decides nothing.
    let key = root.ok("CreateAccessKey", &[("UserName", "alice")]).await;
    let key_id = key.tag("AccessKeyId").unwrap();
    let by_key = json!({"access_key_id": key_id, "action": "s3:GetObject", "resource": "arn:aws:s3:::payroll/x"});
    let reply = body(&root.v1("POST", "/v1/authorize", "", Some(&by_key)).await);
    assert_eq!(reply["decision"], "Allow", "{reply}");
    root.ok(
        "UpdateAccessKey",
        &[
            ("UserName", "alice"),
            ("AccessKeyId", &key_id),
            ("Status", "Inactive"),
        ],
    )
    .await;
    let reply = body(&root.v1("POST", "/v1/authorize", "", Some(&by_key)).await);
    assert_eq!(reply["decision"], "ImplicitDeny");
    assert!(
        reply["reason"].as_str().unwrap().contains("inactive"),
        "{reply}"
    );

    // A role is evaluated as a session of it; root may do everything.
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    root.ok(
        "CreateRole",
        &[("RoleName", "reader"), ("AssumeRolePolicyDocument", trust)],
    )
    .await;
    root.ok(
        "PutRolePolicy",
        &[
            ("RoleName", "reader"),
            ("PolicyName", "p"),
            ("PolicyDocument", READ_PAYROLL),
        ],
    )
    .await;
    let batch = json!({"requests": [
        {"principal": format!("arn:aws:iam::{ACCOUNT}:role/reader"), "action": "s3:GetObject", "resource": "arn:aws:s3:::payroll/a"},
        {"principal": format!("arn:aws:iam::{ACCOUNT}:role/reader"), "action": "s3:PutObject", "resource": "arn:aws:s3:::payroll/a"},
        {"principal": format!("arn:aws:iam::{ACCOUNT}:root"), "action": "s3:PutObject", "resource": "arn:aws:s3:::payroll/a"},
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
    assert_eq!(decisions, ["Allow", "ImplicitDeny", "Allow"], "{results}");
    app.stop().await;
}

/// No decision oracle: asking about a principal needs `iamd:Authorize` on
/// it, reading the trail `iamd:ListEvents` (and the rest) on the account's
/// root; anonymous and wrongly scoped calls are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_callers_allowed_to_ask_get_answers() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iamd:Authorize","Resource":"arn:aws:iam::{ACCOUNT}:user/alice"}}]}}"#
    );
    let auditor = user_with_policy(&root, "auditor", &policy).await;
    let about = |who: &str| json!({"principal": format!("arn:aws:iam::{ACCOUNT}:user/{who}"), "action": "s3:GetObject", "resource": "*"});
    let ok = auditor
        .v1("POST", "/v1/authorize", "", Some(&about("alice")))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let other = auditor
        .v1("POST", "/v1/authorize", "", Some(&about("auditor")))
        .await;
    assert_eq!(other.status, 403, "{}", other.body);
    assert_eq!(body(&other)["error"]["code"], "AccessDenied");
    assert!(body(&other)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("iamd:Authorize"));
    // A principal that does not exist is refused alike, not revealed.
    let ghost = auditor
        .v1("POST", "/v1/authorize", "", Some(&about("ghost")))
        .await;
    assert_eq!(ghost.status, 403, "{}", ghost.body);
    for (method, path) in [
        ("GET", "/v1/events"),
        ("GET", "/v1/events/1"),
        ("GET", "/v1/verify"),
    ] {
        let reply = auditor.v1(method, path, "", None).await;
        assert_eq!(reply.status, 403, "{path}: {}", reply.body);
    }
    // Signed for IAM, not for iamd: refused.
    let request = root.signed_post(
        "/v1/authorize",
        "application/json",
        &about("alice").to_string(),
        "iam",
        &[],
    );
    let wrong_scope = send_raw(app.addr, request).await;
    assert_eq!(wrong_scope.status, 403, "{}", wrong_scope.body);
    let anonymous = send_raw(
        app.addr,
        format!(
            "GET /v1/verify HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
            app.addr
        )
        .into_bytes(),
    )
    .await;
    assert_eq!(anonymous.status, 403, "{}", anonymous.body);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_trail_pages_filters_and_chains_and_holds_no_secret() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    let key = root.ok("CreateAccessKey", &[("UserName", "alice")]).await;
    let secret = key.tag("SecretAccessKey").unwrap();
    let alice = root.with_key(&key.tag("AccessKeyId").unwrap(), &secret);
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", "alice"),
            ("PolicyName", "p"),
            ("PolicyDocument", READ_PAYROLL),
        ],
    )
    .await;
    root.ok("CreateGroup", &[("GroupName", "devs")]).await;
    // A change alice makes herself is hers in the trail.
    let self_manage = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateGroup","Resource":"*"}]}"#;
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", "alice"),
            ("PolicyName", "g"),
            ("PolicyDocument", self_manage),
        ],
    )
    .await;
    alice.ok("CreateGroup", &[("GroupName", "hers")]).await;

    let all = body(&root.v1("GET", "/v1/events", "", None).await);
    let events = all["events"].as_array().unwrap();
    assert!(events.len() >= 7, "{all}");
    let positions: Vec<u64> = events
        .iter()
        .map(|e| e["position"].as_u64().unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "log order");
    assert!(
        !all.to_string().contains(&secret),
        "the trail holds no secret"
    );
    assert!(events.iter().all(|e| e["data"].get("secret").is_none()));
    assert_eq!(all["next"], Value::Null);

    let by_type = body(
        &root
            .v1("GET", "/v1/events", "type=GroupCreated", None)
            .await,
    );
    assert_eq!(by_type["events"].as_array().unwrap().len(), 2, "{by_type}");
    let alice_arn = format!("arn:aws:iam::{ACCOUNT}:user/alice");
    let query = format!(
        "actor={}",
        alice_arn.replace(':', "%3A").replace('/', "%2F")
    );
    let hers = body(&root.v1("GET", "/v1/events", &query, None).await);
    let hers = hers["events"].as_array().unwrap().clone();
    // Her change, and the record of her key's use that came with it.
    let types: Vec<&str> = hers.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["GroupCreated", "AccessKeyUsed"], "{hers:?}");
    assert_eq!(hers[0]["actor"]["arn"], alice_arn);
    assert!(hers[0]["actor"]["request_id"].is_string());

    // Paging: two at a time, in order, until `next` is null.
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = body(
            &root
                .v1("GET", "/v1/events", &format!("limit=2&after={after}"), None)
                .await,
        );
        for e in page["events"].as_array().unwrap() {
            seen.push(e["position"].as_u64().unwrap());
        }
        match page["next"].as_u64() {
            Some(n) => after = n,
            None => break,
        }
    }
    assert_eq!(seen, positions);
    let bad = root.v1("GET", "/v1/events", "limit=5000", None).await;
    assert_eq!(bad.status, 400, "{}", bad.body);

    // Each event links to the one before it.
    let mut previous = None;
    for p in &positions {
        let e = body(&root.v1("GET", &format!("/v1/events/{p}"), "", None).await);
        let e = &e["event"];
        if let Some(prev) = &previous {
            assert_eq!(&e["previous_hash"], prev, "{e}");
        }
        previous = Some(e["hash"].clone());
    }
    let missing = root.v1("GET", "/v1/events/999999", "", None).await;
    assert_eq!(missing.status, 404);

    let verify = body(&root.v1("GET", "/v1/verify", "", None).await);
    assert_eq!(verify["ok"], true, "{verify}");
    assert_eq!(verify["events"].as_u64(), positions.last().copied());
    assert_eq!(verify["head"], *previous.as_ref().unwrap());
    app.stop().await;
}
