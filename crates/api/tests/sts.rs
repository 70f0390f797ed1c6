//! STS end to end over HTTP: roles assumed through their trust policies,
//! temporary credentials used, expired and revoked, session policies and
//! tags, `GetSessionToken`, and the attacks on tokens (forged, altered,
//! swapped, expired, of a deleted role).

use iam_event_store::testing::TestDatabase;

mod support;
use support::*;

const READ_USERS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","iam:ListUsers"],"Resource":"*"}]}"#;
const ASSUME_ANY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;
const NOTHING: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::none"}]}"#;

fn trust_account() -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":["sts:AssumeRole","sts:TagSession"]}}]}}"#
    )
}

#[tokio::test]
async fn a_role_named_in_its_trust_policy_is_assumed_and_its_session_gets_the_roles_permissions() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    let arn = role(&root, "reader", &trust_user("alice", &[], ""), READ_USERS).await;

    let assumed = alice
        .ok(
            "AssumeRole",
            &[("RoleArn", &arn), ("RoleSessionName", "alice-s")],
        )
        .await;
    let key = assumed.tag("AccessKeyId").unwrap();
    assert!(key.starts_with("ASIA") && key.len() == 20, "{key}");
    assert_eq!(
        assumed.tag("Arn").as_deref(),
        Some(format!("arn:aws:sts::{ACCOUNT}:assumed-role/reader/alice-s").as_str())
    );
    let role_id = root
        .ok("GetRole", &[("RoleName", "reader")])
        .await
        .tag("RoleId")
        .unwrap();
    assert_eq!(
        assumed.tag("AssumedRoleId"),
        Some(format!("{role_id}:alice-s"))
    );
    let session = alice.with_credentials_of(&assumed);
    let me = session.ok("GetCallerIdentity", &[]).await;
    assert_eq!(
        me.tag("Arn").as_deref(),
        Some(format!("arn:aws:sts::{ACCOUNT}:assumed-role/reader/alice-s").as_str())
    );
    assert_eq!(me.tag("UserId"), Some(format!("{role_id}:alice-s")));
    session.ok("GetUser", &[("UserName", "alice")]).await;
    let denied = session.call("DeleteUser", &[("UserName", "alice")]).await;
    refused(&denied, 403, "AccessDenied");
    assert!(
        denied.body.contains("assumed-role/reader/alice-s"),
        "{}",
        denied.body
    );
    // alice's own key cannot read users: the session has the role's rights.
    refused(
        &alice.call("GetUser", &[("UserName", "alice")]).await,
        403,
        "AccessDenied",
    );

    // The issuance is in the trail, without the secret or the token.
    let store = iam_event_store::open(db.url()).await.unwrap();
    let events = store
        .read_all(iam_event_store::Position(0), 10_000)
        .await
        .unwrap();
    let issued: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == "TemporaryCredentialsIssued")
        .collect();
    assert_eq!(issued.len(), 1);
    let payload = issued[0].payload.to_string();
    assert!(payload.contains(&key), "{payload}");
    assert!(!payload.contains(&session.secret), "{payload}");
    // What the session does is in the trail under its role session.
    let denials: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == "AccessDenied")
        .filter(|e| e.metadata["actor"]["session_name"] == "alice-s")
        .collect();
    assert_eq!(denials.len(), 1, "the session's refused DeleteUser");
    assert_eq!(
        denials[0].metadata["actor"]["principal_arn"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/reader/alice-s")
    );
    assert!(
        !payload.contains(session.token.as_deref().unwrap()),
        "{payload}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_trust_policy_naming_the_account_delegates_to_the_callers_own_policies() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let arn = role(&root, "shared", &trust_account(), READ_USERS).await;
    let without = user_with_policy(&root, "without", NOTHING).await;
    let with = user_with_policy(&root, "with", ASSUME_ANY).await;
    let reply = without
        .call(
            "AssumeRole",
            &[("RoleArn", &arn), ("RoleSessionName", "ss-session")],
        )
        .await;
    refused(&reply, 403, "AccessDenied");
    assert!(reply.body.contains("sts:AssumeRole"), "{}", reply.body);
    with.ok(
        "AssumeRole",
        &[("RoleArn", &arn), ("RoleSessionName", "ss-session")],
    )
    .await;

    // A trust policy may not name a user that does not exist.
    refused(
        &root
            .call(
                "CreateRole",
                &[
                    ("RoleName", "dangling"),
                    ("AssumeRolePolicyDocument", &trust_user("nobody", &[], "")),
                ],
            )
            .await,
        400,
        "MalformedPolicyDocument",
    );
    // An identity policy alone never suffices: the trust policy must allow.
    let other = role(&root, "closed", &trust_user("without", &[], ""), READ_USERS).await;
    refused(
        &with
            .call(
                "AssumeRole",
                &[("RoleArn", &other), ("RoleSessionName", "ss-session")],
            )
            .await,
        403,
        "AccessDenied",
    );
    // A role that does not exist, or named with another path or account,
    // is refused the same way (nothing tells it apart).
    for missing in [
        format!("arn:aws:iam::{ACCOUNT}:role/ghost"),
        format!("arn:aws:iam::{ACCOUNT}:role/elsewhere/shared"),
        "arn:aws:iam::210987654321:role/shared".to_owned(),
    ] {
        refused(
            &with
                .call(
                    "AssumeRole",
                    &[("RoleArn", &missing), ("RoleSessionName", "ss-session")],
                )
                .await,
            403,
            "AccessDenied",
        );
    }
    // The root user cannot assume a role at all.
    let reply = root
        .call(
            "AssumeRole",
            &[("RoleArn", &arn), ("RoleSessionName", "ss-session")],
        )
        .await;
    refused(&reply, 403, "AccessDenied");
    assert!(reply
        .body
        .contains("Roles may not be assumed by root accounts"));
    app.stop().await;
}

#[tokio::test]
async fn an_external_id_condition_holds_only_for_the_right_id() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    let trust = trust_user(
        "alice",
        &[],
        r#","Condition":{"StringEquals":{"sts:ExternalId":"Unique-1"}}"#,
    );
    let arn = role(&root, "vendor", &trust, READ_USERS).await;
    let base = [("RoleArn", arn.as_str()), ("RoleSessionName", "ss-session")];
    refused(&alice.call("AssumeRole", &base).await, 403, "AccessDenied");
    let mut wrong = base.to_vec();
    wrong.push(("ExternalId", "Unique-2"));
    refused(&alice.call("AssumeRole", &wrong).await, 403, "AccessDenied");
    let mut right = base.to_vec();
    right.push(("ExternalId", "Unique-1"));
    alice.ok("AssumeRole", &right).await;
    app.stop().await;
}

