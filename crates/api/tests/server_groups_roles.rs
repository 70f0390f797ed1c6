//! Groups, roles, managed policy attachments, permissions boundaries and
//! tags end to end: `iamd` on a free port against a fresh PostgreSQL
//! database, driven over real HTTP with requests signed by our SigV4 signer.
//! (The harness is a copy of the one in `server.rs`.)

use chrono::Utc;
use iam_api::app::POSITION_HEADER;
use iam_api::credentials::unique_id;
use iam_domain::ids::PolicyId;
use iam_domain::names::{IamPath, PolicyName};
use iam_domain::{Actor, Command, EventMetadata};
use iam_event_store::testing::TestDatabase;

mod support;
use support::*;

impl TestApp {
    /// Creates a customer managed policy through the server's projection;
    /// returns its ARN.
    async fn create_policy(&self, name: &str, path: &str) -> String {
        let command = Command::CreatePolicy {
            policy_name: PolicyName::parse(name).unwrap(),
            path: Some(IamPath::parse(path).unwrap()),
            policy_id: PolicyId::parse(&unique_id("ANPA")).unwrap(),
            policy_document: ALLOW_ALL.into(),
            description: None,
            tags: vec![],
            now: Utc::now(),
        };
        self.execute(command).await;
        format!("arn:aws:iam::{ACCOUNT}:policy{path}{name}")
    }

    /// Executes a command through the server's projection, as root.
    async fn execute(&self, command: Command) {
        let metadata = EventMetadata {
            actor: Actor {
                principal_arn: format!("arn:aws:iam::{ACCOUNT}:root"),
                principal_id: None,
                access_key_id: None,
                session_name: None,
            },
            request_id: uuid::Uuid::new_v4().to_string(),
            source_ip: None,
            user_agent: None,
            correlation_id: None,
            causation_id: None,
            action: None,
            target: None,
        };
        self.state
            .projection
            .execute(&self.state.account_id, &command, &metadata)
            .await
            .expect("the command succeeds");
    }
}

/// Asserts a failed call's HTTP status and AWS error code.
#[track_caller]
fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(
        (reply.status, reply.error_code().as_deref()),
        (status, Some(code)),
        "{}",
        reply.body
    );
}

/// Follows `Marker` through every page of a list call with `MaxItems`;
/// returns the `tag` texts of every page and the number of pages.
async fn all_pages(
    client: &Client,
    action: &str,
    params: &[(&str, &str)],
    max_items: &str,
    tag: &str,
) -> (Vec<String>, usize) {
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut all = params.to_vec();
        all.push(("MaxItems", max_items));
        if let Some(m) = &marker {
            all.push(("Marker", m.as_str()));
        }
        let page = client.ok(action, &all).await;
        pages += 1;
        seen.extend(page.all(tag));
        match page.tag("IsTruncated").as_deref() {
            Some("true") => {
                marker = Some(page.tag("Marker").expect("a truncated page has a Marker"))
            }
            Some("false") => {
                assert!(page.tag("Marker").is_none());
                break;
            }
            other => panic!("IsTruncated {other:?}: {}", page.body),
        }
        assert!(pages < 100, "paging does not end");
    }
    (seen, pages)
}

const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

const GROUP_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]}"#;

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

