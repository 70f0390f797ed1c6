//! Attacks on authorization, performed through the real HTTP server: each
//! test has a user try to talk the server out of the policies an
//! administrator wrote, and checks the refusal and that the legitimate use
//! still works.

use iam_event_store::testing::TestDatabase;

mod support;
use support::*;

const BOUNDARY: &str = "arn:aws:iam::123456789012:policy/Boundary";
const STAR: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

fn denied(reply: &Reply) {
    assert_eq!(
        (reply.status, reply.error_code().as_deref()),
        (403, Some("AccessDenied")),
        "{}",
        reply.body
    );
}

/// The refusal's words, less the sealed authorization failure message
/// (opaque to the caller, and different every time).
fn message(reply: &Reply) -> String {
    reply.plain_message().unwrap_or_default()
}

/// AWS's documented delegation example (access_policies_boundaries.md):
/// Zhang may manage users' policies only where `iam:PermissionsBoundary`
/// is the company boundary. For `PutUserPolicy` and the other policy
/// changes that key is the *target's current* boundary; a
/// `PermissionsBoundary` parameter added to the request must not satisfy
/// it, or Zhang makes himself an administrator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_boundary_in_the_request_does_not_satisfy_a_condition_on_the_targets_boundary() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok(
        "CreatePolicy",
        &[("PolicyName", "Boundary"), ("PolicyDocument", STAR)],
    )
    .await;
    let delegation = format!(
        r#"{{"Version":"2012-10-17","Statement":[
          {{"Sid":"CreateOrChangeOnlyWithBoundary","Effect":"Allow",
            "Action":["iam:AttachUserPolicy","iam:CreateUser","iam:DeleteUserPolicy",
                      "iam:DetachUserPolicy","iam:PutUserPermissionsBoundary","iam:PutUserPolicy"],
            "Resource":"*",
            "Condition":{{"StringEquals":{{"iam:PermissionsBoundary":"{BOUNDARY}"}}}}}},
          {{"Effect":"Allow","Action":["iam:GetUser","iam:CreatePolicy"],"Resource":"*"}}]}}"#
    );
    let zhang = user_with_policy(&root, "zhang", &delegation).await;

    // The attack: a boundary parameter on calls whose key is the target's.
    for (action, extra) in [
        (
            "PutUserPolicy",
            vec![("PolicyName", "admin"), ("PolicyDocument", STAR)],
        ),
        ("DeleteUserPolicy", vec![("PolicyName", "granted")]),
    ] {
        let mut params = vec![("UserName", "zhang"), ("PermissionsBoundary", BOUNDARY)];
        params.extend(extra);
        denied(&zhang.call(action, &params).await);
    }
    root.ok(
        "CreatePolicy",
        &[("PolicyName", "Everything"), ("PolicyDocument", STAR)],
    )
    .await;
    denied(
        &zhang
            .call(
                "AttachUserPolicy",
                &[
                    ("UserName", "zhang"),
                    ("PolicyArn", "arn:aws:iam::123456789012:policy/Everything"),
                    ("PermissionsBoundary", BOUNDARY),
                ],
            )
            .await,
    );
    // Still unprivileged: nothing above was written.
    denied(&zhang.call("ListUsers", &[]).await);

    // The legitimate uses: create a user with the boundary, then manage
    // that user's policies (the key is now the stored boundary).
    denied(&zhang.call("CreateUser", &[("UserName", "intern")]).await);
    zhang
        .ok(
            "CreateUser",
            &[("UserName", "intern"), ("PermissionsBoundary", BOUNDARY)],
        )
        .await;
    zhang
        .ok(
            "PutUserPolicy",
            &[
                ("UserName", "intern"),
                ("PolicyName", "work"),
                ("PolicyDocument", STAR),
            ],
        )
        .await;
    zhang
        .ok(
            "AttachUserPolicy",
            &[
                ("UserName", "intern"),
                ("PolicyArn", "arn:aws:iam::123456789012:policy/Everything"),
            ],
        )
        .await;
    // The boundary being set is the request's: setting another is refused.
    root.ok("CreateUser", &[("UserName", "plain")]).await;
    denied(
        &zhang
            .call(
                "PutUserPermissionsBoundary",
                &[
                    ("UserName", "plain"),
                    (
                        "PermissionsBoundary",
                        "arn:aws:iam::123456789012:policy/Everything",
                    ),
                ],
            )
            .await,
    );
    zhang
        .ok(
            "PutUserPermissionsBoundary",
            &[("UserName", "plain"), ("PermissionsBoundary", BOUNDARY)],
        )
        .await;
    app.stop().await;
}

