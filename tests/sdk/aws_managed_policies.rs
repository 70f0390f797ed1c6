//! AWS managed policies (and iamd's own) under `arn:aws:iam::aws:policy/…`:
//! listed, read, attached and used as boundaries with their real
//! documents, and never changed.

use aws_sdk_iam::types::{EntityType, PolicyScopeType};
use iam_event_store::testing::TestDatabase;

use crate::harness::{decode_document, failure, Keys, Node, Show};

const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const IAM_READ_ONLY: &str = "arn:aws:iam::aws:policy/IAMReadOnlyAccess";
const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_managed_policies_are_listed_read_and_never_changed() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();
    iam.create_policy()
        .policy_name("mine")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#)
        .send()
        .await
        .must("CreatePolicy");

    let names = |out: &aws_sdk_iam::operation::list_policies::ListPoliciesOutput| -> Vec<String> {
        out.policies()
            .iter()
            .map(|p| p.policy_name().unwrap().to_owned())
            .collect()
    };
    let aws = iam
        .list_policies()
        .scope(PolicyScopeType::Aws)
        .max_items(1000)
        .send()
        .await
        .must("ListPolicies AWS");
    let aws_names = names(&aws);
    for expected in [
        "AdministratorAccess",
        "PowerUserAccess",
        "ReadOnlyAccess",
        "IAMFullAccess",
        "IAMReadOnlyAccess",
        "IAMUserChangePassword",
        "SecurityAudit",
        "IamdAuditorAccess",
        "IamdDecisionPointAccess",
    ] {
        assert!(
            aws_names.iter().any(|n| n == expected),
            "{expected} in {aws_names:?}"
        );
    }
    assert!(!aws_names.iter().any(|n| n == "mine"));
    let local = iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .send()
        .await
        .must("ListPolicies Local");
    assert_eq!(names(&local), ["mine"]);
    // All (the default) lists both, and pages across them.
    let mut all = Vec::new();
    let mut marker = None;
    loop {
        let page = iam
            .list_policies()
            .max_items(2)
            .set_marker(marker)
            .send()
            .await
            .must("ListPolicies page");
        all.extend(names(&page));
        if !page.is_truncated() {
            break;
        }
        marker = page.marker().map(str::to_owned);
    }
    assert_eq!(all.len(), aws_names.len() + 1, "{all:?}");

    let got = iam
        .get_policy()
        .policy_arn(READ_ONLY)
        .send()
        .await
        .must("GetPolicy ReadOnlyAccess");
    let p = got.policy().unwrap();
    assert_eq!(p.arn(), Some(READ_ONLY));
    assert!(p.policy_id().unwrap().starts_with("ANPA"));
    assert_eq!(p.attachment_count(), Some(0));
    let version = p.default_version_id().unwrap().to_owned();
    let doc = iam
        .get_policy_version()
        .policy_arn(READ_ONLY)
        .version_id(&version)
        .send()
        .await
        .must("GetPolicyVersion");
    let text = decode_document(doc.policy_version().unwrap().document().unwrap());
    assert!(
        text.contains("\"s3:Get*\"") || text.contains("s3:Get"),
        "a real document"
    );
    assert!(
        text.len() > 50_000,
        "ReadOnlyAccess is long: {}",
        text.len()
    );
    let versions = iam
        .list_policy_versions()
        .policy_arn(READ_ONLY)
        .send()
        .await
        .must("ListPolicyVersions");
    assert_eq!(versions.versions().len(), 1);
    assert_eq!(
        failure(
            iam.get_policy_version()
                .policy_arn(READ_ONLY)
                .version_id("v1000")
                .send()
                .await
        ),
        ("NoSuchEntity".to_owned(), 404)
    );
    assert_eq!(
        failure(
            iam.get_policy()
                .policy_arn("arn:aws:iam::aws:policy/NoSuchPolicyAnywhere")
                .send()
                .await
        ),
        ("NoSuchEntity".to_owned(), 404)
    );
    let tags = iam
        .list_policy_tags()
        .policy_arn(ADMIN)
        .send()
        .await
        .must("ListPolicyTags");
    assert!(tags.tags().is_empty());

    // Nobody changes them, root included.
    let doc =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let refusals = [
        failure(iam.delete_policy().policy_arn(READ_ONLY).send().await),
        failure(
            iam.create_policy_version()
                .policy_arn(READ_ONLY)
                .policy_document(doc)
                .set_as_default(true)
                .send()
                .await,
        ),
        failure(
            iam.delete_policy_version()
                .policy_arn(READ_ONLY)
                .version_id(&version)
                .send()
                .await,
        ),
        failure(
            iam.set_default_policy_version()
                .policy_arn(READ_ONLY)
                .version_id("v1")
                .send()
                .await,
        ),
        failure(
            iam.tag_policy()
                .policy_arn(READ_ONLY)
                .tags(
                    aws_sdk_iam::types::Tag::builder()
                        .key("k")
                        .value("v")
                        .build()
                        .unwrap(),
                )
                .send()
                .await,
        ),
    ];
    for r in refusals {
        assert_eq!(r, ("AccessDenied".to_owned(), 403));
    }
    node.stop().await;
}