#[tokio::test]
async fn durations_are_bounded_by_the_role_and_by_role_chaining() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", ASSUME_ANY).await;
    let first = role(&root, "first", &trust_account(), ASSUME_ANY).await;
    let second = role(&root, "second", &trust_account(), READ_USERS).await;
    root.ok(
        "UpdateRole",
        &[("RoleName", "first"), ("MaxSessionDuration", "7200")],
    )
    .await;
    let too_long = alice
        .call(
            "AssumeRole",
            &[
                ("RoleArn", &first),
                ("RoleSessionName", "ss-session"),
                ("DurationSeconds", "7201"),
            ],
        )
        .await;
    refused(&too_long, 400, "ValidationError");
    assert!(
        too_long.body.contains("MaxSessionDuration"),
        "{}",
        too_long.body
    );
    for short in ["899", "43201"] {
        refused(
            &alice
                .call(
                    "AssumeRole",
                    &[
                        ("RoleArn", &first),
                        ("RoleSessionName", "ss-session"),
                        ("DurationSeconds", short),
                    ],
                )
                .await,
            400,
            "ValidationError",
        );
    }
    let before = chrono::Utc::now();
    let long = alice
        .ok(
            "AssumeRole",
            &[
                ("RoleArn", &first),
                ("RoleSessionName", "ss-session"),
                ("DurationSeconds", "7200"),
            ],
        )
        .await;
    let expiration: chrono::DateTime<chrono::Utc> =
        long.tag("Expiration").unwrap().parse().unwrap();
    let lasts = expiration - before;
    assert!(
        lasts > chrono::Duration::seconds(7190) && lasts <= chrono::Duration::seconds(7210),
        "{lasts}"
    );
    // Role chaining: at most an hour.
    let session = alice.with_credentials_of(&long);
    let chained = session
        .call(
            "AssumeRole",
            &[
                ("RoleArn", &second),
                ("RoleSessionName", "cc-session"),
                ("DurationSeconds", "3601"),
            ],
        )
        .await;
    refused(&chained, 400, "ValidationError");
    assert!(chained.body.contains("role chaining"), "{}", chained.body);
    let chained = session
        .ok(
            "AssumeRole",
            &[("RoleArn", &second), ("RoleSessionName", "cc-session")],
        )
        .await;
    let second_session = session.with_credentials_of(&chained);
    second_session.ok("ListUsers", &[]).await;
    // A role session cannot get a session token.
    refused(
        &second_session.call("GetSessionToken", &[]).await,
        403,
        "AccessDenied",
    );
    app.stop().await;
}

