//! Tags and permissions boundaries of users and roles.

use aws_sdk_iam::types::{PermissionsBoundaryAttachmentType, Tag};
use iam_event_store::testing::TestDatabase;

use crate::harness::{failure, policy, Keys, Node, Show};

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

fn pairs(tags: &[Tag]) -> Vec<(&str, &str)> {
    tags.iter().map(|t| (t.key(), t.value())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_and_role_tags() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();
    iam.create_user()
        .user_name("lee")
        .send()
        .await
        .must("CreateUser");
    iam.create_role()
        .role_name("runner")
        .assume_role_policy_document(policy(
            r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}"#,
        ))
        .send()
        .await
        .must("CreateRole");

    iam.tag_user()
        .user_name("lee")
        .tags(tag("team", "core"))
        .tags(tag("cost", "42"))
        .send()
        .await
        .must("TagUser");
    iam.untag_user()
        .user_name("lee")
        .tag_keys("cost")
        .send()
        .await
        .must("UntagUser");
    let tags = iam
        .list_user_tags()
        .user_name("lee")
        .send()
        .await
        .must("ListUserTags");
    assert_eq!(pairs(tags.tags()), vec![("team", "core")]);
    assert!(!tags.is_truncated());
    assert_eq!(
        failure(
            iam.tag_user()
                .user_name("nobody")
                .tags(tag("a", "b"))
                .send()
                .await
        ),
        ("NoSuchEntity".to_owned(), 404)
    );

    iam.tag_role()
        .role_name("runner")
        .tags(tag("env", "prod"))
        .tags(tag("tmp", "x"))
        .send()
        .await
        .must("TagRole");
    iam.untag_role()
        .role_name("runner")
        .tag_keys("tmp")
        .send()
        .await
        .must("UntagRole");
    let tags = iam
        .list_role_tags()
        .role_name("runner")
        .send()
        .await
        .must("ListRoleTags");
    assert_eq!(pairs(tags.tags()), vec![("env", "prod")]);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_boundaries_limit_what_policies_grant() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();
    let boundary = iam
        .create_policy()
        .policy_name("only-list-users")
        .policy_document(policy(
            r#"{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}"#,
        ))
        .send()
        .await
        .must("CreatePolicy");
    let boundary = boundary.policy().unwrap().arn().unwrap().to_owned();
    iam.create_user()
        .user_name("max")
        .send()
        .await
        .must("CreateUser");
    iam.put_user_policy()
        .user_name("max")
        .policy_name("admin")
        .policy_document(policy(
            r#"{"Effect":"Allow","Action":"iam:*","Resource":"*"}"#,
        ))
        .send()
        .await
        .must("PutUserPolicy");
    let key = iam
        .create_access_key()
        .user_name("max")
        .send()
        .await
        .must("CreateAccessKey");
    let key = key.access_key().unwrap();
    let max = node.iam(&Keys::new(key.access_key_id(), key.secret_access_key()));
    max.list_groups()
        .send()
        .await
        .must("ListGroups before the boundary");

    iam.put_user_permissions_boundary()
        .user_name("max")
        .permissions_boundary(&boundary)
        .send()
        .await
        .must("PutUserPermissionsBoundary");
    let got = iam.get_user().user_name("max").send().await.must("GetUser");
    let set = got
        .user()
        .unwrap()
        .permissions_boundary()
        .expect("a PermissionsBoundary");
    assert_eq!(set.permissions_boundary_arn(), Some(boundary.as_str()));
    assert_eq!(
        set.permissions_boundary_type(),
        Some(&PermissionsBoundaryAttachmentType::Policy)
    );
    max.list_users()
        .send()
        .await
        .must("ListUsers, inside the boundary");
    assert_eq!(
        failure(max.list_groups().send().await),
        ("AccessDenied".to_owned(), 403)
    );
    iam.delete_user_permissions_boundary()
        .user_name("max")
        .send()
        .await
        .must("DeleteUserPermissionsBoundary");
    max.list_groups()
        .send()
        .await
        .must("ListGroups once the boundary is gone");

    // Roles take boundaries the same way.
    iam.create_role()
        .role_name("bounded")
        .assume_role_policy_document(policy(
            r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}"#,
        ))
        .send()
        .await
        .must("CreateRole");
    iam.put_role_permissions_boundary()
        .role_name("bounded")
        .permissions_boundary(&boundary)
        .send()
        .await
        .must("PutRolePermissionsBoundary");
    let role = iam
        .get_role()
        .role_name("bounded")
        .send()
        .await
        .must("GetRole");
    assert_eq!(
        role.role()
            .unwrap()
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn()),
        Some(boundary.as_str())
    );
    let in_use = iam
        .get_policy()
        .policy_arn(&boundary)
        .send()
        .await
        .must("GetPolicy");
    assert_eq!(
        in_use.policy().unwrap().permissions_boundary_usage_count(),
        Some(1)
    );
    iam.delete_role_permissions_boundary()
        .role_name("bounded")
        .send()
        .await
        .must("DeleteRolePermissionsBoundary");
    let role = iam
        .get_role()
        .role_name("bounded")
        .send()
        .await
        .must("GetRole");
    assert!(role.role().unwrap().permissions_boundary().is_none());
    node.stop().await;
}
