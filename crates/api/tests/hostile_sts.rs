//! A hostile review of STS (AssumeRole, GetSessionToken, GetAccessKeyInfo
//! and the temporary credentials they issue), through the HTTP server.
//!
//! Each test is an attack; it asserts what AWS does (the IAM User Guide).
//! A test marked `FOUND` failed when it was written — the attack worked —
//! and passes since the fix named beside it.

use iam_event_store::testing::TestDatabase;
use serde_json::json;

mod support;
use support::*;

const READ_USERS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","iam:ListUsers"],"Resource":"*"}]}"#;
const ASSUME_ANY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;
const ASSUME_AND_TAG_ANY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"],"Resource":"*"}]}"#;
const ASSUME_AND_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","iam:GetUser","iam:ListUsers"],"Resource":"*"}]}"#;
const NOTHING: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::none"}]}"#;

fn trust_principal(principal: &str, actions: &[&str]) -> String {
    let actions: Vec<String> = actions.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":[{}]}}]}}"#,
        actions.join(",")
    )
}

fn account_root() -> String {
    format!("arn:aws:iam::{ACCOUNT}:root")
}

async fn delete_role(root: &Client, name: &str) {
    let policies = root.ok("ListRolePolicies", &[("RoleName", name)]).await;
    for p in policies.all("member") {
        root.ok(
            "DeleteRolePolicy",
            &[("RoleName", name), ("PolicyName", &p)],
        )
        .await;
    }
    root.ok("DeleteRole", &[("RoleName", name)]).await;
}

async fn delete_user(root: &Client, name: &str) {
    let policies = root.ok("ListUserPolicies", &[("UserName", name)]).await;
    for p in policies.all("member") {
        root.ok(
            "DeleteUserPolicy",
            &[("UserName", name), ("PolicyName", &p)],
        )
        .await;
    }
    let keys = root.ok("ListAccessKeys", &[("UserName", name)]).await;
    for key in keys.all("AccessKeyId") {
        root.ok(
            "DeleteAccessKey",
            &[("UserName", name), ("AccessKeyId", &key)],
        )
        .await;
    }
    root.ok("DeleteUser", &[("UserName", name)]).await;
}

async fn assume(client: &Client, arn: &str, session: &str, extra: &[(&str, &str)]) -> Reply {
    let mut params = vec![("RoleArn", arn), ("RoleSessionName", session)];
    params.extend_from_slice(extra);
    client.call("AssumeRole", &params).await
}

#[track_caller]
fn ok200(reply: &Reply) {
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// A virtual MFA device enabled for `user` (created through the projection:
/// the MFA operations are not served over HTTP yet), its serial number and
/// seed. Codes up to two steps ago are spent.
async fn mfa_device(app: &TestApp, user: &str, device: &str) -> (String, Vec<u8>) {
    use iam_domain::names::{MfaDeviceName, UserName};
    use iam_domain::state::CredentialOwner;
    use iam_domain::{Arn, Command};
    let seed = iam_mfa::Seed::generate().unwrap();
    let serial = format!("arn:aws:iam::{ACCOUNT}:mfa/{device}");
    let sealed = iam_domain::secrets::seal(
        &app.state.master_key,
        [3u8; 12],
        serial.as_bytes(),
        seed.to_base32().as_bytes(),
    );
    let now = app.state.clock.now();
    let meta =
        || iam_domain::metadata::EventMetadata::system("test", uuid::Uuid::new_v4().to_string());
    app.state
        .projection
        .execute(
            &app.state.account_id,
            &Command::CreateVirtualMfaDevice {
                device_name: MfaDeviceName::parse(device).unwrap(),
                path: None,
                tags: vec![],
                seed: sealed,
                now,
            },
            &meta(),
        )
        .await
        .unwrap();
    app.state
        .projection
        .execute(
            &app.state.account_id,
            &Command::EnableMfaDevice {
                owner: CredentialOwner::User {
                    user_name: UserName::parse(user).unwrap(),
                },
                serial_number: Arn::parse(&serial).unwrap(),
                now,
                counter: Some(iam_mfa::counter_at(now.timestamp()) - 2),
            },
            &meta(),
        )
        .await
        .unwrap();
    (serial, seed.as_bytes().to_vec())
}

/// The code `seed` shows at the server's time now.
fn code_now(app: &TestApp, seed: &[u8]) -> String {
    let now = app.state.clock.now().timestamp();
    format!("{:06}", iam_mfa::code_at(seed, iam_mfa::counter_at(now)))
}

// ---------------------------------------------------------------------------
// Session tags and source identity
// ---------------------------------------------------------------------------

// FOUND: sts:TagSession is decided like an ordinary action: the caller's
// own identity policy allowing sts:TagSession suffices although the role's
// trust policy does not allow it. AWS (id_session-tags.md, "Permissions
// required to add session tags"): "For roles without this permission in the
// trust policy, the AssumeRole operation fails". The caller then picks its
// own aws:PrincipalTag values and passes every ABAC condition of the role.
#[tokio::test]
async fn session_tags_need_tag_session_in_the_trust_policy_not_only_the_callers_policy() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let mallory = user_with_policy(&root, "mallory", ASSUME_AND_TAG_ANY).await;
    let abac = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"admins"}}}]}"#;
    // Trusts mallory by name for sts:AssumeRole only; and one trusting the
    // account for sts:AssumeRole only.
    let by_name = role(&root, "by-name", &trust_user("mallory", &[], ""), abac).await;
    let by_account = role(
        &root,
        "by-account",
        &trust_principal(&account_root(), &["sts:AssumeRole"]),
        abac,
    )
    .await;
    for arn in [&by_name, &by_account] {
        // Without tags it is assumed (the trust allows sts:AssumeRole).
        ok200(&assume(&mallory, arn, "plain-session", &[]).await);
        let reply = assume(
            &mallory,
            arn,
            "tagged-session",
            &[
                ("Tags.member.1.Key", "team"),
                ("Tags.member.1.Value", "admins"),
            ],
        )
        .await;
        if reply.status == 200 {
            let listed = mallory
                .with_credentials_of(&reply)
                .call("ListUsers", &[])
                .await;
            panic!(
                "{arn}: session tags accepted without sts:TagSession in the trust policy; \
                 the session's ListUsers (ABAC on aws:PrincipalTag/team) answered {}",
                listed.status
            );
        }
        refused(&reply, 403, "AccessDenied");
        // Transitive keys alike.
        let reply = assume(
            &mallory,
            arn,
            "tagged-session",
            &[
                ("Tags.member.1.Key", "team"),
                ("Tags.member.1.Value", "admins"),
                ("TransitiveTagKeys.member.1", "team"),
            ],
        )
        .await;
        refused(&reply, 403, "AccessDenied");
    }
    app.stop().await;
}

// FOUND: sts:SetSourceIdentity, likewise, is allowed by the caller's own
// policy although the trust policy does not allow it (AWS: the role trust
// policy must allow sts:SetSourceIdentity, reference_policies_iam-condition-
// keys.md, "sts:SourceIdentity"). The caller picks the audit identity that
// every later session carries (aws:SourceIdentity), unchangeable.
#[tokio::test]
async fn a_source_identity_needs_set_source_identity_in_the_trust_policy() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let mallory = user_with_policy(&root, "mallory", ASSUME_AND_TAG_ANY).await;
    let arn = role(&root, "plain", &trust_user("mallory", &[], ""), READ_USERS).await;
    ok200(&assume(&mallory, &arn, "plain-session", &[]).await);
    let reply = assume(
        &mallory,
        &arn,
        "spoofed-session",
        &[("SourceIdentity", "DiegoRamirez")],
    )
    .await;
    assert_ne!(
        reply.status, 200,
        "a source identity was set without sts:SetSourceIdentity in the trust policy: {}",
        reply.body
    );
    refused(&reply, 403, "AccessDenied");
    app.stop().await;
}