#[tokio::test]
async fn a_session_policy_narrows_the_session_to_the_intersection() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    let arn = role(&root, "reader", &trust_user("alice", &[], ""), READ_USERS).await;
    let only_list = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","iam:DeleteUser"],"Resource":"*"}]}"#;
    let assumed = alice
        .ok(
            "AssumeRole",
            &[
                ("RoleArn", &arn),
                ("RoleSessionName", "narrow"),
                ("Policy", only_list),
            ],
        )
        .await;
    assert!(assumed.tag("PackedPolicySize").is_some());
    let session = alice.with_credentials_of(&assumed);
    session.ok("ListUsers", &[]).await;
    // Allowed by the role but not the session policy; allowed by the
    // session policy but not the role.
    refused(
        &session.call("GetUser", &[("UserName", "alice")]).await,
        403,
        "AccessDenied",
    );
    refused(
        &session.call("DeleteUser", &[("UserName", "alice")]).await,
        403,
        "AccessDenied",
    );
    // A session policy may not name a principal, and must parse.
    for bad in [
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
        "{not json",
    ] {
        refused(
            &alice
                .call(
                    "AssumeRole",
                    &[
                        ("RoleArn", &arn),
                        ("RoleSessionName", "ss-session"),
                        ("Policy", bad),
                    ],
                )
                .await,
            400,
            "MalformedPolicyDocument",
        );
    }
    let huge = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:ListUsers","Resource":[{}]}}]}}"#,
        (0..120)
            .map(|i| format!("\"arn:aws:iam::{ACCOUNT}:user/u{i}\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    refused(
        &alice
            .call(
                "AssumeRole",
                &[
                    ("RoleArn", &arn),
                    ("RoleSessionName", "ss-session"),
                    ("Policy", &huge),
                ],
            )
            .await,
        400,
        "PackedPolicyTooLarge",
    );
    // A managed session policy: the session gets what it allows of the role's.
    root.ok(
        "CreatePolicy",
        &[("PolicyName", "only-get"), ("PolicyDocument", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}"#)],
    )
    .await;
    let managed = alice
        .ok(
            "AssumeRole",
            &[
                ("RoleArn", &arn),
                ("RoleSessionName", "mm-session"),
                (
                    "PolicyArns.member.1.arn",
                    &format!("arn:aws:iam::{ACCOUNT}:policy/only-get"),
                ),
            ],
        )
        .await;
    let session = alice.with_credentials_of(&managed);
    session.ok("GetUser", &[("UserName", "alice")]).await;
    refused(&session.call("ListUsers", &[]).await, 403, "AccessDenied");
    app.stop().await;
}

#[tokio::test]
async fn session_tags_need_tag_session_and_become_principal_tags() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    let by_team = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"red"}}}]}"#;
    let tagged = role(
        &root,
        "tagged",
        &trust_user("alice", &["sts:TagSession"], ""),
        by_team,
    )
    .await;
    let untagged = role(&root, "untagged", &trust_user("alice", &[], ""), by_team).await;
    let with_tag = |arn: &str, value: &str| {
        vec![
            ("RoleArn".to_owned(), arn.to_owned()),
            ("RoleSessionName".to_owned(), "tagged-session".to_owned()),
            ("Tags.member.1.Key".to_owned(), "team".to_owned()),
            ("Tags.member.1.Value".to_owned(), value.to_owned()),
        ]
    };
    let call = |params: Vec<(String, String)>| {
        let alice = alice.clone();
        async move {
            let borrowed: Vec<(&str, &str)> = params
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            alice.call("AssumeRole", &borrowed).await
        }
    };
    refused(&call(with_tag(&untagged, "red")).await, 403, "AccessDenied");
    let red = call(with_tag(&tagged, "red")).await;
    assert_eq!(red.status, 200, "{}", red.body);
    alice.with_credentials_of(&red).ok("ListUsers", &[]).await;
    let blue = call(with_tag(&tagged, "blue")).await;
    refused(
        &alice
            .with_credentials_of(&blue)
            .call("ListUsers", &[])
            .await,
        403,
        "AccessDenied",
    );
    // A transitive key must name a session tag.
    let mut bad = with_tag(&tagged, "red");
    bad.push(("TransitiveTagKeys.member.1".into(), "other".into()));
    refused(&call(bad).await, 400, "InvalidParameterValue");
    app.stop().await;
}