/// The same attack on roles: `PutRolePolicy` reads the role's boundary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_policy_changes_read_the_roles_stored_boundary() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok(
        "CreatePolicy",
        &[("PolicyName", "Boundary"), ("PolicyDocument", STAR)],
    )
    .await;
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    root.ok(
        "CreateRole",
        &[("RoleName", "free"), ("AssumeRolePolicyDocument", trust)],
    )
    .await;
    root.ok(
        "CreateRole",
        &[
            ("RoleName", "bounded"),
            ("AssumeRolePolicyDocument", trust),
            ("PermissionsBoundary", BOUNDARY),
        ],
    )
    .await;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["iam:PutRolePolicy","iam:DeleteRolePermissionsBoundary"],"Resource":"*",
            "Condition":{{"ArnEquals":{{"iam:PermissionsBoundary":"{BOUNDARY}"}}}}}}]}}"#
    );
    let ops = user_with_policy(&root, "ops", &policy).await;
    let put = |role: &'static str| {
        vec![
            ("RoleName", role),
            ("PolicyName", "p"),
            ("PolicyDocument", STAR),
            ("PermissionsBoundary", BOUNDARY),
        ]
    };
    denied(&ops.call("PutRolePolicy", &put("free")).await);
    ops.ok("PutRolePolicy", &put("bounded")).await;
    // Deleting a boundary is judged by the boundary being deleted.
    denied(
        &ops.call(
            "DeleteRolePermissionsBoundary",
            &[("RoleName", "free"), ("PermissionsBoundary", BOUNDARY)],
        )
        .await,
    );
    ops.ok("DeleteRolePermissionsBoundary", &[("RoleName", "bounded")])
        .await;
    app.stop().await;
}

/// Keys an action does not define are not set, whatever the request
/// carries: a condition on `aws:RequestTag` cannot be met on `GetUser`,
/// and `iam:PolicyARN` is not set on `PutUserPolicy`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_parameters_set_no_keys_on_actions_that_do_not_define_them() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let policy = r#"{"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":["iam:GetUser","iam:TagUser"],"Resource":"*",
       "Condition":{"StringEquals":{"aws:RequestTag/pass":"yes"}}},
      {"Effect":"Allow","Action":["iam:PutUserPolicy","iam:AttachUserPolicy"],"Resource":"*",
       "Condition":{"ArnLike":{"iam:PolicyARN":"arn:aws:iam::123456789012:policy/*"}}}]}"#;
    let eve = user_with_policy(&root, "eve", policy).await;
    let tag = [
        ("Tags.member.1.Key", "pass"),
        ("Tags.member.1.Value", "yes"),
    ];
    let mut get = vec![("UserName", "eve")];
    get.extend(tag);
    denied(&eve.call("GetUser", &get).await);
    let mut tag_user = vec![("UserName", "eve")];
    tag_user.extend(tag);
    eve.ok("TagUser", &tag_user).await;
    denied(
        &eve.call(
            "PutUserPolicy",
            &[
                ("UserName", "eve"),
                ("PolicyName", "admin"),
                ("PolicyDocument", STAR),
                ("PolicyArn", "arn:aws:iam::123456789012:policy/x"),
            ],
        )
        .await,
    );
    app.stop().await;
}