/// Session tag keys with the reserved `aws:` prefix are refused in every
/// case; so are transitive keys naming no session tag.
#[tokio::test]
async fn session_tag_keys_cannot_use_the_aws_prefix() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", ASSUME_AND_TAG_ANY).await;
    let arn = role(
        &root,
        "tagged",
        &trust_principal(&account_root(), &["sts:AssumeRole", "sts:TagSession"]),
        READ_USERS,
    )
    .await;
    for key in [
        "aws:MultiFactorAuthPresent",
        "AWS:PrincipalTag/team",
        "aws:SourceIdentity",
        "aws:TokenIssueTime",
    ] {
        let reply = assume(
            &alice,
            &arn,
            "tagged-session",
            &[("Tags.member.1.Key", key), ("Tags.member.1.Value", "true")],
        )
        .await;
        assert_eq!(reply.status, 400, "{key}: {}", reply.body);
    }
    let reply = assume(
        &alice,
        &arn,
        "tagged-session",
        &[
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "red"),
            ("TransitiveTagKeys.member.1", "aws:MultiFactorAuthPresent"),
        ],
    )
    .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    app.stop().await;
}

// FOUND (same cause as session_tags_need_tag_session_in_the_trust_policy_
// not_only_the_callers_policy): a session tag overrides the
// role's tag of the same key (as in AWS), but without sts:TagSession in the
// trust policy, so the caller lifts a Deny the administrator conditioned on
// the role's tag (`restricted=true`) and creates users.
#[tokio::test]
async fn a_role_tag_deny_cannot_be_lifted_without_tag_session_in_the_trust() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let mallory = user_with_policy(&root, "mallory", ASSUME_AND_TAG_ANY).await;
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"iam:*","Resource":"*"},
        {"Effect":"Deny","NotAction":["iam:GetUser","iam:ListUsers"],"Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/restricted":"true"}}}]}"#;
    let arn = role(&root, "restricted", &trust_user("mallory", &[], ""), policy).await;
    root.ok(
        "TagRole",
        &[
            ("RoleName", "restricted"),
            ("Tags.member.1.Key", "restricted"),
            ("Tags.member.1.Value", "true"),
        ],
    )
    .await;
    let plain = mallory.with_credentials_of(&assume(&mallory, &arn, "plain-session", &[]).await);
    refused(
        &plain.call("CreateUser", &[("UserName", "sneaky")]).await,
        403,
        "AccessDenied",
    );
    let reply = assume(
        &mallory,
        &arn,
        "lifted-session",
        &[
            ("Tags.member.1.Key", "Restricted"),
            ("Tags.member.1.Value", "false"),
        ],
    )
    .await;
    if reply.status == 200 {
        let created = mallory
            .with_credentials_of(&reply)
            .call("CreateUser", &[("UserName", "sneaky")])
            .await;
        panic!(
            "a session tag lifted the role-tag deny without sts:TagSession in the trust: \
             CreateUser answered {} {}",
            created.status, created.body
        );
    }
    refused(&reply, 403, "AccessDenied");
    app.stop().await;
}

/// Transitive tags of the calling session cannot be overridden in role
/// chaining, whatever the case of the key (tag keys are case-insensitive).
#[tokio::test]
async fn transitive_tags_cannot_be_overridden_in_another_ascii_case() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", ASSUME_AND_TAG_ANY).await;
    let trust = trust_principal(&account_root(), &["sts:AssumeRole", "sts:TagSession"]);
    let first = role(&root, "first", &trust, ASSUME_AND_TAG_ANY).await;
    let by_team = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"red"}}}]}"#;
    let second = role(&root, "second", &trust, by_team).await;
    let one = assume(
        &alice,
        &first,
        "first-session",
        &[
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
            ("TransitiveTagKeys.member.1", "team"),
        ],
    )
    .await;
    ok200(&one);
    let one = alice.with_credentials_of(&one);
    for key in ["team", "TEAM", "Team"] {
        let reply = assume(
            &one,
            &second,
            "second-session",
            &[("Tags.member.1.Key", key), ("Tags.member.1.Value", "red")],
        )
        .await;
        refused(&reply, 400, "InvalidParameterValue");
    }
    // Without a new tag, the inherited one holds: team=blue, not red.
    let chained = one.with_credentials_of(&assume(&one, &second, "second-session", &[]).await);
    refused(&chained.call("ListUsers", &[]).await, 403, "AccessDenied");
    app.stop().await;
}

// FOUND: transitive tags are protected with an ASCII-only case fold
// (`eq_ignore_ascii_case` in ops/sts.rs `session_tags`), but tag keys are
// Unicode letters and case-insensitive (id_session-tags.md: "regardless of
// case"). A chained session passes `équipe` over the transitive `Équipe`
// and a policy spelling the key in lower case reads the attacker's value.
#[tokio::test]
async fn transitive_tags_cannot_be_overridden_in_another_unicode_case() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", ASSUME_AND_TAG_ANY).await;
    let trust = trust_principal(&account_root(), &["sts:AssumeRole", "sts:TagSession"]);
    let first = role(&root, "first", &trust, ASSUME_AND_TAG_ANY).await;
    let by_team = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/équipe":"rouge"}}}]}"#;
    let second = role(&root, "second", &trust, by_team).await;
    let one = assume(
        &alice,
        &first,
        "first-session",
        &[
            ("Tags.member.1.Key", "Équipe"),
            ("Tags.member.1.Value", "bleu"),
            ("TransitiveTagKeys.member.1", "Équipe"),
        ],
    )
    .await;
    ok200(&one);
    let one = alice.with_credentials_of(&one);
    let reply = assume(
        &one,
        &second,
        "second-session",
        &[
            ("Tags.member.1.Key", "équipe"),
            ("Tags.member.1.Value", "rouge"),
        ],
    )
    .await;
    if reply.status == 200 {
        let listed = one.with_credentials_of(&reply).call("ListUsers", &[]).await;
        panic!(
            "the transitive tag Équipe=bleu was overridden by équipe=rouge; \
             ListUsers under aws:PrincipalTag/équipe=rouge answered {}",
            listed.status
        );
    }
    assert_eq!(reply.status, 400, "{}", reply.body);
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Deleted and recreated principals
// ---------------------------------------------------------------------------

// FOUND: a trust policy naming a user keeps trusting whoever is created
// later under that name. AWS (reference_policies_elements_principal.md)
// transforms the ARN to the user's unique id when the policy is saved, so
// "if you delete and recreate a user ... the new user's ID does not match"
// and the trust "no longer applies".
#[tokio::test]
async fn a_user_recreated_under_a_trusted_name_is_not_trusted() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    let arn = role(&root, "reader", &trust_user("alice", &[], ""), READ_USERS).await;
    ok200(&assume(&alice, &arn, "first-session", &[]).await);
    delete_user(&root, "alice").await;
    let impostor = user_with_policy(&root, "alice", NOTHING).await;
    let reply = assume(&impostor, &arn, "impostor-session", &[]).await;
    refused(&reply, 403, "AccessDenied");
    app.stop().await;
}

