//! Passwords, sign-in and virtual MFA end to end over HTTP: login profiles
//! under the account password policy, rule by rule; users changing their
//! own passwords; `/v1/sign-in` with its one answer for every failure and
//! its back-off; MFA devices enabled with codes computed here, codes
//! accepted once, and MFA conditions on sessions.

use iam_event_store::testing::TestDatabase;

mod support;
use support::*;

const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const NOTHING: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::none"}]}"#;

/// Creates a virtual device and returns its serial number and seed.
async fn device(root: &Client, name: &str) -> (String, Vec<u8>) {
    let created = root
        .ok("CreateVirtualMFADevice", &[("VirtualMFADeviceName", name)])
        .await;
    let serial = created.tag("SerialNumber").unwrap();
    let seed_b64 = created.tag("Base32StringSeed").unwrap();
    use base64::Engine as _;
    let base32 = base64::engine::general_purpose::STANDARD
        .decode(seed_b64)
        .unwrap();
    let seed = iam_mfa::base32_decode(std::str::from_utf8(&base32).unwrap()).unwrap();
    let png = base64::engine::general_purpose::STANDARD
        .decode(created.tag("QRCodePNG").unwrap())
        .unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    (serial, seed)
}

#[tokio::test]
async fn login_profiles_follow_the_password_policy_rule_by_rule() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    refused(
        &root.call("GetLoginProfile", &[("UserName", "alice")]).await,
        404,
        "NoSuchEntity",
    );
    // AWS's default policy: 8 characters, three of four classes.
    refused(
        &root
            .call(
                "CreateLoginProfile",
                &[("UserName", "alice"), ("Password", "abcdefgh")],
            )
            .await,
        400,
        "PasswordPolicyViolation",
    );
    refused(
        &root.call("GetAccountPasswordPolicy", &[]).await,
        404,
        "NoSuchEntity",
    );
    root.ok(
        "UpdateAccountPasswordPolicy",
        &[
            ("MinimumPasswordLength", "12"),
            ("RequireSymbols", "true"),
            ("RequireNumbers", "true"),
            ("RequireUppercaseCharacters", "true"),
            ("RequireLowercaseCharacters", "true"),
            ("AllowUsersToChangePassword", "true"),
            ("PasswordReusePrevention", "2"),
        ],
    )
    .await;
    let policy = root.ok("GetAccountPasswordPolicy", &[]).await;
    assert_eq!(policy.tag("MinimumPasswordLength").as_deref(), Some("12"));
    assert_eq!(policy.tag("PasswordReusePrevention").as_deref(), Some("2"));
    for (bad, rule) in [
        ("Short1!a", "length"),
        ("nouppercase1!x", "upper case"),
        ("NOLOWERCASE1!X", "lower case"),
        ("NoNumbersHere!", "digit"),
        ("NoSymbols12345", "symbol"),
    ] {
        let reply = root
            .call(
                "CreateLoginProfile",
                &[("UserName", "alice"), ("Password", bad)],
            )
            .await;
        refused(&reply, 400, "PasswordPolicyViolation");
        assert!(
            !reply.body.contains(bad),
            "{rule}: the password is not echoed"
        );
    }
    for (key, value) in [
        ("MinimumPasswordLength", "5"),
        ("MaxPasswordAge", "1096"),
        ("PasswordReusePrevention", "25"),
    ] {
        refused(
            &root
                .call("UpdateAccountPasswordPolicy", &[(key, value)])
                .await,
            400,
            "ValidationError",
        );
    }
    let first = "First-Password-1";
    let created = root
        .ok(
            "CreateLoginProfile",
            &[
                ("UserName", "alice"),
                ("Password", first),
                ("PasswordResetRequired", "true"),
            ],
        )
        .await;
    assert_eq!(
        created.tag("PasswordResetRequired").as_deref(),
        Some("true")
    );
    refused(
        &root
            .call(
                "CreateLoginProfile",
                &[("UserName", "alice"), ("Password", first)],
            )
            .await,
        409,
        "EntityAlreadyExists",
    );
    root.ok("GetLoginProfile", &[("UserName", "alice")]).await;

    // Reuse prevention: the last two passwords are refused.
    let second = "Second-Password-2";
    root.ok(
        "UpdateLoginProfile",
        &[("UserName", "alice"), ("Password", second)],
    )
    .await;
    for reused in [first, second] {
        refused(
            &root
                .call(
                    "UpdateLoginProfile",
                    &[("UserName", "alice"), ("Password", reused)],
                )
                .await,
            400,
            "PasswordPolicyViolation",
        );
    }
    root.ok(
        "UpdateLoginProfile",
        &[("UserName", "alice"), ("Password", "Third-Password-3")],
    )
    .await;
    // Now the first is three back: allowed again.
    root.ok(
        "UpdateLoginProfile",
        &[("UserName", "alice"), ("Password", first)],
    )
    .await;

    // Nothing of any password is in the log.
    let store = iam_event_store::open(db.url()).await.unwrap();
    let all = store
        .read_all(iam_event_store::Position(0), 10_000)
        .await
        .unwrap();
    for e in &all {
        let text = e.payload.to_string();
        for p in [first, second, "Third-Password-3"] {
            assert!(!text.contains(p), "{}: {text}", e.event_type);
        }
    }
    root.ok("DeleteLoginProfile", &[("UserName", "alice")])
        .await;
    refused(
        &root.call("GetLoginProfile", &[("UserName", "alice")]).await,
        404,
        "NoSuchEntity",
    );
    root.ok("DeleteAccountPasswordPolicy", &[]).await;
    refused(
        &root.call("GetAccountPasswordPolicy", &[]).await,
        404,
        "NoSuchEntity",
    );
    app.stop().await;
}

