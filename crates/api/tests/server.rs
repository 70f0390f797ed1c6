//! The server end to end: `iamd` on a free port against a fresh PostgreSQL
//! database, driven over real HTTP with requests signed by our SigV4 signer.

use std::time::Duration;

use iam_api::app::POSITION_HEADER;
use iam_event_store::testing::TestDatabase;

mod support;
use support::*;

const SELF_SERVICE: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Sid":"OwnKeys","Effect":"Allow","Action":["iam:CreateAccessKey","iam:ListAccessKeys","iam:UpdateAccessKey","iam:DeleteAccessKey","iam:GetUser"],
   "Resource":"arn:aws:iam::123456789012:user/${aws:username}"}]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_identity_and_the_user_lifecycle() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();

    let me = root.ok("GetCallerIdentity", &[]).await;
    assert!(me
        .body
        .contains("https://sts.amazonaws.com/doc/2011-06-15/"));
    assert_eq!(
        me.tag("Arn").unwrap(),
        format!("arn:aws:iam::{ACCOUNT}:root")
    );
    assert_eq!(me.tag("Account").unwrap(), ACCOUNT);

    let created = root
        .ok(
            "CreateUser",
            &[
                ("UserName", "alice"),
                ("Path", "/eng/"),
                ("Tags.member.1.Key", "team"),
                ("Tags.member.1.Value", "platform"),
            ],
        )
        .await;
    assert_eq!(
        created.tag("Arn").unwrap(),
        format!("arn:aws:iam::{ACCOUNT}:user/eng/alice")
    );
    assert!(created.tag("UserId").unwrap().starts_with("AIDA"));
    let position: u64 = created.header(POSITION_HEADER).unwrap().parse().unwrap();
    assert_eq!(
        position,
        head(&db).await,
        "the response names the log position of the change"
    );

    let again = root.call("CreateUser", &[("UserName", "ALICE")]).await;
    assert_eq!(
        (again.status, again.error_code().as_deref()),
        (409, Some("EntityAlreadyExists"))
    );
    assert!(again.body.starts_with("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"));

    let got = root.ok("GetUser", &[("UserName", "alice")]).await;
    assert_eq!(got.tag("Path").unwrap(), "/eng/");
    assert_eq!(got.tag("Value").unwrap(), "platform");
    let missing = root.call("GetUser", &[("UserName", "nobody")]).await;
    assert_eq!(
        (missing.status, missing.error_code().as_deref()),
        (404, Some("NoSuchEntity"))
    );

    // Paging really pages, and PathPrefix filters.
    for name in ["bob", "carol", "dave", "erin"] {
        root.ok("CreateUser", &[("UserName", name)]).await;
    }
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut params = vec![("MaxItems", "2")];
        if let Some(m) = &marker {
            params.push(("Marker", m.as_str()));
        }
        let page = root.ok("ListUsers", &params).await;
        pages += 1;
        seen.extend(page.all("UserName"));
        match page.tag("IsTruncated").as_deref() {
            Some("true") => marker = Some(page.tag("Marker").unwrap()),
            _ => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, vec!["alice", "bob", "carol", "dave", "erin"]);
    let eng = root.ok("ListUsers", &[("PathPrefix", "/eng/")]).await;
    assert_eq!(eng.all("UserName"), vec!["alice"]);

    root.ok(
        "UpdateUser",
        &[("UserName", "erin"), ("NewUserName", "erin2")],
    )
    .await;
    root.ok("DeleteUser", &[("UserName", "erin2")]).await;
    let gone = root.call("DeleteUser", &[("UserName", "erin2")]).await;
    assert_eq!(gone.error_code().as_deref(), Some("NoSuchEntity"));

    // Inline policies come back URL-encoded, as AWS returns them.
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", "bob"),
            ("PolicyName", "self"),
            ("PolicyDocument", SELF_SERVICE),
        ],
    )
    .await;
    let policy = root
        .ok(
            "GetUserPolicy",
            &[("UserName", "bob"), ("PolicyName", "self")],
        )
        .await;
    let encoded = policy.tag("PolicyDocument").unwrap();
    assert!(encoded.starts_with("%7B%22Version%22"), "{encoded}");
    let decoded = percent_encoding::percent_decode_str(&encoded)
        .decode_utf8()
        .unwrap();
    assert_eq!(decoded, SELF_SERVICE);
    assert_eq!(
        root.ok("ListUserPolicies", &[("UserName", "bob")])
            .await
            .all("member"),
        vec!["self"]
    );
    let bad = root
        .call(
            "PutUserPolicy",
            &[
                ("UserName", "bob"),
                ("PolicyName", "x"),
                ("PolicyDocument", "{\"Statement\":[]"),
            ],
        )
        .await;
    assert_eq!(bad.error_code().as_deref(), Some("MalformedPolicyDocument"));
    // A user with policies cannot be deleted.
    let conflict = root.call("DeleteUser", &[("UserName", "bob")]).await;
    assert_eq!(
        (conflict.status, conflict.error_code().as_deref()),
        (409, Some("DeleteConflict"))
    );
    root.ok(
        "DeleteUserPolicy",
        &[("UserName", "bob"), ("PolicyName", "self")],
    )
    .await;
    root.ok("DeleteUser", &[("UserName", "bob")]).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_manages_only_their_own_keys_and_a_deactivated_key_stops_working() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "bob")]).await;
    root.ok("CreateUser", &[("UserName", "carol")]).await;
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", "bob"),
            ("PolicyName", "self"),
            ("PolicyDocument", SELF_SERVICE),
        ],
    )
    .await;
    let key = root.ok("CreateAccessKey", &[("UserName", "bob")]).await;
    let (id, secret) = (
        key.tag("AccessKeyId").unwrap(),
        key.tag("SecretAccessKey").unwrap(),
    );
    assert!(id.starts_with("AKIA") && secret.len() == 40);
    // The secret is not in the log, in any form we can read.
    let log = iam_event_store::open(db.url())
        .await
        .unwrap()
        .read_all(iam_event_store::Position::START, 1000)
        .await
        .unwrap();
    assert!(log.iter().all(|e| !e.payload.to_string().contains(&secret)));

    let bob = root.with_key(&id, &secret);
    let me = bob.ok("GetCallerIdentity", &[]).await;
    assert_eq!(
        me.tag("Arn").unwrap(),
        format!("arn:aws:iam::{ACCOUNT}:user/bob")
    );
    // Allowed: his own keys, through ${aws:username}.
    let second = bob.ok("CreateAccessKey", &[]).await;
    assert_eq!(second.tag("UserName").unwrap(), "bob");
    assert_eq!(
        bob.ok("ListAccessKeys", &[]).await.all("AccessKeyId").len(),
        2
    );
    // Denied: anything else; the message names caller, action and resource; nothing is written.
    let before = head(&db).await;
    let denied = bob.call("CreateUser", &[("UserName", "mallory")]).await;
    assert_eq!(
        (denied.status, denied.error_code().as_deref()),
        (403, Some("AccessDenied"))
    );
    assert_eq!(
        denied.plain_message().unwrap(),
        format!(
            "User: arn:aws:iam::{ACCOUNT}:user/bob is not authorized to perform: iam:CreateUser on resource: \
             arn:aws:iam::{ACCOUNT}:user/mallory because no identity-based policy allows the iam:CreateUser action"
        )
    );
    let others = bob.call("CreateAccessKey", &[("UserName", "carol")]).await;
    assert_eq!(others.error_code().as_deref(), Some("AccessDenied"));
    assert_eq!(
        changes_since(&db, before).await,
        Vec::<String>::new(),
        "a denied call writes nothing"
    );

    // Root deactivates bob's first key: it stops working at once.
    root.ok(
        "UpdateAccessKey",
        &[
            ("UserName", "bob"),
            ("AccessKeyId", &id),
            ("Status", "Inactive"),
        ],
    )
    .await;
    let rejected = bob.call("GetCallerIdentity", &[]).await;
    assert_eq!(
        (rejected.status, rejected.error_code().as_deref()),
        (403, Some("InvalidClientTokenId"))
    );
    let listed = root.ok("ListAccessKeys", &[("UserName", "bob")]).await;
    assert!(listed.body.contains("<Status>Inactive</Status>"));
    root.ok(
        "UpdateAccessKey",
        &[
            ("UserName", "bob"),
            ("AccessKeyId", &id),
            ("Status", "Active"),
        ],
    )
    .await;
    bob.ok("GetCallerIdentity", &[]).await;
    root.ok(
        "DeleteAccessKey",
        &[("UserName", "bob"), ("AccessKeyId", &id)],
    )
    .await;
    assert_eq!(
        bob.call("GetCallerIdentity", &[])
            .await
            .error_code()
            .as_deref(),
        Some("InvalidClientTokenId")
    );
    let last = root
        .ok(
            "GetAccessKeyLastUsed",
            &[("AccessKeyId", &second.tag("AccessKeyId").unwrap())],
        )
        .await;
    assert_eq!(last.tag("UserName").unwrap(), "bob");
    assert_eq!(last.tag("ServiceName").unwrap(), "N/A", "never used yet");
    assert!(last.tag("LastUsedDate").is_none());
    // Using the key records its last use (service and region of the signature).
    let bob2 = root.with_key(
        &second.tag("AccessKeyId").unwrap(),
        &second.tag("SecretAccessKey").unwrap(),
    );
    bob2.ok("GetCallerIdentity", &[]).await;
    let used = root
        .ok(
            "GetAccessKeyLastUsed",
            &[("AccessKeyId", &second.tag("AccessKeyId").unwrap())],
        )
        .await;
    assert_eq!(used.tag("ServiceName").unwrap(), "sts");
    assert_eq!(used.tag("Region").unwrap(), "us-east-1");
    assert!(used.tag("LastUsedDate").is_some(), "{}", used.body);
    // Further use within the interval writes nothing more.
    let before = head(&db).await;
    bob2.ok("GetCallerIdentity", &[]).await;
    assert_eq!(changes_since(&db, before).await, Vec::<String>::new());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_aws_shaped_errors_and_write_nothing() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let before = head(&db).await;
    let expect = |reply: Reply, status: u16, code: &str| {
        assert_eq!(
            (reply.status, reply.error_code().as_deref()),
            (status, Some(code)),
            "{}",
            reply.body
        );
        assert!(
            reply.body.starts_with("<ErrorResponse xmlns="),
            "{}",
            reply.body
        );
        assert!(reply.tag("RequestId").is_some());
        assert_eq!(reply.header("content-type"), Some("text/xml"));
    };
    let body = form(&[
        ("Action", "CreateUser"),
        ("Version", "2010-05-08"),
        ("UserName", "x"),
    ]);

    // No authentication at all.
    let unsigned = format!(
        "POST / HTTP/1.1\r\nhost: {}\r\nconnection: close\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{body}",
        app.addr,
        body.len()
    );
    expect(
        send_raw(app.addr, unsigned.into_bytes()).await,
        403,
        "MissingAuthenticationToken",
    );
    // A wrong secret.
    expect(
        root.with_key(&root.key, "wrong-secret")
            .call("CreateUser", &[("UserName", "x")])
            .await,
        403,
        "SignatureDoesNotMatch",
    );
    // An unknown key.
    expect(
        root.with_key("AKIAUNKNOWNUNKNOWN00", "s")
            .call("CreateUser", &[("UserName", "x")])
            .await,
        403,
        "InvalidClientTokenId",
    );
    // A clock 20 minutes off.
    let skewed = Client {
        skew: chrono::Duration::minutes(-20),
        token: None,
        ..root.clone()
    };
    expect(
        skewed.call("CreateUser", &[("UserName", "x")]).await,
        400,
        "RequestExpired",
    );
    // A malformed Authorization header.
    let malformed = format!(
        "POST / HTTP/1.1\r\nhost: {}\r\nconnection: close\r\nx-amz-date: 20261127T000000Z\r\nauthorization: AWS4-HMAC-SHA256 Credential=oops\r\ncontent-length: {}\r\n\r\n{body}",
        app.addr,
        body.len()
    );
    expect(
        send_raw(app.addr, malformed.into_bytes()).await,
        400,
        "IncompleteSignature",
    );
    // The body changed after signing.
    let mut tampered = root.signed(&body, "iam", &[]);
    let n = tampered.len();
    tampered[n - 1] = b'y';
    expect(
        send_raw(app.addr, tampered).await,
        403,
        "SignatureDoesNotMatch",
    );
    // Unknown action, missing and malformed parameters.
    expect(root.call("Frobnicate", &[]).await, 400, "InvalidAction");
    expect(root.call("CreateUser", &[]).await, 400, "ValidationError");
    expect(
        root.call("CreateUser", &[("UserName", "bad name!")]).await,
        400,
        "ValidationError",
    );
    expect(
        root.call("ListUsers", &[("MaxItems", "0")]).await,
        400,
        "ValidationError",
    );
    expect(
        root.call(
            "UpdateAccessKey",
            &[
                ("AccessKeyId", "AKIAROOTROOTROOT0001"),
                ("Status", "Sideways"),
            ],
        )
        .await,
        400,
        "ValidationError",
    );
    // A body that is not a form at all still gets an AWS error, not a 500.
    let garbage = root.signed("%%%\u{1}=&&==", "iam", &[]);
    expect(send_raw(app.addr, garbage).await, 400, "MissingAction");
    // An oversized body.
    let huge = "UserName=".to_owned() + &"a".repeat(2 << 20);
    let big = root.signed(&huge, "iam", &[]);
    let reply = send_raw(app.addr, big).await;
    assert_eq!(reply.status, 413, "{}", reply.body);
    // Unknown paths answer in XML too.
    let lost = format!(
        "GET /nowhere HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
        app.addr
    );
    expect(send_raw(app.addr, lost.into_bytes()).await, 404, "NotFound");

    assert_eq!(
        changes_since(&db, before).await,
        Vec::<String>::new(),
        "no bad request wrote anything"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_database_read_each_others_writes() {
    let db = TestDatabase::for_server().await;
    let a = TestApp::spawn(db.url()).await;
    let b = TestApp::spawn(db.url()).await;
    let (root_a, root_b) = (a.root(), b.root());
    let created = root_a.ok("CreateUser", &[("UserName", "zed")]).await;
    let position = created.header(POSITION_HEADER).unwrap().to_owned();
    // Naming the position makes node B wait until it has caught up.
    let read = root_b
        .call_with(
            "GetUser",
            &[("UserName", "zed")],
            &[("x-iamd-min-log-position", &position)],
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    // A key created on A works on B; deactivated on A, it stops working on B.
    let key = root_a.ok("CreateAccessKey", &[("UserName", "zed")]).await;
    let (id, secret) = (
        key.tag("AccessKeyId").unwrap(),
        key.tag("SecretAccessKey").unwrap(),
    );
    let pos = key.header(POSITION_HEADER).unwrap().to_owned();
    let zed_on_b = root_b.with_key(&id, &secret);
    let ok = zed_on_b
        .call_with(
            "GetCallerIdentity",
            &[],
            &[("x-iamd-min-log-position", &pos)],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let off = root_a
        .ok(
            "UpdateAccessKey",
            &[
                ("UserName", "zed"),
                ("AccessKeyId", &id),
                ("Status", "Inactive"),
            ],
        )
        .await;
    let pos = off.header(POSITION_HEADER).unwrap().to_owned();
    let rejected = zed_on_b
        .call_with(
            "GetCallerIdentity",
            &[],
            &[("x-iamd-min-log-position", &pos)],
        )
        .await;
    assert_eq!(
        rejected.error_code().as_deref(),
        Some("InvalidClientTokenId")
    );
    // Without the header, B follows by itself (LISTEN/NOTIFY, polling as the net).
    let mut seen = false;
    root_a.ok("CreateUser", &[("UserName", "yan")]).await;
    for _ in 0..50 {
        if root_b.call("GetUser", &[("UserName", "yan")]).await.status == 200 {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen, "node B never saw node A's write");
    a.stop().await;
    b.stop().await;
}

/// Request-specific condition keys: a user may create users only when they
/// tag them `team=platform`, and may attach only one managed policy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_tags_and_policy_arns_reach_conditions() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "lead")]).await;
    let policy = r#"{"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":["iam:CreateUser","iam:TagUser"],"Resource":"*",
       "Condition":{"StringEquals":{"aws:RequestTag/team":"platform"},"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}},
      {"Effect":"Allow","Action":"iam:AttachUserPolicy","Resource":"*",
       "Condition":{"ArnEquals":{"iam:PolicyARN":"arn:aws:iam::123456789012:policy/ReadOnly"}}}]}"#;
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", "lead"),
            ("PolicyName", "p"),
            ("PolicyDocument", policy),
        ],
    )
    .await;
    let key = root.ok("CreateAccessKey", &[("UserName", "lead")]).await;
    let lead = root.with_key(
        &key.tag("AccessKeyId").unwrap(),
        &key.tag("SecretAccessKey").unwrap(),
    );

    let untagged = lead.call("CreateUser", &[("UserName", "a")]).await;
    assert_eq!(untagged.error_code().as_deref(), Some("AccessDenied"));
    let wrong = lead
        .call(
            "CreateUser",
            &[
                ("UserName", "a"),
                ("Tags.member.1.Key", "team"),
                ("Tags.member.1.Value", "sales"),
            ],
        )
        .await;
    assert_eq!(wrong.error_code().as_deref(), Some("AccessDenied"));
    let extra = lead
        .call(
            "CreateUser",
            &[
                ("UserName", "a"),
                ("Tags.member.1.Key", "team"),
                ("Tags.member.1.Value", "platform"),
                ("Tags.member.2.Key", "cost"),
                ("Tags.member.2.Value", "x"),
            ],
        )
        .await;
    assert_eq!(
        extra.error_code().as_deref(),
        Some("AccessDenied"),
        "only the team tag is allowed"
    );
    lead.ok(
        "CreateUser",
        &[
            ("UserName", "a"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "platform"),
        ],
    )
    .await;

    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}"#;
    root.ok(
        "CreatePolicy",
        &[("PolicyName", "ReadOnly"), ("PolicyDocument", doc)],
    )
    .await;
    root.ok(
        "CreatePolicy",
        &[("PolicyName", "Admin"), ("PolicyDocument", doc)],
    )
    .await;
    let admin = lead
        .call(
            "AttachUserPolicy",
            &[
                ("UserName", "a"),
                ("PolicyArn", "arn:aws:iam::123456789012:policy/Admin"),
            ],
        )
        .await;
    assert_eq!(admin.error_code().as_deref(), Some("AccessDenied"));
    lead.ok(
        "AttachUserPolicy",
        &[
            ("UserName", "a"),
            ("PolicyArn", "arn:aws:iam::123456789012:policy/ReadOnly"),
        ],
    )
    .await;
    app.stop().await;
}