#[tokio::test]
async fn temporary_credentials_expire_exactly() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    let arn = role(&root, "reader", &trust_user("alice", &[], ""), READ_USERS).await;
    let assumed = alice
        .ok(
            "AssumeRole",
            &[
                ("RoleArn", &arn),
                ("RoleSessionName", "ss-session"),
                ("DurationSeconds", "900"),
            ],
        )
        .await;
    let mut session = alice.with_credentials_of(&assumed);
    session.ok("ListUsers", &[]).await;
    // One second before expiry it works; at expiry it does not.
    app.state.clock.advance(chrono::Duration::seconds(899));
    session.skew = app.state.clock.offset();
    session.ok("ListUsers", &[]).await;
    app.state.clock.advance(chrono::Duration::seconds(1));
    session.skew = app.state.clock.offset();
    let expired = session.call("ListUsers", &[]).await;
    refused(&expired, 403, "ExpiredToken");
    // Even GetCallerIdentity.
    refused(
        &session.call("GetCallerIdentity", &[]).await,
        403,
        "ExpiredToken",
    );
    app.stop().await;
}

#[tokio::test]
async fn sessions_are_revoked_by_a_token_issue_time_deny_and_by_deleting_the_role() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    let arn = role(&root, "reader", &trust_user("alice", &[], ""), READ_USERS).await;
    let assume = || async {
        alice.with_credentials_of(
            &alice
                .ok(
                    "AssumeRole",
                    &[("RoleArn", &arn), ("RoleSessionName", "ss-session")],
                )
                .await,
        )
    };
    let old = assume().await;
    old.ok("ListUsers", &[]).await;
    // What the console's "Revoke active sessions" writes.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let cutoff = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let revoke = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"*","Resource":"*","Condition":{{"DateLessThan":{{"aws:TokenIssueTime":"{cutoff}"}}}}}}]}}"#
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    root.ok(
        "PutRolePolicy",
        &[
            ("RoleName", "reader"),
            ("PolicyName", "AWSRevokeOlderSessions"),
            ("PolicyDocument", &revoke),
        ],
    )
    .await;
    refused(&old.call("ListUsers", &[]).await, 403, "AccessDenied");
    let new = assume().await;
    new.ok("ListUsers", &[]).await;

    // Deleting the role ends every session's permissions at once, and a
    // role created again under the name is another role.
    root.ok(
        "DeleteRolePolicy",
        &[
            ("RoleName", "reader"),
            ("PolicyName", "AWSRevokeOlderSessions"),
        ],
    )
    .await;
    root.ok(
        "DeleteRolePolicy",
        &[("RoleName", "reader"), ("PolicyName", "granted")],
    )
    .await;
    root.ok("DeleteRole", &[("RoleName", "reader")]).await;
    refused(&new.call("ListUsers", &[]).await, 403, "AccessDenied");
    role(&root, "reader", &trust_user("alice", &[], ""), READ_USERS).await;
    refused(&new.call("ListUsers", &[]).await, 403, "AccessDenied");
    app.stop().await;
}

#[tokio::test]
async fn forged_altered_and_swapped_tokens_are_refused() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    let arn = role(&root, "reader", &trust_user("alice", &[], ""), READ_USERS).await;
    let a = alice
        .ok(
            "AssumeRole",
            &[("RoleArn", &arn), ("RoleSessionName", "aa-session")],
        )
        .await;
    let b = alice
        .ok(
            "AssumeRole",
            &[("RoleArn", &arn), ("RoleSessionName", "bb-session")],
        )
        .await;
    let session_a = alice.with_credentials_of(&a);
    let session_b = alice.with_credentials_of(&b);
    // A's key and secret with B's token.
    let swapped = Client {
        token: session_b.token.clone(),
        ..session_a.clone()
    };
    refused(
        &swapped.call("ListUsers", &[]).await,
        403,
        "InvalidClientTokenId",
    );
    // A token with a byte changed, a token of nothing, and a long-term key
    // with a token.
    let token = session_a.token.clone().unwrap();
    let mut altered = token.clone().into_bytes();
    let i = altered.len() / 2;
    altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
    for bad in [
        String::from_utf8(altered).unwrap(),
        "IQoJaWFtZA".to_owned(),
        "garbage".to_owned(),
        "x".repeat(20_000),
    ] {
        let forged = Client {
            token: Some(bad),
            ..session_a.clone()
        };
        let reply = forged.call("ListUsers", &[]).await;
        assert!(
            reply.error_code().as_deref() == Some("InvalidClientTokenId")
                || reply.status == 431
                || reply.status == 400,
            "{} {}",
            reply.status,
            reply.body
        );
        assert_ne!(reply.status, 200);
    }
    let with_root_key = Client {
        token: Some(token.clone()),
        ..root.clone()
    };
    refused(
        &with_root_key.call("ListUsers", &[]).await,
        403,
        "InvalidClientTokenId",
    );
    // The right token with a wrong secret fails the signature.
    let wrong_secret = Client {
        secret: "x".repeat(40),
        ..session_a.clone()
    };
    refused(
        &wrong_secret.call("ListUsers", &[]).await,
        403,
        "SignatureDoesNotMatch",
    );
    session_a.ok("ListUsers", &[]).await;
    app.stop().await;
}

