//! Two nodes on one database: each reads the other's writes. The log
//! position a write reached comes back in `x-iamd-log-position` (read here by
//! an SDK interceptor); naming it in `x-iamd-min-log-position` (added with
//! the SDK's `customize().mutate_request`) makes the other node wait for it.

use std::time::Duration;

use aws_sdk_iam::types::StatusType;
use iam_api::app::MIN_POSITION_HEADER;
use iam_event_store::testing::TestDatabase;

use crate::harness::{failure, Keys, Node, Show, ACCOUNT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_database() {
    let db = TestDatabase::for_server().await;
    let a = Node::start(&db).await;
    let b = Node::start(&db).await;
    let (on_a, position) = a.iam_tracking(&Keys::root());
    let on_b = b.root_iam();

    on_a.create_user()
        .user_name("zed")
        .send()
        .await
        .must("CreateUser on A");
    let written = position.get();
    assert!(written > 0, "A reports the position of its write");
    let read = on_b
        .get_user()
        .user_name("zed")
        .customize()
        .mutate_request(move |r| {
            r.headers_mut()
                .insert(MIN_POSITION_HEADER, written.to_string());
        })
        .send()
        .await
        .must("GetUser on B at A's position");
    assert_eq!(
        read.user().unwrap().arn(),
        format!("arn:aws:iam::{ACCOUNT}:user/zed")
    );

    // A key made on A works on B; deactivated on A, it stops on B.
    let created = on_a
        .create_access_key()
        .user_name("zed")
        .send()
        .await
        .must("CreateAccessKey on A");
    let key = created.access_key().unwrap();
    let zed = Keys::new(key.access_key_id(), key.secret_access_key());
    let made = position.get();
    assert!(made > written);
    let zed_on_b = b.sts(&zed);
    zed_on_b
        .get_caller_identity()
        .customize()
        .mutate_request(move |r| {
            r.headers_mut()
                .insert(MIN_POSITION_HEADER, made.to_string());
        })
        .send()
        .await
        .must("GetCallerIdentity on B with a key made on A");
    on_a.update_access_key()
        .user_name("zed")
        .access_key_id(&zed.id)
        .status(StatusType::Inactive)
        .send()
        .await
        .must("UpdateAccessKey on A");
    let off = position.get();
    assert_eq!(
        failure(
            zed_on_b
                .get_caller_identity()
                .customize()
                .mutate_request(move |r| {
                    r.headers_mut().insert(MIN_POSITION_HEADER, off.to_string());
                })
                .send()
                .await
        ),
        ("InvalidClientTokenId".to_owned(), 403)
    );

    // Without the header B catches up by itself, soon.
    on_a.create_user()
        .user_name("yan")
        .send()
        .await
        .must("CreateUser yan on A");
    let mut seen = false;
    for _ in 0..100 {
        if on_b.get_user().user_name("yan").send().await.is_ok() {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen, "node B never saw node A's write");

    // And the other way round: B writes, A reads.
    let (on_b_tracked, b_position) = b.iam_tracking(&Keys::root());
    on_b_tracked
        .delete_user()
        .user_name("yan")
        .send()
        .await
        .must("DeleteUser on B");
    let deleted = b_position.get();
    assert_eq!(
        failure(
            on_a.get_user()
                .user_name("yan")
                .customize()
                .mutate_request(move |r| {
                    r.headers_mut()
                        .insert(MIN_POSITION_HEADER, deleted.to_string());
                })
                .send()
                .await
        ),
        ("NoSuchEntity".to_owned(), 404)
    );
    drop((on_a, on_b, on_b_tracked, zed_on_b));
    a.stop().await;
    b.stop().await;
}