/// The operation table and the dispatcher agree: every listed action is
/// answered by a handler (here: refused for missing parameters, or served),
/// never `InvalidAction`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listed_operation_is_dispatched() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    // AWS's operations (iamd's own `/v1` API has no Query protocol).
    let aws = iam_api::edge::registry::IMPLEMENTED
        .iter()
        .filter(|s| s.service != iam_wire::Service::Iamd);
    for op in aws.map(|s| s.name) {
        let reply = root.call(op, &[]).await;
        assert_ne!(
            reply.error_code().as_deref(),
            Some("InvalidAction"),
            "{op}: {}",
            reply.body
        );
        assert!(
            reply.status == 200 || (400..500).contains(&reply.status),
            "{op}: {} {}",
            reply.status,
            reply.body
        );
    }
    assert!(
        iam_api::edge::registry::IMPLEMENTED.len() >= 70,
        "{} operations",
        iam_api::edge::registry::IMPLEMENTED.len()
    );
    app.stop().await;
}

/// Presigned requests (query-string SigV4) work for GET, and expire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_get_requests_are_accepted_until_they_expire() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let host = app.addr.to_string();
    let presigned = |query: &str, time: chrono::DateTime<chrono::Utc>, expires: u64| {
        let headers: Vec<(&str, &[u8])> = vec![("host", host.as_bytes())];
        let req = iam_api::sigv4::HttpRequest {
            method: "GET",
            path: "/",
            query,
            headers: &headers,
            body: b"",
        };
        let out = iam_api::sigv4::presign(
            &req,
            &iam_api::sigv4::SigningParams {
                credentials: iam_api::sigv4::Credentials {
                    access_key_id: &app.root.access_key_id,
                    secret_access_key: &app.root.secret_access_key,
                    security_token: None,
                },
                region: "eu-west-1",
                service: "iam",
                time,
                settings: iam_api::sigv4::SigningSettings::default(),
            },
            expires,
        );
        format!(
            "GET /?{} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n",
            out.query
        )
        .into_bytes()
    };
    let ok = send_raw(
        app.addr,
        presigned(
            "Action=ListUsers&Version=2010-05-08",
            chrono::Utc::now(),
            300,
        ),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.body.contains("<ListUsersResponse"));
    let expired = send_raw(
        app.addr,
        presigned(
            "Action=ListUsers&Version=2010-05-08",
            chrono::Utc::now() - chrono::Duration::minutes(10),
            60,
        ),
    )
    .await;
    assert_eq!(
        (expired.status, expired.error_code().as_deref()),
        (400, Some("RequestExpired")),
        "{}",
        expired.body
    );
    // Changing a signed parameter breaks the signature.
    let mut forged = String::from_utf8(presigned(
        "Action=ListUsers&Version=2010-05-08",
        chrono::Utc::now(),
        300,
    ))
    .unwrap();
    forged = forged.replacen("Action=ListUsers", "Action=ListRoles", 1);
    let forged = send_raw(app.addr, forged.into_bytes()).await;
    assert_eq!(
        forged.error_code().as_deref(),
        Some("SignatureDoesNotMatch"),
        "{}",
        forged.body
    );
    app.stop().await;
}