#[tokio::test]
async fn get_session_token_gives_the_users_own_permissions_within_awss_limits() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", READ_USERS).await;
    let arn = role(&root, "reader", &trust_user("alice", &[], ""), READ_USERS).await;
    let token = alice.ok("GetSessionToken", &[]).await;
    let expiration: chrono::DateTime<chrono::Utc> =
        token.tag("Expiration").unwrap().parse().unwrap();
    let lasts = expiration - chrono::Utc::now();
    assert!(lasts > chrono::Duration::hours(11), "{lasts}");
    let session = alice.with_credentials_of(&token);
    let me = session.ok("GetCallerIdentity", &[]).await;
    assert_eq!(
        me.tag("Arn").as_deref(),
        Some(format!("arn:aws:iam::{ACCOUNT}:user/alice").as_str())
    );
    // Without MFA, no IAM; STS only AssumeRole and GetCallerIdentity.
    refused(&session.call("ListUsers", &[]).await, 403, "AccessDenied");
    refused(
        &session.call("GetSessionToken", &[]).await,
        403,
        "AccessDenied",
    );
    let assumed = session
        .ok(
            "AssumeRole",
            &[("RoleArn", &arn), ("RoleSessionName", "ss-session")],
        )
        .await;
    alice
        .with_credentials_of(&assumed)
        .ok("ListUsers", &[])
        .await;
    // The root user's session lasts at most an hour.
    let root_token = root
        .ok("GetSessionToken", &[("DurationSeconds", "7200")])
        .await;
    let expiration: chrono::DateTime<chrono::Utc> =
        root_token.tag("Expiration").unwrap().parse().unwrap();
    assert!(expiration - chrono::Utc::now() <= chrono::Duration::seconds(3600));
    // A deleted user's session no longer authenticates.
    root.ok(
        "DeleteUserPolicy",
        &[("UserName", "alice"), ("PolicyName", "granted")],
    )
    .await;
    let keys = root.ok("ListAccessKeys", &[("UserName", "alice")]).await;
    for key in keys.all("AccessKeyId") {
        root.ok(
            "DeleteAccessKey",
            &[("UserName", "alice"), ("AccessKeyId", &key)],
        )
        .await;
    }
    root.ok("DeleteUser", &[("UserName", "alice")]).await;
    refused(
        &session.call("GetCallerIdentity", &[]).await,
        403,
        "InvalidClientTokenId",
    );
    app.stop().await;
}