/// A Deny on `policy/Guard` holds against every spelling of the name: the
/// call is authorized on the stored policy's ARN, and `iam:PolicyARN`
/// carries the stored spelling too. Likewise for users, groups and roles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deny_holds_against_every_spelling_of_an_entitys_name() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok(
        "CreatePolicy",
        &[("PolicyName", "Guard"), ("PolicyDocument", STAR)],
    )
    .await;
    root.ok("CreateUser", &[("UserName", "Alice")]).await;
    root.ok("CreateGroup", &[("GroupName", "Admins")]).await;
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    root.ok(
        "CreateRole",
        &[
            ("RoleName", "Deployer"),
            ("AssumeRolePolicyDocument", trust),
        ],
    )
    .await;
    let policy = r#"{"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"iam:*","Resource":"*"},
      {"Effect":"Deny","Action":"iam:*","Resource":[
        "arn:aws:iam::123456789012:policy/Guard",
        "arn:aws:iam::123456789012:user/Alice",
        "arn:aws:iam::123456789012:group/Admins",
        "arn:aws:iam::123456789012:role/Deployer"]},
      {"Effect":"Deny","Action":"iam:Attach*","Resource":"*",
       "Condition":{"ArnEquals":{"iam:PolicyARN":"arn:aws:iam::123456789012:policy/Guard"}}}]}"#;
    let mallory = user_with_policy(&root, "mallory", policy).await;
    for spelling in ["guard", "GUARD", "Guard", "gUaRd"] {
        let arn = format!("arn:aws:iam::123456789012:policy/{spelling}");
        denied(
            &mallory
                .call(
                    "CreatePolicyVersion",
                    &[
                        ("PolicyArn", &arn),
                        ("PolicyDocument", STAR),
                        ("SetAsDefault", "true"),
                    ],
                )
                .await,
        );
        denied(&mallory.call("DeletePolicy", &[("PolicyArn", &arn)]).await);
        denied(
            &mallory
                .call(
                    "AttachUserPolicy",
                    &[("UserName", "mallory"), ("PolicyArn", &arn)],
                )
                .await,
        );
    }
    for spelling in ["alice", "ALICE"] {
        denied(
            &mallory
                .call(
                    "PutUserPolicy",
                    &[
                        ("UserName", spelling),
                        ("PolicyName", "p"),
                        ("PolicyDocument", STAR),
                    ],
                )
                .await,
        );
        denied(
            &mallory
                .call("CreateAccessKey", &[("UserName", spelling)])
                .await,
        );
    }
    denied(
        &mallory
            .call(
                "AddUserToGroup",
                &[("GroupName", "admins"), ("UserName", "mallory")],
            )
            .await,
    );
    denied(
        &mallory
            .call(
                "AttachRolePolicy",
                &[
                    ("RoleName", "deployer"),
                    ("PolicyArn", "arn:aws:iam::123456789012:policy/Guard"),
                ],
            )
            .await,
    );
    // The stored policy is unchanged: still one version.
    let versions = root
        .ok(
            "ListPolicyVersions",
            &[("PolicyArn", "arn:aws:iam::123456789012:policy/Guard")],
        )
        .await;
    assert_eq!(versions.all("VersionId"), vec!["v1"]);
    // What is not denied still works.
    mallory
        .ok(
            "CreatePolicy",
            &[("PolicyName", "Other"), ("PolicyDocument", STAR)],
        )
        .await;
    mallory
        .ok(
            "CreatePolicyVersion",
            &[
                ("PolicyArn", "arn:aws:iam::123456789012:policy/other"),
                ("PolicyDocument", STAR),
            ],
        )
        .await;
    app.stop().await;
}

