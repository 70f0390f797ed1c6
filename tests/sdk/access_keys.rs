//! Access keys: create, list, update, delete, last used; a key made
//! Inactive or deleted mid-session stops working on the next call.

use aws_sdk_iam::operation::delete_access_key::DeleteAccessKeyError;
use aws_sdk_iam::operation::delete_user::DeleteUserError;
use aws_sdk_iam::operation::list_access_keys::ListAccessKeysError;
use aws_sdk_iam::types::StatusType;
use iam_event_store::testing::TestDatabase;

use crate::harness::{failure, service_error, Keys, Node, Show, ACCOUNT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_key_lifecycle() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();
    iam.create_user()
        .user_name("bob")
        .send()
        .await
        .must("CreateUser");

    let created = iam
        .create_access_key()
        .user_name("bob")
        .send()
        .await
        .must("CreateAccessKey");
    let key = created.access_key().expect("an AccessKey");
    assert_eq!(key.user_name(), "bob");
    assert!(key.access_key_id().starts_with("AKIA"));
    assert_eq!(key.secret_access_key().len(), 40);
    assert_eq!(key.status(), &StatusType::Active);
    let bob = Keys::new(key.access_key_id(), key.secret_access_key());

    // Never used yet.
    let unused = iam
        .get_access_key_last_used()
        .access_key_id(&bob.id)
        .send()
        .await
        .must("GetAccessKeyLastUsed");
    assert_eq!(unused.user_name(), Some("bob"));
    let last = unused.access_key_last_used().expect("AccessKeyLastUsed");
    assert_eq!(last.last_used_date(), None);
    assert_eq!((last.service_name(), last.region()), ("N/A", "N/A"));

    // The key works through the SDK, for STS and IAM.
    let me = node
        .sts(&bob)
        .get_caller_identity()
        .send()
        .await
        .must("GetCallerIdentity as bob");
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:iam::{ACCOUNT}:user/bob").as_str())
    );
    assert!(me.user_id().unwrap().starts_with("AIDA"));

    let listed = iam
        .list_access_keys()
        .user_name("bob")
        .send()
        .await
        .must("ListAccessKeys");
    let meta = listed.access_key_metadata();
    assert_eq!(meta.len(), 1);
    assert_eq!(meta[0].access_key_id(), Some(bob.id.as_str()));
    assert_eq!(meta[0].user_name(), Some("bob"));
    assert_eq!(meta[0].status(), Some(&StatusType::Active));
    assert!(!listed.is_truncated());

    // Keys page like everything else.
    iam.create_access_key()
        .user_name("bob")
        .send()
        .await
        .must("a second key");
    let pages = iam
        .list_access_keys()
        .user_name("bob")
        .max_items(1)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .must("ListAccessKeys pages");
    assert_eq!(pages.len(), 2);

    iam.update_access_key()
        .user_name("bob")
        .access_key_id(&bob.id)
        .status(StatusType::Inactive)
        .send()
        .await
        .must("UpdateAccessKey");
    let listed = iam
        .list_access_keys()
        .user_name("bob")
        .send()
        .await
        .must("ListAccessKeys");
    let status = listed
        .access_key_metadata()
        .iter()
        .find(|k| k.access_key_id() == Some(bob.id.as_str()))
        .and_then(|k| k.status());
    assert_eq!(status, Some(&StatusType::Inactive));

    // A user with keys cannot be deleted.
    let conflict = service_error(iam.delete_user().user_name("bob").send().await);
    assert!(
        matches!(conflict, DeleteUserError::DeleteConflictException(_)),
        "{conflict:?}"
    );
    assert_eq!(
        failure(iam.delete_user().user_name("bob").send().await),
        ("DeleteConflict".to_owned(), 409)
    );

    for k in listed.access_key_metadata() {
        iam.delete_access_key()
            .user_name("bob")
            .access_key_id(k.access_key_id().unwrap())
            .send()
            .await
            .must("DeleteAccessKey");
    }
    let twice = service_error(
        iam.delete_access_key()
            .user_name("bob")
            .access_key_id(&bob.id)
            .send()
            .await,
    );
    assert!(
        matches!(twice, DeleteAccessKeyError::NoSuchEntityException(_)),
        "{twice:?}"
    );
    let gone = service_error(
        iam.get_access_key_last_used()
            .access_key_id(&bob.id)
            .send()
            .await,
    );
    // GetAccessKeyLastUsed models no NoSuchEntity: the code comes through
    // as an unhandled error with its metadata.
    assert_eq!(
        aws_sdk_iam::error::ProvideErrorMetadata::code(&gone),
        Some("NoSuchEntity"),
        "{gone:?}"
    );
    let nobody = service_error(iam.list_access_keys().user_name("nobody").send().await);
    assert!(
        matches!(nobody, ListAccessKeysError::NoSuchEntityException(_)),
        "{nobody:?}"
    );
    iam.delete_user()
        .user_name("bob")
        .send()
        .await
        .must("DeleteUser without keys");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_deactivated_mid_session_fails_on_the_next_call() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let root = node.root_iam();
    root.create_user()
        .user_name("carol")
        .send()
        .await
        .must("CreateUser");
    let created = root
        .create_access_key()
        .user_name("carol")
        .send()
        .await
        .must("CreateAccessKey");
    let key = created.access_key().unwrap();
    let carol = Keys::new(key.access_key_id(), key.secret_access_key());

    // One client, one session: it works, the key is switched off under it,
    // and its very next call fails.
    let sts = node.sts(&carol);
    sts.get_caller_identity()
        .send()
        .await
        .must("GetCallerIdentity while Active");
    root.update_access_key()
        .user_name("carol")
        .access_key_id(&carol.id)
        .status(StatusType::Inactive)
        .send()
        .await
        .must("UpdateAccessKey Inactive");
    assert_eq!(
        failure(sts.get_caller_identity().send().await),
        ("InvalidClientTokenId".to_owned(), 403)
    );
    assert_eq!(
        failure(node.iam(&carol).get_user().send().await),
        ("InvalidClientTokenId".to_owned(), 403)
    );

    // Active again: it works again, in the same session.
    root.update_access_key()
        .user_name("carol")
        .access_key_id(&carol.id)
        .status(StatusType::Active)
        .send()
        .await
        .must("UpdateAccessKey Active");
    sts.get_caller_identity()
        .send()
        .await
        .must("GetCallerIdentity after reactivation");

    // Deleted: gone for good.
    root.delete_access_key()
        .user_name("carol")
        .access_key_id(&carol.id)
        .send()
        .await
        .must("DeleteAccessKey");
    assert_eq!(
        failure(sts.get_caller_identity().send().await),
        ("InvalidClientTokenId".to_owned(), 403)
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_manages_its_own_access_keys() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let root = node.root_iam();

    // Without UserName the caller's own keys: here the root user's.
    let created = root
        .create_access_key()
        .send()
        .await
        .must("CreateAccessKey for root");
    let key = created.access_key().unwrap();
    let second = Keys::new(key.access_key_id(), key.secret_access_key());
    let me = node
        .sts(&second)
        .get_caller_identity()
        .send()
        .await
        .must("GetCallerIdentity with root's second key");
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:iam::{ACCOUNT}:root").as_str())
    );
    let listed = root
        .list_access_keys()
        .send()
        .await
        .must("ListAccessKeys for root");
    assert!(listed
        .access_key_metadata()
        .iter()
        .any(|k| k.access_key_id() == Some(second.id.as_str())));
    let last = root
        .get_access_key_last_used()
        .access_key_id(&second.id)
        .send()
        .await
        .must("GetAccessKeyLastUsed for a root key");
    assert_eq!(last.user_name(), None);

    // The second key can manage the first's siblings: it is root.
    let as_second = node.iam(&second);
    as_second
        .update_access_key()
        .access_key_id(&second.id)
        .status(StatusType::Inactive)
        .send()
        .await
        .must("root deactivates its own key");
    assert_eq!(
        failure(as_second.list_users().send().await),
        ("InvalidClientTokenId".to_owned(), 403)
    );
    root.delete_access_key()
        .access_key_id(&second.id)
        .send()
        .await
        .must("DeleteAccessKey for root");
    node.stop().await;
}