#[tokio::test]
async fn a_session_issued_on_one_node_works_on_another_and_a_revocation_on_one_holds_on_both() {
    let db = TestDatabase::for_server().await;
    let one = TestApp::spawn(db.url()).await;
    let two = TestApp::spawn(db.url()).await;
    let root = one.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    let arn = role(&root, "reader", &trust_user("alice", &[], ""), READ_USERS).await;
    let assumed = alice
        .ok(
            "AssumeRole",
            &[("RoleArn", &arn), ("RoleSessionName", "ss-session")],
        )
        .await;
    let on_two = Client {
        addr: two.addr,
        ..alice.with_credentials_of(&assumed)
    };
    // The second node follows the log; wait until it knows the role.
    let mut ok = false;
    for _ in 0..100 {
        if on_two.call("ListUsers", &[]).await.status == 200 {
            ok = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(ok, "the session works on the second node");
    root.ok(
        "DeleteRolePolicy",
        &[("RoleName", "reader"), ("PolicyName", "granted")],
    )
    .await;
    let mut refused_there = false;
    for _ in 0..100 {
        if on_two.call("ListUsers", &[]).await.status == 403 {
            refused_there = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(refused_there, "the revocation holds on the second node");
    one.stop().await;
    two.stop().await;
}

#[tokio::test]
async fn a_federated_user_gets_the_intersection_of_its_users_and_its_session_policies() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let broker = user_with_policy(
        &root,
        "broker",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:GetFederationToken","iam:GetUser","iam:ListUsers","iamd:GetView"],"Resource":"*"}]}"#,
    )
    .await;
    let only_view = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iamd:GetView","iam:DeleteUser"],"Resource":"*"}]}"#;
    let token = broker
        .ok(
            "GetFederationToken",
            &[("Name", "bob"), ("Policy", only_view)],
        )
        .await;
    assert_eq!(
        token.tag("Arn").as_deref(),
        Some(format!("arn:aws:sts::{ACCOUNT}:federated-user/bob").as_str())
    );
    assert_eq!(token.tag("FederatedUserId"), Some(format!("{ACCOUNT}:bob")));
    let bob = broker.with_credentials_of(&token);
    let me = bob.ok("GetCallerIdentity", &[]).await;
    assert_eq!(
        me.tag("Arn").as_deref(),
        Some(format!("arn:aws:sts::{ACCOUNT}:federated-user/bob").as_str())
    );
    // Allowed by both: iamd's view. IAM is closed to federated users.
    let view = bob.v1("GET", "/v1/view", "", None).await;
    assert_eq!(view.status, 200, "{}", view.body);
    refused(&bob.call("ListUsers", &[]).await, 403, "AccessDenied");
    refused(&bob.call("GetSessionToken", &[]).await, 403, "AccessDenied");
    // Without a session policy a federated user may do nothing.
    let bare = broker.ok("GetFederationToken", &[("Name", "bare")]).await;
    let bare = broker.with_credentials_of(&bare);
    let view = bare.v1("GET", "/v1/view", "", None).await;
    assert_eq!(view.status, 403, "{}", view.body);
    // The broker needs sts:GetFederationToken; a role session cannot.
    let other = user_with_policy(&root, "other", NOTHING).await;
    refused(
        &other.call("GetFederationToken", &[("Name", "eve")]).await,
        403,
        "AccessDenied",
    );
    app.stop().await;
}

#[tokio::test]
async fn an_access_denied_carries_a_message_only_a_permitted_caller_decodes() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(
        &root,
        "alice",
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoDeleting","Effect":"Deny","Action":"iam:DeleteUser","Resource":"*"}]}"#,
    )
    .await;
    let auditor = user_with_policy(
        &root,
        "auditor",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:DecodeAuthorizationMessage","Resource":"*"}]}"#,
    )
    .await;
    let denied = alice.call("DeleteUser", &[("UserName", "auditor")]).await;
    refused(&denied, 403, "AccessDenied");
    let text = denied.tag("Message").unwrap();
    let (_, encoded) = text
        .split_once("Encoded authorization failure message: ")
        .expect("an encoded message");
    // alice may not decode it; the auditor may.
    refused(
        &alice
            .call("DecodeAuthorizationMessage", &[("EncodedMessage", encoded)])
            .await,
        403,
        "AccessDenied",
    );
    let decoded = auditor
        .ok("DecodeAuthorizationMessage", &[("EncodedMessage", encoded)])
        .await;
    let message: serde_json::Value = serde_json::from_str(
        &decoded
            .tag("DecodedMessage")
            .unwrap()
            .replace("&quot;", "\""),
    )
    .unwrap();
    assert_eq!(message["allowed"], false);
    assert_eq!(message["explicitDeny"], true);
    assert_eq!(
        message["matchedStatements"]["items"][0]["statementId"],
        "NoDeleting"
    );
    assert_eq!(message["context"]["action"], "iam:DeleteUser");
    assert_eq!(
        message["context"]["principal"]["arn"],
        format!("arn:aws:iam::{ACCOUNT}:user/alice")
    );
    // Anything else is not a message of this server.
    let mut altered = encoded.to_owned().into_bytes();
    altered[10] = if altered[10] == b'A' { b'B' } else { b'A' };
    for bad in [
        String::from_utf8(altered).unwrap(),
        "bm90IGEgbWVzc2FnZQ==".into(),
    ] {
        refused(
            &auditor
                .call("DecodeAuthorizationMessage", &[("EncodedMessage", &bad)])
                .await,
            400,
            "InvalidAuthorizationMessageException",
        );
    }
    app.stop().await;
}