// FOUND: a trust policy may name a user that does not exist; whoever
// later creates that user (iam:CreateUser, not any right on the role)
// assumes the role. AWS refuses such a policy when it is saved ("Invalid
// principal in policy", reference_policies_elements_principal.md: the ARN
// is transformed to the principal's unique ID on save).
#[tokio::test]
async fn a_trust_policy_naming_a_missing_user_trusts_nobody_created_later() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let created = root
        .call(
            "CreateRole",
            &[
                ("RoleName", "dangling"),
                ("AssumeRolePolicyDocument", &trust_user("ghost", &[], "")),
            ],
        )
        .await;
    if created.status == 200 {
        root.ok(
            "PutRolePolicy",
            &[
                ("RoleName", "dangling"),
                ("PolicyName", "granted"),
                ("PolicyDocument", READ_USERS),
            ],
        )
        .await;
        let ghost = user_with_policy(&root, "ghost", NOTHING).await;
        let arn = format!("arn:aws:iam::{ACCOUNT}:role/dangling");
        let reply = assume(&ghost, &arn, "gg-session", &[]).await;
        assert_ne!(
            reply.status, 200,
            "a user created after the trust policy named it assumed the role"
        );
    }
    refused(&created, 400, "MalformedPolicyDocument");
    app.stop().await;
}

// FOUND: the same for a role named as principal in another role's trust
// policy: a role created again under the name assumes the trusting role.
#[tokio::test]
async fn a_role_recreated_under_a_trusted_name_is_not_trusted() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    let ops = role(&root, "ops", &trust_user("alice", &[], ""), ASSUME_ANY).await;
    let target = role(
        &root,
        "target",
        &trust_principal(&ops, &["sts:AssumeRole"]),
        READ_USERS,
    )
    .await;
    let old = alice.with_credentials_of(&assume(&alice, &ops, "ops-session", &[]).await);
    ok200(&assume(&old, &target, "chained-session", &[]).await);
    delete_role(&root, "ops").await;
    role(&root, "ops", &trust_user("alice", &[], ""), ASSUME_ANY).await;
    let new = alice.with_credentials_of(&assume(&alice, &ops, "ops-session", &[]).await);
    let reply = assume(&new, &target, "chained-session", &[]).await;
    refused(&reply, 403, "AccessDenied");
    app.stop().await;
}

/// A session of a deleted role (or of a role deleted and created again)
/// gets nothing, not even through a trust policy naming the role.
#[tokio::test]
async fn a_deleted_roles_session_cannot_chain_through_a_trust_naming_the_role() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    let ops = role(&root, "ops", &trust_user("alice", &[], ""), ASSUME_ANY).await;
    let target = role(
        &root,
        "target",
        &trust_principal(&ops, &["sts:AssumeRole"]),
        READ_USERS,
    )
    .await;
    let old = alice.with_credentials_of(&assume(&alice, &ops, "ops-session", &[]).await);
    ok200(&assume(&old, &target, "chained-session", &[]).await);
    delete_role(&root, "ops").await;
    refused(
        &assume(&old, &target, "chained-session", &[]).await,
        403,
        "AccessDenied",
    );
    role(&root, "ops", &trust_user("alice", &[], ""), ASSUME_ANY).await;
    refused(
        &assume(&old, &target, "chained-session", &[]).await,
        403,
        "AccessDenied",
    );
    refused(&old.call("ListUsers", &[]).await, 403, "AccessDenied");
    app.stop().await;
}

/// A user deleted and created again: the old user's temporary credentials
/// are refused.
#[tokio::test]
async fn a_recreated_users_old_session_is_refused() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", READ_USERS).await;
    let old = alice.with_credentials_of(&alice.ok("GetSessionToken", &[]).await);
    old.ok("GetCallerIdentity", &[]).await;
    delete_user(&root, "alice").await;
    user_with_policy(&root, "alice", READ_USERS).await;
    refused(
        &old.call("GetCallerIdentity", &[]).await,
        403,
        "InvalidClientTokenId",
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Trust policies
// ---------------------------------------------------------------------------

// FOUND: NotPrincipal is accepted in a trust policy, and an Allow with
// NotPrincipal lets every principal of the account assume the role with no
// permission of its own. AWS (reference_policies_elements_notprincipal.md):
// "You cannot use the NotPrincipal element in ... an IAM role trust policy".
#[tokio::test]
async fn not_principal_is_refused_in_a_trust_policy_and_grants_nobody() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let mallory = user_with_policy(&root, "mallory", NOTHING).await;
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","NotPrincipal":{{"AWS":"arn:aws:iam::{ACCOUNT}:user/nobody"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let created = root
        .call(
            "CreateRole",
            &[("RoleName", "np"), ("AssumeRolePolicyDocument", &trust)],
        )
        .await;
    if created.status == 200 {
        root.ok(
            "PutRolePolicy",
            &[
                ("RoleName", "np"),
                ("PolicyName", "granted"),
                ("PolicyDocument", READ_USERS),
            ],
        )
        .await;
        let arn = format!("arn:aws:iam::{ACCOUNT}:role/np");
        let reply = assume(&mallory, &arn, "np-session", &[]).await;
        assert_ne!(
            reply.status, 200,
            "a NotPrincipal trust policy was accepted and lets a user with no permission \
             assume the role"
        );
    }
    refused(&created, 400, "MalformedPolicyDocument");
    app.stop().await;
}

/// An explicit deny in the caller's policy holds against a trust policy
/// naming the caller, however the request spells the role.
#[tokio::test]
async fn an_identity_deny_beats_a_trust_policy_naming_the_caller() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let deny = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"sts:AssumeRole","Resource":"arn:aws:iam::{ACCOUNT}:role/Reader"}}]}}"#
    );
    let bob = user_with_policy(&root, "bob", &deny).await;
    role(&root, "Reader", &trust_user("bob", &[], ""), READ_USERS).await;
    for spelled in ["Reader", "reader", "READER"] {
        let arn = format!("arn:aws:iam::{ACCOUNT}:role/{spelled}");
        let reply = assume(&bob, &arn, "bb-session", &[]).await;
        assert_eq!(reply.status, 403, "{spelled}: {}", reply.body);
    }
    // A deny on sts:* by a condition on the request's own keys holds too.
    let deny_tagged = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"sts:*","Resource":"*","Condition":{"StringLike":{"sts:RoleSessionName":"*"}}}]}"#;
    let carol = user_with_policy(&root, "carol", deny_tagged).await;
    let arn = role(&root, "other", &trust_user("carol", &[], ""), READ_USERS).await;
    refused(
        &assume(&carol, &arn, "cc-session", &[]).await,
        403,
        "AccessDenied",
    );
    app.stop().await;
}