/// Renaming or moving a user needs the permission on the new ARN too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renaming_a_user_needs_permission_on_the_new_name() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "temp")]).await;
    let policy = r#"{"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"iam:UpdateUser","Resource":[
        "arn:aws:iam::123456789012:user/temp",
        "arn:aws:iam::123456789012:user/contractors/*"]}]}"#;
    let hr = user_with_policy(&root, "hr", policy).await;
    denied(
        &hr.call(
            "UpdateUser",
            &[("UserName", "temp"), ("NewUserName", "admin")],
        )
        .await,
    );
    denied(
        &hr.call(
            "UpdateUser",
            &[("UserName", "temp"), ("NewPath", "/admins/")],
        )
        .await,
    );
    root.ok("GetUser", &[("UserName", "temp")]).await;
    hr.ok(
        "UpdateUser",
        &[("UserName", "temp"), ("NewPath", "/contractors/")],
    )
    .await;
    let moved = root.ok("GetUser", &[("UserName", "temp")]).await;
    assert_eq!(moved.tag("Path").as_deref(), Some("/contractors/"));
    app.stop().await;
}

/// Tags given on create need the tag action as well (they feed
/// `aws:PrincipalTag` and `aws:ResourceTag`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_on_create_need_the_tag_permission() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let policy = r#"{"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":["iam:CreateUser","iam:CreateRole","iam:CreatePolicy"],"Resource":"*"}]}"#;
    let dev = user_with_policy(&root, "dev", policy).await;
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let tag = [
        ("Tags.member.1.Key", "role"),
        ("Tags.member.1.Value", "admin"),
    ];
    let creates: [(&str, Vec<(&str, &str)>); 3] = [
        ("CreateUser", vec![("UserName", "u1")]),
        (
            "CreateRole",
            vec![("RoleName", "r1"), ("AssumeRolePolicyDocument", trust)],
        ),
        (
            "CreatePolicy",
            vec![("PolicyName", "p1"), ("PolicyDocument", STAR)],
        ),
    ];
    for (action, params) in &creates {
        let mut tagged = params.clone();
        tagged.extend(tag);
        denied(&dev.call(action, &tagged).await);
        dev.ok(action, params).await;
    }
    let users = root.ok("ListUsers", &[]).await;
    assert!(!users.body.contains("<Key>role</Key>"), "{}", users.body);
    app.stop().await;
}

/// Resource tags come from the stored entity: a user may delete only users
/// tagged `status=terminated`, and cannot tag its way there in the same
/// request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_tags_come_from_the_stored_entity() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:DeleteUser","Resource":"*",
        "Condition":{"StringEquals":{"iam:ResourceTag/status":"terminated"}}}]}"#;
    let reaper = user_with_policy(&root, "reaper", policy).await;
    root.ok("CreateUser", &[("UserName", "active")]).await;
    root.ok(
        "CreateUser",
        &[
            ("UserName", "gone"),
            ("Tags.member.1.Key", "status"),
            ("Tags.member.1.Value", "terminated"),
        ],
    )
    .await;
    denied(
        &reaper
            .call(
                "DeleteUser",
                &[
                    ("UserName", "active"),
                    ("Tags.member.1.Key", "status"),
                    ("Tags.member.1.Value", "terminated"),
                ],
            )
            .await,
    );
    reaper.ok("DeleteUser", &[("UserName", "gone")]).await;
    root.ok("GetUser", &[("UserName", "active")]).await;
    app.stop().await;
}

/// A refusal does not tell the caller what it may not read: the path and
/// stored spelling of a user appear only to a caller allowed to read it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_names_the_resource_as_the_request_named_it() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok(
        "CreateUser",
        &[("UserName", "HiddenAdmin"), ("Path", "/secret/ops/")],
    )
    .await;
    let nobody = user_with_policy(
        &root,
        "nobody",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
    )
    .await;
    let existing = nobody
        .call("DeleteUser", &[("UserName", "hiddenadmin")])
        .await;
    denied(&existing);
    let missing = nobody
        .call("DeleteUser", &[("UserName", "hiddenadmin2")])
        .await;
    denied(&missing);
    let text = message(&existing);
    assert!(!text.contains("secret"), "{text}");
    assert!(!text.contains("HiddenAdmin"), "{text}");
    assert!(text.contains("user/hiddenadmin "), "{text}");
    // The same shape of answer as for a user that does not exist.
    assert_eq!(
        text.replace("hiddenadmin", "X"),
        message(&missing).replace("hiddenadmin2", "X")
    );
    // A reader of users is told the stored ARN.
    let reader = user_with_policy(
        &root,
        "reader",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}"#,
    )
    .await;
    let refused = reader
        .call("DeleteUser", &[("UserName", "hiddenadmin")])
        .await;
    denied(&refused);
    assert!(
        message(&refused).contains("user/secret/ops/HiddenAdmin"),
        "{}",
        refused.body
    );
    app.stop().await;
}