const TRUST_ACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_membership_and_group_inline_policies() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();

    let created = root
        .ok("CreateGroup", &[("GroupName", "admins"), ("Path", "/eng/")])
        .await;
    assert_eq!(
        created.tag("Arn").unwrap(),
        format!("arn:aws:iam::{ACCOUNT}:group/eng/admins")
    );
    assert_eq!(created.tag("Path").unwrap(), "/eng/");
    assert_eq!(created.tag("GroupName").unwrap(), "admins");
    assert!(created.tag("GroupId").unwrap().starts_with("AGPA"));
    assert!(created.tag("CreateDate").unwrap().ends_with('Z'));
    let position: u64 = created.header(POSITION_HEADER).unwrap().parse().unwrap();
    assert_eq!(position, head(&db).await);

    assert_error(
        &root.call("CreateGroup", &[("GroupName", "ADMINS")]).await,
        409,
        "EntityAlreadyExists",
    );
    assert_error(
        &root.call("CreateGroup", &[("GroupName", "bad name")]).await,
        400,
        "ValidationError",
    );
    assert_error(
        &root
            .call("CreateGroup", &[("GroupName", "x"), ("Path", "no-slash")])
            .await,
        400,
        "ValidationError",
    );
    assert_error(&root.call("CreateGroup", &[]).await, 400, "ValidationError");

    let missing = root.call("GetGroup", &[("GroupName", "nope")]).await;
    assert_error(&missing, 404, "NoSuchEntity");
    assert_eq!(
        missing.tag("Message").unwrap(),
        "The group with name nope cannot be found."
    );

    // Members, and GetGroup pages over them.
    for name in ["alice", "bob", "carol"] {
        root.ok("CreateUser", &[("UserName", name)]).await;
        root.ok(
            "AddUserToGroup",
            &[("GroupName", "admins"), ("UserName", name)],
        )
        .await;
    }
    // Adding again is accepted and changes nothing.
    root.ok(
        "AddUserToGroup",
        &[("GroupName", "Admins"), ("UserName", "alice")],
    )
    .await;
    assert_error(
        &root
            .call(
                "AddUserToGroup",
                &[("GroupName", "admins"), ("UserName", "nobody")],
            )
            .await,
        404,
        "NoSuchEntity",
    );
    let no_group = root
        .call(
            "AddUserToGroup",
            &[("GroupName", "nope"), ("UserName", "alice")],
        )
        .await;
    assert_error(&no_group, 404, "NoSuchEntity");
    assert_eq!(
        no_group.tag("Message").unwrap(),
        "The group with name nope cannot be found."
    );
    let got = root.ok("GetGroup", &[("GroupName", "admins")]).await;
    assert_eq!(got.tag("GroupName").unwrap(), "admins");
    assert_eq!(got.all("UserName"), vec!["alice", "bob", "carol"]);
    assert_eq!(got.tag("IsTruncated").unwrap(), "false");
    let (members, pages) = all_pages(
        &root,
        "GetGroup",
        &[("GroupName", "admins")],
        "2",
        "UserName",
    )
    .await;
    assert_eq!(
        (members, pages),
        (vec!["alice".to_owned(), "bob".into(), "carol".into()], 2)
    );

    let groups = root.ok("ListGroupsForUser", &[("UserName", "alice")]).await;
    assert_eq!(groups.all("GroupName"), vec!["admins"]);
    assert_eq!(
        groups.tag("Arn").unwrap(),
        format!("arn:aws:iam::{ACCOUNT}:group/eng/admins")
    );
    assert_error(
        &root
            .call("ListGroupsForUser", &[("UserName", "nobody")])
            .await,
        404,
        "NoSuchEntity",
    );

    root.ok(
        "RemoveUserFromGroup",
        &[("GroupName", "admins"), ("UserName", "carol")],
    )
    .await;
    assert_error(
        &root
            .call(
                "RemoveUserFromGroup",
                &[("GroupName", "admins"), ("UserName", "carol")],
            )
            .await,
        404,
        "NoSuchEntity",
    );
    assert!(root
        .ok("ListGroupsForUser", &[("UserName", "carol")])
        .await
        .all("GroupName")
        .is_empty());
    // A user in a group cannot be deleted; a group with members neither.
    assert_error(
        &root.call("DeleteUser", &[("UserName", "alice")]).await,
        409,
        "DeleteConflict",
    );
    assert_error(
        &root.call("DeleteGroup", &[("GroupName", "admins")]).await,
        409,
        "DeleteConflict",
    );

    // Inline policies.
    root.ok(
        "PutGroupPolicy",
        &[
            ("GroupName", "admins"),
            ("PolicyName", "read"),
            ("PolicyDocument", GROUP_POLICY),
        ],
    )
    .await;
    let policy = root
        .ok(
            "GetGroupPolicy",
            &[("GroupName", "admins"), ("PolicyName", "READ")],
        )
        .await;
    assert_eq!(policy.tag("GroupName").unwrap(), "admins");
    assert_eq!(policy.tag("PolicyName").unwrap(), "read");
    assert_eq!(decode(&policy.tag("PolicyDocument").unwrap()), GROUP_POLICY);
    assert_error(
        &root
            .call(
                "GetGroupPolicy",
                &[("GroupName", "admins"), ("PolicyName", "other")],
            )
            .await,
        404,
        "NoSuchEntity",
    );
    assert_error(
        &root
            .call(
                "GetGroupPolicy",
                &[("GroupName", "nope"), ("PolicyName", "read")],
            )
            .await,
        404,
        "NoSuchEntity",
    );
    assert_error(
        &root
            .call(
                "PutGroupPolicy",
                &[
                    ("GroupName", "admins"),
                    ("PolicyName", "bad"),
                    ("PolicyDocument", "{\"Statement\":"),
                ],
            )
            .await,
        400,
        "MalformedPolicyDocument",
    );
    assert_error(
        &root
            .call(
                "PutGroupPolicy",
                &[
                    ("GroupName", "nope"),
                    ("PolicyName", "read"),
                    ("PolicyDocument", GROUP_POLICY),
                ],
            )
            .await,
        404,
        "NoSuchEntity",
    );
    root.ok(
        "PutGroupPolicy",
        &[
            ("GroupName", "admins"),
            ("PolicyName", "write"),
            ("PolicyDocument", GROUP_POLICY),
        ],
    )
    .await;
    let (names, pages) = all_pages(
        &root,
        "ListGroupPolicies",
        &[("GroupName", "admins")],
        "1",
        "member",
    )
    .await;
    assert_eq!((names, pages), (vec!["read".to_owned(), "write".into()], 2));
    assert_error(
        &root
            .call("ListGroupPolicies", &[("GroupName", "nope")])
            .await,
        404,
        "NoSuchEntity",
    );

    // Rename and move: the group follows, members still see it.
    root.ok("CreateGroup", &[("GroupName", "taken")]).await;
    assert_error(
        &root
            .call(
                "UpdateGroup",
                &[("GroupName", "admins"), ("NewGroupName", "taken")],
            )
            .await,
        409,
        "EntityAlreadyExists",
    );
    assert_error(
        &root
            .call(
                "UpdateGroup",
                &[("GroupName", "nope"), ("NewGroupName", "x")],
            )
            .await,
        404,
        "NoSuchEntity",
    );
    root.ok(
        "UpdateGroup",
        &[
            ("GroupName", "admins"),
            ("NewGroupName", "ops"),
            ("NewPath", "/ops/"),
        ],
    )
    .await;
    assert_error(
        &root.call("GetGroup", &[("GroupName", "admins")]).await,
        404,
        "NoSuchEntity",
    );
    let ops = root.ok("ListGroupsForUser", &[("UserName", "alice")]).await;
    assert_eq!(
        ops.tag("Arn").unwrap(),
        format!("arn:aws:iam::{ACCOUNT}:group/ops/ops")
    );
    assert_eq!(
        root.ok("GetGroup", &[("GroupName", "ops")])
            .await
            .all("UserName"),
        vec!["alice", "bob"]
    );

    // Empty it, then delete it.
    for name in ["alice", "bob"] {
        root.ok(
            "RemoveUserFromGroup",
            &[("GroupName", "ops"), ("UserName", name)],
        )
        .await;
    }
    let conflict = root.call("DeleteGroup", &[("GroupName", "ops")]).await;
    assert_error(&conflict, 409, "DeleteConflict");
    assert!(conflict.tag("Message").unwrap().contains("policies"));
    for name in ["read", "write"] {
        root.ok(
            "DeleteGroupPolicy",
            &[("GroupName", "ops"), ("PolicyName", name)],
        )
        .await;
    }
    assert_error(
        &root
            .call(
                "DeleteGroupPolicy",
                &[("GroupName", "ops"), ("PolicyName", "read")],
            )
            .await,
        404,
        "NoSuchEntity",
    );
    root.ok("DeleteGroup", &[("GroupName", "ops")]).await;
    assert_error(
        &root.call("DeleteGroup", &[("GroupName", "ops")]).await,
        404,
        "NoSuchEntity",
    );
    root.ok("DeleteUser", &[("UserName", "alice")]).await;

    // A user may be in at most 10 groups.
    for i in 0..10 {
        let g = format!("g{i}");
        root.ok("CreateGroup", &[("GroupName", &g)]).await;
        root.ok(
            "AddUserToGroup",
            &[("GroupName", &g), ("UserName", "carol")],
        )
        .await;
    }
    root.ok("CreateGroup", &[("GroupName", "g10")]).await;
    assert_error(
        &root
            .call(
                "AddUserToGroup",
                &[("GroupName", "g10"), ("UserName", "carol")],
            )
            .await,
        409,
        "LimitExceeded",
    );
    assert_eq!(
        root.ok(
            "ListGroupsForUser",
            &[("UserName", "carol"), ("MaxItems", "4")]
        )
        .await
        .all("GroupName"),
        vec!["g0", "g1", "g2", "g3"]
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_groups_and_list_roles_page_and_filter_by_path() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    for (name, path) in [
        ("a-group", "/"),
        ("b-group", "/team/"),
        ("c-group", "/"),
        ("d-group", "/team/sub/"),
        ("e-group", "/other/"),
    ] {
        root.ok("CreateGroup", &[("GroupName", name), ("Path", path)])
            .await;
        root.ok(
            "CreateRole",
            &[
                ("RoleName", &name.replace("group", "role")),
                ("Path", path),
                ("AssumeRolePolicyDocument", TRUST),
            ],
        )
        .await;
    }
    let (groups, pages) = all_pages(&root, "ListGroups", &[], "2", "GroupName").await;
    assert_eq!(pages, 3);
    assert_eq!(
        groups,
        ["a-group", "b-group", "c-group", "d-group", "e-group"]
    );
    let (roles, pages) = all_pages(&root, "ListRoles", &[], "2", "RoleName").await;
    assert_eq!(pages, 3);
    assert_eq!(roles, ["a-role", "b-role", "c-role", "d-role", "e-role"]);
    let (roles, pages) = all_pages(&root, "ListRoles", &[], "5", "RoleName").await;
    assert_eq!((roles.len(), pages), (5, 1));

    let team = root.ok("ListGroups", &[("PathPrefix", "/team/")]).await;
    assert_eq!(team.all("GroupName"), vec!["b-group", "d-group"]);
    let team = root.ok("ListRoles", &[("PathPrefix", "/team/")]).await;
    assert_eq!(team.all("RoleName"), vec!["b-role", "d-role"]);
    // ListRoles shows the trust policy, URL-encoded, as AWS does.
    assert_eq!(
        decode(&team.tag("AssumeRolePolicyDocument").unwrap()),
        TRUST
    );
    let (sub, _) = all_pages(
        &root,
        "ListRoles",
        &[("PathPrefix", "/team/sub/")],
        "1",
        "RoleName",
    )
    .await;
    assert_eq!(sub, ["d-role"]);
    assert!(root
        .ok("ListGroups", &[("PathPrefix", "/none/")])
        .await
        .all("GroupName")
        .is_empty());

    assert_error(
        &root.call("ListGroups", &[("MaxItems", "0")]).await,
        400,
        "ValidationError",
    );
    assert_error(
        &root.call("ListRoles", &[("MaxItems", "1001")]).await,
        400,
        "ValidationError",
    );
    assert_error(
        &root.call("ListRoles", &[("PathPrefix", "team")]).await,
        400,
        "ValidationError",
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_trust_policies_and_role_inline_policies() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();

    let created = root
        .ok(
            "CreateRole",
            &[
                ("RoleName", "app"),
                ("Path", "/svc/"),
                ("AssumeRolePolicyDocument", TRUST),
                ("Description", "The app's role"),
                ("MaxSessionDuration", "7200"),
                ("Tags.member.1.Key", "team"),
                ("Tags.member.1.Value", "platform"),
            ],
        )
        .await;
    assert_eq!(
        created.tag("Arn").unwrap(),
        format!("arn:aws:iam::{ACCOUNT}:role/svc/app")
    );
    assert!(created.tag("RoleId").unwrap().starts_with("AROA"));
    assert_eq!(
        decode(&created.tag("AssumeRolePolicyDocument").unwrap()),
        TRUST
    );
    assert_eq!(created.tag("Description").unwrap(), "The app&apos;s role");
    assert_eq!(created.tag("MaxSessionDuration").unwrap(), "7200");
    assert_eq!(created.tag("Key").unwrap(), "team");
    assert_eq!(created.tag("Value").unwrap(), "platform");

    assert_error(
        &root
            .call(
                "CreateRole",
                &[("RoleName", "APP"), ("AssumeRolePolicyDocument", TRUST)],
            )
            .await,
        409,
        "EntityAlreadyExists",
    );
    // A trust policy needs a principal; an identity policy is not one.
    let bad = root
        .call(
            "CreateRole",
            &[("RoleName", "bad"), ("AssumeRolePolicyDocument", ALLOW_ALL)],
        )
        .await;
    assert_error(&bad, 400, "MalformedPolicyDocument");
    assert_error(
        &root
            .call(
                "CreateRole",
                &[
                    ("RoleName", "bad"),
                    ("AssumeRolePolicyDocument", "not json"),
                ],
            )
            .await,
        400,
        "MalformedPolicyDocument",
    );
    assert_error(
        &root.call("CreateRole", &[("RoleName", "bad")]).await,
        400,
        "ValidationError",
    );
    assert_error(
        &root
            .call(
                "CreateRole",
                &[
                    ("RoleName", "bad"),
                    ("AssumeRolePolicyDocument", TRUST),
                    ("MaxSessionDuration", "100"),
                ],
            )
            .await,
        400,
        "ValidationError",
    );
    assert_error(
        &root
            .call(
                "CreateRole",
                &[
                    ("RoleName", "bad"),
                    ("AssumeRolePolicyDocument", TRUST),
                    (
                        "PermissionsBoundary",
                        &format!("arn:aws:iam::{ACCOUNT}:policy/nope"),
                    ),
                ],
            )
            .await,
        404,
        "NoSuchEntity",
    );
    assert_error(
        &root.call("GetRole", &[("RoleName", "bad")]).await,
        404,
        "NoSuchEntity",
    );

    let got = root.ok("GetRole", &[("RoleName", "App")]).await;
    assert_eq!(got.tag("RoleName").unwrap(), "app");
    assert_eq!(got.tag("Path").unwrap(), "/svc/");
    assert!(got.body.contains("<RoleLastUsed>"));
    let missing = root.call("GetRole", &[("RoleName", "nope")]).await;
    assert_error(&missing, 404, "NoSuchEntity");
    assert_eq!(
        missing.tag("Message").unwrap(),
        "The role with name nope cannot be found."
    );

    // UpdateRole: description and session duration; no output.
    let updated = root
        .ok(
            "UpdateRole",
            &[
                ("RoleName", "app"),
                ("Description", "updated"),
                ("MaxSessionDuration", "43200"),
            ],
        )
        .await;
    assert!(
        updated
            .body
            .contains("<UpdateRoleResult></UpdateRoleResult>")
            || updated.tag("Role").is_none()
    );
    let got = root.ok("GetRole", &[("RoleName", "app")]).await;
    assert_eq!(got.tag("Description").unwrap(), "updated");
    assert_eq!(got.tag("MaxSessionDuration").unwrap(), "43200");
    assert_error(
        &root
            .call(
                "UpdateRole",
                &[("RoleName", "app"), ("MaxSessionDuration", "43201")],
            )
            .await,
        400,
        "ValidationError",
    );
    assert_error(
        &root
            .call("UpdateRole", &[("RoleName", "nope"), ("Description", "x")])
            .await,
        404,
        "NoSuchEntity",
    );

    // UpdateRoleDescription returns the role.
    let described = root
        .ok(
            "UpdateRoleDescription",
            &[("RoleName", "app"), ("Description", "third")],
        )
        .await;
    assert_eq!(described.tag("Description").unwrap(), "third");
    assert_eq!(described.tag("RoleName").unwrap(), "app");
    assert_error(
        &root
            .call(
                "UpdateRoleDescription",
                &[("RoleName", "nope"), ("Description", "x")],
            )
            .await,
        404,
        "NoSuchEntity",
    );

    // The trust policy.
    root.ok(
        "UpdateAssumeRolePolicy",
        &[("RoleName", "app"), ("PolicyDocument", TRUST_ACCOUNT)],
    )
    .await;
    let got = root.ok("GetRole", &[("RoleName", "app")]).await;
    assert_eq!(
        decode(&got.tag("AssumeRolePolicyDocument").unwrap()),
        TRUST_ACCOUNT
    );
    assert_error(
        &root
            .call(
                "UpdateAssumeRolePolicy",
                &[("RoleName", "app"), ("PolicyDocument", ALLOW_ALL)],
            )
            .await,
        400,
        "MalformedPolicyDocument",
    );
    assert_error(
        &root
            .call(
                "UpdateAssumeRolePolicy",
                &[("RoleName", "nope"), ("PolicyDocument", TRUST)],
            )
            .await,
        404,
        "NoSuchEntity",
    );

    // Inline policies.
    root.ok(
        "PutRolePolicy",
        &[
            ("RoleName", "app"),
            ("PolicyName", "s3"),
            ("PolicyDocument", GROUP_POLICY),
        ],
    )
    .await;
    let policy = root
        .ok(
            "GetRolePolicy",
            &[("RoleName", "app"), ("PolicyName", "s3")],
        )
        .await;
    assert_eq!(policy.tag("RoleName").unwrap(), "app");
    assert_eq!(decode(&policy.tag("PolicyDocument").unwrap()), GROUP_POLICY);
    assert_error(
        &root
            .call(
                "GetRolePolicy",
                &[("RoleName", "app"), ("PolicyName", "nope")],
            )
            .await,
        404,
        "NoSuchEntity",
    );
    assert_error(
        &root
            .call(
                "PutRolePolicy",
                &[
                    ("RoleName", "app"),
                    ("PolicyName", "bad"),
                    ("PolicyDocument", "[]"),
                ],
            )
            .await,
        400,
        "MalformedPolicyDocument",
    );
    assert_error(
        &root
            .call(
                "PutRolePolicy",
                &[
                    ("RoleName", "nope"),
                    ("PolicyName", "s3"),
                    ("PolicyDocument", GROUP_POLICY),
                ],
            )
            .await,
        404,
        "NoSuchEntity",
    );
    assert_eq!(
        root.ok("ListRolePolicies", &[("RoleName", "app")])
            .await
            .all("member"),
        vec!["s3"]
    );
    assert_error(
        &root.call("ListRolePolicies", &[("RoleName", "nope")]).await,
        404,
        "NoSuchEntity",
    );

    // No instance profiles in iamd: an empty list, for a role that exists.
    let profiles = root
        .ok("ListInstanceProfilesForRole", &[("RoleName", "app")])
        .await;
    assert!(profiles
        .body
        .contains("<InstanceProfiles></InstanceProfiles>"));
    assert_eq!(profiles.tag("IsTruncated").unwrap(), "false");
    assert_error(
        &root
            .call("ListInstanceProfilesForRole", &[("RoleName", "nope")])
            .await,
        404,
        "NoSuchEntity",
    );

    // A role with policies cannot be deleted.
    assert_error(
        &root.call("DeleteRole", &[("RoleName", "app")]).await,
        409,
        "DeleteConflict",
    );
    root.ok(
        "DeleteRolePolicy",
        &[("RoleName", "app"), ("PolicyName", "s3")],
    )
    .await;
    assert_error(
        &root
            .call(
                "DeleteRolePolicy",
                &[("RoleName", "app"), ("PolicyName", "s3")],
            )
            .await,
        404,
        "NoSuchEntity",
    );
    root.ok("DeleteRole", &[("RoleName", "app")]).await;
    assert_error(
        &root.call("DeleteRole", &[("RoleName", "app")]).await,
        404,
        "NoSuchEntity",
    );
    assert!(root.ok("ListRoles", &[]).await.all("RoleName").is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_policy_attachments_of_users_groups_and_roles() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let read = app.create_policy("ReadOnly", "/").await;
    let audit = app.create_policy("Audit", "/sec/").await;
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    root.ok("CreateGroup", &[("GroupName", "devs")]).await;
    root.ok(
        "CreateRole",
        &[("RoleName", "app"), ("AssumeRolePolicyDocument", TRUST)],
    )
    .await;

    for (kind, param, name) in [
        ("User", "UserName", "alice"),
        ("Group", "GroupName", "devs"),
        ("Role", "RoleName", "app"),
    ] {
        let attach = format!("Attach{kind}Policy");
        let detach = format!("Detach{kind}Policy");
        let list = format!("ListAttached{kind}Policies");
        root.ok(&attach, &[(param, name), ("PolicyArn", &read)])
            .await;
        root.ok(&attach, &[(param, name), ("PolicyArn", &audit)])
            .await;
        // Attaching again is accepted and changes nothing.
        root.ok(&attach, &[(param, name), ("PolicyArn", &read)])
            .await;

        let listed = root.ok(&list, &[(param, name)]).await;
        assert_eq!(
            listed.all("PolicyName"),
            vec!["Audit", "ReadOnly"],
            "{kind}"
        );
        assert_eq!(listed.all("PolicyArn"), vec![audit.clone(), read.clone()]);
        let (names, pages) = all_pages(&root, &list, &[(param, name)], "1", "PolicyName").await;
        assert_eq!(
            (names, pages),
            (vec!["Audit".to_owned(), "ReadOnly".into()], 2)
        );
        let sec = root
            .ok(&list, &[(param, name), ("PathPrefix", "/sec/")])
            .await;
        assert_eq!(sec.all("PolicyName"), vec!["Audit"]);

        // Failures: no such policy, no such entity, not a policy ARN.
        assert_error(
            &root
                .call(
                    &attach,
                    &[
                        (param, name),
                        ("PolicyArn", &format!("arn:aws:iam::{ACCOUNT}:policy/Nope")),
                    ],
                )
                .await,
            404,
            "NoSuchEntity",
        );
        let no_entity = root
            .call(&attach, &[(param, "nobody"), ("PolicyArn", &read)])
            .await;
        assert_error(&no_entity, 404, "NoSuchEntity");
        assert_eq!(
            no_entity.tag("Message").unwrap(),
            format!(
                "The {} with name nobody cannot be found.",
                kind.to_lowercase()
            )
        );
        let not_policy = root
            .call(
                &attach,
                &[
                    (param, name),
                    ("PolicyArn", &format!("arn:aws:iam::{ACCOUNT}:user/alice")),
                ],
            )
            .await;
        assert_eq!(not_policy.status, 400, "{}", not_policy.body);
        assert_error(
            &root
                .call(
                    &attach,
                    &[(param, name), ("PolicyArn", "garbage-that-is-not-an-arn")],
                )
                .await,
            400,
            not_policy.error_code().as_deref().unwrap(),
        );
        assert_error(
            &root.call(&list, &[(param, "nobody")]).await,
            404,
            "NoSuchEntity",
        );

        // An entity with attached policies cannot be deleted.
        let delete = format!("Delete{kind}");
        assert_error(
            &root.call(&delete, &[(param, name)]).await,
            409,
            "DeleteConflict",
        );

        root.ok(&detach, &[(param, name), ("PolicyArn", &audit)])
            .await;
        assert_error(
            &root
                .call(&detach, &[(param, name), ("PolicyArn", &audit)])
                .await,
            404,
            "NoSuchEntity",
        );
        assert_eq!(
            root.ok(&list, &[(param, name)]).await.all("PolicyName"),
            vec!["ReadOnly"]
        );
    }

    // At most 10 managed policies per role.
    let mut arns = Vec::new();
    for i in 0..10 {
        arns.push(app.create_policy(&format!("P{i}"), "/many/").await);
    }
    for arn in &arns[..9] {
        root.ok(
            "AttachRolePolicy",
            &[("RoleName", "app"), ("PolicyArn", arn)],
        )
        .await;
    }
    assert_error(
        &root
            .call(
                "AttachRolePolicy",
                &[("RoleName", "app"), ("PolicyArn", &arns[9])],
            )
            .await,
        409,
        "LimitExceeded",
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_boundaries_and_tags_of_users_and_roles() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let boundary = app.create_policy("Boundary", "/b/").await;
    let other = app.create_policy("Other", "/").await;
    let missing_policy = format!("arn:aws:iam::{ACCOUNT}:policy/Nope");
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    root.ok(
        "CreateRole",
        &[
            ("RoleName", "app"),
            ("AssumeRolePolicyDocument", TRUST),
            ("PermissionsBoundary", &boundary),
        ],
    )
    .await;
    let role = root.ok("GetRole", &[("RoleName", "app")]).await;
    assert_eq!(role.tag("PermissionsBoundaryArn").unwrap(), boundary);
    assert_eq!(
        role.tag("PermissionsBoundaryType").unwrap(),
        "PermissionsBoundaryPolicy"
    );

    for (kind, param, name, get) in [
        ("User", "UserName", "alice", "GetUser"),
        ("Role", "RoleName", "app", "GetRole"),
    ] {
        let put = format!("Put{kind}PermissionsBoundary");
        let delete = format!("Delete{kind}PermissionsBoundary");
        root.ok(&put, &[(param, name), ("PermissionsBoundary", &other)])
            .await;
        assert_eq!(
            root.ok(get, &[(param, name)])
                .await
                .tag("PermissionsBoundaryArn")
                .unwrap(),
            other
        );
        root.ok(&put, &[(param, name), ("PermissionsBoundary", &boundary)])
            .await;
        assert_eq!(
            root.ok(get, &[(param, name)])
                .await
                .tag("PermissionsBoundaryArn")
                .unwrap(),
            boundary
        );
        assert_error(
            &root
                .call(
                    &put,
                    &[(param, name), ("PermissionsBoundary", &missing_policy)],
                )
                .await,
            404,
            "NoSuchEntity",
        );
        assert_error(
            &root
                .call(
                    &put,
                    &[(param, "nobody"), ("PermissionsBoundary", &boundary)],
                )
                .await,
            404,
            "NoSuchEntity",
        );
        assert_error(
            &root.call(&put, &[(param, name)]).await,
            400,
            "ValidationError",
        );
        root.ok(&delete, &[(param, name)]).await;
        assert!(root
            .ok(get, &[(param, name)])
            .await
            .tag("PermissionsBoundaryArn")
            .is_none());
        assert_error(
            &root.call(&delete, &[(param, name)]).await,
            404,
            "NoSuchEntity",
        );
        assert_error(
            &root.call(&delete, &[(param, "nobody")]).await,
            404,
            "NoSuchEntity",
        );

        // Tags.
        let tag = format!("Tag{kind}");
        let untag = format!("Untag{kind}");
        let list = format!("List{kind}Tags");
        root.ok(
            &tag,
            &[
                (param, name),
                ("Tags.member.1.Key", "team"),
                ("Tags.member.1.Value", "platform"),
                ("Tags.member.2.Key", "env"),
                ("Tags.member.2.Value", "prod"),
                ("Tags.member.3.Key", "cost"),
                ("Tags.member.3.Value", ""),
            ],
        )
        .await;
        let tags = root.ok(&list, &[(param, name)]).await;
        assert_eq!(tags.all("Key"), vec!["cost", "env", "team"]);
        assert_eq!(tags.all("Value"), vec!["", "prod", "platform"]);
        let (keys, pages) = all_pages(&root, &list, &[(param, name)], "2", "Key").await;
        assert_eq!((keys.len(), pages), (3, 2));
        // Tagging an existing key (in any case) replaces its value.
        root.ok(
            &tag,
            &[
                (param, name),
                ("Tags.member.1.Key", "ENV"),
                ("Tags.member.1.Value", "dev"),
            ],
        )
        .await;
        let tags = root.ok(&list, &[(param, name)]).await;
        assert_eq!(tags.all("Value"), vec!["", "dev", "platform"]);
        assert!(root
            .ok(get, &[(param, name)])
            .await
            .body
            .contains("<Value>platform</Value>"));

        root.ok(
            &untag,
            &[
                (param, name),
                ("TagKeys.member.1", "cost"),
                ("TagKeys.member.2", "absent"),
            ],
        )
        .await;
        assert_eq!(root.ok(&list, &[(param, name)]).await.all("Key").len(), 2);
        assert_error(
            &root
                .call(
                    &tag,
                    &[
                        (param, name),
                        ("Tags.member.1.Key", "aws:x"),
                        ("Tags.member.1.Value", "v"),
                    ],
                )
                .await,
            400,
            "InvalidInput",
        );
        assert_error(
            &root
                .call(
                    &tag,
                    &[
                        (param, name),
                        ("Tags.member.1.Key", "dup"),
                        ("Tags.member.1.Value", "a"),
                        ("Tags.member.2.Key", "DUP"),
                        ("Tags.member.2.Value", "b"),
                    ],
                )
                .await,
            400,
            "InvalidInput",
        );
        assert_error(
            &root.call(&tag, &[(param, name)]).await,
            400,
            "ValidationError",
        );
        assert_error(
            &root.call(&untag, &[(param, name)]).await,
            400,
            "ValidationError",
        );
        assert_error(
            &root
                .call(
                    &tag,
                    &[
                        (param, "nobody"),
                        ("Tags.member.1.Key", "k"),
                        ("Tags.member.1.Value", "v"),
                    ],
                )
                .await,
            404,
            "NoSuchEntity",
        );
        assert_error(
            &root
                .call(&untag, &[(param, "nobody"), ("TagKeys.member.1", "k")])
                .await,
            404,
            "NoSuchEntity",
        );
        assert_error(
            &root.call(&list, &[(param, "nobody")]).await,
            404,
            "NoSuchEntity",
        );

        // At most 50 tags per entity.
        let pairs: Vec<(String, String)> = (0..49)
            .flat_map(|i| {
                [
                    (format!("Tags.member.{}.Key", i + 1), format!("k{i}")),
                    (format!("Tags.member.{}.Value", i + 1), "v".to_owned()),
                ]
            })
            .collect();
        let mut params: Vec<(&str, &str)> = vec![(param, name)];
        params.extend(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        assert_error(&root.call(&tag, &params).await, 409, "LimitExceeded");
        params.truncate(1 + 2 * 48);
        root.ok(&tag, &params).await;
        assert_eq!(root.ok(&list, &[(param, name)]).await.all("Key").len(), 50);
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_is_allowed_and_denied_group_and_role_actions_by_policy() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "bob")]).await;
    root.ok(
        "CreateGroup",
        &[("GroupName", "eng-devs"), ("Path", "/eng/")],
    )
    .await;
    root.ok("CreateGroup", &[("GroupName", "finance")]).await;
    root.ok(
        "CreateRole",
        &[("RoleName", "app-web"), ("AssumeRolePolicyDocument", TRUST)],
    )
    .await;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
  {{"Effect":"Allow","Action":["iam:GetGroup","iam:AddUserToGroup","iam:UpdateGroup"],"Resource":"arn:aws:iam::{ACCOUNT}:group/eng/*"}},
  {{"Effect":"Allow","Action":["iam:GetRole","iam:TagRole"],"Resource":"arn:aws:iam::{ACCOUNT}:role/app-*"}},
  {{"Effect":"Deny","Action":"iam:TagRole","Resource":"*","Condition":{{"StringEquals":{{"aws:username":"bob"}}}}}}]}}"#
    );
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", "bob"),
            ("PolicyName", "scoped"),
            ("PolicyDocument", &policy),
        ],
    )
    .await;
    let key = root.ok("CreateAccessKey", &[("UserName", "bob")]).await;
    let bob = root.with_key(
        &key.tag("AccessKeyId").unwrap(),
        &key.tag("SecretAccessKey").unwrap(),
    );

    // Allowed on the group under /eng/ and the role named app-*.
    assert_eq!(
        bob.ok("GetGroup", &[("GroupName", "eng-devs")])
            .await
            .tag("Path")
            .unwrap(),
        "/eng/"
    );
    bob.ok(
        "AddUserToGroup",
        &[("GroupName", "eng-devs"), ("UserName", "bob")],
    )
    .await;
    bob.ok("GetRole", &[("RoleName", "app-web")]).await;

    // Denied elsewhere: the message names the caller, action and resource;
    // nothing is written.
    let before = head(&db).await;
    let denied = bob.call("GetGroup", &[("GroupName", "finance")]).await;
    assert_error(&denied, 403, "AccessDenied");
    assert_eq!(
        denied.plain_message().unwrap(),
        format!(
            "User: arn:aws:iam::{ACCOUNT}:user/bob is not authorized to perform: iam:GetGroup on resource: \
             arn:aws:iam::{ACCOUNT}:group/finance because no identity-based policy allows the iam:GetGroup action"
        )
    );
    assert_error(
        &bob.call(
            "AddUserToGroup",
            &[("GroupName", "finance"), ("UserName", "bob")],
        )
        .await,
        403,
        "AccessDenied",
    );
    let create = bob
        .call("CreateGroup", &[("GroupName", "x"), ("Path", "/other/")])
        .await;
    assert_error(&create, 403, "AccessDenied");
    assert!(create.tag("Message").unwrap().contains(&format!(
        "on resource: arn:aws:iam::{ACCOUNT}:group/other/x"
    )));
    let list = bob.call("ListGroups", &[]).await;
    assert_error(&list, 403, "AccessDenied");
    assert!(list
        .tag("Message")
        .unwrap()
        .contains(&format!("on resource: arn:aws:iam::{ACCOUNT}:group/ ")));
    assert_error(
        &bob.call("DeleteRole", &[("RoleName", "app-web")]).await,
        403,
        "AccessDenied",
    );
    // An explicit deny wins over the allow.
    let tag = bob
        .call(
            "TagRole",
            &[
                ("RoleName", "app-web"),
                ("Tags.member.1.Key", "k"),
                ("Tags.member.1.Value", "v"),
            ],
        )
        .await;
    assert_error(&tag, 403, "AccessDenied");
    assert!(
        tag.tag("Message").unwrap().contains("explicit deny"),
        "{}",
        tag.body
    );
    // Renaming into a path the caller may not manage is denied too.
    assert_error(
        &bob.call(
            "UpdateGroup",
            &[("GroupName", "eng-devs"), ("NewPath", "/other/")],
        )
        .await,
        403,
        "AccessDenied",
    );
    // Access is checked before existence, as in AWS.
    assert_error(
        &bob.call("GetRole", &[("RoleName", "missing")]).await,
        403,
        "AccessDenied",
    );
    assert_error(
        &bob.call("GetRole", &[("RoleName", "app-missing")]).await,
        404,
        "NoSuchEntity",
    );
    assert_eq!(
        changes_since(&db, before).await,
        Vec::<String>::new(),
        "denied calls write nothing"
    );
    // Renaming within the path the caller manages is allowed.
    bob.ok(
        "UpdateGroup",
        &[("GroupName", "eng-devs"), ("NewGroupName", "eng-team")],
    )
    .await;
    assert_eq!(
        bob.ok("GetGroup", &[("GroupName", "eng-team")])
            .await
            .all("UserName"),
        vec!["bob"]
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_policies_managed_policies_and_boundaries_govern_a_user() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "bob")]).await;
    root.ok("CreateGroup", &[("GroupName", "readers")]).await;
    root.ok(
        "CreateRole",
        &[("RoleName", "app"), ("AssumeRolePolicyDocument", TRUST)],
    )
    .await;
    let key = root.ok("CreateAccessKey", &[("UserName", "bob")]).await;
    let bob = root.with_key(
        &key.tag("AccessKeyId").unwrap(),
        &key.tag("SecretAccessKey").unwrap(),
    );
    assert_error(&bob.call("ListRoles", &[]).await, 403, "AccessDenied");

    // A group's inline policy applies to its members, and only while they are.
    let list_roles = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["iam:ListRoles","iam:GetRole"],"Resource":"arn:aws:iam::{ACCOUNT}:role/*"}}]}}"#
    );
    root.ok(
        "PutGroupPolicy",
        &[
            ("GroupName", "readers"),
            ("PolicyName", "roles"),
            ("PolicyDocument", &list_roles),
        ],
    )
    .await;
    assert_error(&bob.call("ListRoles", &[]).await, 403, "AccessDenied");
    root.ok(
        "AddUserToGroup",
        &[("GroupName", "readers"), ("UserName", "bob")],
    )
    .await;
    assert_eq!(bob.ok("ListRoles", &[]).await.all("RoleName"), vec!["app"]);
    root.ok(
        "RemoveUserFromGroup",
        &[("GroupName", "readers"), ("UserName", "bob")],
    )
    .await;
    assert_error(&bob.call("ListRoles", &[]).await, 403, "AccessDenied");

    // So does a managed policy attached to the group, or to the user.
    let admin = app.create_policy("Admin", "/").await;
    root.ok(
        "AttachGroupPolicy",
        &[("GroupName", "readers"), ("PolicyArn", &admin)],
    )
    .await;
    root.ok(
        "AddUserToGroup",
        &[("GroupName", "readers"), ("UserName", "bob")],
    )
    .await;
    bob.ok("ListGroups", &[]).await;
    root.ok(
        "DetachGroupPolicy",
        &[("GroupName", "readers"), ("PolicyArn", &admin)],
    )
    .await;
    assert_error(&bob.call("ListGroups", &[]).await, 403, "AccessDenied");
    root.ok(
        "AttachUserPolicy",
        &[("UserName", "bob"), ("PolicyArn", &admin)],
    )
    .await;
    bob.ok("ListGroups", &[]).await;

    // A permissions boundary caps it: the boundary allows only iam:Get*.
    let boundary = {
        let arn = format!("arn:aws:iam::{ACCOUNT}:policy/GetOnly");
        let command = Command::CreatePolicy {
            policy_name: PolicyName::parse("GetOnly").unwrap(),
            path: None,
            policy_id: PolicyId::parse(&unique_id("ANPA")).unwrap(),
            policy_document:
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:Get*","Resource":"*"}]}"#
                    .into(),
            description: None,
            tags: vec![],
            now: Utc::now(),
        };
        app.execute(command).await;
        arn
    };
    root.ok(
        "PutUserPermissionsBoundary",
        &[("UserName", "bob"), ("PermissionsBoundary", &boundary)],
    )
    .await;
    assert_error(&bob.call("ListGroups", &[]).await, 403, "AccessDenied");
    bob.ok("GetRole", &[("RoleName", "app")]).await;
    assert_error(
        &bob.call("DeleteUserPermissionsBoundary", &[("UserName", "bob")])
            .await,
        403,
        "AccessDenied",
    );
    root.ok("DeleteUserPermissionsBoundary", &[("UserName", "bob")])
        .await;
    bob.ok("ListGroups", &[]).await;
    app.stop().await;
}
