//! Customer managed policies and the account-wide reads end to end: `iamd`
//! on a free port against a fresh PostgreSQL database, driven over real HTTP
//! with requests signed by our SigV4 signer. The harness is a copy of the one
//! in `server.rs`. Groups, roles and attachments are set up through the
//! domain directly (a second projection on the same database), so these
//! tests need only the operations they test; requests after such a write
//! name its log position, so the server has caught up when it answers.

use chrono::Utc;
use iam_api::app::{MIN_POSITION_HEADER, POSITION_HEADER};
use iam_event_store::testing::TestDatabase;

mod support;
use support::*;

/// The domain, driven directly: a second projection on the server's database.
struct Domain {
    projection: std::sync::Arc<iam_projection::Projection>,
    account: iam_domain::ids::AccountId,
}

impl Domain {
    async fn open(url: &str) -> Domain {
        let store = iam_event_store::open(url).await.unwrap();
        let projection =
            iam_projection::Projection::new(store, iam_projection::ProjectionConfig::default());
        projection.catch_up().await.unwrap();
        Domain {
            projection,
            account: iam_domain::ids::AccountId::parse(ACCOUNT).unwrap(),
        }
    }

    /// Executes `command`; returns the log position to name in the next request.
    async fn run(&self, command: iam_domain::Command) -> String {
        let metadata = iam_domain::metadata::EventMetadata {
            actor: iam_domain::metadata::Actor {
                principal_arn: "test:setup".into(),
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
        self.projection
            .execute(&self.account, &command, &metadata)
            .await
            .unwrap()
            .position
            .0
            .to_string()
    }
}

fn arn(rest: &str) -> iam_domain::Arn {
    iam_domain::Arn::parse(&format!("arn:aws:iam::{ACCOUNT}:{rest}")).unwrap()
}

fn expect_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(
        (reply.status, reply.error_code().as_deref()),
        (status, Some(code)),
        "{}",
        reply.body
    );
    assert!(
        reply
            .body
            .starts_with("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"),
        "{}",
        reply.body
    );
}

/// Follows `Marker` until the listing ends; returns every page.
async fn all_pages(client: &Client, action: &str, params: &[(&str, &str)]) -> Vec<Reply> {
    let mut pages = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut p = params.to_vec();
        if let Some(m) = &marker {
            p.push(("Marker", m.as_str()));
        }
        let page = client.ok(action, &p).await;
        let next = match page.tag("IsTruncated").as_deref() {
            Some("true") => Some(page.tag("Marker").expect("a truncated page has a marker")),
            Some("false") => None,
            other => panic!("IsTruncated {other:?}: {}", page.body),
        };
        pages.push(page);
        match next {
            Some(m) => marker = Some(m),
            None => break,
        }
        assert!(pages.len() < 50, "paging does not end");
    }
    pages
}