/// `GetAccessKeyLastUsed` authorizes before looking the key up: a caller
/// without the permission gets the same refusal for another user's key and
/// for a key that does not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_key_last_used_does_not_reveal_which_keys_exist() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "victim")]).await;
    let key = root.ok("CreateAccessKey", &[("UserName", "victim")]).await;
    let victim_key = key.tag("AccessKeyId").unwrap();
    let own = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetAccessKeyLastUsed","Resource":"arn:aws:iam::123456789012:user/${aws:username}"}]}"#;
    let probe = user_with_policy(&root, "probe", own).await;
    let real = probe
        .call("GetAccessKeyLastUsed", &[("AccessKeyId", &victim_key)])
        .await;
    let fake = probe
        .call(
            "GetAccessKeyLastUsed",
            &[("AccessKeyId", "AKIAXXXXXXXXXXXXXXXX")],
        )
        .await;
    denied(&real);
    denied(&fake);
    assert_eq!(message(&real), message(&fake));
    assert!(!message(&real).contains("victim"), "{}", real.body);
    // Its own key is answered.
    probe
        .ok("GetAccessKeyLastUsed", &[("AccessKeyId", &probe.key)])
        .await;
    // A caller allowed on every user learns the key is missing.
    let admin = user_with_policy(&root, "admin", STAR).await;
    let missing = admin
        .call(
            "GetAccessKeyLastUsed",
            &[("AccessKeyId", "AKIAXXXXXXXXXXXXXXXX")],
        )
        .await;
    assert_eq!(missing.error_code().as_deref(), Some("NoSuchEntity"));
    app.stop().await;
}

/// More than 50 tags in one request is refused before any policy is
/// evaluated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_tags_are_refused_before_evaluation() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "t")]).await;
    let names: Vec<(String, String)> = (1..=51)
        .map(|i| (format!("Tags.member.{i}.Key"), format!("k{i}")))
        .chain((1..=51).map(|i| (format!("Tags.member.{i}.Value"), "v".to_owned())))
        .collect();
    let mut params: Vec<(&str, &str)> = vec![("UserName", "t")];
    params.extend(names.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let reply = root.call("TagUser", &params).await;
    assert_eq!(
        (reply.status, reply.error_code().as_deref()),
        (400, Some("ValidationError")),
        "{}",
        reply.body
    );
    let keys: Vec<String> = (1..=51).map(|i| format!("TagKeys.member.{i}")).collect();
    let mut params: Vec<(&str, &str)> = vec![("UserName", "t")];
    params.extend(keys.iter().map(|k| (k.as_str(), "k")));
    let reply = root.call("UntagUser", &params).await;
    assert_eq!(reply.error_code().as_deref(), Some("ValidationError"));
    app.stop().await;
}