/// A wildcard trust still does not let the root user, an expired session,
/// or a denied user in.
#[tokio::test]
async fn a_wildcard_trust_still_honours_denies_and_root() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let arn = role(
        &root,
        "open",
        &trust_principal("*", &["sts:AssumeRole"]),
        READ_USERS,
    )
    .await;
    let denied = user_with_policy(
        &root,
        "denied",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#,
    )
    .await;
    refused(
        &assume(&denied, &arn, "dd-session", &[]).await,
        403,
        "AccessDenied",
    );
    refused(
        &assume(&root, &arn, "rr-session", &[]).await,
        403,
        "AccessDenied",
    );
    let root_session = root.with_credentials_of(&root.ok("GetSessionToken", &[]).await);
    refused(
        &assume(&root_session, &arn, "rr-session", &[]).await,
        403,
        "AccessDenied",
    );
    app.stop().await;
}

/// The role's permissions boundary bounds its sessions; the caller's
/// boundary bounds what it may assume through an account trust.
#[tokio::test]
async fn permissions_boundaries_bound_role_sessions_and_callers() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok(
        "CreatePolicy",
        &[
            ("PolicyName", "only-get"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}"#,
            ),
        ],
    )
    .await;
    let boundary = format!("arn:aws:iam::{ACCOUNT}:policy/only-get");
    let alice = user_with_policy(&root, "alice", ASSUME_ANY).await;
    let arn = role(
        &root,
        "bounded",
        &trust_principal(&account_root(), &["sts:AssumeRole"]),
        READ_USERS,
    )
    .await;
    root.ok(
        "PutRolePermissionsBoundary",
        &[("RoleName", "bounded"), ("PermissionsBoundary", &boundary)],
    )
    .await;
    let session = alice.with_credentials_of(&assume(&alice, &arn, "bb-session", &[]).await);
    session.ok("GetUser", &[("UserName", "alice")]).await;
    refused(&session.call("ListUsers", &[]).await, 403, "AccessDenied");
    // alice's own boundary does not allow sts:AssumeRole: the account trust
    // delegates to her identity side, which the boundary bounds.
    root.ok(
        "PutUserPermissionsBoundary",
        &[("UserName", "alice"), ("PermissionsBoundary", &boundary)],
    )
    .await;
    refused(
        &assume(&alice, &arn, "bb-session", &[]).await,
        403,
        "AccessDenied",
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Session policies
// ---------------------------------------------------------------------------

/// A session policy only narrows: `Allow *` adds nothing to the role, does
/// not lift the role's deny, and a managed session policy iamd does not
/// have adds nothing.
#[tokio::test]
async fn a_session_policy_never_widens() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["iam:GetUser","iam:ListUsers"],"Resource":"*"},
        {"Effect":"Deny","Action":"iam:GetUser","Resource":"*"}]}"#;
    let arn = role(&root, "reader", &trust_user("alice", &[], ""), policy).await;
    let everything =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let wide = alice.with_credentials_of(
        &assume(&alice, &arn, "wide-session", &[("Policy", everything)]).await,
    );
    wide.ok("ListUsers", &[]).await;
    for (action, params) in [
        ("CreateUser", vec![("UserName", "sneaky")]),
        ("GetUser", vec![("UserName", "alice")]),
        (
            "PutRolePolicy",
            vec![
                ("RoleName", "reader"),
                ("PolicyName", "more"),
                ("PolicyDocument", everything),
            ],
        ),
    ] {
        refused(&wide.call(action, &params).await, 403, "AccessDenied");
    }
    // AWS managed, another account's, and a missing managed policy.
    for managed in [
        "arn:aws:iam::aws:policy/AdministratorAccess".to_owned(),
        "arn:aws:iam::210987654321:policy/admin".to_owned(),
        format!("arn:aws:iam::{ACCOUNT}:policy/missing"),
    ] {
        let reply = assume(
            &alice,
            &arn,
            "managed-session",
            &[("PolicyArns.member.1.arn", &managed)],
        )
        .await;
        if reply.status == 200 {
            let s = alice.with_credentials_of(&reply);
            refused(
                &s.call("CreateUser", &[("UserName", "sneaky")]).await,
                403,
                "AccessDenied",
            );
        }
    }
    // A session policy naming another principal cannot be smuggled as a
    // resource grant.
    let with_principal = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"*","Resource":"*"}}]}}"#
    );
    refused(
        &assume(&alice, &arn, "pp-session", &[("Policy", &with_principal)]).await,
        400,
        "MalformedPolicyDocument",
    );
    app.stop().await;
}

/// A role session calls only what its role allows, whatever the session
/// asks; it cannot create itself long-term credentials.
#[tokio::test]
async fn a_role_session_gets_no_more_than_its_role() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", READ_USERS).await;
    let arn = role(&root, "empty", &trust_user("alice", &[], ""), NOTHING).await;
    let session = alice.with_credentials_of(&assume(&alice, &arn, "ee-session", &[]).await);
    // alice may read users; the role may not: the session has the role's
    // permissions, not alice's.
    refused(&session.call("ListUsers", &[]).await, 403, "AccessDenied");
    let own = session.call("CreateAccessKey", &[]).await;
    assert!((400..500).contains(&own.status), "{}", own.body);
    refused(
        &session
            .call("CreateAccessKey", &[("UserName", "alice")])
            .await,
        403,
        "AccessDenied",
    );
    refused(
        &session.call("GetSessionToken", &[]).await,
        403,
        "AccessDenied",
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Revocation
// ---------------------------------------------------------------------------

/// A revoked session cannot assume any role to get a fresh token: not its
/// own role, not one trusting the role, not one trusting its session ARN.
#[tokio::test]
async fn a_revoked_session_cannot_chain_into_a_fresh_session() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","iam:ListUsers"],"Resource":"*"}]}"#;
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":["arn:aws:iam::{ACCOUNT}:user/alice","arn:aws:iam::{ACCOUNT}:root"]}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let first = role(&root, "first", &trust, policy).await;
    let mut old = alice.with_credentials_of(&assume(&alice, &first, "old-session", &[]).await);
    let session_arn = format!("arn:aws:sts::{ACCOUNT}:assumed-role/first/old-session");
    let by_role = role(
        &root,
        "by-role",
        &trust_principal(&first, &["sts:AssumeRole"]),
        READ_USERS,
    )
    .await;
    // A trust naming the session ARN itself, if iamd accepts one.
    let mut targets = vec![first.clone(), by_role.clone()];
    let created = root
        .call(
            "CreateRole",
            &[
                ("RoleName", "by-session"),
                (
                    "AssumeRolePolicyDocument",
                    &trust_principal(&session_arn, &["sts:AssumeRole"]),
                ),
            ],
        )
        .await;
    if created.status == 200 {
        targets.push(format!("arn:aws:iam::{ACCOUNT}:role/by-session"));
    }
    old.ok("ListUsers", &[]).await;
    let before = app.state.projection.position().0.to_string();
    app.state.clock.advance(chrono::Duration::seconds(5));
    old.skew = app.state.clock.offset();
    let cutoff = app
        .state
        .clock
        .now()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let revoke = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"*","Resource":"*","Condition":{{"DateLessThan":{{"aws:TokenIssueTime":"{cutoff}"}}}}}}]}}"#
    );
    let mut root = root.clone();
    root.skew = app.state.clock.offset();
    root.ok(
        "PutRolePolicy",
        &[
            ("RoleName", "first"),
            ("PolicyName", "AWSRevokeOlderSessions"),
            ("PolicyDocument", &revoke),
        ],
    )
    .await;
    refused(&old.call("ListUsers", &[]).await, 403, "AccessDenied");
    for arn in &targets {
        let reply = assume(&old, arn, "fresh-session", &[]).await;
        assert_eq!(
            reply.status, 403,
            "a revoked session assumed {arn}: {}",
            reply.body
        );
    }
    // Read as of a moment before the revocation: still today's policies.
    let past = old
        .call_with("ListUsers", &[], &[("x-iamd-as-of", &before)])
        .await;
    assert_eq!(past.status, 403, "{}", past.body);
    app.stop().await;
}

