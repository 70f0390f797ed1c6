//! Users: create, read, list (with paging), update, delete, and their errors.

use aws_sdk_iam::operation::create_user::CreateUserError;
use aws_sdk_iam::operation::delete_user::DeleteUserError;
use aws_sdk_iam::operation::get_user::GetUserError;
use aws_sdk_iam::operation::update_user::UpdateUserError;
use aws_sdk_iam::operation::RequestId;
use aws_sdk_iam::types::Tag;
use iam_event_store::testing::TestDatabase;

use crate::harness::{failure, service_error, Node, Show, ACCOUNT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_lifecycle() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();

    let tag = Tag::builder()
        .key("team")
        .value("platform")
        .build()
        .unwrap();
    let created = iam
        .create_user()
        .user_name("alice")
        .path("/eng/")
        .tags(tag)
        .send()
        .await
        .must("CreateUser");
    let alice = created.user().expect("a User");
    assert_eq!(alice.user_name(), "alice");
    assert_eq!(alice.path(), "/eng/");
    assert_eq!(
        alice.arn(),
        format!("arn:aws:iam::{ACCOUNT}:user/eng/alice")
    );
    assert!(alice.user_id().starts_with("AIDA"), "{}", alice.user_id());
    let age = aws_sdk_iam::primitives::DateTime::from(std::time::SystemTime::now()).secs()
        - alice.create_date().secs();
    assert!((0..60).contains(&age), "CreateDate is now, not {age} s ago");
    assert!(
        created.request_id().is_some(),
        "x-amzn-requestid reaches the SDK"
    );

    // Names are unique without regard to case, as in AWS.
    let again = service_error(iam.create_user().user_name("ALICE").send().await);
    assert!(
        matches!(again, CreateUserError::EntityAlreadyExistsException(_)),
        "{again:?}"
    );

    let got = iam
        .get_user()
        .user_name("alice")
        .send()
        .await
        .must("GetUser");
    let got = got.user().expect("a User");
    assert_eq!(got.arn(), alice.arn());
    assert_eq!(got.user_id(), alice.user_id());
    assert_eq!(got.create_date(), alice.create_date());
    assert_eq!(
        got.tags()
            .iter()
            .map(|t| (t.key(), t.value()))
            .collect::<Vec<_>>(),
        vec![("team", "platform")]
    );
    let missing = service_error(iam.get_user().user_name("nobody").send().await);
    assert!(
        matches!(missing, GetUserError::NoSuchEntityException(_)),
        "{missing:?}"
    );
    assert_eq!(
        failure(iam.get_user().user_name("nobody").send().await),
        ("NoSuchEntity".to_owned(), 404)
    );

    // Rename and move.
    iam.update_user()
        .user_name("alice")
        .new_user_name("alice2")
        .new_path("/ops/")
        .send()
        .await
        .must("UpdateUser");
    let moved = iam
        .get_user()
        .user_name("alice2")
        .send()
        .await
        .must("GetUser after rename");
    let moved = moved.user().unwrap();
    assert_eq!(
        moved.arn(),
        format!("arn:aws:iam::{ACCOUNT}:user/ops/alice2")
    );
    assert_eq!(moved.user_id(), alice.user_id(), "the id survives a rename");
    assert!(matches!(
        service_error(iam.get_user().user_name("alice").send().await),
        GetUserError::NoSuchEntityException(_)
    ));
    let nobody = service_error(
        iam.update_user()
            .user_name("nobody")
            .new_path("/x/")
            .send()
            .await,
    );
    assert!(
        matches!(nobody, UpdateUserError::NoSuchEntityException(_)),
        "{nobody:?}"
    );

    // PathPrefix filters.
    iam.create_user()
        .user_name("bob")
        .send()
        .await
        .must("CreateUser bob");
    let ops = iam
        .list_users()
        .path_prefix("/ops/")
        .send()
        .await
        .must("ListUsers");
    assert_eq!(
        ops.users()
            .iter()
            .map(|u| u.user_name())
            .collect::<Vec<_>>(),
        vec!["alice2"]
    );
    assert!(!ops.is_truncated());
    let all = iam.list_users().send().await.must("ListUsers");
    assert_eq!(
        all.users()
            .iter()
            .map(|u| u.user_name())
            .collect::<Vec<_>>(),
        vec!["alice2", "bob"]
    );

    iam.delete_user()
        .user_name("alice2")
        .send()
        .await
        .must("DeleteUser");
    let gone = service_error(iam.delete_user().user_name("alice2").send().await);
    assert!(
        matches!(gone, DeleteUserError::NoSuchEntityException(_)),
        "{gone:?}"
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_paginator_walks_every_page() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();
    let names: Vec<String> = (0..7).map(|i| format!("user-{i:02}")).collect();
    for name in &names {
        iam.create_user()
            .user_name(name)
            .send()
            .await
            .must("CreateUser");
    }

    // One page by hand: truncated, with a marker.
    let first = iam.list_users().max_items(3).send().await.must("ListUsers");
    assert_eq!(first.users().len(), 3);
    assert!(first.is_truncated());
    let marker = first.marker().expect("a Marker").to_owned();
    let second = iam
        .list_users()
        .max_items(3)
        .marker(marker)
        .send()
        .await
        .must("ListUsers page 2");
    assert_eq!(second.users()[0].user_name(), "user-03");

    // The SDK's paginator follows the markers to the end.
    let pages: Vec<_> = iam
        .list_users()
        .max_items(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .must("ListUsers pages");
    assert_eq!(pages.len(), 4, "7 users, 2 a page");
    assert!(pages[..3].iter().all(|p| p.is_truncated()));
    assert!(!pages[3].is_truncated());
    let users: Vec<String> = iam
        .list_users()
        .max_items(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .must("ListUsers items")
        .into_iter()
        .map(|u| u.user_name().to_owned())
        .collect();
    assert_eq!(users, names);
    // page_size sets MaxItems too.
    let pages = iam
        .list_users()
        .into_paginator()
        .page_size(5)
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .must("ListUsers page_size");
    assert_eq!(
        pages.iter().map(|p| p.users().len()).collect::<Vec<_>>(),
        vec![5, 2]
    );

    // MaxItems out of range is the caller's error.
    assert_eq!(
        failure(iam.list_users().max_items(0).send().await),
        ("ValidationError".to_owned(), 400)
    );
    node.stop().await;
}
