//! STS GetCallerIdentity and the authentication errors the SDK sees.

use std::time::{Duration, SystemTime};

use crate::harness::{failure, AfterSigning, Keys, Node, Show, ACCOUNT};
use iam_event_store::testing::TestDatabase;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_is_who_the_sdk_says_it_is() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;

    let me = node
        .root_sts()
        .get_caller_identity()
        .send()
        .await
        .must("GetCallerIdentity");
    assert_eq!(me.account(), Some(ACCOUNT));
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:iam::{ACCOUNT}:root").as_str())
    );
    assert_eq!(me.user_id(), Some(ACCOUNT));

    // GetUser without a name describes the caller: here the root user.
    let root = node.root_iam().get_user().send().await.must("GetUser");
    let user = root.user().expect("a User element");
    assert_eq!(user.arn(), format!("arn:aws:iam::{ACCOUNT}:root"));
    assert_eq!(user.user_id(), ACCOUNT);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_keys_and_wrong_secrets_are_rejected() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;

    // An access key id the server has never issued.
    let stranger = Keys::new("AKIAUNKNOWNUNKNOWN00", "whatever-secret");
    assert_eq!(
        failure(node.sts(&stranger).get_caller_identity().send().await),
        ("InvalidClientTokenId".to_owned(), 403)
    );
    assert_eq!(
        failure(node.iam(&stranger).list_users().send().await),
        ("InvalidClientTokenId".to_owned(), 403)
    );

    // The root key id with the wrong secret.
    let forger = Keys::new(Keys::root().id, "not-the-root-secret-not-the-root-secret0");
    assert_eq!(
        failure(node.sts(&forger).get_caller_identity().send().await),
        ("SignatureDoesNotMatch".to_owned(), 403)
    );
    assert_eq!(
        failure(node.iam(&forger).create_user().user_name("x").send().await),
        ("SignatureDoesNotMatch".to_owned(), 403)
    );
    // Nothing was created by the rejected calls.
    let users = node.root_iam().list_users().send().await.must("ListUsers");
    assert!(users.users().is_empty());
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skewed_clocks_and_damaged_signatures_are_rejected() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;

    // A client whose clock is 20 minutes slow: outside AWS's 15-minute window.
    let slow = aws_sdk_sts::Client::from_conf(
        node.sts_config(&Keys::root())
            .time_source(aws_smithy_async::time::StaticTimeSource::new(
                SystemTime::now() - Duration::from_secs(20 * 60),
            ))
            .build(),
    );
    assert_eq!(
        failure(slow.get_caller_identity().send().await),
        ("RequestExpired".to_owned(), 400)
    );
    // Ten minutes is within it.
    let late = aws_sdk_sts::Client::from_conf(
        node.sts_config(&Keys::root())
            .time_source(aws_smithy_async::time::StaticTimeSource::new(
                SystemTime::now() - Duration::from_secs(10 * 60),
            ))
            .build(),
    );
    late.get_caller_identity()
        .send()
        .await
        .must("GetCallerIdentity 10 minutes late");

    // The signature taken off after signing.
    let iam = node.root_iam();
    assert_eq!(
        failure(
            iam.list_users()
                .customize()
                .interceptor(AfterSigning(|r| {
                    r.headers_mut().remove("authorization");
                }))
                .send()
                .await
        ),
        ("MissingAuthenticationToken".to_owned(), 403)
    );
    // Cut short.
    assert_eq!(
        failure(
            iam.list_users()
                .customize()
                .interceptor(AfterSigning(|r| {
                    r.headers_mut()
                        .insert("authorization", "AWS4-HMAC-SHA256 Credential=oops");
                }))
                .send()
                .await
        ),
        ("IncompleteSignature".to_owned(), 400)
    );
    // The body changed after signing.
    assert_eq!(
        failure(
            iam.create_user()
                .user_name("mallory")
                .customize()
                .interceptor(AfterSigning(|r| {
                    *r.body_mut() = "Action=CreateUser&Version=2010-05-08&UserName=malloryx".into();
                    r.headers_mut().insert("content-length", "54");
                }))
                .send()
                .await
        ),
        ("SignatureDoesNotMatch".to_owned(), 403)
    );
    let users = iam.list_users().send().await.must("ListUsers");
    assert!(users.users().is_empty(), "no rejected call wrote anything");
    node.stop().await;
}