/// Attached, an AWS managed policy grants exactly what its real document
/// says; as a boundary it bounds; detached, it grants nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attached_aws_managed_policies_grant_what_their_documents_say() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let root = node.root_iam();
    root.create_user()
        .user_name("ana")
        .send()
        .await
        .must("CreateUser");
    root.create_group()
        .group_name("auditors")
        .send()
        .await
        .must("CreateGroup");
    root.add_user_to_group()
        .group_name("auditors")
        .user_name("ana")
        .send()
        .await
        .must("AddUserToGroup");
    let key = root
        .create_access_key()
        .user_name("ana")
        .send()
        .await
        .must("CreateAccessKey");
    let key = key.access_key().unwrap();
    let ana = node.iam(&Keys::new(key.access_key_id(), key.secret_access_key()));
    assert_eq!(
        failure(ana.list_users().send().await),
        ("AccessDenied".to_owned(), 403)
    );

    // Through a group, in any case of the name (names are case-insensitive).
    root.attach_group_policy()
        .group_name("auditors")
        .policy_arn("arn:aws:iam::aws:policy/iamreadonlyaccess")
        .send()
        .await
        .must("AttachGroupPolicy IAMReadOnlyAccess");
    ana.list_users()
        .send()
        .await
        .must("ListUsers under IAMReadOnlyAccess");
    assert_eq!(
        failure(ana.create_user().user_name("x").send().await),
        ("AccessDenied".to_owned(), 403)
    );
    let attached = root
        .list_attached_group_policies()
        .group_name("auditors")
        .send()
        .await
        .must("ListAttachedGroupPolicies");
    let arns: Vec<&str> = attached
        .attached_policies()
        .iter()
        .map(|p| p.policy_arn().unwrap())
        .collect();
    assert_eq!(arns, [IAM_READ_ONLY], "stored with AWS's spelling");
    let entities = root
        .list_entities_for_policy()
        .policy_arn(IAM_READ_ONLY)
        .send()
        .await
        .must("ListEntitiesForPolicy");
    assert_eq!(entities.policy_groups().len(), 1);
    let got = root
        .get_policy()
        .policy_arn(IAM_READ_ONLY)
        .send()
        .await
        .must("GetPolicy");
    assert_eq!(got.policy().unwrap().attachment_count(), Some(1));

    // Administrator access directly, bounded by IAMReadOnlyAccess: only
    // what both allow.
    root.attach_user_policy()
        .user_name("ana")
        .policy_arn(ADMIN)
        .send()
        .await
        .must("AttachUserPolicy AdministratorAccess");
    ana.create_group()
        .group_name("g1")
        .send()
        .await
        .must("CreateGroup as admin");
    root.put_user_permissions_boundary()
        .user_name("ana")
        .permissions_boundary(IAM_READ_ONLY)
        .send()
        .await
        .must("PutUserPermissionsBoundary");
    assert_eq!(
        failure(ana.create_group().group_name("g2").send().await),
        ("AccessDenied".to_owned(), 403)
    );
    ana.list_groups()
        .send()
        .await
        .must("ListGroups within the boundary");
    let details = root
        .get_account_authorization_details()
        .filter(EntityType::AwsManagedPolicy)
        .send()
        .await
        .must("GetAccountAuthorizationDetails AWSManagedPolicy");
    let listed: Vec<&str> = details
        .policies()
        .iter()
        .map(|p| p.policy_name().unwrap())
        .collect();
    assert_eq!(listed, ["AdministratorAccess", "IAMReadOnlyAccess"]);

    // An unknown AWS policy is not attachable.
    assert_eq!(
        failure(
            root.attach_user_policy()
                .user_name("ana")
                .policy_arn("arn:aws:iam::aws:policy/NotAPolicy")
                .send()
                .await
        ),
        ("NoSuchEntity".to_owned(), 404)
    );
    // Detached, nothing is left.
    root.delete_user_permissions_boundary()
        .user_name("ana")
        .send()
        .await
        .must("DeleteUserPermissionsBoundary");
    root.detach_user_policy()
        .user_name("ana")
        .policy_arn(ADMIN)
        .send()
        .await
        .must("DetachUserPolicy");
    root.detach_group_policy()
        .group_name("auditors")
        .policy_arn(IAM_READ_ONLY)
        .send()
        .await
        .must("DetachGroupPolicy");
    assert_eq!(
        failure(ana.list_users().send().await),
        ("AccessDenied".to_owned(), 403)
    );
    node.stop().await;
}