#[tokio::test]
async fn users_change_their_own_passwords_as_the_account_allows() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    root.ok(
        "CreateLoginProfile",
        &[("UserName", "alice"), ("Password", "Alice-Password-1")],
    )
    .await;
    // The default policy lets users change their own password.
    refused(
        &alice
            .call(
                "ChangePassword",
                &[
                    ("OldPassword", "wrong-Password-1"),
                    ("NewPassword", "Alice-Password-2"),
                ],
            )
            .await,
        403,
        "AccessDenied",
    );
    alice
        .ok(
            "ChangePassword",
            &[
                ("OldPassword", "Alice-Password-1"),
                ("NewPassword", "Alice-Password-2"),
            ],
        )
        .await;
    // A custom policy that does not: only a policy allowing it will do.
    root.ok(
        "UpdateAccountPasswordPolicy",
        &[("AllowUsersToChangePassword", "false")],
    )
    .await;
    refused(
        &alice
            .call(
                "ChangePassword",
                &[
                    ("OldPassword", "Alice-Password-2"),
                    ("NewPassword", "Alice-Password-3"),
                ],
            )
            .await,
        403,
        "AccessDenied",
    );
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", "alice"),
            ("PolicyName", "own-password"),
            ("PolicyDocument", &format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:ChangePassword","Resource":"arn:aws:iam::{ACCOUNT}:user/alice"}}]}}"#)),
        ],
    )
    .await;
    alice
        .ok(
            "ChangePassword",
            &[
                ("OldPassword", "Alice-Password-2"),
                ("NewPassword", "Alice-Password-3"),
            ],
        )
        .await;
    // An explicit deny beats the account setting.
    root.ok(
        "UpdateAccountPasswordPolicy",
        &[("AllowUsersToChangePassword", "true")],
    )
    .await;
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", "alice"),
            ("PolicyName", "own-password"),
            ("PolicyDocument", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:ChangePassword","Resource":"*"}]}"#),
        ],
    )
    .await;
    refused(
        &alice
            .call(
                "ChangePassword",
                &[
                    ("OldPassword", "Alice-Password-3"),
                    ("NewPassword", "Alice-Password-4"),
                ],
            )
            .await,
        403,
        "AccessDenied",
    );
    // The root user has no login profile to change this way.
    refused(
        &root
            .call(
                "ChangePassword",
                &[
                    ("OldPassword", "x-Password-1"),
                    ("NewPassword", "y-Password-2"),
                ],
            )
            .await,
        400,
        "InvalidUserType",
    );
    app.stop().await;
}

