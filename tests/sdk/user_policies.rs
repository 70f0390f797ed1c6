//! Inline policies of users.

use aws_sdk_iam::operation::delete_user::DeleteUserError;
use aws_sdk_iam::operation::delete_user_policy::DeleteUserPolicyError;
use aws_sdk_iam::operation::get_user_policy::GetUserPolicyError;
use aws_sdk_iam::operation::put_user_policy::PutUserPolicyError;
use iam_event_store::testing::TestDatabase;

use crate::harness::{decode_document, failure, policy, service_error, Node, Show};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_user_policies() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();
    iam.create_user()
        .user_name("dora")
        .send()
        .await
        .must("CreateUser");
    let document = policy(
        r#"{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::123456789012:user/${aws:username}"}"#,
    );
    iam.put_user_policy()
        .user_name("dora")
        .policy_name("read-self")
        .policy_document(&document)
        .send()
        .await
        .must("PutUserPolicy");
    iam.put_user_policy()
        .user_name("dora")
        .policy_name("also")
        .policy_document(policy(
            r#"{"Effect":"Deny","Action":"iam:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#,
        ))
        .send()
        .await
        .must("PutUserPolicy also");

    let got = iam
        .get_user_policy()
        .user_name("dora")
        .policy_name("read-self")
        .send()
        .await
        .must("GetUserPolicy");
    assert_eq!(got.user_name(), "dora");
    assert_eq!(got.policy_name(), "read-self");
    // The SDK hands the document over as IAM sends it: URL-encoded.
    assert!(
        got.policy_document().starts_with("%7B%22Version%22"),
        "{}",
        got.policy_document()
    );
    assert_eq!(decode_document(got.policy_document()), document);

    let names = iam
        .list_user_policies()
        .user_name("dora")
        .send()
        .await
        .must("ListUserPolicies");
    assert_eq!(names.policy_names(), ["also", "read-self"]);
    assert!(!names.is_truncated());
    let pages = iam
        .list_user_policies()
        .user_name("dora")
        .max_items(1)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .must("ListUserPolicies pages");
    assert_eq!(pages.len(), 2);

    // A document that is not JSON.
    let bad = service_error(
        iam.put_user_policy()
            .user_name("dora")
            .policy_name("bad")
            .policy_document(r#"{"Statement":["#)
            .send()
            .await,
    );
    assert!(
        matches!(bad, PutUserPolicyError::MalformedPolicyDocumentException(_)),
        "{bad:?}"
    );
    assert_eq!(
        failure(
            iam.put_user_policy()
                .user_name("dora")
                .policy_name("bad")
                .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}"#)
                .send()
                .await
        ),
        ("MalformedPolicyDocument".to_owned(), 400)
    );
    let nobody = service_error(
        iam.put_user_policy()
            .user_name("nobody")
            .policy_name("p")
            .policy_document(&document)
            .send()
            .await,
    );
    assert!(
        matches!(nobody, PutUserPolicyError::NoSuchEntityException(_)),
        "{nobody:?}"
    );
    let missing = service_error(
        iam.get_user_policy()
            .user_name("dora")
            .policy_name("nope")
            .send()
            .await,
    );
    assert!(
        matches!(missing, GetUserPolicyError::NoSuchEntityException(_)),
        "{missing:?}"
    );

    // A user with inline policies cannot be deleted.
    let conflict = service_error(iam.delete_user().user_name("dora").send().await);
    assert!(
        matches!(conflict, DeleteUserError::DeleteConflictException(_)),
        "{conflict:?}"
    );
    for name in ["also", "read-self"] {
        iam.delete_user_policy()
            .user_name("dora")
            .policy_name(name)
            .send()
            .await
            .must("DeleteUserPolicy");
    }
    let twice = service_error(
        iam.delete_user_policy()
            .user_name("dora")
            .policy_name("also")
            .send()
            .await,
    );
    assert!(
        matches!(twice, DeleteUserPolicyError::NoSuchEntityException(_)),
        "{twice:?}"
    );
    let none = iam
        .list_user_policies()
        .user_name("dora")
        .send()
        .await
        .must("ListUserPolicies");
    assert!(none.policy_names().is_empty());
    iam.delete_user()
        .user_name("dora")
        .send()
        .await
        .must("DeleteUser");
    node.stop().await;
}