/// AWS managed policies (`arn:aws:iam::aws:policy/…`) are well-formed ARNs
/// iamd does not have: NoSuchEntity, as AWS answers for a missing policy,
/// and only after the call is authorized.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_aws_managed_policy_arns_are_missing_policies_after_authorization() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    // Not in iamd's catalogue (`iam_domain::aws_policies`).
    let managed = "arn:aws:iam::aws:policy/AmazonS3NoSuchAccess";
    root.ok("CreateUser", &[("UserName", "u")]).await;
    for (action, params) in [
        (
            "AttachUserPolicy",
            vec![("UserName", "u"), ("PolicyArn", managed)],
        ),
        (
            "PutUserPermissionsBoundary",
            vec![("UserName", "u"), ("PermissionsBoundary", managed)],
        ),
        ("GetPolicy", vec![("PolicyArn", managed)]),
        (
            "CreateUser",
            vec![("UserName", "v"), ("PermissionsBoundary", managed)],
        ),
    ] {
        let reply = root.call(action, &params).await;
        assert_eq!(
            (reply.status, reply.error_code().as_deref()),
            (404, Some("NoSuchEntity")),
            "{action}: {}",
            reply.body
        );
        assert_eq!(
            message(&reply),
            format!("Policy {managed} does not exist or is not attachable.")
        );
    }
    assert_eq!(
        root.call("GetUser", &[("UserName", "v")]).await.status,
        404,
        "nothing was created"
    );
    let outsider = user_with_policy(
        &root,
        "outsider",
        STAR.replace("\"*\",\"Resource\"", "\"s3:*\",\"Resource\"")
            .as_str(),
    )
    .await;
    denied(
        &outsider
            .call(
                "AttachUserPolicy",
                &[("UserName", "u"), ("PolicyArn", managed)],
            )
            .await,
    );
    denied(&outsider.call("GetPolicy", &[("PolicyArn", managed)]).await);
    app.stop().await;
}

/// A stored permissions boundary that no longer parses (written to the log
/// behind `decide`'s back, as by a database writer or an older build) makes
/// the user's calls fail closed through the server, instead of the
/// boundary vanishing and the user's own `iam:*` applying in full.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_boundary_denies_through_the_server() {
    use iam_domain::event::{Event, EventData, SCHEMA_VERSION};
    use iam_domain::ids::{AccountId, PolicyVersionId};
    use iam_domain::names::PolicyName;
    use iam_event_store::{ExpectedVersion, NewEvent};

    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let iam_all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}"#;
    root.ok(
        "CreatePolicy",
        &[("PolicyName", "Bound"), ("PolicyDocument", iam_all)],
    )
    .await;
    let alice = user_with_policy(&root, "alice", iam_all).await;
    root.ok(
        "PutUserPermissionsBoundary",
        &[
            ("UserName", "alice"),
            (
                "PermissionsBoundary",
                "arn:aws:iam::123456789012:policy/Bound",
            ),
        ],
    )
    .await;
    alice.ok("ListUsers", &[]).await;

    let account = AccountId::parse(ACCOUNT).unwrap();
    let event = Event {
        account_id: account.clone(),
        data: EventData::PolicyVersionCreated {
            policy_name: PolicyName::parse("Bound").unwrap(),
            version_id: PolicyVersionId::parse("v2").unwrap(),
            policy_document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*","Bogus":1}]}"#.into(),
            set_as_default: true,
            created_at: chrono::Utc::now(),
        },
    };
    let metadata = serde_json::json!({
        "actor": {"principal_arn": "test:database-writer", "principal_id": null,
                  "access_key_id": null, "session_name": null},
        "request_id": "r", "source_ip": null, "user_agent": null,
        "correlation_id": null, "causation_id": null
    });
    let outcome = app
        .state
        .store
        .append(
            &account.stream_name(),
            ExpectedVersion::Any,
            vec![
                NewEvent::new(event.event_type(), SCHEMA_VERSION, event.to_payload())
                    .with_metadata(metadata),
            ],
        )
        .await
        .unwrap();
    let at = outcome.last_position.0.to_string();
    let wait = [(iam_api::app::MIN_POSITION_HEADER, at.as_str())];
    let reply = alice.call_with("ListUsers", &[], &wait).await;
    denied(&reply);
    assert!(message(&reply).contains("explicit deny"), "{}", reply.body);
    // Root is not bound by boundaries and can repair it.
    root.ok(
        "SetDefaultPolicyVersion",
        &[
            ("PolicyArn", "arn:aws:iam::123456789012:policy/Bound"),
            ("VersionId", "v1"),
        ],
    )
    .await;
    alice.ok("ListUsers", &[]).await;
    app.stop().await;
}

