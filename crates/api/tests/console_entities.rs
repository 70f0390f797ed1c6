//! The console's entities over HTTP, as a browser drives them: groups,
//! roles, customer managed policies and their versions, inline policies,
//! tags, access keys, and the policy editor's validation as you type.
//!
//! Every change made through a page is checked afterwards through the IAM
//! API itself; refusals, CSRF, pages as of a past moment and escaping are
//! checked as well.

use iam_event_store::testing::TestDatabase;
use serde_json::{json, Value};

mod console_forms;
mod support;
use console_forms::*;
use support::*;

const READ_ONLY: &str = "arn:aws:iam::aws:policy/IAMReadOnlyAccess";

/// `text` as maud writes it in a page.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A form that must succeed: a redirect to `to`.
#[track_caller]
fn redirected(reply: &Reply, to: &str) {
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(reply.header("location"), Some(to), "{}", reply.body);
}

/// An IAM operation's JSON answer, which must succeed.
async fn iam(root: &Client, action: &str, input: Value) -> Value {
    let reply = root.json("iam", action, &input).await;
    assert_eq!(reply.status, 200, "{action}: {}", reply.body);
    serde_json::from_str(&reply.body).unwrap()
}

/// An IAM operation's error code.
async fn iam_error(root: &Client, action: &str, input: Value) -> String {
    let reply = root.json("iam", action, &input).await;
    assert!(reply.status >= 400, "{action}: {}", reply.body);
    let v: Value = serde_json::from_str(&reply.body).unwrap();
    v["error"]["code"].as_str().unwrap_or_default().to_owned()
}

fn names(v: &Value, list: &str, key: &str) -> Vec<String> {
    v[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m[key].as_str().unwrap().to_owned())
        .collect()
}

/// A managed policy's console page.
fn policy_page(arn: &str) -> String {
    let parts: Vec<String> = arn.split('/').map(enc).collect();
    format!("/console/policies/{}", parts.join("/"))
}

fn trust_service(service: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})
    .to_string()
}

/// A role EC2 may assume.
async fn ec2_role(root: &Client, name: &str) {
    root.ok(
        "CreateRole",
        &[
            ("RoleName", name),
            (
                "AssumeRolePolicyDocument",
                &trust_service("ec2.amazonaws.com"),
            ),
        ],
    )
    .await;
}