/// `x-iamd-as-of` read with a session of a role deleted since: the role's
/// policies of then do not come back.
#[tokio::test]
async fn as_of_reads_do_not_revive_a_deleted_roles_session() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    let arn = role(&root, "reader", &trust_user("alice", &[], ""), READ_USERS).await;
    let mut session = alice.with_credentials_of(&assume(&alice, &arn, "ss-session", &[]).await);
    session.ok("ListUsers", &[]).await;
    let then = app.state.projection.position().0.to_string();
    app.state.clock.advance(chrono::Duration::seconds(2));
    session.skew = app.state.clock.offset();
    let mut root = root.clone();
    root.skew = app.state.clock.offset();
    delete_role(&root, "reader").await;
    for (action, params) in [
        ("ListUsers", vec![]),
        ("GetUser", vec![("UserName", "alice")]),
        ("GetRole", vec![("RoleName", "reader")]),
    ] {
        let reply = session
            .call_with(action, &params, &[("x-iamd-as-of", &then)])
            .await;
        assert_eq!(reply.status, 403, "{action}: {}", reply.body);
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------
// GetSessionToken, root sessions and MFA
// ---------------------------------------------------------------------------

// FOUND: GetSessionToken credentials obtained without MFA call iamd's own
// API (`/v1/...`, service `iamd`): `session_may_call` (authz/mod.rs) only
// restricts services `iam` and `sts`. The /v1 API reads the whole account's
// IAM configuration and history (GetView, ListEvents, Authorize); AWS lets
// such credentials call no IAM operation and only AssumeRole and
// GetCallerIdentity of STS (id_credentials_temp_request.md, comparison).
#[tokio::test]
async fn get_session_token_without_mfa_cannot_call_iamds_own_api() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let auditor = user_with_policy(
        &root,
        "auditor",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iamd:*","iam:*"],"Resource":"*"}]}"#,
    )
    .await;
    // With the long-term key, the auditor may.
    ok200(&auditor.v1("GET", "/v1/events", "", None).await);
    let session = auditor.with_credentials_of(&auditor.ok("GetSessionToken", &[]).await);
    refused(&session.call("ListUsers", &[]).await, 403, "AccessDenied");
    let question = json!({"principal": format!("arn:aws:iam::{ACCOUNT}:user/auditor"),
        "action": "iam:ListUsers", "resource": "*"});
    let mut answered = Vec::new();
    for (method, path, body) in [
        ("GET", "/v1/events", None),
        ("GET", "/v1/view", None),
        ("POST", "/v1/authorize", Some(&question)),
    ] {
        let reply = session.v1(method, path, "", body).await;
        if reply.status == 200 {
            answered.push(path);
        }
    }
    // The root user's, likewise.
    let root_session = root.with_credentials_of(&root.ok("GetSessionToken", &[]).await);
    refused(
        &root_session.call("ListUsers", &[]).await,
        403,
        "AccessDenied",
    );
    for (method, path, body) in [("GET", "/v1/view", None), ("GET", "/v1/events", None)] {
        let reply = root_session.v1(method, path, "", body).await;
        if reply.status == 200 {
            answered.push(path);
        }
    }
    assert!(
        answered.is_empty(),
        "GetSessionToken credentials without MFA were answered by {answered:?}"
    );
    app.stop().await;
}

/// GetSessionToken credentials without MFA: no IAM in either encoding, and
/// of STS only AssumeRole and GetCallerIdentity.
#[tokio::test]
async fn get_session_token_without_mfa_is_limited_in_both_encodings() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(
        &root,
        "alice",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","sts:*"],"Resource":"*"}]}"#,
    )
    .await;
    let session = alice.with_credentials_of(&alice.ok("GetSessionToken", &[]).await);
    refused(&session.call("ListUsers", &[]).await, 403, "AccessDenied");
    refused(
        &session
            .call("GetAccessKeyInfo", &[("AccessKeyId", &alice.key)])
            .await,
        403,
        "AccessDenied",
    );
    for (service, action, body) in [
        ("iam", "ListUsers", json!({})),
        ("iam", "CreateUser", json!({"UserName": "sneaky"})),
        ("sts", "GetAccessKeyInfo", json!({"AccessKeyId": alice.key})),
        ("sts", "GetSessionToken", json!({})),
    ] {
        let reply = session.json(service, action, &body).await;
        assert_eq!(reply.status, 403, "{service}/{action}: {}", reply.body);
    }
    app.stop().await;
}

/// The root user's temporary credentials: no IAM without MFA, no roles,
/// at most an hour.
#[tokio::test]
async fn a_root_session_without_mfa_is_limited() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let session = root.with_credentials_of(
        &root
            .ok("GetSessionToken", &[("DurationSeconds", "129600")])
            .await,
    );
    let me = session.ok("GetCallerIdentity", &[]).await;
    assert_eq!(me.tag("Arn"), Some(account_root()));
    refused(&session.call("ListUsers", &[]).await, 403, "AccessDenied");
    refused(
        &session.call("CreateUser", &[("UserName", "x")]).await,
        403,
        "AccessDenied",
    );
    let mut later = session.clone();
    app.state.clock.advance(chrono::Duration::seconds(3600));
    later.skew = app.state.clock.offset();
    refused(
        &later.call("GetCallerIdentity", &[]).await,
        403,
        "ExpiredToken",
    );
    app.stop().await;
}

/// MFA codes: the caller's own device only, each code once across
/// operations; with one, GetSessionToken credentials call IAM.
#[tokio::test]
async fn mfa_codes_are_single_use_and_only_the_callers_own() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", READ_USERS).await;
    let bob = user_with_policy(&root, "bob", READ_USERS).await;
    let (alice_serial, alice_seed) = mfa_device(&app, "alice", "alice-phone").await;
    let (bob_serial, bob_seed) = mfa_device(&app, "bob", "bob-phone").await;
    let arn = role(&root, "reader", &trust_user("alice", &[], ""), READ_USERS).await;

    // bob's device and code, given by alice.
    let code = code_now(&app, &bob_seed);
    refused(
        &alice
            .call(
                "GetSessionToken",
                &[("SerialNumber", &bob_serial), ("TokenCode", &code)],
            )
            .await,
        403,
        "AccessDenied",
    );
    // A wrong code.
    let wrong = format!(
        "{:06}",
        (code_now(&app, &alice_seed).parse::<u32>().unwrap() + 1) % 1_000_000
    );
    refused(
        &alice
            .call(
                "GetSessionToken",
                &[("SerialNumber", &alice_serial), ("TokenCode", &wrong)],
            )
            .await,
        403,
        "AccessDenied",
    );
    // The right code: the session calls IAM.
    let code = code_now(&app, &alice_seed);
    let with_mfa = alice
        .ok(
            "GetSessionToken",
            &[("SerialNumber", &alice_serial), ("TokenCode", &code)],
        )
        .await;
    alice
        .with_credentials_of(&with_mfa)
        .ok("ListUsers", &[])
        .await;
    // The same code again, in GetSessionToken and in AssumeRole.
    refused(
        &alice
            .call(
                "GetSessionToken",
                &[("SerialNumber", &alice_serial), ("TokenCode", &code)],
            )
            .await,
        403,
        "AccessDenied",
    );
    refused(
        &assume(
            &alice,
            &arn,
            "mfa-session",
            &[("SerialNumber", &alice_serial), ("TokenCode", &code)],
        )
        .await,
        403,
        "AccessDenied",
    );
    // bob's code is untouched by alice's attempts.
    bob.ok(
        "GetSessionToken",
        &[
            ("SerialNumber", &bob_serial),
            ("TokenCode", &code_now(&app, &bob_seed)),
        ],
    )
    .await;
    app.stop().await;
}