/// Tag keys are unique regardless of case, so retagging `Protected` as
/// `PROTECTED` (or removing `protected`) changes the protected tag: a Deny
/// on `aws:TagKeys` naming the stored spelling holds against every
/// spelling.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deny_on_a_tag_key_holds_against_every_spelling_of_it() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok(
        "CreateUser",
        &[
            ("UserName", "guarded"),
            ("Tags.member.1.Key", "Protected"),
            ("Tags.member.1.Value", "yes"),
        ],
    )
    .await;
    let policy = r#"{"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"iam:*","Resource":"*"},
      {"Effect":"Deny","Action":["iam:TagUser","iam:UntagUser"],"Resource":"*",
       "Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["Protected"]}}}]}"#;
    let tagger = user_with_policy(&root, "tagger", policy).await;
    for key in ["PROTECTED", "protected", "Protected"] {
        denied(
            &tagger
                .call(
                    "TagUser",
                    &[
                        ("UserName", "guarded"),
                        ("Tags.member.1.Key", key),
                        ("Tags.member.1.Value", "no"),
                    ],
                )
                .await,
        );
        denied(
            &tagger
                .call(
                    "UntagUser",
                    &[("UserName", "guarded"), ("TagKeys.member.1", key)],
                )
                .await,
        );
    }
    let tags = root.ok("ListUserTags", &[("UserName", "guarded")]).await;
    assert_eq!(tags.all("Key"), vec!["Protected"]);
    assert_eq!(tags.all("Value"), vec!["yes"]);
    // Other tags are the tagger's to change.
    tagger
        .ok(
            "TagUser",
            &[
                ("UserName", "guarded"),
                ("Tags.member.1.Key", "team"),
                ("Tags.member.1.Value", "red"),
            ],
        )
        .await;
    app.stop().await;
}

/// Authorization and the write are one step: a request authorized on a
/// user cannot land on another user renamed into that name in between (the
/// race a delegated administrator could use to attach a policy to itself).
/// Here the swap is done deterministically: the request is authorized on
/// one view, and the write finds the name taken by another entity.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_is_refused_when_its_authorized_target_was_swapped() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok(
        "CreatePolicy",
        &[("PolicyName", "Boundary"), ("PolicyDocument", STAR)],
    )
    .await;
    root.ok(
        "CreatePolicy",
        &[("PolicyName", "AdminAll"), ("PolicyDocument", STAR)],
    )
    .await;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
          {{"Effect":"Allow","Action":["iam:AttachUserPolicy","iam:CreateUser"],"Resource":"*",
            "Condition":{{"StringEquals":{{"iam:PermissionsBoundary":"{BOUNDARY}"}}}}}},
          {{"Effect":"Allow","Action":["iam:UpdateUser","iam:GetUser","iam:ListAttachedUserPolicies"],"Resource":"*"}}]}}"#
    );
    let deleg = user_with_policy(&root, "deleg", &policy).await;
    deleg
        .ok(
            "CreateUser",
            &[("UserName", "v"), ("PermissionsBoundary", BOUNDARY)],
        )
        .await;
    // Race the attach against the two renames, many times: with the
    // re-check in the writer the attach may succeed (on the real `v`) or be
    // refused, but it never lands on `deleg`.
    for round in 0..20 {
        let parked = format!("parked{round}");
        let attach_params = [
            ("UserName", "v"),
            ("PolicyArn", "arn:aws:iam::123456789012:policy/AdminAll"),
        ];
        let move_victim_params = [("UserName", "v"), ("NewUserName", parked.as_str())];
        let move_self_params = [("UserName", "deleg"), ("NewUserName", "v")];
        let attach = deleg.call("AttachUserPolicy", &attach_params);
        let move_victim = deleg.call("UpdateUser", &move_victim_params);
        let move_self = deleg.call("UpdateUser", &move_self_params);
        let (a, b, c) = tokio::join!(attach, move_victim, move_self);
        for r in [&a, &b, &c] {
            assert!(
                r.status == 200
                    || matches!(
                        r.error_code().as_deref(),
                        Some(
                            "AccessDenied"
                                | "ConcurrentModification"
                                | "NoSuchEntity"
                                | "EntityAlreadyExists"
                        )
                    ),
                "{}",
                r.body
            );
        }
        // Put the names back for the next round, as root.
        if c.status == 200 {
            root.ok("UpdateUser", &[("UserName", "v"), ("NewUserName", "deleg")])
                .await;
        }
        if b.status == 200 {
            root.ok(
                "UpdateUser",
                &[("UserName", parked.as_str()), ("NewUserName", "v")],
            )
            .await;
        }
        let attached = root
            .ok("ListAttachedUserPolicies", &[("UserName", "deleg")])
            .await;
        assert!(
            attached.all("PolicyName").is_empty(),
            "round {round}: deleg got {:?}",
            attached.all("PolicyName")
        );
        // A policy that did land on the real victim is taken off again.
        let _ = root
            .call(
                "DetachUserPolicy",
                &[
                    ("UserName", "v"),
                    ("PolicyArn", "arn:aws:iam::123456789012:policy/AdminAll"),
                ],
            )
            .await;
    }
    app.stop().await;
}