#[tokio::test]
async fn sign_in_answers_every_failure_alike_backs_off_and_records_each_attempt() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    user_with_policy(&root, "alice", ALLOW_ALL).await;
    root.ok(
        "CreateLoginProfile",
        &[("UserName", "alice"), ("Password", "Alice-Password-1")],
    )
    .await;
    let ok = sign_in(&app, "alice", "Alice-Password-1", None).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let v: serde_json::Value = serde_json::from_str(&ok.body).unwrap();
    assert_eq!(v["password_reset_required"], false);
    assert!(v["credentials"]["access_key_id"]
        .as_str()
        .unwrap()
        .starts_with("ASIA"));
    let session = signed_in(&app, &ok);
    let me = session.ok("GetCallerIdentity", &[]).await;
    assert_eq!(
        me.tag("Arn").as_deref(),
        Some(format!("arn:aws:iam::{ACCOUNT}:user/alice").as_str())
    );
    // A sign-in session is the console's: it calls IAM.
    session.ok("ListUsers", &[]).await;

    // Wrong password, unknown user, user without a password: one answer.
    root.ok("CreateUser", &[("UserName", "nopass")]).await;
    let wrong = sign_in(&app, "alice", "Wrong-Password-1", None).await;
    let unknown = sign_in(&app, "mallory", "Wrong-Password-1", None).await;
    let nopass = sign_in(&app, "nopass", "Wrong-Password-1", None).await;
    let message = |r: &Reply| {
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        (
            v["error"]["code"].as_str().unwrap().to_owned(),
            v["error"]["message"].as_str().unwrap().to_owned(),
        )
    };
    for r in [&wrong, &unknown, &nopass] {
        assert_eq!(r.status, 401, "{}", r.body);
        assert_eq!(message(r).0, "SignInFailed");
    }
    assert_eq!(message(&wrong), message(&unknown));
    assert_eq!(message(&wrong), message(&nopass));

    // Back-off: five failures are free (one so far for alice), then waits.
    for _ in 0..4 {
        let r = sign_in(&app, "alice", "Wrong-Password-1", None).await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    let throttled = sign_in(&app, "alice", "Alice-Password-1", None).await;
    assert_eq!(throttled.status, 429, "{}", throttled.body);
    assert!(throttled.header("retry-after").is_some());
    // Once the wait is over, the right password works and clears the count.
    app.state.clock.advance(chrono::Duration::seconds(2));
    let again = sign_in(&app, "alice", "Alice-Password-1", None).await;
    assert_eq!(again.status, 200, "{}", again.body);

    // Every attempt is in the trail.
    let store = iam_event_store::open(db.url()).await.unwrap();
    let all = store
        .read_all(iam_event_store::Position(0), 10_000)
        .await
        .unwrap();
    let count = |t: &str| all.iter().filter(|e| e.event_type == t).count();
    assert_eq!(count("SignInFailed"), 3 + 4 + 1);
    assert_eq!(count("TemporaryCredentialsIssued"), 2);
    for e in &all {
        assert!(!e.payload.to_string().contains("Alice-Password-1"));
    }
    // Malformed bodies are refused without a panic.
    for bad in ["", "{", "[]", r#"{"account_id":1}"#] {
        let request = format!(
            "POST /v1/sign-in HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{bad}",
            bad.len()
        );
        let r = send_raw(app.addr, request.into_bytes()).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_password_to_reset_signs_in_only_to_change_it_and_hard_expiry_locks_out() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    user_with_policy(&root, "alice", ALLOW_ALL).await;
    root.ok(
        "CreateLoginProfile",
        &[
            ("UserName", "alice"),
            ("Password", "Alice-Password-1"),
            ("PasswordResetRequired", "true"),
        ],
    )
    .await;
    let reply = sign_in(&app, "alice", "Alice-Password-1", None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let v: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(v["password_reset_required"], true);
    let session = signed_in(&app, &reply);
    refused(&session.call("ListUsers", &[]).await, 403, "AccessDenied");
    session
        .ok(
            "ChangePassword",
            &[
                ("OldPassword", "Alice-Password-1"),
                ("NewPassword", "Alice-Password-2"),
            ],
        )
        .await;
    let reply = sign_in(&app, "alice", "Alice-Password-2", None).await;
    let v: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(v["password_reset_required"], false);

    // MaxPasswordAge: an expired password must be changed; with HardExpiry
    // it no longer signs in.
    root.ok("UpdateAccountPasswordPolicy", &[("MaxPasswordAge", "1")])
        .await;
    app.state.clock.advance(chrono::Duration::days(1));
    let root = Client {
        skew: app.state.clock.offset(),
        ..root
    };
    let reply = sign_in(&app, "alice", "Alice-Password-2", None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let v: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(v["password_reset_required"], true);
    root.ok(
        "UpdateAccountPasswordPolicy",
        &[("MaxPasswordAge", "1"), ("HardExpiry", "true")],
    )
    .await;
    let reply = sign_in(&app, "alice", "Alice-Password-2", None).await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    app.stop().await;
}

#[tokio::test]
async fn mfa_devices_are_enabled_with_codes_each_accepted_once_and_mfa_conditions_hold() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    // alice may do everything, but only with MFA (the User Guide's
    // BoolIfExists deny pattern).
    let alice = user_with_policy(
        &root,
        "alice",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","NotAction":["sts:GetSessionToken","iam:ChangePassword"],"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#,
    )
    .await;
    root.ok(
        "CreateLoginProfile",
        &[("UserName", "alice"), ("Password", "Alice-Password-1")],
    )
    .await;
    refused(&alice.call("ListUsers", &[]).await, 403, "AccessDenied");

    let (serial, seed) = device(&root, "alice-phone").await;
    let unassigned = root
        .ok(
            "ListVirtualMFADevices",
            &[("AssignmentStatus", "Unassigned")],
        )
        .await;
    assert_eq!(unassigned.all("SerialNumber"), vec![serial.clone()]);
    // Wrong codes, codes in the wrong order.
    refused(
        &root
            .call(
                "EnableMFADevice",
                &[
                    ("UserName", "alice"),
                    ("SerialNumber", &serial),
                    ("AuthenticationCode1", "000000"),
                    ("AuthenticationCode2", "000000"),
                ],
            )
            .await,
        400,
        "InvalidAuthenticationCode",
    );
    refused(
        &root
            .call(
                "EnableMFADevice",
                &[
                    ("UserName", "alice"),
                    ("SerialNumber", &serial),
                    ("AuthenticationCode1", &mfa_code(&seed, &app, 0)),
                    ("AuthenticationCode2", &mfa_code(&seed, &app, -1)),
                ],
            )
            .await,
        400,
        "InvalidAuthenticationCode",
    );
    root.ok(
        "EnableMFADevice",
        &[
            ("UserName", "alice"),
            ("SerialNumber", &serial),
            ("AuthenticationCode1", &mfa_code(&seed, &app, -1)),
            ("AuthenticationCode2", &mfa_code(&seed, &app, 0)),
        ],
    )
    .await;
    let listed = root.ok("ListMFADevices", &[("UserName", "alice")]).await;
    assert_eq!(listed.all("SerialNumber"), vec![serial.clone()]);
    let got = root
        .ok(
            "GetMFADevice",
            &[("UserName", "alice"), ("SerialNumber", &serial)],
        )
        .await;
    assert_eq!(got.tag("UserName").as_deref(), Some("alice"));
    let assigned = root
        .ok("ListVirtualMFADevices", &[("AssignmentStatus", "Assigned")])
        .await;
    assert_eq!(assigned.all("SerialNumber"), vec![serial.clone()]);

    // The code that enabled the device is spent.
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
    // The next step's code works once.
    app.state.clock.advance(chrono::Duration::seconds(30));
    let alice = Client {
        skew: app.state.clock.offset(),
        ..alice
    };
    let next = mfa_code(&seed, &app, 0);
    let token = alice
        .ok(
            "GetSessionToken",
            &[("SerialNumber", &serial), ("TokenCode", &next)],
        )
        .await;
    refused(
        &alice
            .call(
                "GetSessionToken",
                &[("SerialNumber", &serial), ("TokenCode", &next)],
            )
            .await,
        403,
        "AccessDenied",
    );
    let session = Client {
        skew: app.state.clock.offset(),
        ..alice.with_credentials_of(&token)
    };
    // With MFA, the session calls IAM; alice's long-term key still cannot.
    session.ok("ListUsers", &[]).await;
    refused(&alice.call("ListUsers", &[]).await, 403, "AccessDenied");

    // Sign-in needs a code now, and a code is accepted once.
    let no_code = sign_in(&app, "alice", "Alice-Password-1", None).await;
    assert_eq!(no_code.status, 401, "{}", no_code.body);
    app.state.clock.advance(chrono::Duration::seconds(30));
    let fresh = mfa_code(&seed, &app, 0);
    let with_code = sign_in(&app, "alice", "Alice-Password-1", Some(&fresh)).await;
    assert_eq!(with_code.status, 200, "{}", with_code.body);
    let replay = sign_in(&app, "alice", "Alice-Password-1", Some(&fresh)).await;
    assert_eq!(replay.status, 401, "{}", replay.body);
    let console = Client {
        skew: app.state.clock.offset(),
        ..signed_in(&app, &with_code)
    };
    console.ok("ListUsers", &[]).await;

    // Resync takes two consecutive codes from a drifted clock.
    root.ok(
        "ResyncMFADevice",
        &[
            ("UserName", "alice"),
            ("SerialNumber", &serial),
            ("AuthenticationCode1", &mfa_code(&seed, &app, 5)),
            ("AuthenticationCode2", &mfa_code(&seed, &app, 6)),
        ],
    )
    .await;
    // Tags: a condition on the device's own tags holds.
    root.ok(
        "TagMFADevice",
        &[
            ("SerialNumber", &serial),
            ("Tags.member.1.Key", "owner"),
            ("Tags.member.1.Value", "alice"),
        ],
    )
    .await;
    let tags = root
        .ok("ListMFADeviceTags", &[("SerialNumber", &serial)])
        .await;
    assert_eq!(tags.all("Key"), vec!["owner".to_owned()]);
    let tagger = user_with_policy(
        &root,
        "tagger",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:UntagMFADevice","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/owner":"bob"}}}]}"#,
    )
    .await;
    refused(
        &tagger
            .call(
                "UntagMFADevice",
                &[("SerialNumber", &serial), ("TagKeys.member.1", "owner")],
            )
            .await,
        403,
        "AccessDenied",
    );
    root.ok(
        "UntagMFADevice",
        &[("SerialNumber", &serial), ("TagKeys.member.1", "owner")],
    )
    .await;
    // A device created with tags needs iam:TagMFADevice too.
    let creator = user_with_policy(
        &root,
        "creator",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateVirtualMFADevice","Resource":"*"}]}"#,
    )
    .await;
    refused(
        &creator
            .call(
                "CreateVirtualMFADevice",
                &[
                    ("VirtualMFADeviceName", "tagged"),
                    ("Tags.member.1.Key", "k"),
                    ("Tags.member.1.Value", "v"),
                ],
            )
            .await,
        403,
        "AccessDenied",
    );
    creator
        .ok(
            "CreateVirtualMFADevice",
            &[("VirtualMFADeviceName", "untagged")],
        )
        .await;
    root.ok(
        "DeleteVirtualMFADevice",
        &[(
            "SerialNumber",
            &format!("arn:aws:iam::{ACCOUNT}:mfa/untagged"),
        )],
    )
    .await;

    // In use: not deleted; deactivated, then deleted.
    refused(
        &root
            .call("DeleteVirtualMFADevice", &[("SerialNumber", &serial)])
            .await,
        409,
        "DeleteConflict",
    );
    root.ok(
        "DeactivateMFADevice",
        &[("UserName", "alice"), ("SerialNumber", &serial)],
    )
    .await;
    root.ok("DeleteVirtualMFADevice", &[("SerialNumber", &serial)])
        .await;
    let none = root.ok("ListVirtualMFADevices", &[]).await;
    assert!(none.all("SerialNumber").is_empty());

    // The seed is in the log only sealed.
    let store = iam_event_store::open(db.url()).await.unwrap();
    let base32 = iam_mfa::base32_encode(&seed);
    for e in store
        .read_all(iam_event_store::Position(0), 10_000)
        .await
        .unwrap()
    {
        assert!(!e.payload.to_string().contains(&base32), "{}", e.event_type);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_code_spent_on_one_node_is_refused_on_another() {
    let db = TestDatabase::for_server().await;
    let one = TestApp::spawn(db.url()).await;
    let two = TestApp::spawn(db.url()).await;
    let root = one.root();
    let alice = user_with_policy(&root, "alice", ALLOW_ALL).await;
    let (serial, seed) = device(&root, "alice-phone").await;
    root.ok(
        "EnableMFADevice",
        &[
            ("UserName", "alice"),
            ("SerialNumber", &serial),
            ("AuthenticationCode1", &mfa_code(&seed, &one, -1)),
            ("AuthenticationCode2", &mfa_code(&seed, &one, 0)),
        ],
    )
    .await;
    // The next step's code, on both nodes' clocks.
    for app in [&one, &two] {
        app.state.clock.advance(chrono::Duration::seconds(30));
    }
    let next = mfa_code(&seed, &one, 0);
    let on = |app: &TestApp| Client {
        addr: app.addr,
        skew: app.state.clock.offset(),
        ..alice.clone()
    };
    // Node two may not have seen the device yet: wait until it has.
    let mut ready = false;
    for _ in 0..100 {
        let listed = on(&two).call("ListMFADevices", &[]).await;
        if listed.all("SerialNumber").contains(&serial) {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(ready, "node two follows the log");
    on(&one)
        .ok(
            "GetSessionToken",
            &[("SerialNumber", &serial), ("TokenCode", &next)],
        )
        .await;
    // Whether or not node two's view has the spend yet, the log refuses it.
    refused(
        &on(&two)
            .call(
                "GetSessionToken",
                &[("SerialNumber", &serial), ("TokenCode", &next)],
            )
            .await,
        403,
        "AccessDenied",
    );
    one.stop().await;
    two.stop().await;
}

#[tokio::test]
async fn mfa_age_conditions_count_from_the_code() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    // alice may list users within an hour of authenticating with MFA (the
    // User Guide's aws:MultiFactorAuthAge example).
    let alice = user_with_policy(
        &root,
        "alice",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}}]}"#,
    )
    .await;
    let (serial, seed) = device(&root, "alice-phone").await;
    root.ok(
        "EnableMFADevice",
        &[
            ("UserName", "alice"),
            ("SerialNumber", &serial),
            ("AuthenticationCode1", &mfa_code(&seed, &app, -1)),
            ("AuthenticationCode2", &mfa_code(&seed, &app, 0)),
        ],
    )
    .await;
    // Without MFA the key is absent, and the condition does not hold.
    refused(&alice.call("ListUsers", &[]).await, 403, "AccessDenied");
    let plain = alice.with_credentials_of(&alice.ok("GetSessionToken", &[]).await);
    refused(&plain.call("ListUsers", &[]).await, 403, "AccessDenied");
    app.state.clock.advance(chrono::Duration::seconds(30));
    let alice = Client {
        skew: app.state.clock.offset(),
        ..alice
    };
    let token = alice
        .ok(
            "GetSessionToken",
            &[
                ("SerialNumber", &serial),
                ("TokenCode", &mfa_code(&seed, &app, 0)),
            ],
        )
        .await;
    let mut session = alice.with_credentials_of(&token);
    session.ok("ListUsers", &[]).await;
    // An hour after the code, the same session no longer may.
    app.state.clock.advance(chrono::Duration::seconds(3600));
    session.skew = app.state.clock.offset();
    refused(&session.call("ListUsers", &[]).await, 403, "AccessDenied");
    app.stop().await;
}