fn doc(action: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"*"}}]}}"#
    )
}

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_policy_lifecycle_versions_and_their_errors() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let policy_arn = format!("arn:aws:iam::{ACCOUNT}:policy/team/Readers");
    // Characters that need URL-encoding, and white space kept as submitted.
    let v1 = r#"{"Version": "2012-10-17",
  "Statement": [{"Sid": "Read&List", "Effect": "Allow", "Action": ["s3:Get*", "s3:List*"],
                 "Resource": "arn:aws:s3:::bucket/a b+c/*"}]}"#;

    let created = root
        .ok(
            "CreatePolicy",
            &[
                ("PolicyName", "Readers"),
                ("Path", "/team/"),
                ("PolicyDocument", v1),
                ("Description", "Read <things> & list them"),
                ("Tags.member.1.Key", "owner"),
                ("Tags.member.1.Value", "platform"),
            ],
        )
        .await;
    assert_eq!(created.tag("Arn").unwrap(), policy_arn);
    assert_eq!(created.tag("PolicyName").unwrap(), "Readers");
    assert!(created.tag("PolicyId").unwrap().starts_with("ANPA"));
    assert_eq!(created.tag("Path").unwrap(), "/team/");
    assert_eq!(created.tag("DefaultVersionId").unwrap(), "v1");
    assert_eq!(created.tag("AttachmentCount").unwrap(), "0");
    assert_eq!(created.tag("PermissionsBoundaryUsageCount").unwrap(), "0");
    assert_eq!(created.tag("IsAttachable").unwrap(), "true");
    assert_eq!(
        created.tag("Description").unwrap(),
        "Read &lt;things&gt; &amp; list them"
    );
    assert_eq!(created.tag("Value").unwrap(), "platform");
    let position: u64 = created.header(POSITION_HEADER).unwrap().parse().unwrap();
    assert!(position > 0);

    // Names are unique case-insensitively, whatever the path.
    let again = root
        .call(
            "CreatePolicy",
            &[("PolicyName", "READERS"), ("PolicyDocument", v1)],
        )
        .await;
    expect_error(&again, 409, "EntityAlreadyExists");
    let malformed = root
        .call(
            "CreatePolicy",
            &[
                ("PolicyName", "Broken"),
                ("PolicyDocument", "{\"Statement\":"),
            ],
        )
        .await;
    expect_error(&malformed, 400, "MalformedPolicyDocument");
    let no_document = root.call("CreatePolicy", &[("PolicyName", "Empty")]).await;
    expect_error(&no_document, 400, "ValidationError");
    let bad_name = root
        .call(
            "CreatePolicy",
            &[("PolicyName", "no spaces"), ("PolicyDocument", v1)],
        )
        .await;
    expect_error(&bad_name, 400, "ValidationError");

    let got = root.ok("GetPolicy", &[("PolicyArn", &policy_arn)]).await;
    assert_eq!(got.tag("PolicyId"), created.tag("PolicyId"));
    assert_eq!(got.tag("Description"), created.tag("Description"));
    assert_eq!(got.tag("Key").unwrap(), "owner");
    let missing = root
        .call(
            "GetPolicy",
            &[(
                "PolicyArn",
                &format!("arn:aws:iam::{ACCOUNT}:policy/Nobody"),
            )],
        )
        .await;
    expect_error(&missing, 404, "NoSuchEntity");
    // The right name at the wrong path is not the policy.
    let wrong_path = root
        .call(
            "GetPolicy",
            &[(
                "PolicyArn",
                &format!("arn:aws:iam::{ACCOUNT}:policy/Readers"),
            )],
        )
        .await;
    expect_error(&wrong_path, 404, "NoSuchEntity");
    let not_a_policy = root
        .call(
            "GetPolicy",
            &[("PolicyArn", &format!("arn:aws:iam::{ACCOUNT}:user/alice"))],
        )
        .await;
    expect_error(&not_a_policy, 400, "InvalidInput");
    let garbage = root
        .call("GetPolicy", &[("PolicyArn", "nonsense-that-is-not-an-arn")])
        .await;
    expect_error(&garbage, 400, "InvalidInput");
    // Shorter than any ARN: the model's length constraint refuses it first,
    // as AWS does.
    let short = root.call("GetPolicy", &[("PolicyArn", "nonsense")]).await;
    expect_error(&short, 400, "ValidationError");
    assert!(
        short
            .body
            .contains("Member must have length greater than or equal to 20"),
        "{}",
        short.body
    );

    // The document comes back URL-encoded and decodes to the original.
    let version = root
        .ok(
            "GetPolicyVersion",
            &[("PolicyArn", &policy_arn), ("VersionId", "v1")],
        )
        .await;
    let encoded = version.tag("Document").unwrap();
    assert!(encoded.starts_with("%7B%22Version%22"), "{encoded}");
    assert!(
        !encoded.contains(' ') && !encoded.contains('&'),
        "{encoded}"
    );
    assert_eq!(decode(&encoded), v1);
    assert_eq!(version.tag("VersionId").unwrap(), "v1");
    assert_eq!(version.tag("IsDefaultVersion").unwrap(), "true");
    let no_version = root
        .call(
            "GetPolicyVersion",
            &[("PolicyArn", &policy_arn), ("VersionId", "v7")],
        )
        .await;
    expect_error(&no_version, 404, "NoSuchEntity");
    let bad_version = root
        .call(
            "GetPolicyVersion",
            &[("PolicyArn", &policy_arn), ("VersionId", "7")],
        )
        .await;
    expect_error(&bad_version, 400, "ValidationError");

    // Versions v2..v5; v3 becomes the default when created.
    for n in 2..=5 {
        let set = if n == 3 { "true" } else { "false" };
        let made = root
            .ok(
                "CreatePolicyVersion",
                &[
                    ("PolicyArn", &policy_arn),
                    ("PolicyDocument", &doc(&format!("s3:Action{n}"))),
                    ("SetAsDefault", set),
                ],
            )
            .await;
        assert_eq!(made.tag("VersionId").unwrap(), format!("v{n}"));
        assert_eq!(made.tag("IsDefaultVersion").unwrap(), set);
        assert!(made.tag("Document").is_none(), "{}", made.body);
    }
    // The sixth stored version exceeds the quota of five.
    let sixth = root
        .call(
            "CreatePolicyVersion",
            &[
                ("PolicyArn", &policy_arn),
                ("PolicyDocument", &doc("s3:Six")),
            ],
        )
        .await;
    expect_error(&sixth, 409, "LimitExceeded");
    let on_missing = root
        .call(
            "CreatePolicyVersion",
            &[
                (
                    "PolicyArn",
                    &format!("arn:aws:iam::{ACCOUNT}:policy/Nobody"),
                ),
                ("PolicyDocument", &doc("s3:X")),
            ],
        )
        .await;
    expect_error(&on_missing, 404, "NoSuchEntity");
    assert_eq!(
        root.ok("GetPolicy", &[("PolicyArn", &policy_arn)])
            .await
            .tag("DefaultVersionId")
            .unwrap(),
        "v3"
    );

    // ListPolicyVersions pages, newest first.
    let pages = all_pages(
        &root,
        "ListPolicyVersions",
        &[("PolicyArn", &policy_arn), ("MaxItems", "2")],
    )
    .await;
    assert_eq!(pages.len(), 3);
    let listed: Vec<String> = pages.iter().flat_map(|p| p.all("VersionId")).collect();
    assert_eq!(listed, vec!["v5", "v4", "v3", "v2", "v1"]);
    let defaults: Vec<String> = pages
        .iter()
        .flat_map(|p| p.all("IsDefaultVersion"))
        .collect();
    assert_eq!(defaults, vec!["false", "false", "true", "false", "false"]);
    assert!(pages.iter().all(|p| p.tag("Document").is_none()));
    let list_missing = root
        .call(
            "ListPolicyVersions",
            &[(
                "PolicyArn",
                &format!("arn:aws:iam::{ACCOUNT}:policy/Nobody"),
            )],
        )
        .await;
    expect_error(&list_missing, 404, "NoSuchEntity");

    root.ok(
        "SetDefaultPolicyVersion",
        &[("PolicyArn", &policy_arn), ("VersionId", "v5")],
    )
    .await;
    // Setting the default again changes nothing and succeeds.
    root.ok(
        "SetDefaultPolicyVersion",
        &[("PolicyArn", &policy_arn), ("VersionId", "v5")],
    )
    .await;
    let set_missing = root
        .call(
            "SetDefaultPolicyVersion",
            &[("PolicyArn", &policy_arn), ("VersionId", "v9")],
        )
        .await;
    expect_error(&set_missing, 404, "NoSuchEntity");
    let v5 = root
        .ok(
            "GetPolicyVersion",
            &[("PolicyArn", &policy_arn), ("VersionId", "v5")],
        )
        .await;
    assert_eq!(v5.tag("IsDefaultVersion").unwrap(), "true");
    assert_eq!(decode(&v5.tag("Document").unwrap()), doc("s3:Action5"));

    // The default version cannot be deleted, nor a policy with other versions.
    let default_delete = root
        .call(
            "DeletePolicyVersion",
            &[("PolicyArn", &policy_arn), ("VersionId", "v5")],
        )
        .await;
    expect_error(&default_delete, 409, "DeleteConflict");
    let early_delete = root
        .call("DeletePolicy", &[("PolicyArn", &policy_arn)])
        .await;
    expect_error(&early_delete, 409, "DeleteConflict");
    let no_such_version = root
        .call(
            "DeletePolicyVersion",
            &[("PolicyArn", &policy_arn), ("VersionId", "v9")],
        )
        .await;
    expect_error(&no_such_version, 404, "NoSuchEntity");
    for v in ["v1", "v2", "v3", "v4"] {
        root.ok(
            "DeletePolicyVersion",
            &[("PolicyArn", &policy_arn), ("VersionId", v)],
        )
        .await;
    }
    // Numbers are never reused: the next version is v6.
    let v6 = root
        .ok(
            "CreatePolicyVersion",
            &[
                ("PolicyArn", &policy_arn),
                ("PolicyDocument", &doc("s3:Six")),
            ],
        )
        .await;
    assert_eq!(v6.tag("VersionId").unwrap(), "v6");
    root.ok(
        "DeletePolicyVersion",
        &[("PolicyArn", &policy_arn), ("VersionId", "v6")],
    )
    .await;
    assert_eq!(
        root.ok("ListPolicyVersions", &[("PolicyArn", &policy_arn)])
            .await
            .all("VersionId"),
        vec!["v5"]
    );

    root.ok("DeletePolicy", &[("PolicyArn", &policy_arn)]).await;
    expect_error(
        &root.call("GetPolicy", &[("PolicyArn", &policy_arn)]).await,
        404,
        "NoSuchEntity",
    );
    expect_error(
        &root
            .call("DeletePolicy", &[("PolicyArn", &policy_arn)])
            .await,
        404,
        "NoSuchEntity",
    );
    // The name is free again.
    root.ok(
        "CreatePolicy",
        &[("PolicyName", "readers"), ("PolicyDocument", v1)],
    )
    .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_policies_pages_filters_and_tags() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let domain = Domain::open(db.url()).await;
    for (name, path) in [
        ("Alpha", "/"),
        ("Bravo", "/team/"),
        ("Charlie", "/"),
        ("Delta", "/team/sub/"),
        ("Echo", "/"),
    ] {
        root.ok(
            "CreatePolicy",
            &[
                ("PolicyName", name),
                ("Path", path),
                ("PolicyDocument", &doc("s3:GetObject")),
            ],
        )
        .await;
    }

    let pages = all_pages(
        &root,
        "ListPolicies",
        &[("MaxItems", "2"), ("Scope", "Local")],
    )
    .await;
    assert_eq!(pages.len(), 3);
    let names: Vec<String> = pages.iter().flat_map(|p| p.all("PolicyName")).collect();
    assert_eq!(names, vec!["Alpha", "Bravo", "Charlie", "Delta", "Echo"]);
    // Listings leave out descriptions and tags, as AWS's do.
    assert!(pages.iter().all(|p| p.tag("Tags").is_none()));
    let arns = pages[0].all("Arn");
    assert_eq!(
        arns,
        vec![
            format!("arn:aws:iam::{ACCOUNT}:policy/Alpha"),
            format!("arn:aws:iam::{ACCOUNT}:policy/team/Bravo"),
        ]
    );
    let team = root.ok("ListPolicies", &[("PathPrefix", "/team/")]).await;
    assert_eq!(team.all("PolicyName"), vec!["Bravo", "Delta"]);
    let local = root.ok("ListPolicies", &[("Scope", "Local")]).await;
    assert_eq!(local.all("PolicyName").len(), 5);
    // `Scope=AWS`: the catalogue of AWS managed policies, none of the
    // account's own.
    let aws = root.ok("ListPolicies", &[("Scope", "AWS")]).await;
    assert!(!aws.all("Arn").is_empty());
    assert!(aws
        .all("Arn")
        .iter()
        .all(|a| a.starts_with("arn:aws:iam::aws:policy/")));
    assert_eq!(aws.tag("IsTruncated").unwrap(), "false");
    expect_error(
        &root.call("ListPolicies", &[("Scope", "Mine")]).await,
        400,
        "ValidationError",
    );
    expect_error(
        &root.call("ListPolicies", &[("MaxItems", "0")]).await,
        400,
        "ValidationError",
    );
    expect_error(
        &root.call("ListPolicies", &[("OnlyAttached", "yes")]).await,
        400,
        "ValidationError",
    );

    // OnlyAttached: Charlie attached to a user, Echo a user's boundary.
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    domain
        .run(iam_domain::Command::AttachUserPolicy {
            user_name: iam_domain::names::UserName::parse("alice").unwrap(),
            policy_arn: arn("policy/Charlie"),
        })
        .await;
    let at = domain
        .run(iam_domain::Command::PutUserPermissionsBoundary {
            user_name: iam_domain::names::UserName::parse("alice").unwrap(),
            permissions_boundary: arn("policy/Echo"),
        })
        .await;
    let wait = [(MIN_POSITION_HEADER, at.as_str())];
    let attached = root
        .call_with("ListPolicies", &[("OnlyAttached", "true")], &wait)
        .await;
    assert_eq!(attached.status, 200, "{}", attached.body);
    assert_eq!(attached.all("PolicyName"), vec!["Charlie", "Echo"]);
    assert_eq!(attached.all("AttachmentCount"), vec!["1", "0"]);
    assert_eq!(
        attached.all("PermissionsBoundaryUsageCount"),
        vec!["0", "1"]
    );
    let permissions = root
        .ok(
            "ListPolicies",
            &[
                ("OnlyAttached", "true"),
                ("PolicyUsageFilter", "PermissionsPolicy"),
            ],
        )
        .await;
    assert_eq!(permissions.all("PolicyName"), vec!["Charlie"]);
    let boundaries = root
        .ok(
            "ListPolicies",
            &[
                ("OnlyAttached", "true"),
                ("PolicyUsageFilter", "PermissionsBoundary"),
            ],
        )
        .await;
    assert_eq!(boundaries.all("PolicyName"), vec!["Echo"]);

    // Tags: add, overwrite, list with paging, remove.
    let alpha = format!("arn:aws:iam::{ACCOUNT}:policy/Alpha");
    root.ok(
        "TagPolicy",
        &[
            ("PolicyArn", &alpha),
            ("Tags.member.1.Key", "env"),
            ("Tags.member.1.Value", "prod"),
            ("Tags.member.2.Key", "cost-center"),
            ("Tags.member.2.Value", "42"),
            ("Tags.member.3.Key", "team"),
            ("Tags.member.3.Value", "infra"),
        ],
    )
    .await;
    root.ok(
        "TagPolicy",
        &[
            ("PolicyArn", &alpha),
            ("Tags.member.1.Key", "env"),
            ("Tags.member.1.Value", "staging"),
        ],
    )
    .await;
    let tag_pages = all_pages(
        &root,
        "ListPolicyTags",
        &[("PolicyArn", &alpha), ("MaxItems", "2")],
    )
    .await;
    assert_eq!(tag_pages.len(), 2);
    let keys: Vec<String> = tag_pages.iter().flat_map(|p| p.all("Key")).collect();
    let values: Vec<String> = tag_pages.iter().flat_map(|p| p.all("Value")).collect();
    assert_eq!(keys, vec!["cost-center", "env", "team"]);
    assert_eq!(values, vec!["42", "staging", "infra"]);
    assert_eq!(
        root.ok("GetPolicy", &[("PolicyArn", &alpha)])
            .await
            .all("Key"),
        vec!["cost-center", "env", "team"]
    );
    root.ok(
        "UntagPolicy",
        &[
            ("PolicyArn", &alpha),
            ("TagKeys.member.1", "ENV"),
            ("TagKeys.member.2", "absent"),
        ],
    )
    .await;
    assert_eq!(
        root.ok("ListPolicyTags", &[("PolicyArn", &alpha)])
            .await
            .all("Key"),
        vec!["cost-center", "team"]
    );
    let nobody = format!("arn:aws:iam::{ACCOUNT}:policy/Nobody");
    for (action, params) in [
        (
            "TagPolicy",
            vec![
                ("PolicyArn", nobody.as_str()),
                ("Tags.member.1.Key", "a"),
                ("Tags.member.1.Value", "b"),
            ],
        ),
        (
            "UntagPolicy",
            vec![("PolicyArn", nobody.as_str()), ("TagKeys.member.1", "a")],
        ),
        ("ListPolicyTags", vec![("PolicyArn", nobody.as_str())]),
    ] {
        expect_error(&root.call(action, &params).await, 404, "NoSuchEntity");
    }
    expect_error(
        &root.call("TagPolicy", &[("PolicyArn", &alpha)]).await,
        400,
        "ValidationError",
    );
    expect_error(
        &root.call("UntagPolicy", &[("PolicyArn", &alpha)]).await,
        400,
        "ValidationError",
    );
    let reserved = root
        .call(
            "TagPolicy",
            &[
                ("PolicyArn", &alpha),
                ("Tags.member.1.Key", "aws:owner"),
                ("Tags.member.1.Value", "x"),
            ],
        )
        .await;
    expect_error(&reserved, 400, "InvalidInput");
    // More than 50 tags on one policy exceed the quota.
    let many: Vec<(String, String)> = (0..49)
        .flat_map(|i| {
            [
                (format!("Tags.member.{}.Key", i + 1), format!("k{i}")),
                (format!("Tags.member.{}.Value", i + 1), "v".to_owned()),
            ]
        })
        .collect();
    let mut params: Vec<(&str, &str)> = vec![("PolicyArn", &alpha)];
    params.extend(many.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    expect_error(&root.call("TagPolicy", &params).await, 409, "LimitExceeded");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entities_for_policy_and_deleting_a_policy_in_use() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let domain = Domain::open(db.url()).await;
    let shared = format!("arn:aws:iam::{ACCOUNT}:policy/Shared");
    root.ok(
        "CreatePolicy",
        &[("PolicyName", "Shared"), ("PolicyDocument", &doc("s3:*"))],
    )
    .await;
    for (name, path) in [("alice", "/eng/"), ("bob", "/"), ("carol", "/eng/")] {
        root.ok("CreateUser", &[("UserName", name), ("Path", path)])
            .await;
    }
    use iam_domain::names::{GroupName, RoleName, UserName};
    use iam_domain::Command;
    domain
        .run(Command::CreateGroup {
            group_name: GroupName::parse("admins").unwrap(),
            path: None,
            group_id: iam_domain::ids::GroupId::parse("AGPATESTGROUP00001").unwrap(),
            now: Utc::now(),
        })
        .await;
    domain
        .run(Command::CreateRole {
            role_name: RoleName::parse("builder").unwrap(),
            path: Some(iam_domain::names::IamPath::parse("/eng/").unwrap()),
            role_id: iam_domain::ids::RoleId::parse("AROATESTROLE000001").unwrap(),
            assume_role_policy_document: TRUST.into(),
            description: None,
            max_session_duration: None,
            permissions_boundary: None,
            tags: vec![],
            now: Utc::now(),
        })
        .await;
    for user in ["alice", "bob"] {
        domain
            .run(Command::AttachUserPolicy {
                user_name: UserName::parse(user).unwrap(),
                policy_arn: arn("policy/Shared"),
            })
            .await;
    }
    domain
        .run(Command::AttachGroupPolicy {
            group_name: GroupName::parse("admins").unwrap(),
            policy_arn: arn("policy/Shared"),
        })
        .await;
    domain
        .run(Command::AttachRolePolicy {
            role_name: RoleName::parse("builder").unwrap(),
            policy_arn: arn("policy/Shared"),
        })
        .await;
    // carol uses it only as her permissions boundary.
    let at = domain
        .run(Command::PutUserPermissionsBoundary {
            user_name: UserName::parse("carol").unwrap(),
            permissions_boundary: arn("policy/Shared"),
        })
        .await;
    let wait = [(MIN_POSITION_HEADER, at.as_str())];

    let everything = root
        .call_with("ListEntitiesForPolicy", &[("PolicyArn", &shared)], &wait)
        .await;
    assert_eq!(everything.status, 200, "{}", everything.body);
    assert_eq!(everything.all("GroupName"), vec!["admins"]);
    assert_eq!(everything.all("UserName"), vec!["alice", "bob", "carol"]);
    assert_eq!(everything.all("RoleName"), vec!["builder"]);
    assert_eq!(everything.tag("GroupId").unwrap(), "AGPATESTGROUP00001");
    assert_eq!(everything.tag("RoleId").unwrap(), "AROATESTROLE000001");
    assert!(everything.tag("UserId").unwrap().starts_with("AIDA"));
    assert!(everything
        .body
        .contains("<PolicyGroups><member><GroupName>admins</GroupName>"));

    let got = root.ok("GetPolicy", &[("PolicyArn", &shared)]).await;
    assert_eq!(got.tag("AttachmentCount").unwrap(), "4");
    assert_eq!(got.tag("PermissionsBoundaryUsageCount").unwrap(), "1");

    // Paging spans the three lists.
    let pages = all_pages(
        &root,
        "ListEntitiesForPolicy",
        &[("PolicyArn", &shared), ("MaxItems", "2")],
    )
    .await;
    assert_eq!(pages.len(), 3);
    let seen: Vec<String> = pages
        .iter()
        .flat_map(|p| {
            let mut v = p.all("GroupName");
            v.extend(p.all("UserName"));
            v.extend(p.all("RoleName"));
            v
        })
        .collect();
    assert_eq!(seen, vec!["admins", "alice", "bob", "carol", "builder"]);
    // Every page has the three lists, empty or not.
    assert!(pages
        .iter()
        .all(|p| ["<PolicyGroups>", "<PolicyUsers>", "<PolicyRoles>"]
            .iter()
            .all(|t| p.body.contains(t))));

    let users = root
        .ok(
            "ListEntitiesForPolicy",
            &[("PolicyArn", &shared), ("EntityFilter", "User")],
        )
        .await;
    assert_eq!(users.all("UserName"), vec!["alice", "bob", "carol"]);
    assert!(users.all("GroupName").is_empty() && users.all("RoleName").is_empty());
    let permissions = root
        .ok(
            "ListEntitiesForPolicy",
            &[
                ("PolicyArn", &shared),
                ("EntityFilter", "User"),
                ("PolicyUsageFilter", "PermissionsPolicy"),
            ],
        )
        .await;
    assert_eq!(permissions.all("UserName"), vec!["alice", "bob"]);
    let bounded = root
        .ok(
            "ListEntitiesForPolicy",
            &[
                ("PolicyArn", &shared),
                ("PolicyUsageFilter", "PermissionsBoundary"),
            ],
        )
        .await;
    assert_eq!(bounded.all("UserName"), vec!["carol"]);
    assert!(bounded.all("GroupName").is_empty());
    let eng = root
        .ok(
            "ListEntitiesForPolicy",
            &[("PolicyArn", &shared), ("PathPrefix", "/eng/")],
        )
        .await;
    assert_eq!(eng.all("UserName"), vec!["alice", "carol"]);
    assert_eq!(eng.all("RoleName"), vec!["builder"]);
    assert!(eng.all("GroupName").is_empty());
    let roles = root
        .ok(
            "ListEntitiesForPolicy",
            &[("PolicyArn", &shared), ("EntityFilter", "Role")],
        )
        .await;
    assert_eq!(roles.all("RoleName"), vec!["builder"]);
    assert!(roles.all("UserName").is_empty());
    expect_error(
        &root
            .call(
                "ListEntitiesForPolicy",
                &[("PolicyArn", &shared), ("EntityFilter", "Robot")],
            )
            .await,
        400,
        "ValidationError",
    );
    expect_error(
        &root
            .call(
                "ListEntitiesForPolicy",
                &[(
                    "PolicyArn",
                    &format!("arn:aws:iam::{ACCOUNT}:policy/Nobody"),
                )],
            )
            .await,
        404,
        "NoSuchEntity",
    );

    // Attached: it cannot be deleted, and nothing is written.
    let before = head(&db).await;
    let conflict = root.call("DeletePolicy", &[("PolicyArn", &shared)]).await;
    expect_error(&conflict, 409, "DeleteConflict");
    assert_eq!(changes_since(&db, before).await, Vec::<String>::new());
    root.ok("GetPolicy", &[("PolicyArn", &shared)]).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_summary_and_authorization_details() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let domain = Domain::open(db.url()).await;
    use iam_domain::names::{GroupName, InlinePolicyName, RoleName, UserName};
    use iam_domain::Command;

    let empty = root.ok("GetAccountSummary", &[]).await;
    let map = summary_map(&empty);
    assert_eq!(map["Users"], 0);
    assert_eq!(map["UsersQuota"], 5000);
    assert_eq!(map["GroupsQuota"], 300);
    assert_eq!(map["RolesQuota"], 1000);
    assert_eq!(map["PoliciesQuota"], 1500);
    assert_eq!(map["VersionsPerPolicyQuota"], 5);
    assert_eq!(map["AccessKeysPerUserQuota"], 2);
    assert_eq!(map["GroupsPerUserQuota"], 10);
    assert_eq!(map["AttachedPoliciesPerUserQuota"], 10);
    assert_eq!(map["AttachedPoliciesPerGroupQuota"], 10);
    assert_eq!(map["AttachedPoliciesPerRoleQuota"], 10);
    assert_eq!(map["PolicySizeQuota"], 6144);
    assert_eq!(map["UserPolicySizeQuota"], 2048);
    // The root user signs with an access key (the configured root
    // credentials), so the account has root access keys from the start.
    assert_eq!(map["AccountAccessKeysPresent"], 1);

    let user_doc = doc("s3:ListBucket");
    root.ok(
        "CreateUser",
        &[
            ("UserName", "alice"),
            ("Path", "/eng/"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "core"),
        ],
    )
    .await;
    root.ok("CreateUser", &[("UserName", "bob")]).await;
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", "alice"),
            ("PolicyName", "inline-read"),
            ("PolicyDocument", &user_doc),
        ],
    )
    .await;
    root.ok("CreateAccessKey", &[]).await; // a root key
    let managed_v1 = doc("ec2:Describe*");
    let managed_v2 = doc("ec2:*");
    let managed = format!("arn:aws:iam::{ACCOUNT}:policy/Ops");
    root.ok(
        "CreatePolicy",
        &[
            ("PolicyName", "Ops"),
            ("PolicyDocument", &managed_v1),
            ("Description", "operations"),
        ],
    )
    .await;
    root.ok(
        "CreatePolicyVersion",
        &[
            ("PolicyArn", &managed),
            ("PolicyDocument", &managed_v2),
            ("SetAsDefault", "true"),
        ],
    )
    .await;
    root.ok(
        "CreatePolicy",
        &[("PolicyName", "Spare"), ("PolicyDocument", &managed_v1)],
    )
    .await;
    domain
        .run(Command::CreateGroup {
            group_name: GroupName::parse("admins").unwrap(),
            path: None,
            group_id: iam_domain::ids::GroupId::parse("AGPATESTGROUP00001").unwrap(),
            now: Utc::now(),
        })
        .await;
    domain
        .run(Command::AddUserToGroup {
            group_name: GroupName::parse("admins").unwrap(),
            user_name: UserName::parse("alice").unwrap(),
        })
        .await;
    let group_doc = doc("iam:Get*");
    domain
        .run(Command::PutGroupPolicy {
            group_name: GroupName::parse("admins").unwrap(),
            policy_name: InlinePolicyName::parse("group-inline").unwrap(),
            policy_document: group_doc.clone(),
        })
        .await;
    domain
        .run(Command::CreateRole {
            role_name: RoleName::parse("builder").unwrap(),
            path: None,
            role_id: iam_domain::ids::RoleId::parse("AROATESTROLE000001").unwrap(),
            assume_role_policy_document: TRUST.into(),
            description: None,
            max_session_duration: None,
            permissions_boundary: Some(arn("policy/Spare")),
            tags: vec![],
            now: Utc::now(),
        })
        .await;
    domain
        .run(Command::AttachUserPolicy {
            user_name: UserName::parse("alice").unwrap(),
            policy_arn: arn("policy/Ops"),
        })
        .await;
    domain
        .run(Command::AttachGroupPolicy {
            group_name: GroupName::parse("admins").unwrap(),
            policy_arn: arn("policy/Ops"),
        })
        .await;
    let at = domain
        .run(Command::AttachRolePolicy {
            role_name: RoleName::parse("builder").unwrap(),
            policy_arn: arn("policy/Ops"),
        })
        .await;
    let wait = [(MIN_POSITION_HEADER, at.as_str())];

    let summary = root.call_with("GetAccountSummary", &[], &wait).await;
    assert_eq!(summary.status, 200, "{}", summary.body);
    let map = summary_map(&summary);
    assert_eq!(map["Users"], 2);
    assert_eq!(map["Groups"], 1);
    assert_eq!(map["Roles"], 1);
    assert_eq!(map["Policies"], 2);
    assert_eq!(map["PolicyVersionsInUse"], 3);
    assert_eq!(map["AccountAccessKeysPresent"], 1);
    assert_eq!(map["MFADevices"], 0);

    // Everything in one page.
    let details = root.ok("GetAccountAuthorizationDetails", &[]).await;
    assert_eq!(details.tag("IsTruncated").unwrap(), "false");
    let users = section(&details, "UserDetailList");
    assert_eq!(users.all("UserName"), vec!["alice", "bob"]);
    assert_eq!(
        users.tag("Arn").unwrap(),
        format!("arn:aws:iam::{ACCOUNT}:user/eng/alice")
    );
    assert_eq!(users.tag("PolicyName").unwrap(), "inline-read");
    assert_eq!(decode(&users.tag("PolicyDocument").unwrap()), user_doc);
    assert_eq!(section(&users, "GroupList").all("member"), vec!["admins"]);
    assert_eq!(
        section(&users, "AttachedManagedPolicies")
            .tag("PolicyArn")
            .unwrap(),
        managed
    );
    assert_eq!(users.tag("Value").unwrap(), "core");
    let groups = section(&details, "GroupDetailList");
    assert_eq!(groups.all("GroupName"), vec!["admins"]);
    assert_eq!(decode(&groups.tag("PolicyDocument").unwrap()), group_doc);
    assert_eq!(groups.all("PolicyArn"), vec![managed.clone()]);
    let roles = section(&details, "RoleDetailList");
    assert_eq!(roles.all("RoleName"), vec!["builder"]);
    assert_eq!(
        decode(&roles.tag("AssumeRolePolicyDocument").unwrap()),
        TRUST
    );
    assert!(roles
        .body
        .contains("<InstanceProfileList></InstanceProfileList>"));
    assert_eq!(
        roles.tag("PermissionsBoundaryType").unwrap(),
        "PermissionsBoundaryPolicy"
    );
    assert_eq!(
        roles.tag("PermissionsBoundaryArn").unwrap(),
        format!("arn:aws:iam::{ACCOUNT}:policy/Spare")
    );
    let policies = section(&details, "Policies");
    assert_eq!(policies.all("PolicyName"), vec!["Ops", "Spare"]);
    assert_eq!(policies.tag("DefaultVersionId").unwrap(), "v2");
    assert_eq!(policies.tag("AttachmentCount").unwrap(), "3");
    assert_eq!(policies.tag("Description").unwrap(), "operations");
    assert_eq!(
        policies.all("PermissionsBoundaryUsageCount"),
        vec!["0", "1"]
    );
    let ops = section(&policies, "PolicyVersionList");
    assert_eq!(ops.all("VersionId"), vec!["v1", "v2"]);
    assert_eq!(ops.all("IsDefaultVersion"), vec!["false", "true"]);
    let documents: Vec<String> = ops.all("Document").iter().map(|d| decode(d)).collect();
    assert_eq!(documents, vec![managed_v1.clone(), managed_v2.clone()]);

    // Filters.
    let only = root
        .ok(
            "GetAccountAuthorizationDetails",
            &[
                ("Filter.member.1", "Role"),
                ("Filter.member.2", "LocalManagedPolicy"),
            ],
        )
        .await;
    assert!(section(&only, "UserDetailList").all("UserName").is_empty());
    assert!(section(&only, "GroupDetailList")
        .all("GroupName")
        .is_empty());
    assert_eq!(
        section(&only, "RoleDetailList").all("RoleName"),
        vec!["builder"]
    );
    assert_eq!(
        section(&only, "Policies").all("PolicyName"),
        vec!["Ops", "Spare"]
    );
    let aws_only = root
        .ok(
            "GetAccountAuthorizationDetails",
            &[("Filter.member.1", "AWSManagedPolicy")],
        )
        .await;
    assert!(section(&aws_only, "Policies").all("PolicyName").is_empty());
    expect_error(
        &root
            .call(
                "GetAccountAuthorizationDetails",
                &[("Filter.member.1", "Everything")],
            )
            .await,
        400,
        "ValidationError",
    );

    // Paging across the four lists: 2 users, 1 group, 1 role, 2 policies.
    let pages = all_pages(
        &root,
        "GetAccountAuthorizationDetails",
        &[("MaxItems", "4")],
    )
    .await;
    assert_eq!(pages.len(), 2);
    assert_eq!(
        section(&pages[0], "UserDetailList").all("UserName").len(),
        2
    );
    assert_eq!(
        section(&pages[0], "RoleDetailList").all("RoleName"),
        vec!["builder"]
    );
    assert!(section(&pages[0], "Policies").all("PolicyName").is_empty());
    assert!(section(&pages[1], "UserDetailList")
        .all("UserName")
        .is_empty());
    assert_eq!(
        section(&pages[1], "Policies").all("PolicyName"),
        vec!["Ops", "Spare"]
    );
    let ones = all_pages(
        &root,
        "GetAccountAuthorizationDetails",
        &[("MaxItems", "1")],
    )
    .await;
    assert_eq!(ones.len(), 6);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_actions_are_authorized_on_the_policy_arn() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "dev")]).await;
    let allow = format!(
        r#"{{"Version":"2012-10-17","Statement":[
  {{"Effect":"Allow","Action":["iam:GetPolicy","iam:GetPolicyVersion","iam:CreatePolicy","iam:CreatePolicyVersion"],"Resource":"arn:aws:iam::{ACCOUNT}:policy/team/*"}},
  {{"Effect":"Allow","Action":"iam:ListPolicies","Resource":"arn:aws:iam::{ACCOUNT}:policy/team/"}},
  {{"Effect":"Allow","Action":"iam:GetAccountSummary","Resource":"*"}}]}}"#
    );
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", "dev"),
            ("PolicyName", "team-policies"),
            ("PolicyDocument", &allow),
        ],
    )
    .await;
    let key = root.ok("CreateAccessKey", &[("UserName", "dev")]).await;
    let dev = root.with_key(
        &key.tag("AccessKeyId").unwrap(),
        &key.tag("SecretAccessKey").unwrap(),
    );
    for (name, path) in [("Team", "/team/"), ("Other", "/")] {
        root.ok(
            "CreatePolicy",
            &[
                ("PolicyName", name),
                ("Path", path),
                ("PolicyDocument", &doc("s3:GetObject")),
            ],
        )
        .await;
    }
    let team = format!("arn:aws:iam::{ACCOUNT}:policy/team/Team");
    let other = format!("arn:aws:iam::{ACCOUNT}:policy/Other");

    dev.ok("GetPolicy", &[("PolicyArn", &team)]).await;
    dev.ok(
        "GetPolicyVersion",
        &[("PolicyArn", &team), ("VersionId", "v1")],
    )
    .await;
    let denied = dev.call("GetPolicy", &[("PolicyArn", &other)]).await;
    expect_error(&denied, 403, "AccessDenied");
    assert!(
        denied.body.contains(&format!(
            "arn:aws:iam::{ACCOUNT}:user/dev is not authorized to perform: iam:GetPolicy on resource: {other}"
        )),
        "{}",
        denied.body
    );
    dev.ok(
        "CreatePolicy",
        &[
            ("PolicyName", "Mine"),
            ("Path", "/team/"),
            ("PolicyDocument", &doc("s3:PutObject")),
        ],
    )
    .await;
    // Denied calls write nothing.
    let before = head(&db).await;
    let outside = dev
        .call(
            "CreatePolicy",
            &[("PolicyName", "Outside"), ("PolicyDocument", &doc("s3:*"))],
        )
        .await;
    expect_error(&outside, 403, "AccessDenied");
    let delete = dev.call("DeletePolicy", &[("PolicyArn", &team)]).await;
    expect_error(&delete, 403, "AccessDenied");
    let tag = dev
        .call(
            "TagPolicy",
            &[
                ("PolicyArn", &team),
                ("Tags.member.1.Key", "a"),
                ("Tags.member.1.Value", "b"),
            ],
        )
        .await;
    expect_error(&tag, 403, "AccessDenied");
    assert_eq!(changes_since(&db, before).await, Vec::<String>::new());
    expect_error(
        &root
            .call(
                "GetPolicy",
                &[(
                    "PolicyArn",
                    &format!("arn:aws:iam::{ACCOUNT}:policy/Outside"),
                )],
            )
            .await,
        404,
        "NoSuchEntity",
    );

    // ListPolicies is authorized on policy/ plus the path prefix.
    let listed = dev.ok("ListPolicies", &[("PathPrefix", "/team/")]).await;
    assert_eq!(listed.all("PolicyName"), vec!["Mine", "Team"]);
    expect_error(&dev.call("ListPolicies", &[]).await, 403, "AccessDenied");
    // The account-wide reads are authorized on `*`.
    dev.ok("GetAccountSummary", &[]).await;
    expect_error(
        &dev.call("GetAccountAuthorizationDetails", &[]).await,
        403,
        "AccessDenied",
    );
    app.stop().await;
}

/// The `SummaryMap` as key → value.
fn summary_map(reply: &Reply) -> std::collections::HashMap<String, u64> {
    let keys = reply.all("key");
    let values = reply.all("value");
    assert_eq!(keys.len(), values.len());
    keys.into_iter()
        .zip(values.iter().map(|v| v.parse().unwrap()))
        .collect()
}

/// The part of a reply inside the first `<tag>...</tag>`, as a reply.
fn section(reply: &Reply, tag: &str) -> Reply {
    Reply {
        status: reply.status,
        headers: Vec::new(),
        body: reply.tag(tag).unwrap_or_default(),
    }
}
