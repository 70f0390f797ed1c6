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

/// A batch answers up to 10,000 questions, each exactly as a single
/// `/v1/authorize` answers it (the principal's tags included: the keys iamd
/// sets are shared by a batch's questions about one principal); 10,001
/// questions, or a body past the batch's 16 MiB, are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_answers_ten_thousand_questions_as_single_requests_do() {
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
    let by_tag = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Team","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::${aws:PrincipalTag/team}/*"},{"Sid":"NoSecrets","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::payroll/secret/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;
    for (name, doc) in [("read", READ_PAYROLL), ("team", by_tag)] {
        root.ok(
            "PutUserPolicy",
            &[
                ("UserName", "alice"),
                ("PolicyName", name),
                ("PolicyDocument", doc),
            ],
        )
        .await;
    }
    let alice = format!("arn:aws:iam::{ACCOUNT}:user/alice");
    let kinds = [
        json!({"principal": alice, "action": "s3:GetObject", "resource": "arn:aws:s3:::payroll/a"}),
        json!({"principal": alice, "action": "s3:PutObject", "resource": "arn:aws:s3:::payroll/a"}),
        json!({"principal": alice, "action": "s3:PutObject", "resource": "arn:aws:s3:::other/a"}),
        json!({"principal": alice, "action": "s3:GetObject", "resource": "arn:aws:s3:::payroll/secret/x", "context": {"aws:SourceIp": "10.1.2.3"}}),
        json!({"principal": alice, "action": "s3:GetObject", "resource": "arn:aws:s3:::payroll/secret/x", "context": {"aws:SourceIp": "192.0.2.1"}}),
        json!({"principal": format!("arn:aws:iam::{ACCOUNT}:root"), "action": "s3:DeleteBucket", "resource": "*"}),
    ];
    let mut single = Vec::new();
    for kind in &kinds {
        let reply = body(&root.v1("POST", "/v1/authorize", "", Some(kind)).await);
        single.push(json!({"decision": reply["decision"], "matched": reply["matched"]}));
    }
    let decisions: Vec<&str> = single
        .iter()
        .map(|d| d["decision"].as_str().unwrap())
        .collect();
    assert_eq!(
        decisions,
        [
            "Allow",
            "Allow",
            "ImplicitDeny",
            "ExplicitDeny",
            "Allow",
            "Allow"
        ],
        "{single:?}"
    );
    let requests: Vec<Value> = (0..10_000)
        .map(|i| kinds[i % kinds.len()].clone())
        .collect();
    let reply = root
        .v1(
            "POST",
            "/v1/authorize/batch",
            "",
            Some(&json!({"requests": requests})),
        )
        .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        &reply.body[..reply.body.len().min(500)]
    );
    let results = body(&reply);
    let results = results["results"].as_array().unwrap();
    assert_eq!(results.len(), 10_000);
    for (i, result) in results.iter().enumerate() {
        let expected = &single[i % kinds.len()];
        assert_eq!(result["decision"], expected["decision"], "question {i}");
        assert_eq!(result["matched"], expected["matched"], "question {i}");
    }

    let mut too_many = requests.clone();
    too_many.push(kinds[0].clone());
    let refused = root
        .v1(
            "POST",
            "/v1/authorize/batch",
            "",
            Some(&json!({"requests": too_many})),
        )
        .await;
    assert_eq!(
        refused.status,
        400,
        "{}",
        &refused.body[..refused.body.len().min(500)]
    );
    assert_eq!(body(&refused)["error"]["code"], "ValidationError");
    assert!(
        refused.body.contains("less than or equal to 10000"),
        "{}",
        refused.body
    );
    // Past the batch's body limit: refused before it is parsed.
    let padding = "x".repeat(17 << 20);
    let huge =
        json!({"requests": [{"principal": alice, "action": "s3:GetObject", "resource": padding}]});
    let refused = root
        .v1("POST", "/v1/authorize/batch", "", Some(&huge))
        .await;
    assert_eq!(
        refused.status,
        413,
        "{}",
        &refused.body[..refused.body.len().min(500)]
    );
    // Any other operation keeps the 1 MiB limit.
    let big =
        json!({"principal": alice, "action": "s3:GetObject", "resource": "x".repeat(2 << 20)});
    let refused = root.v1("POST", "/v1/authorize", "", Some(&big)).await;
    assert_eq!(
        refused.status,
        413,
        "{}",
        &refused.body[..refused.body.len().min(500)]
    );
    app.stop().await;
}

/// A log position's moment is when its event was recorded: a time
/// condition is judged then by `/v1/authorize` as by access history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_position_is_judged_at_the_time_its_event_was_recorded() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    let from = (chrono::Utc::now() + chrono::Duration::seconds(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let later = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{{"DateGreaterThan":{{"aws:CurrentTime":"{from}"}}}}}}]}}"#
    );
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", "alice"),
            ("PolicyName", "later"),
            ("PolicyDocument", &later),
        ],
    )
    .await;
    let put = body(
        &root
            .v1("GET", "/v1/events", "type=InlinePolicyPut", None)
            .await,
    )["events"][0]["position"]
        .as_u64()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(3_100)).await;
    root.ok("CreateUser", &[("UserName", "bob")]).await;
    let after = body(&root.v1("GET", "/v1/events", "type=UserCreated", None).await)["events"][1]
        ["position"]
        .as_u64()
        .unwrap();
    let alice = format!("arn:aws:iam::{ACCOUNT}:user/alice");
    let at = |position: u64| json!({"principal": alice, "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k", "as_of": position});
    let then = body(&root.v1("POST", "/v1/authorize", "", Some(&at(put))).await);
    assert_eq!(then["decision"], "ImplicitDeny", "{then}");
    let since = body(&root.v1("POST", "/v1/authorize", "", Some(&at(after))).await);
    assert_eq!(since["decision"], "Allow", "{since}");
    let query = format!(
        "action=s3%3AGetObject&principal={}&resource=arn%3Aaws%3As3%3A%3A%3Ab%2Fk",
        alice.replace(':', "%3A").replace('/', "%2F")
    );
    let history = body(&root.v1("GET", "/v1/access-history", &query, None).await);
    let segments: Vec<(&str, u64)> = history["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["decision"].as_str().unwrap(),
                s["from"]["position"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        segments,
        [("ImplicitDeny", put - 1), ("Allow", after)],
        "{history}"
    );
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
    // Her change, and the records that came with it: her use of IAM (the
    // access advisor's) and of her key.
    let types: Vec<&str> = hers.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["GroupCreated", "ServiceAccessed", "AccessKeyUsed"],
        "{hers:?}"
    );
    assert_eq!(hers[0]["actor"]["arn"], alice_arn);
    assert!(hers[0]["actor"]["request_id"].is_string());

    // By target (read through the log's index): exactly the trail's events
    // that name alice as their target, alike when paged one at a time.
    let about_alice: Vec<u64> = events
        .iter()
        .filter(|e| e["target"] == alice_arn)
        .map(|e| e["position"].as_u64().unwrap())
        .collect();
    assert!(about_alice.len() >= 3, "{all}");
    let target = alice_arn.replace(':', "%3A").replace('/', "%2F");
    let (mut paged, mut after) = (Vec::new(), 0);
    loop {
        let page = body(
            &root
                .v1(
                    "GET",
                    "/v1/events",
                    &format!("after={after}&limit=1&target={target}"),
                    None,
                )
                .await,
        );
        let got = page["events"].as_array().unwrap();
        assert!(got.len() <= 1, "{page}");
        paged.extend(got.iter().map(|e| e["position"].as_u64().unwrap()));
        match page["next"].as_u64() {
            Some(n) => after = n,
            None => break,
        }
    }
    assert_eq!(paged, about_alice);
    // Target and type together; a target nobody touched has no events.
    let created = body(
        &root
            .v1(
                "GET",
                "/v1/events",
                &format!("target={target}&type=UserCreated"),
                None,
            )
            .await,
    );
    assert_eq!(created["events"].as_array().unwrap().len(), 1, "{created}");
    assert_eq!(created["next"], Value::Null);
    let nobody = body(
        &root
            .v1(
                "GET",
                "/v1/events",
                "target=arn%3Aaws%3Aiam%3A%3A1%3Auser%2Fx",
                None,
            )
            .await,
    );
    assert_eq!(nobody["events"], json!([]), "{nobody}");
    assert_eq!(nobody["next"], Value::Null);

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

/// Every read of the AWS API answers at a past moment with `x-iamd-as-of`
/// (a log position or an RFC 3339 time); a write with it is refused; who
/// may read is decided by today's policies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_reads_answer_at_a_past_moment() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let empty = position(&root.ok("ListUsers", &[]).await);
    let created = position(&root.ok("CreateUser", &[("UserName", "alice")]).await);
    root.ok(
        "CreatePolicy",
        &[("PolicyName", "readers"), ("PolicyDocument", READ_PAYROLL)],
    )
    .await;
    let arn = format!("arn:aws:iam::{ACCOUNT}:policy/readers");
    let attached = position(
        &root
            .ok(
                "AttachUserPolicy",
                &[("UserName", "alice"), ("PolicyArn", &arn)],
            )
            .await,
    );
    root.ok(
        "TagUser",
        &[
            ("UserName", "alice"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
        ],
    )
    .await;
    root.ok(
        "DetachUserPolicy",
        &[("UserName", "alice"), ("PolicyArn", &arn)],
    )
    .await;

    let at = |p: u64| p.to_string();
    let then = root
        .call_with("ListUsers", &[], &[("x-iamd-as-of", &at(empty))])
        .await;
    assert_eq!(then.status, 200, "{}", then.body);
    assert!(!then.body.contains("alice"), "{}", then.body);
    assert_eq!(position(&then), empty);
    let then = root
        .call_with(
            "GetUser",
            &[("UserName", "alice")],
            &[("x-iamd-as-of", &at(created))],
        )
        .await;
    assert_eq!(then.tag("UserName").as_deref(), Some("alice"));
    assert!(
        !then.body.contains("<Tags>"),
        "not tagged yet: {}",
        then.body
    );
    let now = root.ok("GetUser", &[("UserName", "alice")]).await;
    assert!(now.body.contains("<Tags>"));
    let list = |p: u64| {
        let p = at(p);
        let root = root.clone();
        async move {
            root.call_with(
                "ListAttachedUserPolicies",
                &[("UserName", "alice")],
                &[("x-iamd-as-of", &p)],
            )
            .await
        }
    };
    assert!(list(attached)
        .await
        .body
        .contains("<PolicyName>readers</PolicyName>"));
    assert!(!list(created).await.body.contains("readers"));
    assert!(!root
        .ok("ListAttachedUserPolicies", &[("UserName", "alice")])
        .await
        .body
        .contains("readers"));
    // A time works as a position does.
    let long_ago = root
        .call_with(
            "ListUsers",
            &[],
            &[("x-iamd-as-of", "2000-01-01T00:00:00Z")],
        )
        .await;
    assert_eq!(long_ago.status, 200, "{}", long_ago.body);
    assert!(!long_ago.body.contains("alice"));

    // Writes, iamd's own API and nonsense are refused.
    let write = root
        .call_with(
            "CreateUser",
            &[("UserName", "bob")],
            &[("x-iamd-as-of", &at(created))],
        )
        .await;
    assert_eq!(write.status, 400, "{}", write.body);
    assert_eq!(write.error_code().as_deref(), Some("ValidationError"));
    let bob = root.call("GetUser", &[("UserName", "bob")]).await;
    assert_eq!(bob.status, 404, "the refused write wrote nothing");
    let nonsense = root
        .call_with("ListUsers", &[], &[("x-iamd-as-of", "yesterday")])
        .await;
    assert_eq!(nonsense.status, 400);
    let future = root
        .call_with("ListUsers", &[], &[("x-iamd-as-of", "999999")])
        .await;
    assert_eq!(future.status, 400);

    // Today's policies decide who reads the past: a user allowed ListUsers
    // now reads it as it was; one denied now cannot.
    let allowed = user_with_policy(
        &root,
        "reader",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}"#,
    )
    .await;
    let reply = allowed
        .call_with("ListUsers", &[], &[("x-iamd-as-of", &at(created))])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let denied = user_with_policy(
        &root,
        "denied",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#,
    )
    .await;
    let reply = denied
        .call_with("ListUsers", &[], &[("x-iamd-as-of", &at(created))])
        .await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    app.stop().await;
}

/// The attacks of the fourth hostile review, each refused: the batch
/// endpoint does not skip `iamd:Authorize`; refusals do not reveal a key's
/// owner or a user's path; only an exact ARN names a principal; `context`
/// cannot claim another principal or time; `as_of` is not replayed for a
/// caller who may not ask, nor taken from the future.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_decision_point_is_no_oracle() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "bob"), ("Path", "/secret/")])
        .await;
    let key = root.ok("CreateAccessKey", &[("UserName", "bob")]).await;
    let bob_key = key.tag("AccessKeyId").unwrap();
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", "bob"),
            ("PolicyName", "s3"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Sid":"OnlyAsAdmin","Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/Admin"}}}]}"#,
            ),
        ],
    )
    .await;
    let dave_policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Action":"iamd:*","Resource":"*"}},
            {{"Effect":"Deny","Action":"iamd:Authorize","Resource":"arn:aws:iam::{ACCOUNT}:user/secret/*"}}]}}"#
    );
    let dave = user_with_policy(&root, "dave", &dave_policy).await;
    let bob = format!("arn:aws:iam::{ACCOUNT}:user/secret/bob");
    let about = json!({"principal": bob, "action": "s3:GetObject", "resource": "*"});
    let single = dave.v1("POST", "/v1/authorize", "", Some(&about)).await;
    assert_eq!(single.status, 403, "{}", single.body);
    let batch = dave
        .v1(
            "POST",
            "/v1/authorize/batch",
            "",
            Some(&json!({"requests": [about]})),
        )
        .await;
    assert_eq!(
        batch.status, 403,
        "the batch checks iamd:Authorize: {}",
        batch.body
    );

    let mallory = user_with_policy(
        &root,
        "mallory",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}"#,
    )
    .await;
    // By key: refused on user/*, whoever owns it.
    let by_key = mallory
        .v1(
            "POST",
            "/v1/authorize",
            "",
            Some(&json!({"access_key_id": bob_key, "action": "s3:GetObject", "resource": "*"})),
        )
        .await;
    assert_eq!(by_key.status, 403);
    assert!(!by_key.body.contains("secret"), "{}", by_key.body);
    assert!(
        by_key
            .body
            .contains(&format!("arn:aws:iam::{ACCOUNT}:user/*")),
        "{}",
        by_key.body
    );
    // By a path-less ARN: the refusal names what was asked, not bob's path.
    let pathless = json!({"principal": format!("arn:aws:iam::{ACCOUNT}:user/bob"), "action": "s3:GetObject", "resource": "*"});
    let reply = mallory
        .v1("POST", "/v1/authorize", "", Some(&pathless))
        .await;
    assert_eq!(reply.status, 403);
    assert!(!reply.body.contains("secret"), "{}", reply.body);
    // Even a caller allowed to ask: another path or spelling is nobody.
    for wrong in ["user/bob", "user/secret/BOB", "user/public/bob"] {
        let ask = json!({"principal": format!("arn:aws:iam::{ACCOUNT}:{wrong}"), "action": "s3:GetObject", "resource": "*"});
        let reply = root.v1("POST", "/v1/authorize", "", Some(&ask)).await;
        assert_eq!(reply.status, 404, "{wrong}: {}", reply.body);
    }
    // The principal's own keys come from iamd, never from the request.
    let claim = json!({"principal": bob, "action": "s3:PutObject", "resource": "*",
        "context": {"aws:PrincipalArn": format!("arn:aws:iam::{ACCOUNT}:role/Admin")}});
    let reply = root.v1("POST", "/v1/authorize", "", Some(&claim)).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    for key in [
        "aws:CurrentTime",
        "AWS:PrincipalTag/team",
        "aws:userid",
        "aws:username",
    ] {
        let claim = json!({"principal": bob, "action": "s3:PutObject", "resource": "*", "context": {key: "x"}});
        let reply = root.v1("POST", "/v1/authorize", "", Some(&claim)).await;
        assert_eq!(reply.status, 400, "{key}: {}", reply.body);
    }
    let honest = json!({"principal": bob, "action": "s3:PutObject", "resource": "*"});
    assert_eq!(
        body(&root.v1("POST", "/v1/authorize", "", Some(&honest)).await)["decision"],
        "ImplicitDeny"
    );
    // No future, and no replay for a caller who may not ask.
    let future = json!({"principal": bob, "action": "s3:GetObject", "resource": "*", "as_of": "2200-01-01T00:00:00Z"});
    assert_eq!(
        root.v1("POST", "/v1/authorize", "", Some(&future))
            .await
            .status,
        400
    );
    let far = json!({"principal": bob, "action": "s3:GetObject", "resource": "*", "as_of": 999999});
    let reply = mallory.v1("POST", "/v1/authorize", "", Some(&far)).await;
    assert_eq!(
        reply.status, 403,
        "refused before as_of is read: {}",
        reply.body
    );
    // Unknown /v1 paths answer in JSON.
    let unknown = root.v1("GET", "/v1/nothing", "", None).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(body(&unknown)["error"]["code"], "NotFound");
    app.stop().await;
}

/// A refused, authenticated request is in the trail (type `AccessDenied`,
/// with its action, target and caller) and changes nothing; repeats are
/// folded; every change names its action and target; the trail filters on
/// them and on the outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_in_the_trail_without_flooding_it() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "victim")]).await;
    let mallory = user_with_policy(
        &root,
        "mallory",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}"#,
    )
    .await;
    let before = body(&root.v1("GET", "/v1/verify", "", None).await)["events"]
        .as_u64()
        .unwrap();
    for _ in 0..5 {
        let reply = mallory.call("DeleteUser", &[("UserName", "victim")]).await;
        assert_eq!(reply.status, 403);
    }
    assert_eq!(
        root.ok("GetUser", &[("UserName", "victim")]).await.status,
        200
    );
    let denied = body(&root.v1("GET", "/v1/events", "outcome=denied", None).await);
    let denied = denied["events"].as_array().unwrap().clone();
    assert_eq!(denied.len(), 1, "five refusals, one record: {denied:?}");
    let victim = format!("arn:aws:iam::{ACCOUNT}:user/victim");
    assert_eq!(denied[0]["type"], "AccessDenied");
    assert_eq!(denied[0]["action"], "iam:DeleteUser");
    assert_eq!(denied[0]["target"], victim);
    assert_eq!(
        denied[0]["actor"]["arn"],
        format!("arn:aws:iam::{ACCOUNT}:user/mallory")
    );
    // Refusals beyond the caller's limit are counted on the next record.
    for i in 0..40 {
        mallory
            .call("DeleteUser", &[("UserName", &format!("nobody{i}"))])
            .await;
    }
    let after = body(&root.v1("GET", "/v1/verify", "", None).await)["events"]
        .as_u64()
        .unwrap();
    assert!(
        after - before <= 1 + 20 + 2,
        "{} records for 45 refusals",
        after - before
    );

    let changed = body(&root.v1("GET", "/v1/events", "outcome=changed", None).await);
    let changed = changed["events"].as_array().unwrap();
    assert!(changed.iter().all(|e| e["type"] != "AccessDenied"));
    let create = changed.iter().find(|e| e["type"] == "UserCreated").unwrap();
    assert_eq!(create["action"], "iam:CreateUser");
    assert_eq!(create["target"], victim);
    let query = format!("target={}", victim.replace(':', "%3A").replace('/', "%2F"));
    let about = body(&root.v1("GET", "/v1/events", &query, None).await);
    let types: Vec<&str> = about["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["UserCreated", "AccessDenied"], "{about}");
    app.stop().await;
}

/// A history — creation, a group's policy through membership, a managed
/// policy attached and detached, a boundary, a key deactivated — answered
/// at every position by `/v1/authorize` (a replay to that position) and by
/// `/v1/access-history`'s segments alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_history_agrees_with_a_replay_at_every_position() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let start = position(&root.ok("CreateUser", &[("UserName", "alice")]).await);
    root.ok("CreateGroup", &[("GroupName", "readers")]).await;
    root.ok(
        "PutGroupPolicy",
        &[
            ("GroupName", "readers"),
            ("PolicyName", "read"),
            ("PolicyDocument", READ_PAYROLL),
        ],
    )
    .await;
    root.ok(
        "AddUserToGroup",
        &[("GroupName", "readers"), ("UserName", "alice")],
    )
    .await;
    root.ok(
        "CreatePolicy",
        &[
            ("PolicyName", "nothing"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}"#,
            ),
        ],
    )
    .await;
    let boundary = format!("arn:aws:iam::{ACCOUNT}:policy/nothing");
    root.ok(
        "PutUserPermissionsBoundary",
        &[("UserName", "alice"), ("PermissionsBoundary", &boundary)],
    )
    .await;
    root.ok("DeleteUserPermissionsBoundary", &[("UserName", "alice")])
        .await;
    root.ok(
        "RemoveUserFromGroup",
        &[("GroupName", "readers"), ("UserName", "alice")],
    )
    .await;
    let end = position(&root.ok("GetUser", &[("UserName", "alice")]).await);

    let principal = format!("arn:aws:iam::{ACCOUNT}:user/alice");
    let query = format!(
        "action=s3%3AGetObject&principal={}&resource=arn%3Aaws%3As3%3A%3A%3Apayroll%2Fx",
        principal.replace(':', "%3A").replace('/', "%2F")
    );
    let history = body(&root.v1("GET", "/v1/access-history", &query, None).await);
    let segments = history["segments"].as_array().unwrap().clone();
    let decisions: Vec<&str> = segments
        .iter()
        .map(|s| s["decision"].as_str().unwrap())
        .collect();
    // Created: no access; in the group: allowed; bounded: not; unbounded:
    // allowed; out of the group: not.
    assert_eq!(
        decisions,
        [
            "ImplicitDeny",
            "Allow",
            "ImplicitDeny",
            "Allow",
            "ImplicitDeny"
        ],
        "{history}"
    );
    assert_eq!(segments[0]["from"]["position"], start);
    assert_eq!(segments[1]["from"]["type"], "UserAddedToGroup");
    assert!(segments.last().unwrap()["to"].is_null());
    for p in start..=end {
        let ask = json!({"principal": principal, "action": "s3:GetObject",
            "resource": "arn:aws:s3:::payroll/x", "as_of": p});
        let replayed = body(&root.v1("POST", "/v1/authorize", "", Some(&ask)).await);
        let segment = segments
            .iter()
            .find(|s| {
                s["from"]["position"].as_u64().unwrap() <= p
                    && s["to"]["position"].as_u64().is_none_or(|to| p < to)
            })
            .unwrap_or_else(|| panic!("position {p} is in no segment: {history}"));
        assert_eq!(replayed["decision"], segment["decision"], "at position {p}");
    }

    // The view at a position, as `iamd replay` prints it.
    let view = body(
        &root
            .v1("GET", "/v1/view", &format!("as_of={start}"), None)
            .await,
    );
    assert_eq!(view["position"], start);
    assert!(view["view"].to_string().contains("alice"), "{view}");
    assert!(
        !view["view"].to_string().contains("readers"),
        "not yet: {view}"
    );
    // Who may ask: iamd:GetAccessHistory on the principal.
    let nobody = user_with_policy(
        &root,
        "nobody",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iamd:Authorize","Resource":"*"}]}"#,
    )
    .await;
    assert_eq!(
        nobody
            .v1("GET", "/v1/access-history", &query, None)
            .await
            .status,
        403
    );
    assert_eq!(nobody.v1("GET", "/v1/view", "", None).await.status, 403);
    app.stop().await;
}

/// `/v1/diff`: the statements a principal gained and lost between two
/// moments, and the events in between that changed them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_diff_between_two_moments() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let created = position(&root.ok("CreateUser", &[("UserName", "alice")]).await);
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", "alice"),
            ("PolicyName", "old"),
            ("PolicyDocument", READ_PAYROLL),
        ],
    )
    .await;
    let from = position(&root.ok("CreateGroup", &[("GroupName", "ops")]).await);
    root.ok(
        "PutGroupPolicy",
        &[
            ("GroupName", "ops"),
            ("PolicyName", "sqs"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:SendMessage"],"Resource":"*"}]}"#,
            ),
        ],
    )
    .await;
    let joined = position(
        &root
            .ok(
                "AddUserToGroup",
                &[("GroupName", "ops"), ("UserName", "alice")],
            )
            .await,
    );
    let dropped = position(
        &root
            .ok(
                "DeleteUserPolicy",
                &[("UserName", "alice"), ("PolicyName", "old")],
            )
            .await,
    );
    let principal = format!("arn:aws:iam::{ACCOUNT}:user/alice")
        .replace(':', "%3A")
        .replace('/', "%2F");
    let diff = body(
        &root
            .v1(
                "GET",
                "/v1/diff",
                &format!("from={from}&principal={principal}"),
                None,
            )
            .await,
    );
    assert_eq!(diff["from"], from);
    assert_eq!(
        diff["statements"]["added"],
        json!([{"policy": "group/ops/inline/sqs", "effect": "Allow", "action": ["sqs:SendMessage"], "resource": "*"}]),
        "{diff}"
    );
    assert_eq!(
        diff["statements"]["removed"],
        json!([{"policy": "user/alice/inline/old", "effect": "Allow", "action": "s3:GetObject", "resource": "arn:aws:s3:::payroll/*"}]),
        "{diff}"
    );
    let positions: Vec<u64> = diff["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["position"].as_u64().unwrap())
        .collect();
    // The group's policy changed nothing for alice until she joined.
    assert_eq!(positions, [joined, dropped], "{diff}");
    // From before she existed: everything she has is added.
    let since_birth = body(
        &root
            .v1(
                "GET",
                "/v1/diff",
                &format!("from={}&principal={principal}", created - 1),
                None,
            )
            .await,
    );
    assert_eq!(since_birth["statements"]["removed"], json!([]));
    assert_eq!(
        since_birth["statements"]["added"].as_array().unwrap().len(),
        1
    );
    let backwards = root
        .v1(
            "GET",
            "/v1/diff",
            &format!("from={dropped}&principal={principal}&to={from}"),
            None,
        )
        .await;
    assert_eq!(backwards.status, 400);
    app.stop().await;
}

/// `/v1/openapi.json` describes every route of `/v1`, from the same model
/// the server's shapes come from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_route() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let reply = send_raw(
        app.addr,
        format!(
            "GET /v1/openapi.json HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
            app.addr
        )
        .into_bytes(),
    )
    .await;
    assert_eq!(reply.status, 200);
    let doc = body(&reply);
    assert_eq!(doc["openapi"], "3.1.0");
    let ops = iam_wire::Service::Iamd.operations();
    let mut documented = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let spec = ops
                .iter()
                .find(|s| s.path == path && s.method.eq_ignore_ascii_case(method))
                .unwrap_or_else(|| panic!("{method} {path} is not a route"));
            assert_eq!(op["operationId"], spec.name);
            documented += 1;
            // Every schema it refers to is in the document.
            for r in op.to_string().split("#/components/schemas/").skip(1) {
                let name = r.split('"').next().unwrap();
                assert!(doc["components"]["schemas"].get(name).is_some(), "{name}");
            }
        }
    }
    assert_eq!(documented, ops.len());
    app.stop().await;
}

/// The audit commands of the CLI answer what the HTTP API answers: they
/// run the same operations over the same log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_commands_answer_as_the_api_does() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
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
    let principal = format!("arn:aws:iam::{ACCOUNT}:user/alice");
    let ask = json!({"principal": principal, "action": "s3:GetObject", "resource": "arn:aws:s3:::payroll/x", "as_of": granted - 1});
    let over_http = body(&root.v1("POST", "/v1/authorize", "", Some(&ask)).await);
    let events_http = body(&root.v1("GET", "/v1/events", "", None).await);
    let iamd = |args: &[&str]| {
        let bin = std::env::var("IAMD_TEST_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_iamd").to_owned());
        let out = std::process::Command::new(bin)
            .args(args)
            .args([
                "--database-url",
                db.url(),
                "--data-dir",
                "/nonexistent-iamd-test",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let by_cli = iamd(&[
        "authorize",
        "--principal",
        &principal,
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::payroll/x",
        "--as-of",
        &(granted - 1).to_string(),
    ]);
    assert_eq!(by_cli, over_http);
    assert_eq!(by_cli["decision"], "ImplicitDeny");
    let events = iamd(&["events"]);
    assert_eq!(
        events["events"].as_array().unwrap().len(),
        events_http["events"].as_array().unwrap().len()
    );
    let history = iamd(&[
        "access-history",
        "--principal",
        &principal,
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::payroll/x",
    ]);
    assert_eq!(
        history["segments"].as_array().unwrap().len(),
        2,
        "{history}"
    );
    let diff = iamd(&["diff", "--principal", &principal, "--from", "1"]);
    assert_eq!(
        diff["statements"]["added"][0]["policy"],
        "user/alice/inline/payroll"
    );
    app.stop().await;
}

/// The attacks of the fifth hostile review: a read of the past is denied
/// where a deny holds on the entity today (moved under a denied path,
/// tagged since); GetCallerIdentity takes no moment (it would tell anyone
/// the log position of any time); the simulator weighs a bounded number of
/// pairs; what a caller writes into a refusal's record is bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_past_is_read_under_todays_denies() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "victim")]).await;
    let then = position(
        &root
            .ok(
                "PutUserPolicy",
                &[
                    ("UserName", "victim"),
                    ("PolicyName", "secret-doc"),
                    ("PolicyDocument", READ_PAYROLL),
                ],
            )
            .await,
    );
    root.ok(
        "UpdateUser",
        &[("UserName", "victim"), ("NewPath", "/secret/")],
    )
    .await;
    root.ok("CreateUser", &[("UserName", "tagged")]).await;
    let before_tag = position(&root.ok("GetUser", &[("UserName", "tagged")]).await);
    root.ok(
        "TagUser",
        &[
            ("UserName", "tagged"),
            ("Tags.member.1.Key", "classified"),
            ("Tags.member.1.Value", "true"),
        ],
    )
    .await;
    let mallory = user_with_policy(
        &root,
        "mallory",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Action":["iam:Get*","iam:List*","iam:Simulate*"],"Resource":"*"}},
            {{"Effect":"Deny","Action":"iam:*","Resource":"arn:aws:iam::{ACCOUNT}:user/secret/*"}},
            {{"Effect":"Deny","Action":"iam:*","Resource":"*","Condition":{{"StringEquals":{{"iam:ResourceTag/classified":"true"}}}}}}]}}"#
        ),
    )
    .await;
    let past = |p: u64| p.to_string();
    let moved = mallory
        .call_with(
            "GetUserPolicy",
            &[("UserName", "victim"), ("PolicyName", "secret-doc")],
            &[("x-iamd-as-of", &past(then))],
        )
        .await;
    assert_eq!(moved.status, 403, "{}", moved.body);
    let tagged = mallory
        .call_with(
            "GetUser",
            &[("UserName", "tagged")],
            &[("x-iamd-as-of", &past(before_tag))],
        )
        .await;
    assert_eq!(tagged.status, 403, "{}", tagged.body);
    // Allowed today and then: read as it was.
    let own = mallory
        .call_with("GetUser", &[("UserName", "mallory")], &[])
        .await;
    assert_eq!(own.status, 200);

    let identity = mallory
        .call_with(
            "GetCallerIdentity",
            &[],
            &[("x-iamd-as-of", "2000-01-01T00:00:00Z")],
        )
        .await;
    assert_eq!(identity.status, 400, "{}", identity.body);
    assert!(identity.header(iam_api::app::POSITION_HEADER).is_none());
    let future = root
        .call_with(
            "ListUsers",
            &[],
            &[("x-iamd-as-of", "2200-01-01T00:00:00Z")],
        )
        .await;
    assert_eq!(future.status, 400, "{}", future.body);

    let mut params = vec![(
        "PolicyInputList.member.1".to_owned(),
        READ_PAYROLL.to_owned(),
    )];
    for i in 1..=40 {
        params.push((format!("ActionNames.member.{i}"), format!("s3:Action{i}")));
        params.push((
            format!("ResourceArns.member.{i}"),
            format!("arn:aws:s3:::b{i}"),
        ));
    }
    let params: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let too_many = mallory.call("SimulateCustomPolicy", &params).await;
    assert_eq!(
        too_many.error_code().as_deref(),
        Some("InvalidInput"),
        "{}",
        too_many.body
    );

    let long_agent = "x".repeat(20_000);
    mallory
        .call_with(
            "DeleteUser",
            &[("UserName", "victim")],
            &[("user-agent", &long_agent)],
        )
        .await;
    let denied = body(&root.v1("GET", "/v1/events", "outcome=denied", None).await);
    let agent = denied["events"][0]["actor"]["user_agent"]
        .as_str()
        .unwrap_or_default();
    assert!(agent.len() <= 256, "{} bytes", agent.len());
    app.stop().await;
}

/// A decision about now is an attempt by the principal asked about: the
/// access advisor reports it (User Guide: service last accessed data counts
/// every attempt, allowed or not), written once per interval, never for a
/// question about the past.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_about_now_feed_the_access_advisor_once_per_interval() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", "alice"),
            ("PolicyName", "payroll"),
            ("PolicyDocument", READ_PAYROLL),
        ],
    )
    .await;
    let ask = |action: &str, as_of: Value| {
        json!({
            "principal": format!("arn:aws:iam::{ACCOUNT}:user/alice"),
            "action": action,
            "resource": "arn:aws:s3:::payroll/march.csv",
            "as_of": as_of,
        })
    };
    let past = head(&db).await;
    let asked = body(
        &root
            .v1(
                "POST",
                "/v1/authorize",
                "",
                Some(&ask("s3:GetObject", json!(past))),
            )
            .await,
    );
    assert_eq!(asked["decision"], "Allow", "{asked}");
    assert_eq!(
        head(&db).await,
        past,
        "a question about the past writes nothing"
    );
    for action in ["s3:GetObject", "s3:PutObject"] {
        let now = body(
            &root
                .v1("POST", "/v1/authorize", "", Some(&ask(action, Value::Null)))
                .await,
        );
        assert!(now["decision"].is_string(), "{now}");
    }
    let recorded = head(&db).await;
    assert_eq!(recorded, past + 2, "one record per action");
    root.v1(
        "POST",
        "/v1/authorize",
        "",
        Some(&ask("s3:GetObject", Value::Null)),
    )
    .await;
    assert_eq!(
        head(&db).await,
        recorded,
        "the same use again within the interval"
    );

    let job = root
        .ok(
            "GenerateServiceLastAccessedDetails",
            &[
                ("Arn", &format!("arn:aws:iam::{ACCOUNT}:user/alice")),
                ("Granularity", "ACTION_LEVEL"),
            ],
        )
        .await
        .tag("JobId")
        .expect("a job id");
    let report = root
        .ok("GetServiceLastAccessedDetails", &[("JobId", &job)])
        .await;
    assert_eq!(report.all("ServiceNamespace"), ["s3"]);
    assert_eq!(report.all("ActionName"), ["GetObject", "PutObject"]);
    assert_eq!(
        report.tag("LastAuthenticatedEntity").as_deref(),
        Some(format!("arn:aws:iam::{ACCOUNT}:user/alice").as_str())
    );
    app.stop().await;
}

/// A server certificate's private key and a service-specific credential's
/// password are sealed in the log, and the trail drops even the sealed
/// form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trail_holds_no_private_key_nor_service_password() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let key = include_str!("data/x509/ec-pkcs8.pem");
    root.ok(
        "UploadServerCertificate",
        &[
            ("ServerCertificateName", "web"),
            ("CertificateBody", include_str!("data/x509/ec-cert.pem")),
            ("PrivateKey", key),
        ],
    )
    .await;
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    let credential = root
        .ok(
            "CreateServiceSpecificCredential",
            &[
                ("UserName", "alice"),
                ("ServiceName", "codecommit.amazonaws.com"),
            ],
        )
        .await;
    let password = credential.tag("ServicePassword").expect("a password");
    let all = body(&root.v1("GET", "/v1/events", "", None).await);
    let text = all.to_string();
    let key_body: String = key.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(!text.contains(&key_body[..40]), "no private key");
    assert!(!text.contains(&password), "no password");
    for e in all["events"].as_array().unwrap() {
        assert!(e["data"].get("private_key").is_none(), "{e}");
        assert!(e["data"].get("secret").is_none(), "{e}");
    }
    assert!(text.contains("ServerCertificateUploaded"), "{text}");
    // Nor does any answer return the key.
    let got = root
        .ok("GetServerCertificate", &[("ServerCertificateName", "web")])
        .await;
    assert!(!got.body.contains(&key_body[..40]));
    app.stop().await;
}

/// The policy editor's validator: AWS's message, iamd's reason and the
/// place in the text; nothing stored; only callers allowed to ask.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_validate_without_being_stored() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    // Least privilege: a user without iamd:ValidatePolicy is refused.
    let nobody = user_with_policy(
        &root,
        "nobody",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}"#,
    )
    .await;
    let before = head(&db).await;
    let validate = |document: &str, kind: Option<&str>| {
        let mut ask = json!({ "document": document });
        if let Some(kind) = kind {
            ask["policy_type"] = json!(kind);
        }
        ask
    };
    let good = root
        .v1(
            "POST",
            "/v1/policies/validate",
            "",
            Some(&validate(READ_PAYROLL, None)),
        )
        .await;
    assert_eq!(good.status, 200, "{}", good.body);
    assert_eq!(body(&good), json!({"valid": true, "findings": []}));

    let broken = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\" \"Resource\": \"*\"}\n  ]\n}";
    let reply = root
        .v1(
            "POST",
            "/v1/policies/validate",
            "",
            Some(&validate(broken, None)),
        )
        .await;
    let finding = &body(&reply)["findings"][0];
    assert_eq!(body(&reply)["valid"], false);
    assert_eq!(finding["code"], "MalformedPolicyDocument");
    assert_eq!(finding["message"], "Syntax errors in policy.");
    assert_eq!(
        (finding["line"].as_i64(), finding["column"].as_i64()),
        (Some(4), Some(50))
    );

    // A principal is wrong in an identity policy, required in a trust policy.
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
    let as_identity = root
        .v1(
            "POST",
            "/v1/policies/validate",
            "",
            Some(&validate(trust, None)),
        )
        .await;
    assert_eq!(
        body(&as_identity)["findings"][0]["message"],
        "Policy document should not specify a principal."
    );
    assert_eq!(body(&as_identity)["findings"][0]["path"], "Statement[0]");
    let as_trust = root
        .v1(
            "POST",
            "/v1/policies/validate",
            "",
            Some(&validate(trust, Some("trust"))),
        )
        .await;
    assert_eq!(body(&as_trust)["valid"], true, "{}", as_trust.body);
    let unknown = root
        .v1(
            "POST",
            "/v1/policies/validate",
            "",
            Some(&validate(trust, Some("bucket"))),
        )
        .await;
    assert_eq!(unknown.status, 400, "{}", unknown.body);

    let refused_reply = nobody
        .v1(
            "POST",
            "/v1/policies/validate",
            "",
            Some(&validate(READ_PAYROLL, None)),
        )
        .await;
    assert_eq!(refused_reply.status, 403, "{}", refused_reply.body);
    assert!(body(&refused_reply)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("iamd:ValidatePolicy"));
    // Validating stored nothing.
    assert_eq!(changes_since(&db, before).await, Vec::<String>::new());
    app.stop().await;
}

/// Verifications asked for at once share a run, and a verification asked
/// for after the log was tampered with sees the tampering (no result from
/// before the request is reused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifications_at_once_share_a_run_and_never_answer_from_before() {
    use sqlx::{Connection, Executor};
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    for i in 0..5 {
        root.ok("CreateUser", &[("UserName", &format!("u{i}"))])
            .await;
    }
    let mut asks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let root = root.clone();
        asks.spawn(async move { root.v1("GET", "/v1/verify", "", None).await });
    }
    let answers = asks.join_all().await;
    for reply in &answers {
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(body(reply)["ok"], true, "{}", reply.body);
    }
    let tamper = "UPDATE events SET payload = '{\"user\": \"mallory\"}' WHERE position = 3";
    if db.url().starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(db.url()).await.unwrap();
        // The append-only triggers are the log's; the attacker drops them.
        let triggers: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                .fetch_all(&mut conn)
                .await
                .unwrap();
        for (name,) in triggers {
            conn.execute(format!("DROP TRIGGER \"{name}\"").as_str())
                .await
                .unwrap();
        }
        conn.execute(tamper).await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(db.url()).await.unwrap();
        conn.execute("SET session_replication_role = replica")
            .await
            .unwrap();
        conn.execute(tamper).await.unwrap();
    }
    let after = root.v1("GET", "/v1/verify", "", None).await;
    assert_eq!(body(&after)["ok"], false, "{}", after.body);
    assert_eq!(body(&after)["first_bad_position"], 3, "{}", after.body);
    app.stop().await;
}