/// A trust policy requiring MFA is met only by MFA given now or carried by
/// a GetSessionToken session that had it, never by request parameters.
#[tokio::test]
async fn an_mfa_trust_condition_is_not_met_without_mfa() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    let (serial, seed) = mfa_device(&app, "alice", "alice-phone").await;
    let trust = trust_user(
        "alice",
        &[],
        r#","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}"#,
    );
    let arn = role(&root, "guarded", &trust, READ_USERS).await;
    refused(
        &assume(&alice, &arn, "ss-session", &[]).await,
        403,
        "AccessDenied",
    );
    // Parameters that are not the MFA parameters change nothing.
    let spoof = alice
        .call(
            "AssumeRole",
            &[
                ("RoleArn", &arn),
                ("RoleSessionName", "ss-session"),
                ("aws:MultiFactorAuthPresent", "true"),
                ("MultiFactorAuthPresent", "true"),
            ],
        )
        .await;
    assert_ne!(spoof.status, 200, "{}", spoof.body);
    // A serial without a code, a code without a serial.
    for extra in [
        vec![("SerialNumber", serial.as_str())],
        vec![("TokenCode", "123456")],
    ] {
        let reply = assume(&alice, &arn, "ss-session", &extra).await;
        assert_ne!(reply.status, 200, "{}", reply.body);
    }
    let plain = alice.with_credentials_of(&alice.ok("GetSessionToken", &[]).await);
    refused(
        &assume(&plain, &arn, "ss-session", &[]).await,
        403,
        "AccessDenied",
    );
    let code = code_now(&app, &seed);
    let assumed = assume(
        &alice,
        &arn,
        "ss-session",
        &[("SerialNumber", &serial), ("TokenCode", &code)],
    )
    .await;
    ok200(&assumed);
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------

/// A token is bound to its key id (not a long-term key's, not the root
/// key's) and to its account (not another account on the same log).
#[tokio::test]
async fn a_token_is_bound_to_its_key_id_and_its_account() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    let arn = role(&root, "reader", &trust_user("alice", &[], ""), READ_USERS).await;
    let session = alice.with_credentials_of(&assume(&alice, &arn, "ss-session", &[]).await);
    session.ok("ListUsers", &[]).await;
    let token = session.token.clone();
    // alice's long-term key and secret, with the role session's token.
    let with_alices_key = Client {
        token: token.clone(),
        ..alice.clone()
    };
    refused(
        &with_alices_key.call("ListUsers", &[]).await,
        403,
        "InvalidClientTokenId",
    );
    // The session's key id with alice's long-term secret.
    let mixed = Client {
        secret: alice.secret.clone(),
        ..session.clone()
    };
    refused(
        &mixed.call("ListUsers", &[]).await,
        403,
        "SignatureDoesNotMatch",
    );
    // The session's key and secret without the token.
    let bare = Client {
        token: None,
        ..session.clone()
    };
    refused(
        &bare.call("ListUsers", &[]).await,
        403,
        "InvalidClientTokenId",
    );

    // Another account served from the same log and master key.
    let other = iam_api::app::Application::build(iam_api::app::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: db.url().to_owned(),
        account_id: "210987654321".into(),
        data_dir: std::env::temp_dir()
            .join(format!("iamd-hostile-{}", uuid::Uuid::new_v4().simple())),
        root_credentials: Some(app.root.clone()),
        master_key: Some(iam_domain::secrets::MasterKey::from_bytes([7; 32])),
        add_account: true,
        allow_loopback_http_issuers: true,
        server: iam_api::server::ServerOptions::default(),
    })
    .await
    .expect("the second account's node starts");
    let other_addr = other.local_addr();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(other.run_until_stopped(async move {
        let _ = rx.await;
    }));
    let elsewhere = Client {
        addr: other_addr,
        ..session.clone()
    };
    refused(
        &elsewhere.call("GetCallerIdentity", &[]).await,
        403,
        "InvalidClientTokenId",
    );
    let _ = tx.send(());
    let _ = handle.await;
    app.stop().await;
}

// ---------------------------------------------------------------------------
// What a refusal, the trail and a response tell
// ---------------------------------------------------------------------------

// FOUND: AssumeRole's refusal tells a caller with no permission at all
// whether a role exists, and its stored spelling: for an existing role the
// message names `arn:...:role/<stored name>` (without its path, in its
// stored case), for a missing one the ARN as requested. ops/sts.rs builds
// the target with `ctx.role_target(&r.name)`, whose `named` is the stored
// name at the root path; authz/mod.rs' rule is "A refusal names only what
// the caller may know: the resource as the request named it".
#[tokio::test]
async fn assume_role_refusals_do_not_reveal_whether_a_role_exists() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let mallory = user_with_policy(&root, "mallory", NOTHING).await;
    root.ok("CreateUser", &[("UserName", "trusted")]).await;
    root.ok(
        "CreateRole",
        &[
            ("RoleName", "ops"),
            ("Path", "/team/"),
            ("AssumeRolePolicyDocument", &trust_user("trusted", &[], "")),
        ],
    )
    .await;
    role(
        &root,
        "Secret-Admin",
        &trust_user("trusted", &[], ""),
        READ_USERS,
    )
    .await;
    // The sealed authorization failure message is opaque (and random) to
    // the caller: compared without it.
    let message = |reply: &Reply| {
        let text = reply.tag("Message").unwrap_or_default();
        match text.split_once(" Encoded authorization failure message: ") {
            Some((plain, _)) => plain.to_owned(),
            None => text,
        }
    };
    let mut leaks = Vec::new();
    for (existing, missing) in [
        ("role/team/ops", "role/team/ghost"),
        ("role/secret-admin", "role/secret-ghost"),
        ("role/SECRET-ADMIN", "role/SECRET-GHOST"),
    ] {
        let existing = format!("arn:aws:iam::{ACCOUNT}:{existing}");
        let missing = format!("arn:aws:iam::{ACCOUNT}:{missing}");
        let a = assume(&mallory, &existing, "mm-session", &[]).await;
        let b = assume(&mallory, &missing, "mm-session", &[]).await;
        refused(&a, 403, "AccessDenied");
        refused(&b, 403, "AccessDenied");
        assert!(
            message(&b).contains(&missing),
            "the missing role is named as asked: {}",
            message(&b)
        );
        if message(&a).replace(&existing, "ROLE") != message(&b).replace(&missing, "ROLE") {
            leaks.push(format!("asked {existing}, told: {}", message(&a)));
        }
    }
    assert!(
        leaks.is_empty(),
        "refusals tell that a role exists (and its stored spelling):\n{}",
        leaks.join("\n")
    );
    app.stop().await;
}