/// A Deny on `iam:PolicyARN` holds while the policy is being created: the
/// key carries the stored spelling, and the write must find the very policy
/// the request was authorized with (here: none), so an attach spelled in
/// lower case cannot land on a policy created a moment later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deny_on_a_policy_arn_holds_while_the_policy_is_created() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let policy = r#"{"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":["iam:AttachUserPolicy","iam:PutUserPermissionsBoundary"],"Resource":"arn:aws:iam::123456789012:user/pa"},
      {"Effect":"Deny","Action":"iam:AttachUserPolicy","Resource":"*",
       "Condition":{"ArnLike":{"iam:PolicyARN":"arn:aws:iam::123456789012:policy/AdminAllX"}}},
      {"Effect":"Deny","Action":"iam:PutUserPermissionsBoundary","Resource":"*",
       "Condition":{"ArnLike":{"iam:PermissionsBoundary":"arn:aws:iam::123456789012:policy/AdminAllX"}}}]}"#;
    let pa = user_with_policy(&root, "pa", policy).await;
    let lower = "arn:aws:iam::123456789012:policy/adminallx";
    let stored = "arn:aws:iam::123456789012:policy/AdminAllX";
    for round in 0..20 {
        let attach = [("UserName", "pa"), ("PolicyArn", lower)];
        let bound = [("UserName", "pa"), ("PermissionsBoundary", lower)];
        let create = [("PolicyName", "AdminAllX"), ("PolicyDocument", STAR)];
        let (a1, a2, b1, c) = tokio::join!(
            pa.call("AttachUserPolicy", &attach),
            pa.call("AttachUserPolicy", &attach),
            pa.call("PutUserPermissionsBoundary", &bound),
            root.call("CreatePolicy", &create)
        );
        assert_eq!(c.status, 200, "{}", c.body);
        for r in [&a1, &a2, &b1] {
            assert_ne!(r.status, 200, "round {round}: {}", r.body);
        }
        let user = root.ok("GetUser", &[("UserName", "pa")]).await;
        assert!(
            !user.body.contains("PermissionsBoundaryArn"),
            "round {round}: {}",
            user.body
        );
        let attached = root
            .ok("ListAttachedUserPolicies", &[("UserName", "pa")])
            .await;
        assert!(attached.all("PolicyName").is_empty(), "round {round}");
        root.ok("DeletePolicy", &[("PolicyArn", stored)]).await;
    }
    app.stop().await;
}