/// A sealed secret this node cannot open (its master key is not the one
/// that sealed it) makes the request unauthenticated: 403, never a 500.
#[tokio::test]
async fn a_secret_sealed_under_another_key_is_403_not_500() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "bob")]).await;
    let key = root.ok("CreateAccessKey", &[("UserName", "bob")]).await;
    let (id, secret) = (
        key.tag("AccessKeyId").unwrap(),
        key.tag("SecretAccessKey").unwrap(),
    );
    assert_eq!(
        root.with_key(&id, &secret)
            .call("GetCallerIdentity", &[])
            .await
            .status,
        200
    );
    // The same views served with another master key.
    let mut state = app.state.clone();
    state.master_key = std::sync::Arc::new(iam_domain::secrets::MasterKey::from_bytes([8; 32]));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let other = tokio::spawn(async move {
        axum::serve(
            listener,
            iam_api::app::router(state)
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    let bob = Client {
        addr,
        key: id,
        secret,
        skew: chrono::Duration::zero(),
        token: None,
    };
    let reply = bob.call("GetCallerIdentity", &[]).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert_eq!(reply.error_code().as_deref(), Some("InvalidClientTokenId"));
    other.abort();
    app.stop().await;
}

/// Input limits are checked before authorization, so no policy is ever
/// evaluated against more than AWS allows: more than 50 tags (on the
/// actions that read them), a tag value with a character XML 1.0 forbids, and a policy
/// document over 131,072 characters are `ValidationError`s, even for a
/// caller who may do nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_limits_are_checked_before_authorization() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "nobody")]).await;
    let key = root.ok("CreateAccessKey", &[("UserName", "nobody")]).await;
    let nobody = root.with_key(
        &key.tag("AccessKeyId").unwrap(),
        &key.tag("SecretAccessKey").unwrap(),
    );

    let tags = |n: usize| -> Vec<(String, String)> {
        (1..=n)
            .flat_map(|i| {
                [
                    (format!("Tags.member.{i}.Key"), format!("k{i}")),
                    (format!("Tags.member.{i}.Value"), "v".to_owned()),
                ]
            })
            .collect()
    };
    let with = |base: &[(&'static str, &'static str)], extra: &[(String, String)]| {
        let mut all: Vec<(String, String)> = base
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        all.extend_from_slice(extra);
        all
    };
    for (action, base) in [
        ("CreateUser", vec![("UserName", "x")]),
        ("TagUser", vec![("UserName", "nobody")]),
    ] {
        let params = with(&base, &tags(51));
        let params: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let reply = nobody.call(action, &params).await;
        assert_eq!(
            reply.error_code().as_deref(),
            Some("ValidationError"),
            "{action}"
        );
        assert!(
            reply
                .body
                .contains("Member must have length less than or equal to 50"),
            "{action}: {}",
            reply.body
        );
    }
    // An action that defines no tag keys does not read `Tags` at all (as
    // AWS ignores parameters an action does not have): nothing of them
    // reaches the evaluator, and the refusal is the usual one.
    let params = with(&[("UserName", "nobody")], &tags(51));
    let params: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let reply = nobody.call("GetUser", &params).await;
    assert_eq!(reply.error_code().as_deref(), Some("AccessDenied"));
    let untag: Vec<(String, String)> = (1..=51)
        .map(|i| (format!("TagKeys.member.{i}"), format!("k{i}")))
        .collect();
    let mut params = vec![("UserName", "nobody")];
    params.extend(untag.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let reply = nobody.call("UntagUser", &params).await;
    assert_eq!(reply.error_code().as_deref(), Some("ValidationError"));

    let reply = nobody
        .call(
            "TagUser",
            &[
                ("UserName", "nobody"),
                ("Tags.member.1.Key", "k"),
                ("Tags.member.1.Value", "a\u{b}b"),
            ],
        )
        .await;
    assert_eq!(reply.error_code().as_deref(), Some("ValidationError"));
    assert!(!reply.body.contains('\u{b}'), "{}", reply.body);

    let padded = format!(
        "{}{}",
        SELF_SERVICE,
        " ".repeat(131_073 - SELF_SERVICE.len())
    );
    let reply = root
        .call(
            "PutUserPolicy",
            &[
                ("UserName", "nobody"),
                ("PolicyName", "p"),
                ("PolicyDocument", &padded),
            ],
        )
        .await;
    assert_eq!(reply.error_code().as_deref(), Some("ValidationError"));
    assert!(
        reply.body.contains(
            "Value at &apos;policyDocument&apos; failed to satisfy constraint: \
         Member must have length less than or equal to 131072"
        ) || reply.body.contains(
            "Value at 'policyDocument' failed to satisfy constraint: \
         Member must have length less than or equal to 131072"
        ),
        "{}",
        reply.body
    );
}