/// No secret or token of temporary credentials reaches the log (events,
/// their metadata, refusals) or iamd's event API.
#[tokio::test]
async fn the_trail_never_holds_a_secret_or_a_token() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", ASSUME_AND_TAG_ANY).await;
    let (serial, seed) = mfa_device(&app, "alice", "alice-phone").await;
    let arn = role(
        &root,
        "reader",
        &trust_principal(
            &account_root(),
            &["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
        ),
        ASSUME_AND_READ,
    )
    .await;
    let mut secrets = Vec::new();
    let assumed = assume(
        &alice,
        &arn,
        "ss-session",
        &[
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "red"),
            ("TransitiveTagKeys.member.1", "team"),
            ("SourceIdentity", "alice"),
            ("Policy", ASSUME_AND_READ),
        ],
    )
    .await;
    ok200(&assumed);
    let session = alice.with_credentials_of(&assumed);
    secrets.push(session.secret.clone());
    secrets.push(session.token.clone().unwrap());
    let token = alice
        .ok(
            "GetSessionToken",
            &[
                ("SerialNumber", &serial),
                ("TokenCode", &code_now(&app, &seed)),
            ],
        )
        .await;
    let user_session = alice.with_credentials_of(&token);
    secrets.push(user_session.secret.clone());
    secrets.push(user_session.token.clone().unwrap());
    let root_session = root.with_credentials_of(&root.ok("GetSessionToken", &[]).await);
    secrets.push(root_session.secret.clone());
    secrets.push(root_session.token.clone().unwrap());
    // Refusals and successes with each.
    session.ok("ListUsers", &[]).await;
    refused(
        &session.call("DeleteUser", &[("UserName", "alice")]).await,
        403,
        "AccessDenied",
    );
    let _ = user_session.call("ListUsers", &[]).await;
    refused(
        &root_session.call("ListUsers", &[]).await,
        403,
        "AccessDenied",
    );
    let chained = session.with_credentials_of(&assume(&session, &arn, "cc-session", &[]).await);
    secrets.push(chained.secret.clone());
    secrets.push(chained.token.clone().unwrap());

    let store = iam_event_store::open(db.url()).await.unwrap();
    let events = store
        .read_all(iam_event_store::Position(0), 10_000)
        .await
        .unwrap();
    assert!(events
        .iter()
        .any(|e| e.event_type == "TemporaryCredentialsIssued"));
    for e in &events {
        let text = format!("{} {}", e.payload, e.metadata);
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{}: {text}", e.event_type);
        }
    }
    let listed = root.v1("GET", "/v1/events", "", None).await;
    ok200(&listed);
    for s in &secrets {
        assert!(!listed.body.contains(s.as_str()));
    }
    // A refusal never echoes the token.
    let reply = session.call("CreateUser", &[("UserName", "x")]).await;
    assert!(!reply.body.contains(session.token.as_deref().unwrap()));
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Hostile input
// ---------------------------------------------------------------------------

/// Oversized, malformed and Unicode input is refused as the caller's
/// error, never a server failure, and the server keeps serving.
#[tokio::test]
async fn hostile_input_is_refused_without_a_server_error() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", ASSUME_AND_TAG_ANY).await;
    let arn = role(
        &root,
        "tagged",
        &trust_principal(&account_root(), &["sts:AssumeRole", "sts:TagSession"]),
        READ_USERS,
    )
    .await;
    let long_key = "ü".repeat(128);
    let long_value = "ß".repeat(256);
    let mut many: Vec<(String, String)> = Vec::new();
    for i in 1..=51 {
        many.push((format!("Tags.member.{i}.Key"), format!("k{i}")));
        many.push((format!("Tags.member.{i}.Value"), "v".into()));
    }
    let mut fifty_big: Vec<(String, String)> = Vec::new();
    for i in 1..=50 {
        fifty_big.push((
            format!("Tags.member.{i}.Key"),
            format!("{i}{}", &"é".repeat(120)),
        ));
        fifty_big.push((format!("Tags.member.{i}.Value"), long_value.clone()));
    }
    let nested = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{{"StringEquals":{{"a":{}1{}}}}}}}]}}"#,
        "[".repeat(3000),
        "]".repeat(3000)
    );
    let huge_policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"{}"}}]}}"#,
        "x".repeat(500_000)
    );
    let latin = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"{}"}}]}}"#,
        "ÿ".repeat(1900)
    );
    let many_arns: Vec<(String, String)> = (1..=200)
        .map(|i| {
            (
                format!("PolicyArns.member.{i}.arn"),
                format!("arn:aws:iam::{ACCOUNT}:policy/p{i}"),
            )
        })
        .collect();
    let many_transitive: Vec<(String, String)> = (1..=200)
        .map(|i| (format!("TransitiveTagKeys.member.{i}"), format!("k{i}")))
        .collect();
    // The longest key and value are a valid tag.
    ok200(
        &assume(
            &alice,
            &arn,
            "hh-session",
            &[
                ("Tags.member.1.Key", &long_key),
                ("Tags.member.1.Value", &long_value),
            ],
        )
        .await,
    );
    let cases: Vec<Vec<(String, String)>> = vec![
        vec![
            ("Tags.member.1.Key".into(), format!("{long_key}x")),
            ("Tags.member.1.Value".into(), "v".into()),
        ],
        vec![
            ("Tags.member.1.Key".into(), "k".into()),
            ("Tags.member.1.Value".into(), format!("{long_value}x")),
        ],
        vec![
            ("Tags.member.1.Key".into(), "\u{0}".into()),
            ("Tags.member.1.Value".into(), "v".into()),
        ],
        vec![
            ("Tags.member.1.Key".into(), "k\u{202e}".into()),
            ("Tags.member.1.Value".into(), "v".into()),
        ],
        vec![
            ("Tags.member.1.Key".into(), "".into()),
            ("Tags.member.1.Value".into(), "v".into()),
        ],
        vec![("Tags.member.1.Value".into(), "v".into())],
        vec![
            ("Tags.member.1.Key".into(), "dup".into()),
            ("Tags.member.1.Value".into(), "a".into()),
            ("Tags.member.2.Key".into(), "DUP".into()),
            ("Tags.member.2.Value".into(), "b".into()),
        ],
        many.clone(),
        fifty_big,
        many_arns,
        many_transitive,
        vec![("Policy".into(), nested)],
        vec![("Policy".into(), huge_policy)],
        vec![("Policy".into(), latin)],
        vec![("Policy".into(), "{}".into())],
        vec![("Policy".into(), "null".into())],
        vec![("Policy".into(), "\"\u{fffd}\"".into())],
        vec![("PolicyArns.member.1.arn".into(), "not-an-arn".into())],
        vec![(
            "PolicyArns.member.1.arn".into(),
            "arn:aws:iam::aws:policy/".into(),
        )],
        vec![("DurationSeconds".into(), "99999999999999999999".into())],
        vec![("DurationSeconds".into(), "-1".into())],
        vec![("DurationSeconds".into(), "1e3".into())],
        vec![("SourceIdentity".into(), "aws:admin".into())],
        vec![("SourceIdentity".into(), "x".repeat(300))],
        vec![("ExternalId".into(), "é".repeat(2000))],
        vec![
            (
                "SerialNumber".into(),
                format!("arn:aws:iam::{ACCOUNT}:mfa/none"),
            ),
            ("TokenCode".into(), "99999999999999999999".into()),
        ],
        vec![
            ("SerialNumber".into(), "x".repeat(10_000)),
            ("TokenCode".into(), "123456".into()),
        ],
        vec![
            (
                "SerialNumber".into(),
                format!("arn:aws:iam::{ACCOUNT}:mfa/none"),
            ),
            ("TokenCode".into(), "12345a".into()),
        ],
    ];
    for case in &cases {
        let mut params: Vec<(&str, &str)> =
            vec![("RoleArn", arn.as_str()), ("RoleSessionName", "hh-session")];
        params.extend(case.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let reply = alice.call("AssumeRole", &params).await;
        let shown: Vec<String> = case
            .iter()
            .map(|(k, v)| format!("{k}={}", v.chars().take(40).collect::<String>()))
            .collect();
        assert!(
            (400..500).contains(&reply.status),
            "{shown:?}: {} {}",
            reply.status,
            reply.body.chars().take(400).collect::<String>()
        );
    }
    for name in [
        "a/b",
        "a:b",
        "a b",
        "ü-session",
        "x",
        &"y".repeat(65),
        "assumed-role/admin",
    ] {
        let reply = assume(&alice, &arn, name, &[]).await;
        assert!((400..500).contains(&reply.status), "{name}: {}", reply.body);
    }
    for bad in [
        "not-an-arn",
        "arn:aws:iam::123456789012:role/",
        "arn:aws:iam::123456789012:user/alice",
        "arn:aws:sts::123456789012:assumed-role/tagged/x",
        "arn:aws:iam::123456789012:role/../tagged",
    ] {
        let reply = assume(&alice, bad, "hh-session", &[]).await;
        assert!((400..500).contains(&reply.status), "{bad}: {}", reply.body);
    }
    for key in ["", "x", "ASIA", &"A".repeat(10_000), "ÄSIA0000000000000000"] {
        let reply = alice
            .call("GetAccessKeyInfo", &[("AccessKeyId", key)])
            .await;
        assert!(
            (400..500).contains(&reply.status),
            "{key:.20}: {}",
            reply.body
        );
    }
    for duration in ["0", "899", "129601", "-5", "abc"] {
        let reply = alice
            .call("GetSessionToken", &[("DurationSeconds", duration)])
            .await;
        assert!(
            (400..500).contains(&reply.status),
            "{duration}: {}",
            reply.body
        );
    }
    // JSON encoding: wrong types and shapes.
    for body in [
        json!({"RoleArn": arn, "RoleSessionName": "jj-session", "Tags": "team"}),
        json!({"RoleArn": arn, "RoleSessionName": "jj-session", "Tags": [{"Key": 1, "Value": []}]}),
        json!({"RoleArn": arn, "RoleSessionName": "jj-session", "Tags": [{"Key": "aws:x", "Value": "1"}]}),
        json!({"RoleArn": arn, "RoleSessionName": "jj-session", "DurationSeconds": 1e300}),
        json!({"RoleArn": arn, "RoleSessionName": "jj-session", "PolicyArns": [{"arn": {"x": 1}}]}),
        json!({"RoleArn": [arn], "RoleSessionName": "jj-session"}),
        json!({"RoleArn": arn, "RoleSessionName": "jj-session", "Policy": {"Version": "2012-10-17"}}),
    ] {
        let reply = alice.json("sts", "AssumeRole", &body).await;
        assert!(
            (400..500).contains(&reply.status),
            "{body}: {} {}",
            reply.status,
            reply.body
        );
    }
    // Still serving.
    alice.ok("GetCallerIdentity", &[]).await;
    app.stop().await;
}