/// The number of forms a page has that post (the sign-out form is one).
fn posting_forms(body: &str) -> usize {
    body.matches(r#"method="post""#).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_is_created_given_a_member_and_a_policy_and_shown() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    let (jar, csrf) = admin(&app).await;

    let list = get(&app, "/console/groups", &jar).await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains(r#"id="create-group""#), "{}", list.body);
    let reply = post(
        &app,
        "/console/groups",
        &jar,
        &with_csrf(&csrf, &[("group_name", "devs")]),
    )
    .await;
    redirected(&reply, "/console/groups/devs");
    let reply = post(
        &app,
        "/console/groups/devs/add-member",
        &jar,
        &with_csrf(&csrf, &[("user_name", "alice")]),
    )
    .await;
    redirected(&reply, "/console/groups/devs");
    let reply = post(
        &app,
        "/console/groups/devs/attach",
        &jar,
        &with_csrf(&csrf, &[("policy_arn", READ_ONLY)]),
    )
    .await;
    redirected(&reply, "/console/groups/devs");

    // What the API says now.
    let group = iam(&root, "GetGroup", json!({"GroupName": "devs"})).await;
    assert_eq!(names(&group, "Users", "UserName"), ["alice"]);
    let attached = iam(
        &root,
        "ListAttachedGroupPolicies",
        json!({"GroupName": "devs"}),
    )
    .await;
    assert_eq!(
        names(&attached, "AttachedPolicies", "PolicyArn"),
        [READ_ONLY]
    );

    // And what the page shows.
    let page = get(&app, "/console/groups/devs", &jar).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(r#"href="/console/users/alice""#),
        "{}",
        page.body
    );
    assert!(page.body.contains("IAMReadOnlyAccess"), "{}", page.body);
    assert!(page.body.contains(r#"id="group-arn""#));
    assert!(page.body.contains(r#"href="/console/groups/devs/inline""#));
    let user = get(&app, "/console/users/alice", &jar).await;
    assert!(
        user.body.contains(r#"href="/console/groups/devs""#),
        "{}",
        user.body
    );
    // The list, its search, its paging.
    for n in 0..3 {
        root.ok("CreateGroup", &[("GroupName", &format!("ops{n}"))])
            .await;
    }
    let list = get(&app, "/console/groups?q=OPS", &jar).await;
    assert!(list.body.contains("/console/groups/ops1"), "{}", list.body);
    assert!(!list.body.contains("/console/groups/devs"), "{}", list.body);

    // Remove the member, detach, delete.
    let reply = post(
        &app,
        "/console/groups/devs/remove-member",
        &jar,
        &with_csrf(&csrf, &[("user_name", "alice")]),
    )
    .await;
    redirected(&reply, "/console/groups/devs");
    let reply = post(
        &app,
        "/console/groups/devs/detach",
        &jar,
        &with_csrf(&csrf, &[("policy_arn", READ_ONLY)]),
    )
    .await;
    redirected(&reply, "/console/groups/devs");
    let group = iam(&root, "GetGroup", json!({"GroupName": "devs"})).await;
    assert!(names(&group, "Users", "UserName").is_empty());
    let reply = post(
        &app,
        "/console/groups/devs/delete",
        &jar,
        &with_csrf(&csrf, &[]),
    )
    .await;
    redirected(&reply, "/console/groups");
    assert_eq!(
        iam_error(&root, "GetGroup", json!({"GroupName": "devs"})).await,
        "NoSuchEntity"
    );
    // A refusal is AWS's, on the page.
    let reply = post(
        &app,
        "/console/groups/nope/add-member",
        &jar,
        &with_csrf(&csrf, &[("user_name", "alice")]),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.contains("NoSuchEntity"), "{}", reply.body);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_is_created_with_a_trust_policy_which_is_then_edited() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    let (jar, csrf) = admin(&app).await;

    let list = get(&app, "/console/roles", &jar).await;
    assert!(
        list.body.contains(r#"name="policy_type" value="trust""#),
        "{}",
        list.body
    );
    let reply = post(
        &app,
        "/console/roles",
        &jar,
        &with_csrf(
            &csrf,
            &[
                ("role_name", "app"),
                ("document", &trust_service("ec2.amazonaws.com")),
            ],
        ),
    )
    .await;
    redirected(&reply, "/console/roles/app");
    let role = iam(&root, "GetRole", json!({"RoleName": "app"})).await;
    let trust = decode(role["Role"]["AssumeRolePolicyDocument"].as_str().unwrap());
    assert!(trust.contains("ec2.amazonaws.com"), "{trust}");

    // The page: ARN, the trust policy pretty in its editor, the rest.
    let page = get(&app, "/console/roles/app", &jar).await;
    assert_eq!(page.status, 200);
    assert!(page
        .body
        .contains(&format!("arn:aws:iam::{ACCOUNT}:role/app")));
    assert!(
        page.body.contains(&escaped(
            "\n      \"Principal\": {\n        \"Service\": \"ec2.amazonaws.com\""
        )),
        "{}",
        page.body
    );
    assert!(page.body.contains("3600 seconds"), "{}", page.body);
    assert!(
        page.body.contains(r#"id="role-last-used">never"#),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"id="update-trust""#));

    // A new trust policy.
    let new_trust = trust_user("alice", &[], "");
    let reply = post(
        &app,
        "/console/roles/app/trust",
        &jar,
        &with_csrf(&csrf, &[("document", &new_trust), ("policy_type", "trust")]),
    )
    .await;
    redirected(&reply, "/console/roles/app");
    let role = iam(&root, "GetRole", json!({"RoleName": "app"})).await;
    let trust = decode(role["Role"]["AssumeRolePolicyDocument"].as_str().unwrap());
    assert!(trust.contains(":user/alice"), "{trust}");
    assert!(!trust.contains("ec2.amazonaws.com"), "{trust}");

    // Attach, see it, detach; delete the role.
    let reply = post(
        &app,
        "/console/roles/app/attach",
        &jar,
        &with_csrf(&csrf, &[("policy_arn", READ_ONLY)]),
    )
    .await;
    redirected(&reply, "/console/roles/app");
    let attached = iam(
        &root,
        "ListAttachedRolePolicies",
        json!({"RoleName": "app"}),
    )
    .await;
    assert_eq!(
        names(&attached, "AttachedPolicies", "PolicyArn"),
        [READ_ONLY]
    );
    assert!(get(&app, "/console/roles/app", &jar)
        .await
        .body
        .contains("IAMReadOnlyAccess"));
    let list = get(&app, "/console/roles", &jar).await;
    assert!(
        list.body.contains(r#"href="/console/roles/app""#),
        "{}",
        list.body
    );
    // Deleting a role with a policy attached is refused, as AWS refuses it.
    let reply = post(
        &app,
        "/console/roles/app/delete",
        &jar,
        &with_csrf(&csrf, &[]),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.contains("DeleteConflict"), "{}", reply.body);
    let reply = post(
        &app,
        "/console/roles/app/detach",
        &jar,
        &with_csrf(&csrf, &[("policy_arn", READ_ONLY)]),
    )
    .await;
    redirected(&reply, "/console/roles/app");
    let reply = post(
        &app,
        "/console/roles/app/delete",
        &jar,
        &with_csrf(&csrf, &[]),
    )
    .await;
    redirected(&reply, "/console/roles");
    assert_eq!(
        iam_error(&root, "GetRole", json!({"RoleName": "app"})).await,
        "NoSuchEntity"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_managed_policy_is_created_given_a_new_version_and_refused_deletion_while_attached() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateGroup", &[("GroupName", "devs")]).await;
    let (jar, csrf) = admin(&app).await;

    let reply = post(
        &app,
        "/console/policies",
        &jar,
        &with_csrf(
            &csrf,
            &[
                ("policy_name", "readers"),
                ("document", &policy_text("s3:GetObject")),
            ],
        ),
    )
    .await;
    let arn = format!("arn:aws:iam::{ACCOUNT}:policy/readers");
    let page_path = policy_page(&arn);
    assert_eq!(reply.status, 303, "{}", reply.body);
    let location = reply.header("location").unwrap().to_owned();
    let page = get(&app, &location, &jar).await;
    assert_eq!(page.status, 200, "{location}: {}", page.body);
    assert!(page.body.contains(r#"id="policy-arn""#), "{}", page.body);
    assert!(page.body.contains(&arn));
    assert!(
        page.body.contains(r#"id="default-version">v1"#),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(&escaped("\"Action\": \"s3:GetObject\"")),
        "{}",
        page.body
    );
    let listed = iam(&root, "ListPolicies", json!({"Scope": "Local"})).await;
    assert_eq!(names(&listed, "Policies", "Arn"), [arn.as_str()]);
    let list = get(&app, "/console/policies", &jar).await;
    assert!(list.body.contains("readers"), "{}", list.body);
    assert!(
        !list.body.contains("IAMReadOnlyAccess"),
        "only local policies are listed"
    );

    // A new version, made the default.
    let reply = post(
        &app,
        &location,
        &jar,
        &with_csrf(
            &csrf,
            &[
                ("change", "version"),
                ("document", &policy_text("s3:PutObject")),
                ("set_as_default", "true"),
            ],
        ),
    )
    .await;
    redirected(&reply, &location);
    let got = iam(&root, "GetPolicy", json!({"PolicyArn": arn})).await;
    assert_eq!(got["Policy"]["DefaultVersionId"], "v2");
    let versions = iam(&root, "ListPolicyVersions", json!({"PolicyArn": arn})).await;
    assert_eq!(versions["Versions"].as_array().unwrap().len(), 2);
    let page = get(&app, &page_path, &jar).await;
    assert!(
        page.body.contains(&escaped("\"Action\": \"s3:PutObject\"")),
        "{}",
        page.body
    );

    // Attached to a group: shown, and deletion is refused as AWS refuses it.
    root.ok(
        "AttachGroupPolicy",
        &[("GroupName", "devs"), ("PolicyArn", &arn)],
    )
    .await;
    let page = get(&app, &location, &jar).await;
    assert!(
        page.body.contains(r#"href="/console/groups/devs""#),
        "{}",
        page.body
    );
    let reply = post(
        &app,
        &location,
        &jar,
        &with_csrf(&csrf, &[("change", "delete")]),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.contains("DeleteConflict"), "{}", reply.body);
    iam(&root, "GetPolicy", json!({"PolicyArn": arn})).await;
    root.ok(
        "DetachGroupPolicy",
        &[("GroupName", "devs"), ("PolicyArn", &arn)],
    )
    .await;
    // The old version deleted, then the policy.
    let reply = post(
        &app,
        &location,
        &jar,
        &with_csrf(&csrf, &[("change", "delete-version"), ("version_id", "v1")]),
    )
    .await;
    redirected(&reply, &location);
    let reply = post(
        &app,
        &location,
        &jar,
        &with_csrf(&csrf, &[("change", "delete")]),
    )
    .await;
    redirected(&reply, "/console/policies");
    assert_eq!(
        iam_error(&root, "GetPolicy", json!({"PolicyArn": arn})).await,
        "NoSuchEntity"
    );

    // A policy with a path: its ARN holds slashes, and its page is found.
    let made = iam(
        &root,
        "CreatePolicy",
        json!({"PolicyName": "deep", "Path": "/team/a/", "PolicyDocument": policy_text("s3:ListBucket")}),
    )
    .await;
    let deep = made["Policy"]["Arn"].as_str().unwrap().to_owned();
    assert!(deep.ends_with(":policy/team/a/deep"), "{deep}");
    let list = get(&app, "/console/policies", &jar).await;
    let href = format!(
        "/console/policies/{}/team/a/deep",
        enc(&format!("arn:aws:iam::{ACCOUNT}:policy"))
    );
    assert!(list.body.contains(&href), "{href}: {}", list.body);
    let page = get(&app, &href, &jar).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&format!(r#"id="policy-arn">{deep}"#)),
        "{}",
        page.body
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_policies_are_put_edited_and_deleted() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    root.ok("CreateGroup", &[("GroupName", "devs")]).await;
    ec2_role(&root, "app").await;
    let (jar, csrf) = admin(&app).await;

    let user = get(&app, "/console/users/alice", &jar).await;
    assert!(
        user.body.contains(r#"href="/console/users/alice/inline""#),
        "{}",
        user.body
    );
    let new = get(&app, "/console/users/alice/inline", &jar).await;
    assert_eq!(new.status, 200);
    assert!(new.body.contains(r#"id="policy_name""#), "{}", new.body);
    assert!(new.body.contains(r#"hx-post="/console/policies/validate""#));

    let reply = post(
        &app,
        "/console/users/alice/inline",
        &jar,
        &with_csrf(
            &csrf,
            &[
                ("new", "1"),
                ("policy_name", "reads"),
                ("document", &policy_text("s3:GetObject")),
            ],
        ),
    )
    .await;
    redirected(&reply, "/console/users/alice/inline/reads");
    let got = iam(
        &root,
        "GetUserPolicy",
        json!({"UserName": "alice", "PolicyName": "reads"}),
    )
    .await;
    assert!(decode(got["PolicyDocument"].as_str().unwrap()).contains("s3:GetObject"));
    let page = get(&app, "/console/users/alice/inline/reads", &jar).await;
    assert!(
        page.body.contains(&escaped("\"Action\": \"s3:GetObject\"")),
        "{}",
        page.body
    );
    let user = get(&app, "/console/users/alice", &jar).await;
    assert!(
        user.body
            .contains(r#"href="/console/users/alice/inline/reads""#),
        "{}",
        user.body
    );

    // Edited.
    let reply = post(
        &app,
        "/console/users/alice/inline",
        &jar,
        &with_csrf(
            &csrf,
            &[
                ("policy_name", "reads"),
                ("document", &policy_text("s3:ListBucket")),
            ],
        ),
    )
    .await;
    redirected(&reply, "/console/users/alice/inline/reads");
    let got = iam(
        &root,
        "GetUserPolicy",
        json!({"UserName": "alice", "PolicyName": "reads"}),
    )
    .await;
    let text = decode(got["PolicyDocument"].as_str().unwrap());
    assert!(
        text.contains("s3:ListBucket") && !text.contains("s3:GetObject"),
        "{text}"
    );

    // Deleted.
    let reply = post(
        &app,
        "/console/users/alice/delete-inline",
        &jar,
        &with_csrf(&csrf, &[("policy_name", "reads")]),
    )
    .await;
    redirected(&reply, "/console/users/alice");
    assert_eq!(
        iam_error(
            &root,
            "GetUserPolicy",
            json!({"UserName": "alice", "PolicyName": "reads"})
        )
        .await,
        "NoSuchEntity"
    );

    // Groups and roles alike.
    for (kind, owner, get_op, key) in [
        ("groups", "devs", "GetGroupPolicy", "GroupName"),
        ("roles", "app", "GetRolePolicy", "RoleName"),
    ] {
        let reply = post(
            &app,
            &format!("/console/{kind}/{owner}/inline"),
            &jar,
            &with_csrf(
                &csrf,
                &[
                    ("new", "1"),
                    ("policy_name", "p"),
                    ("document", &policy_text("sqs:SendMessage")),
                ],
            ),
        )
        .await;
        redirected(&reply, &format!("/console/{kind}/{owner}/inline/p"));
        let got = iam(&root, get_op, json!({key: owner, "PolicyName": "p"})).await;
        assert!(decode(got["PolicyDocument"].as_str().unwrap()).contains("sqs:SendMessage"));
        let page = get(&app, &format!("/console/{kind}/{owner}"), &jar).await;
        assert!(
            page.body
                .contains(&format!(r#"href="/console/{kind}/{owner}/inline/p""#)),
            "{}",
            page.body
        );
        let reply = post(
            &app,
            &format!("/console/{kind}/{owner}/delete-inline"),
            &jar,
            &with_csrf(&csrf, &[("policy_name", "p")]),
        )
        .await;
        redirected(&reply, &format!("/console/{kind}/{owner}"));
        assert_eq!(
            iam_error(&root, get_op, json!({key: owner, "PolicyName": "p"})).await,
            "NoSuchEntity"
        );
    }
    app.stop().await;
}

/// The validation fragment for `document` of `policy_type`.
async fn validate(
    app: &TestApp,
    jar: &Jar,
    csrf: &str,
    document: &str,
    policy_type: &str,
) -> Reply {
    let origin = format!("http://{}", app.addr);
    browse(
        app.addr,
        "POST",
        "/console/policies/validate",
        &jar.header(),
        &[
            ("origin", &origin),
            ("sec-fetch-site", "same-origin"),
            ("hx-request", "true"),
        ],
        Some(&with_csrf(
            csrf,
            &[("document", document), ("policy_type", policy_type)],
        )),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_editor_reports_awss_message_with_line_and_column_as_you_type() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let (jar, csrf) = admin(&app).await;

    // The editor on a page: labelled, validated as typed and on load.
    let page = get(&app, "/console/policies", &jar).await;
    for attribute in [
        r#"<label for="document">"#,
        r#"hx-post="/console/policies/validate""#,
        r#"hx-trigger="input changed delay:400ms, load""#,
        r##"hx-target="#document-validation""##,
        r#"hx-include="closest form""#,
        r#"id="document-validation" role="status" aria-live="polite""#,
        r#"name="policy_type" value="identity""#,
    ] {
        assert!(page.body.contains(attribute), "{attribute}: {}", page.body);
    }

    let good = validate(&app, &jar, &csrf, &policy_text("s3:GetObject"), "identity").await;
    assert_eq!(good.status, 200, "{}", good.body);
    assert!(good.body.contains("Valid policy."), "{}", good.body);
    assert!(
        !good.body.contains("<html"),
        "a fragment, not a page: {}",
        good.body
    );

    let broken = "{\"Version\":\"2012-10-17\",\"Statement\":[\n {\"Effect\":\"Allow\",\"Action\":\"s3\",\"Resource\":\"*\"}]}";
    let bad = validate(&app, &jar, &csrf, broken, "identity").await;
    assert_eq!(bad.status, 200, "{}", bad.body);
    assert!(!bad.body.contains("<html"), "{}", bad.body);
    assert!(
        bad.body
            .contains("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc"),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("MalformedPolicyDocument"), "{}", bad.body);
    assert!(bad.body.contains("Statement[0].Action"), "{}", bad.body);
    assert!(bad.body.contains("line 2, column 2"), "{}", bad.body);

    // A syntax error: where the parser stopped.
    let unclosed = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n";
    let bad = validate(&app, &jar, &csrf, unclosed, "identity").await;
    assert!(!bad.body.contains("Valid policy."), "{}", bad.body);
    assert!(bad.body.contains("line "), "{}", bad.body);

    // The use decides: a trust policy is valid as one, not as an identity
    // policy.
    let trust = trust_service("ec2.amazonaws.com");
    assert!(validate(&app, &jar, &csrf, &trust, "trust")
        .await
        .body
        .contains("Valid policy."));
    assert!(!validate(&app, &jar, &csrf, &trust, "identity")
        .await
        .body
        .contains("Valid policy."));

    // Markup in the text never reaches the fragment unescaped.
    let hostile =
        format!("{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"{MARKUP}\"}}]}}");
    let reply = validate(&app, &jar, &csrf, &hostile, "identity").await;
    assert!(!reply.body.contains("<svg/onload"), "{}", reply.body);

    // Without the session's token: refused.
    let reply = validate(&app, &jar, "forged", broken, "identity").await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_save_keeps_the_typed_text_and_shows_the_error() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    ec2_role(&root, "app").await;
    let (jar, csrf) = admin(&app).await;
    let before = head(&db).await;
    let typed = format!(
        "{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{{\"Effect\": \"Allow\", \"Action\": \"nope\", \"Resource\": \"arn:aws:s3:::kept-{MARKUP}\"}}]\n}}"
    );
    for (path, fields) in [
        (
            "/console/users/alice/inline",
            vec![
                ("new", "1"),
                ("policy_name", "p"),
                ("document", typed.as_str()),
            ],
        ),
        (
            "/console/policies",
            vec![("policy_name", "p"), ("document", typed.as_str())],
        ),
        (
            "/console/roles/app/trust",
            vec![("document", typed.as_str())],
        ),
        (
            "/console/roles",
            vec![("role_name", "other"), ("document", typed.as_str())],
        ),
    ] {
        let reply = post(&app, path, &jar, &with_csrf(&csrf, &fields)).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        assert!(
            reply.body.contains("MalformedPolicyDocument"),
            "{path}: {}",
            reply.body
        );
        assert!(
            reply
                .body
                .contains(&format!(">{}</textarea>", escaped(&typed))),
            "{path}: the typed text is lost: {}",
            reply.body
        );
        assert!(
            !reply.body.contains("<svg/onload"),
            "{path}: {}",
            reply.body
        );
    }
    // The new policy's name is kept too.
    let reply = post(
        &app,
        "/console/users/alice/inline",
        &jar,
        &with_csrf(
            &csrf,
            &[("new", "1"), ("policy_name", "mine"), ("document", &typed)],
        ),
    )
    .await;
    assert!(
        reply.body.contains(r#"name="policy_name" value="mine""#),
        "{}",
        reply.body
    );
    assert_eq!(changes_since(&db, before).await, Vec::<String>::new());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_are_added_and_removed_on_users_and_roles() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    ec2_role(&root, "app").await;
    let (jar, csrf) = admin(&app).await;
    for (page, list_op, key, name) in [
        ("/console/users/alice", "ListUserTags", "UserName", "alice"),
        ("/console/roles/app", "ListRoleTags", "RoleName", "app"),
    ] {
        let reply = post(
            &app,
            &format!("{page}/tag"),
            &jar,
            &with_csrf(&csrf, &[("tag_key", "team"), ("tag_value", "blue sky")]),
        )
        .await;
        redirected(&reply, page);
        let tags = iam(&root, list_op, json!({key: name})).await;
        assert_eq!(tags["Tags"], json!([{"Key": "team", "Value": "blue sky"}]));
        let shown = get(&app, page, &jar).await;
        assert!(
            shown.body.contains(r#"<td class="value">blue sky</td>"#),
            "{}",
            shown.body
        );
        let reply = post(
            &app,
            &format!("{page}/untag"),
            &jar,
            &with_csrf(&csrf, &[("tag_key", "team")]),
        )
        .await;
        redirected(&reply, page);
        let tags = iam(&root, list_op, json!({key: name})).await;
        assert_eq!(tags["Tags"], json!([]));
    }
    // Groups have no tags.
    root.ok("CreateGroup", &[("GroupName", "devs")]).await;
    let reply = post(
        &app,
        "/console/groups/devs/tag",
        &jar,
        &with_csrf(&csrf, &[("tag_key", "team"), ("tag_value", "x")]),
    )
    .await;
    assert_eq!(reply.status, 404);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_access_keys_secret_is_shown_once_and_the_key_is_deactivated_and_deleted() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    let (jar, csrf) = admin(&app).await;

    let reply = post(
        &app,
        "/console/users/alice/create-key",
        &jar,
        &with_csrf(&csrf, &[]),
    )
    .await;
    assert_eq!(
        reply.status, 200,
        "the secret is on the answer itself: {}",
        reply.body
    );
    assert_eq!(reply.header("location"), None);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let between = |open: &str| {
        let at = reply.body.find(open).unwrap() + open.len();
        let end = reply.body[at..].find('<').unwrap() + at;
        reply.body[at..end].to_owned()
    };
    let id = between(r#"id="new-key-id"><code>"#);
    let secret = between(r#"id="new-key-secret"><code>"#);
    assert!(
        id.starts_with("AKIA") && secret.len() >= 40,
        "{id} {secret}"
    );
    let keys = iam(&root, "ListAccessKeys", json!({"UserName": "alice"})).await;
    assert_eq!(
        names(&keys, "AccessKeyMetadata", "AccessKeyId"),
        [id.as_str()]
    );
    // The key works; the user page lists it, never its secret.
    let me = root
        .with_key(&id, &secret)
        .call("GetCallerIdentity", &[])
        .await;
    assert_eq!(me.status, 200, "{}", me.body);
    let page = get(&app, "/console/users/alice", &jar).await;
    assert!(page.body.contains(&id));
    assert!(!page.body.contains(&secret));

    let reply = post(
        &app,
        "/console/users/alice/update-key",
        &jar,
        &with_csrf(&csrf, &[("access_key_id", &id), ("status", "Inactive")]),
    )
    .await;
    redirected(&reply, "/console/users/alice");
    let keys = iam(&root, "ListAccessKeys", json!({"UserName": "alice"})).await;
    assert_eq!(keys["AccessKeyMetadata"][0]["Status"], "Inactive");
    let page = get(&app, "/console/users/alice", &jar).await;
    assert!(
        page.body.contains(&format!("{id} — Inactive")),
        "{}",
        page.body
    );
    assert!(page.body.contains(">Activate</button>"), "{}", page.body);
    let reply = post(
        &app,
        "/console/users/alice/delete-key",
        &jar,
        &with_csrf(&csrf, &[("access_key_id", &id)]),
    )
    .await;
    redirected(&reply, "/console/users/alice");
    let keys = iam(&root, "ListAccessKeys", json!({"UserName": "alice"})).await;
    assert_eq!(keys["AccessKeyMetadata"], json!([]));
    app.stop().await;
}

/// The forms of this slice, each with a body that would change something.
fn forms(csrf: &str, policy_page: &str) -> Vec<(String, String)> {
    let doc = policy_text("s3:GetObject");
    let trust = trust_service("ec2.amazonaws.com");
    [
        ("/console/groups", vec![("group_name", "g2")]),
        (
            "/console/groups/devs/add-member",
            vec![("user_name", "alice")],
        ),
        (
            "/console/groups/devs/remove-member",
            vec![("user_name", "bob")],
        ),
        (
            "/console/groups/devs/attach",
            vec![("policy_arn", READ_ONLY)],
        ),
        ("/console/groups/devs/delete", vec![]),
        (
            "/console/roles",
            vec![("role_name", "r2"), ("document", trust.as_str())],
        ),
        (
            "/console/roles/app/trust",
            vec![("document", trust.as_str())],
        ),
        (
            "/console/roles/app/tag",
            vec![("tag_key", "k"), ("tag_value", "v")],
        ),
        ("/console/roles/app/delete", vec![]),
        (
            "/console/policies",
            vec![("policy_name", "p2"), ("document", doc.as_str())],
        ),
        (
            policy_page,
            vec![("change", "version"), ("document", doc.as_str())],
        ),
        (policy_page, vec![("change", "delete")]),
        (
            "/console/users/alice/inline",
            vec![("policy_name", "q"), ("document", doc.as_str())],
        ),
        (
            "/console/users/alice/delete-inline",
            vec![("policy_name", "granted")],
        ),
        (
            "/console/users/alice/tag",
            vec![("tag_key", "k"), ("tag_value", "v")],
        ),
        ("/console/users/alice/create-key", vec![]),
        ("/console/users/alice/delete", vec![]),
    ]
    .into_iter()
    .map(|(path, fields)| (path.to_owned(), with_csrf(csrf, &fields)))
    .collect()
}

/// The entities the refusal and CSRF tests aim at.
async fn entities(root: &Client) -> String {
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    root.ok("CreateUser", &[("UserName", "bob")]).await;
    root.ok("CreateGroup", &[("GroupName", "devs")]).await;
    root.ok(
        "AddUserToGroup",
        &[("GroupName", "devs"), ("UserName", "bob")],
    )
    .await;
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", "alice"),
            ("PolicyName", "granted"),
            ("PolicyDocument", &policy_text("s3:*")),
        ],
    )
    .await;
    ec2_role(root, "app").await;
    let made = root
        .json(
            "iam",
            "CreatePolicy",
            &json!({"PolicyName": "readers", "PolicyDocument": policy_text("s3:GetObject")}),
        )
        .await;
    let v: Value = serde_json::from_str(&made.body).unwrap();
    policy_page(v["Policy"]["Arn"].as_str().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_without_permissions_sees_access_denied_and_changes_nothing() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let policy_page = entities(&root).await;
    root.ok("CreateUser", &[("UserName", "nobody")]).await;
    let key = root.ok("CreateAccessKey", &[("UserName", "nobody")]).await;
    let (jar, csrf) = signed_in_with_keys(
        &app,
        &key.tag("AccessKeyId").unwrap(),
        &key.tag("SecretAccessKey").unwrap(),
    )
    .await;
    let before = head(&db).await;
    for path in [
        "/console/groups",
        "/console/groups/devs",
        "/console/roles",
        "/console/roles/app",
        "/console/policies",
        policy_page.as_str(),
        "/console/users/alice/inline/granted",
        "/console/users/alice",
    ] {
        let page = get(&app, path, &jar).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert!(page.body.contains("AccessDenied"), "{path}: {}", page.body);
        assert!(!page.body.contains("s3:*"), "{path}: {}", page.body);
    }
    for (path, body) in forms(&csrf, &policy_page) {
        let reply = post(&app, &path, &jar, &body).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        assert!(
            reply.body.contains("AccessDenied"),
            "{path} {body}: {}",
            reply.body
        );
    }
    // The validator too is the person's to call (iamd:ValidatePolicy).
    let reply = validate(&app, &jar, &csrf, &policy_text("s3:GetObject"), "identity").await;
    assert!(reply.body.contains("AccessDenied"), "{}", reply.body);
    assert!(!reply.body.contains("Valid policy."), "{}", reply.body);
    assert_eq!(changes_since(&db, before).await, Vec::<String>::new());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_the_sessions_csrf_token_change_nothing() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let policy_page = entities(&root).await;
    let (jar, _) = admin(&app).await;
    let (_, other) = admin(&app).await;
    let before = head(&db).await;
    for token in ["", "forged", other.as_str()] {
        for (path, body) in forms(token, &policy_page) {
            let reply = post(&app, &path, &jar, &body).await;
            assert_eq!(reply.status, 403, "{path} {body}: {}", reply.body);
        }
        // And without the field at all.
        let reply = post(&app, "/console/groups/devs/delete", &jar, "").await;
        assert_eq!(reply.status, 403);
    }
    // GETs of the forms' actions change nothing either.
    let reply = get(&app, "/console/groups/devs/delete", &jar).await;
    assert_eq!(reply.status, 405);
    assert_eq!(changes_since(&db, before).await, Vec::<String>::new());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_as_of_a_past_moment_show_that_moment_and_no_change_forms() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let policy_page = entities(&root).await;
    root.ok(
        "TagRole",
        &[
            ("RoleName", "app"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
        ],
    )
    .await;
    let moment = head(&db).await;
    // Changed after the moment.
    root.ok(
        "AddUserToGroup",
        &[("GroupName", "devs"), ("UserName", "alice")],
    )
    .await;
    root.ok(
        "UntagRole",
        &[("RoleName", "app"), ("TagKeys.member.1", "team")],
    )
    .await;
    let (jar, _) = admin(&app).await;
    for path in [
        "/console/groups",
        "/console/groups/devs",
        "/console/roles",
        "/console/roles/app",
        "/console/policies",
        policy_page.as_str(),
        "/console/users/alice",
        "/console/users/alice/inline/granted",
    ] {
        let at = format!("{path}?as_of={moment}");
        let page = get(&app, &at, &jar).await;
        assert_eq!(page.status, 200, "{at}: {}", page.body);
        assert!(page.body.contains("as-of-banner"), "{at}");
        assert_eq!(
            posting_forms(&page.body),
            1,
            "{at}: only sign-out: {}",
            page.body
        );
        assert!(!page.body.contains("<textarea"), "{at}: {}", page.body);
        // Now, the same page has its forms.
        let now = get(&app, path, &jar).await;
        assert!(posting_forms(&now.body) > 1, "{path}: {}", now.body);
    }
    // What the moment was.
    let then = get(&app, &format!("/console/groups/devs?as_of={moment}"), &jar).await;
    assert!(
        !then.body.contains(r#"href="/console/users/alice?as_of"#),
        "{}",
        then.body
    );
    let now = get(&app, "/console/groups/devs", &jar).await;
    assert!(
        now.body.contains(r#"href="/console/users/alice""#),
        "{}",
        now.body
    );
    let then = get(&app, &format!("/console/roles/app?as_of={moment}"), &jar).await;
    assert!(
        then.body.contains(r#"<td class="key">team</td>"#),
        "{}",
        then.body
    );
    assert!(then.body.contains(r#"id="trust-policy""#), "{}", then.body);
    let now = get(&app, "/console/roles/app", &jar).await;
    assert!(
        !now.body.contains(r#"<td class="key">team</td>"#),
        "{}",
        now.body
    );
    // Links keep the moment.
    let then = get(&app, &format!("/console/users/alice?as_of={moment}"), &jar).await;
    assert!(
        then.body.contains(&format!(
            r#"href="/console/users/alice/inline/granted?as_of={moment}""#
        )),
        "{}",
        then.body
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_in_names_tags_and_policy_text_is_escaped() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let policy_page = entities(&root).await;
    let document = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::b/{MARKUP}")}]})
    .to_string();
    root.ok(
        "PutRolePolicy",
        &[
            ("RoleName", "app"),
            ("PolicyName", "p"),
            ("PolicyDocument", &document),
        ],
    )
    .await;
    root.ok(
        "PutGroupPolicy",
        &[
            ("GroupName", "devs"),
            ("PolicyName", "p"),
            ("PolicyDocument", &document),
        ],
    )
    .await;
    let made = root
        .json(
            "iam",
            "CreatePolicy",
            &json!({"PolicyName": "hostile", "PolicyDocument": document, "Description": MARKUP}),
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let (jar, csrf) = admin(&app).await;
    let m = enc(MARKUP);
    let mut replies = Vec::new();
    for path in [
        format!("/console/groups/{m}"),
        format!("/console/roles/{m}"),
        format!("/console/roles/{m}/inline/{m}"),
        format!("/console/groups?q={m}&marker={m}&as_of={m}"),
        format!("/console/policies?q={m}"),
        format!("/console/policies/{m}"),
        format!("{policy_page}?as_of={m}"),
        "/console/roles/app/inline/p".to_owned(),
        "/console/groups/devs/inline/p".to_owned(),
        format!(
            "/console/policies/{}/hostile",
            enc(&format!("arn:aws:iam::{ACCOUNT}:policy"))
        ),
    ] {
        replies.push((path.clone(), get(&app, &path, &jar).await));
    }
    // Tag values, names and documents posted through forms.
    for (path, fields) in [
        (
            "/console/roles/app/tag",
            vec![("tag_key", "k"), ("tag_value", MARKUP)],
        ),
        (
            "/console/users/alice/tag",
            vec![("tag_key", MARKUP), ("tag_value", "v")],
        ),
        ("/console/groups", vec![("group_name", MARKUP)]),
        (
            "/console/groups/devs/add-member",
            vec![("user_name", MARKUP)],
        ),
        ("/console/roles/app/trust", vec![("document", MARKUP)]),
        (
            "/console/users/alice/inline",
            vec![
                ("new", "1"),
                ("policy_name", MARKUP),
                ("document", &document),
            ],
        ),
    ] {
        let reply = post(&app, path, &jar, &with_csrf(&csrf, &fields)).await;
        replies.push((path.to_owned(), reply));
    }
    for (path, reply) in &replies {
        assert!(
            !reply.body.contains("<svg/onload"),
            "{path}: {}",
            reply.body
        );
        assert!(
            reply.header("content-security-policy").is_some(),
            "{path}: {:?}",
            reply.headers
        );
    }
    // The document is shown, escaped.
    let page = get(&app, "/console/roles/app/inline/p", &jar).await;
    assert!(
        page.body
            .contains(r#"arn:aws:s3:::b/\&quot;'&gt;&lt;svg/onload=alert(1)&gt;"#),
        "{}",
        page.body
    );
    app.stop().await;
}