/// The JSON encoding of STS: the credentials it hands out are usable and
/// carry the same restrictions.
#[tokio::test]
async fn json_sts_issues_the_same_restricted_credentials() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    let arn = role(&root, "reader", &trust_user("alice", &[], ""), READ_USERS).await;
    let reply = alice
        .json(
            "sts",
            "AssumeRole",
            &json!({"RoleArn": arn, "RoleSessionName": "jj-session",
                "Policy": r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}"#}),
        )
        .await;
    ok200(&reply);
    let v: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    let creds = &v["Credentials"];
    let session = Client {
        key: creds["AccessKeyId"].as_str().unwrap().to_owned(),
        secret: creds["SecretAccessKey"].as_str().unwrap().to_owned(),
        token: Some(creds["SessionToken"].as_str().unwrap().to_owned()),
        ..alice.clone()
    };
    session.ok("ListUsers", &[]).await;
    refused(
        &session.call("GetUser", &[("UserName", "alice")]).await,
        403,
        "AccessDenied",
    );
    let r = session
        .json("iam", "GetUser", &json!({"UserName": "alice"}))
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    // A signature scoped to iam cannot reach STS through /sts/.
    let request = session.signed_post(
        "/sts/GetCallerIdentity",
        "application/json",
        "{}",
        "iam",
        &[],
    );
    let crossed = send_raw(session.addr, request).await;
    assert_ne!(crossed.status, 200, "{}", crossed.body);
    app.stop().await;
}

/// iamd's decision API asked by a role session: the role's permissions
/// within the session policy, as for any operation.
#[tokio::test]
async fn v1_authorize_as_a_role_session_is_bounded_by_the_session_policy() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let alice = user_with_policy(&root, "alice", NOTHING).await;
    let arn = role(
        &root,
        "auditor",
        &trust_user("alice", &[], ""),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iamd:*","iam:ListUsers"],"Resource":"*"}]}"#,
    )
    .await;
    let question = json!({"principal": format!("arn:aws:iam::{ACCOUNT}:user/alice"),
        "action": "iam:ListUsers", "resource": "*"});
    let full = alice.with_credentials_of(&assume(&alice, &arn, "aa-session", &[]).await);
    ok200(&full.v1("POST", "/v1/authorize", "", Some(&question)).await);
    let narrow = alice.with_credentials_of(
        &assume(
            &alice,
            &arn,
            "nn-session",
            &[(
                "Policy",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}"#,
            )],
        )
        .await,
    );
    narrow.ok("ListUsers", &[]).await;
    for (method, path, body) in [
        ("POST", "/v1/authorize", Some(&question)),
        ("GET", "/v1/events", None),
        ("GET", "/v1/view", None),
    ] {
        let reply = narrow.v1(method, path, "", body).await;
        assert_eq!(reply.status, 403, "{path}: {}", reply.body);
    }
    // Asked about a session ARN, or by a session key: nothing to answer.
    let by_session = json!({"principal": format!("arn:aws:sts::{ACCOUNT}:assumed-role/auditor/aa-session"),
        "action": "iam:ListUsers", "resource": "*"});
    let reply = full
        .v1("POST", "/v1/authorize", "", Some(&by_session))
        .await;
    assert_ne!(reply.status, 500, "{}", reply.body);
    let by_key = json!({"access_key_id": full.key, "action": "iam:ListUsers", "resource": "*"});
    let reply = full.v1("POST", "/v1/authorize", "", Some(&by_key)).await;
    assert_ne!(reply.status, 500, "{}", reply.body);
    if reply.status == 200 {
        assert!(!reply.body.contains("\"Allow\""), "{}", reply.body);
    }
    app.stop().await;
}
