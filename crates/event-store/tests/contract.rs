//! The contract every backend keeps, written once and run against each:
//! `postgres::*` on a fresh PostgreSQL database per test, `sqlite::*` on a
//! fresh SQLite file per test.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use iam_event_store::testing::TestDatabase;
use iam_event_store::{
    open, verify, Backend, EventStore, ExpectedVersion, Hash, HashInput, NewEvent, Position,
    Snapshot, StoreError, Subscription, Until, Verification,
};
use serde_json::json;
use sqlx::{Connection, Executor};

type Store = Arc<dyn EventStore>;

fn event(n: u64) -> NewEvent {
    NewEvent::new(
        "Tested",
        1,
        json!({"n": n, "z": "last", "a": [1.5, "é", {"y": null, "b": true}]}),
    )
    .with_metadata(
        json!({"actor": "arn:aws:iam::123456789012:root", "request_id": format!("req-{n}")}),
    )
}

fn events(range: std::ops::Range<u64>) -> Vec<NewEvent> {
    range.map(event).collect()
}

/// Runs SQL against the test database behind the store's back, with the
/// triggers that keep `events` and the head row append-only (and stored
/// events from being replaced) out of the way (to simulate tampering).
async fn tamper(db: &TestDatabase, sql: &str) {
    match Backend::from_url(db.url()).unwrap() {
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(db.url()).await.unwrap();
            // Replica mode skips ordinary triggers; only a superuser (an
            // attacker with full access) can do this.
            conn.execute("SET session_replication_role = replica")
                .await
                .unwrap();
            conn.execute(sql).await.unwrap();
        }
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(db.url()).await.unwrap();
            for trigger in [
                "events_append_only_update",
                "events_append_only_delete",
                "events_never_replaced",
                "event_log_head_only_appends_move_it",
                "event_log_head_kept_delete",
                "event_log_head_kept_insert",
            ] {
                conn.execute(format!("DROP TRIGGER IF EXISTS {trigger}").as_str())
                    .await
                    .unwrap();
            }
            conn.execute(sql).await.unwrap();
        }
    }
}

/// Runs SQL as an ordinary client would, returning the error text.
async fn raw_error(db: &TestDatabase, sql: &str) -> String {
    let result = match Backend::from_url(db.url()).unwrap() {
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(db.url()).await.unwrap();
            conn.execute(sql).await.map(drop)
        }
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(db.url()).await.unwrap();
            conn.execute(sql).await.map(drop)
        }
    };
    result
        .expect_err("the statement should have been rejected")
        .to_string()
}

async fn ordering(store: Store, _db: &TestDatabase) {
    store
        .append("a", ExpectedVersion::NoStream, events(0..3))
        .await
        .unwrap();
    store
        .append("b", ExpectedVersion::NoStream, events(3..5))
        .await
        .unwrap();
    let outcome = store
        .append("a", ExpectedVersion::Exact(3), events(5..6))
        .await
        .unwrap();
    assert_eq!(
        (
            outcome.first_position,
            outcome.last_position,
            outcome.stream_version
        ),
        (Position(6), Position(6), 4)
    );

    let all = store.read_all(Position::START, 100).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.position.0).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5, 6]
    );
    assert_eq!(
        all.iter()
            .map(|e| (e.stream_id.as_str(), e.stream_version))
            .collect::<Vec<_>>(),
        vec![("a", 1), ("a", 2), ("a", 3), ("b", 1), ("b", 2), ("a", 4)]
    );
    for (i, e) in all.iter().enumerate() {
        assert_eq!(
            e.payload["n"],
            json!(i as u64),
            "payload survives the round trip"
        );
        assert_eq!(e.metadata["request_id"], json!(format!("req-{i}")));
    }
    assert!(all.windows(2).all(|w| w[0].recorded_at <= w[1].recorded_at));
    assert_eq!(
        store.event_at(Position(4)).await.unwrap().as_ref(),
        Some(&all[3])
    );
    assert_eq!(store.event_at(Position::START).await.unwrap(), None);
    assert_eq!(store.event_at(Position(7)).await.unwrap(), None);

    let a = store.read_stream("a", 0, 100).await.unwrap();
    assert_eq!(
        a.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    let cut = store
        .read_stream_until("a", 1, Position(5), 10)
        .await
        .unwrap();
    assert_eq!(
        cut.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        vec![2, 3],
        "stops at the cut"
    );
    let tail = store.read_stream("a", 2, 1).await.unwrap();
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0].stream_version, 3);
    assert_eq!(store.stream_version("a").await.unwrap(), 4);
    assert_eq!(store.stream_version("nope").await.unwrap(), 0);

    let page = store.read_all(Position(2), 3).await.unwrap();
    assert_eq!(
        page.iter().map(|e| e.position.0).collect::<Vec<_>>(),
        vec![3, 4, 5]
    );
    let head = store.head().await.unwrap();
    assert_eq!(head.position, Position(6));
    assert_eq!(head.hash, all[5].hash);

    // Any appends after whatever is there.
    let any = store
        .append("b", ExpectedVersion::Any, events(6..7))
        .await
        .unwrap();
    assert_eq!(any.stream_version, 3);
}

/// `stream_events` yields what paging through `read_stream` yields, cut at
/// a position, across more than one of the default implementation's pages.
async fn streaming_a_stream(store: Store, _db: &TestDatabase) {
    use futures::TryStreamExt;
    for k in 0..12u64 {
        store
            .append("a", ExpectedVersion::Any, events(k * 1000..(k + 1) * 1000))
            .await
            .unwrap();
        store
            .append("b", ExpectedVersion::Any, events(0..10))
            .await
            .unwrap();
    }
    let mut paged = Vec::new();
    loop {
        let after = paged
            .last()
            .map_or(0, |e: &iam_event_store::RecordedEvent| e.stream_version);
        let page = store.read_stream("a", after, 700).await.unwrap();
        if page.is_empty() {
            break;
        }
        paged.extend(page);
    }
    assert_eq!(paged.len(), 12_000);
    let head = store.head().await.unwrap().position;
    // A replay's stream leaves metadata out; everything else is as stored.
    assert!(paged.iter().all(|e| e.metadata.is_object()));
    for e in &mut paged {
        e.metadata = serde_json::Value::Null;
    }

    let all: Vec<_> = store
        .stream_events("a", 0, head)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all, paged, "the whole stream, in order, as stored");

    // After a version, up to a cut in the middle of the 9th batch of "a".
    let cut = paged[8_499].position;
    let part: Vec<_> = store
        .stream_events("a", 3, cut)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(part, paged[3..8_500].to_vec());

    // Consecutive positions: the cut is exactly the last wanted event.
    let tight: Vec<_> = store
        .stream_events("a", 3, paged[499].position)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(tight, paged[3..500].to_vec());
    let mut paged_until = store
        .read_stream_until("a", 3, paged[499].position, 10_000)
        .await
        .unwrap();
    assert!(paged_until.iter().all(|e| e.metadata.is_object()));
    for e in &mut paged_until {
        e.metadata = serde_json::Value::Null;
    }
    assert_eq!(paged_until, tight);

    // Bounds past anything stored are no bounds, not errors.
    let rest: Vec<_> = store
        .stream_events("a", 11_990, Position(u64::MAX))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rest, paged[11_990..].to_vec());
    let past_the_end = store
        .read_stream_until("a", u64::MAX - 1, Position(u64::MAX), usize::MAX)
        .await
        .unwrap();
    assert!(past_the_end.is_empty());

    let none: Vec<_> = store
        .stream_events("a", 12_000, head)
        .try_collect()
        .await
        .unwrap();
    assert!(none.is_empty(), "nothing after the last version");
    let missing: Vec<_> = store
        .stream_events("nope", 0, head)
        .try_collect()
        .await
        .unwrap();
    assert!(missing.is_empty());
}

async fn conflicts(store: Store, _db: &TestDatabase) {
    store
        .append("s", ExpectedVersion::NoStream, events(0..2))
        .await
        .unwrap();
    let head_before = store.head().await.unwrap();

    match store
        .append("s", ExpectedVersion::NoStream, events(2..3))
        .await
    {
        Err(StoreError::Conflict {
            expected, actual, ..
        }) => {
            assert_eq!((expected, actual), (ExpectedVersion::NoStream, 2))
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    match store
        .append("s", ExpectedVersion::Exact(1), events(3..5))
        .await
    {
        Err(StoreError::Conflict {
            expected, actual, ..
        }) => {
            assert_eq!((expected, actual), (ExpectedVersion::Exact(1), 2))
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    match store
        .append("t", ExpectedVersion::Exact(4), events(5..6))
        .await
    {
        Err(StoreError::Conflict { actual, .. }) => assert_eq!(actual, 0),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        store.head().await.unwrap(),
        head_before,
        "a conflict writes nothing"
    );
    assert_eq!(store.read_all(Position::START, 100).await.unwrap().len(), 2);
    // The conflict message is readable.
    let err = store
        .append("s", ExpectedVersion::Exact(7), events(6..7))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "stream \"s\": expected version 7, but the stream is at version 2"
    );
}

async fn idempotency(store: Store, _db: &TestDatabase) {
    let batch = events(0..3);
    let first = store
        .append("s", ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    assert!(!first.duplicate);
    store
        .append("other", ExpectedVersion::NoStream, events(3..4))
        .await
        .unwrap();

    // The same append again (a retry after a lost response): nothing written,
    // the original outcome returned, even though the expected version is now stale.
    let again = store
        .append("s", ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(
        (
            again.first_position,
            again.last_position,
            again.stream_version,
            again.recorded_at
        ),
        (
            first.first_position,
            first.last_position,
            first.stream_version,
            first.recorded_at
        )
    );
    assert_eq!(store.head().await.unwrap().position, Position(4));

    // Part of a stored batch mixed with new ids is not a retry.
    let mixed = vec![batch[0].clone(), event(9)];
    assert!(matches!(
        store.append("s", ExpectedVersion::Any, mixed).await,
        Err(StoreError::IdempotencyMismatch { event_id }) if event_id == batch[0].event_id
    ));
    // Nor is the same id sent to another stream.
    assert!(matches!(
        store
            .append("elsewhere", ExpectedVersion::Any, vec![batch[1].clone()])
            .await,
        Err(StoreError::IdempotencyMismatch { .. })
    ));
    assert_eq!(store.head().await.unwrap().position, Position(4));
}

async fn atomic_batches(store: Store, _db: &TestDatabase) {
    let outcome = store
        .append("big", ExpectedVersion::NoStream, events(0..100))
        .await
        .unwrap();
    assert_eq!(
        (outcome.first_position, outcome.last_position),
        (Position(1), Position(100))
    );
    let all = store.read_all(Position::START, 1000).await.unwrap();
    assert_eq!(all.len(), 100);
    assert!(
        all.iter().all(|e| e.recorded_at == outcome.recorded_at),
        "one batch, one instant"
    );

    // A bad event anywhere in the batch rejects the whole batch.
    let mut bad = events(100..110);
    bad[7].payload = json!({"text": "nul \u{0} inside"});
    assert!(matches!(
        store.append("big", ExpectedVersion::Exact(100), bad).await,
        Err(StoreError::InvalidEvent(_))
    ));
    let mut bad_meta = events(110..112);
    bad_meta[1].metadata = json!("not an object");
    assert!(matches!(
        store.append("big", ExpectedVersion::Any, bad_meta).await,
        Err(StoreError::InvalidEvent(_))
    ));
    // A batch whose last event collides with a stored id is rejected whole.
    let mut colliding = events(112..120);
    colliding[7] = all[0].clone_as_new();
    assert!(store
        .append("big", ExpectedVersion::Any, colliding)
        .await
        .is_err());
    assert!(matches!(
        store.append("big", ExpectedVersion::Any, vec![]).await,
        Err(StoreError::InvalidEvent(_))
    ));
    let mut twice = events(120..122);
    twice[1].event_id = twice[0].event_id;
    assert!(matches!(
        store.append("big", ExpectedVersion::Any, twice).await,
        Err(StoreError::InvalidEvent(_))
    ));

    assert_eq!(store.head().await.unwrap().position, Position(100));
    assert!(matches!(
        verify(store.as_ref()).await.unwrap(),
        Verification::Intact { events: 100, .. }
    ));
}

trait CloneAsNew {
    fn clone_as_new(&self) -> NewEvent;
}

impl CloneAsNew for iam_event_store::RecordedEvent {
    fn clone_as_new(&self) -> NewEvent {
        NewEvent {
            event_id: self.event_id,
            event_type: self.event_type.clone(),
            schema_version: self.schema_version,
            payload: self.payload.clone(),
            metadata: self.metadata.clone(),
        }
    }
}

async fn read_by_time(store: Store, _db: &TestDatabase) {
    let first = store
        .append("s", ExpectedVersion::Any, events(0..2))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = store
        .append("s", ExpectedVersion::Any, events(2..3))
        .await
        .unwrap();
    assert!(second.recorded_at > first.recorded_at);

    let cut = first.recorded_at;
    assert_eq!(store.position_at(cut).await.unwrap(), Position(2));
    assert_eq!(
        store
            .position_at(cut - chrono::Duration::seconds(1))
            .await
            .unwrap(),
        Position::START
    );
    assert_eq!(
        store.position_at(second.recorded_at).await.unwrap(),
        Position(3)
    );

    let upto = store
        .read_all_until(Position::START, Until::Time(cut), 100)
        .await
        .unwrap();
    assert_eq!(
        upto.iter().map(|e| e.position.0).collect::<Vec<_>>(),
        vec![1, 2]
    );
    let upto = store
        .read_all_until(Position(1), Until::Position(Position(2)), 100)
        .await
        .unwrap();
    assert_eq!(
        upto.iter().map(|e| e.position.0).collect::<Vec<_>>(),
        vec![2]
    );
    let none = store
        .read_all_until(Position(2), Until::Time(cut), 100)
        .await
        .unwrap();
    assert!(none.is_empty());
}

async fn hash_chain(store: Store, _db: &TestDatabase) {
    store
        .append("a", ExpectedVersion::NoStream, events(0..5))
        .await
        .unwrap();
    store
        .append("b", ExpectedVersion::NoStream, events(5..8))
        .await
        .unwrap();
    let all = store.read_all(Position::START, 100).await.unwrap();
    let mut previous = Hash::GENESIS;
    for e in &all {
        assert_eq!(
            HashInput::from(e).chain(&previous),
            e.hash,
            "position {}",
            e.position
        );
        previous = e.hash;
    }
    match verify(store.as_ref()).await.unwrap() {
        Verification::Intact { events, head } => {
            assert_eq!(events, 8);
            assert_eq!(head, previous);
            assert_eq!(store.head().await.unwrap().hash, head);
        }
        broken => panic!("{broken:?}"),
    }
    // An empty log verifies too.
}

async fn tamper_detection(store: Store, db: &TestDatabase) {
    store
        .append("a", ExpectedVersion::NoStream, events(0..6))
        .await
        .unwrap();
    let payload = match Backend::from_url(db.url()).unwrap() {
        Backend::Postgres => "UPDATE events SET payload = '{\"n\": 99}' WHERE position = 4",
        Backend::Sqlite => "UPDATE events SET payload = '{\"n\":99}' WHERE position = 4",
    };
    tamper(db, payload).await;
    match verify(store.as_ref()).await.unwrap() {
        Verification::Broken { position, .. } => assert_eq!(position, Position(4)),
        intact => panic!("tampering went unnoticed: {intact:?}"),
    }
}

async fn tamper_by_deletion(store: Store, db: &TestDatabase) {
    store
        .append("a", ExpectedVersion::NoStream, events(0..6))
        .await
        .unwrap();
    tamper(db, "DELETE FROM events WHERE position = 3").await;
    match verify(store.as_ref()).await.unwrap() {
        Verification::Broken { position, reason } => {
            assert_eq!(position, Position(3), "{reason}");
        }
        intact => panic!("deletion went unnoticed: {intact:?}"),
    }
}

async fn tamper_with_time(store: Store, db: &TestDatabase) {
    store
        .append("a", ExpectedVersion::NoStream, events(0..3))
        .await
        .unwrap();
    let sql = match Backend::from_url(db.url()).unwrap() {
        Backend::Postgres => {
            "UPDATE events SET recorded_at = recorded_at - interval '1 day' WHERE position = 2"
        }
        Backend::Sqlite => {
            "UPDATE events SET recorded_at = recorded_at - 86400000000 WHERE position = 2"
        }
    };
    tamper(db, sql).await;
    assert!(matches!(
        verify(store.as_ref()).await.unwrap(),
        Verification::Broken {
            position: Position(2),
            ..
        }
    ));
}

async fn append_only_triggers(store: Store, db: &TestDatabase) {
    store
        .append("a", ExpectedVersion::NoStream, events(0..2))
        .await
        .unwrap();
    let update = raw_error(
        db,
        "UPDATE events SET event_type = 'Forged' WHERE position = 1",
    )
    .await;
    assert!(
        update.contains("append-only") && update.contains("UPDATE"),
        "{update}"
    );
    let delete = raw_error(db, "DELETE FROM events WHERE position = 2").await;
    assert!(
        delete.contains("append-only") && delete.contains("DELETE"),
        "{delete}"
    );
    if Backend::from_url(db.url()).unwrap() == Backend::Postgres {
        let truncate = raw_error(db, "TRUNCATE events").await;
        assert!(
            truncate.contains("append-only") && truncate.contains("TRUNCATE"),
            "{truncate}"
        );
    }
    assert_eq!(store.read_all(Position::START, 10).await.unwrap().len(), 2);
    assert!(matches!(
        verify(store.as_ref()).await.unwrap(),
        Verification::Intact { events: 2, .. }
    ));
}

async fn subscription_catches_up_then_follows(store: Store, _db: &TestDatabase) {
    store
        .append("a", ExpectedVersion::NoStream, events(0..5))
        .await
        .unwrap();
    let mut sub =
        Subscription::new(store.clone(), Position(2)).with_poll_interval(Duration::from_secs(30));
    for expected in 3..=5 {
        assert_eq!(sub.next().await.unwrap().position, Position(expected));
    }
    assert!(sub
        .next_timeout(Duration::from_millis(50))
        .await
        .unwrap()
        .is_none());
    // Live: the append wakes the subscriber long before the 30 s poll.
    let writer = store.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        writer
            .append("a", ExpectedVersion::Exact(5), events(5..7))
            .await
            .unwrap();
    });
    let live = sub
        .next_timeout(Duration::from_secs(10))
        .await
        .unwrap()
        .expect("live event");
    assert_eq!(live.position, Position(6));
    assert_eq!(sub.next().await.unwrap().position, Position(7));
    assert_eq!(sub.position(), Position(7));
}

async fn concurrent_writers_and_a_follower(store: Store, _db: &TestDatabase) {
    const WRITERS: u64 = 16;
    const EACH: u64 = 200;
    let total = WRITERS * EACH;
    let follower_store = store.clone();
    let follower = tokio::spawn(async move {
        let mut sub = Subscription::new(follower_store, Position::START)
            .with_poll_interval(Duration::from_millis(100));
        let mut seen = Vec::with_capacity(total as usize);
        while (seen.len() as u64) < total {
            let e = sub
                .next_timeout(Duration::from_secs(60))
                .await
                .unwrap()
                .expect("the follower stalled");
            seen.push(e);
        }
        seen
    });
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            let stream = format!("writer-{w}");
            for i in 0..EACH {
                let expected = if i == 0 {
                    ExpectedVersion::NoStream
                } else {
                    ExpectedVersion::Exact(i)
                };
                store
                    .append(&stream, expected, vec![event(w * 1000 + i)])
                    .await
                    .unwrap();
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    let seen = follower.await.unwrap();
    assert_eq!(seen.len() as u64, total);
    let positions: Vec<u64> = seen.iter().map(|e| e.position.0).collect();
    assert_eq!(
        positions,
        (1..=total).collect::<Vec<_>>(),
        "every event once, in position order"
    );
    let ids: HashSet<_> = seen.iter().map(|e| e.event_id).collect();
    assert_eq!(ids.len() as u64, total);
    // Each writer's stream is complete and in order.
    for w in 0..WRITERS {
        let versions: Vec<u64> = seen
            .iter()
            .filter(|e| e.stream_id == format!("writer-{w}"))
            .map(|e| e.stream_version)
            .collect();
        assert_eq!(versions, (1..=EACH).collect::<Vec<_>>());
    }
    assert!(seen
        .windows(2)
        .all(|w| w[0].recorded_at <= w[1].recorded_at));
    assert!(
        matches!(verify(store.as_ref()).await.unwrap(), Verification::Intact { events, .. } if events == total)
    );
}

async fn racing_writers_on_one_stream(store: Store, _db: &TestDatabase) {
    // Eight writers race for the same stream with optimistic concurrency;
    // every event lands exactly once, losers retry after a Conflict.
    let mut tasks = Vec::new();
    for w in 0..8u64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0;
            for i in 0..10u64 {
                let e = event(w * 100 + i);
                loop {
                    let v = store.stream_version("shared").await.unwrap();
                    match store
                        .append("shared", ExpectedVersion::Exact(v), vec![e.clone()])
                        .await
                    {
                        Ok(_) => break,
                        Err(StoreError::Conflict { .. }) => conflicts += 1,
                        Err(other) => panic!("{other}"),
                    }
                }
            }
            conflicts
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let stream = store.read_stream("shared", 0, 1000).await.unwrap();
    assert_eq!(stream.len(), 80);
    assert_eq!(
        stream.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        (1..=80).collect::<Vec<_>>()
    );
}

async fn snapshots(store: Store, _db: &TestDatabase) {
    assert_eq!(
        store.load_snapshot("view", Position(100)).await.unwrap(),
        None
    );
    for (p, byte) in [(10u64, 1u8), (20, 2), (30, 3)] {
        store
            .save_snapshot(&Snapshot {
                name: "view".into(),
                position: Position(p),
                schema_version: 1,
                data: vec![byte; 4],
            })
            .await
            .unwrap();
    }
    let s = store
        .load_snapshot("view", Position(25))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((s.position, s.data), (Position(20), vec![2; 4]));
    assert_eq!(
        store.load_snapshot("view", Position(9)).await.unwrap(),
        None
    );
    assert_eq!(
        store.load_snapshot("other", Position(99)).await.unwrap(),
        None
    );
    // Listed by name and position, without their data.
    store
        .save_snapshot(&Snapshot {
            name: "a-first".into(),
            position: Position(0),
            schema_version: 7,
            data: vec![],
        })
        .await
        .unwrap();
    assert_eq!(
        store.list_snapshots().await.unwrap(),
        vec![
            ("a-first".to_owned(), Position(0), 7),
            ("view".to_owned(), Position(10), 1),
            ("view".to_owned(), Position(20), 1),
            ("view".to_owned(), Position(30), 1),
        ]
    );
    // Saving again at the same position replaces it.
    store
        .save_snapshot(&Snapshot {
            name: "view".into(),
            position: Position(30),
            schema_version: 2,
            data: vec![9],
        })
        .await
        .unwrap();
    let s = store
        .load_snapshot("view", Position(1000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((s.schema_version, s.data), (2, vec![9]));

    // Pruning deletes only that name's snapshots before the position.
    store
        .save_snapshot(&Snapshot {
            name: "other".into(),
            position: Position(5),
            schema_version: 1,
            data: vec![7],
        })
        .await
        .unwrap();
    assert_eq!(
        store.prune_snapshots("view", Position(30)).await.unwrap(),
        2
    );
    assert_eq!(
        store.load_snapshot("view", Position(29)).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .load_snapshot("view", Position(30))
            .await
            .unwrap()
            .unwrap()
            .position,
        Position(30)
    );
    assert!(store
        .load_snapshot("other", Position(5))
        .await
        .unwrap()
        .is_some());
}

async fn empty_log(store: Store, _db: &TestDatabase) {
    let head = store.head().await.unwrap();
    assert_eq!(
        (head.position, head.hash, head.recorded_at),
        (Position::START, Hash::GENESIS, None)
    );
    assert!(matches!(
        verify(store.as_ref()).await.unwrap(),
        Verification::Intact { events: 0, .. }
    ));
    assert!(store
        .read_all(Position::START, 10)
        .await
        .unwrap()
        .is_empty());
}

async fn migrating_twice_is_harmless(store: Store, db: &TestDatabase) {
    store
        .append("a", ExpectedVersion::NoStream, events(0..1))
        .await
        .unwrap();
    iam_event_store::migrate(db.url()).await.unwrap();
    iam_event_store::migrate(db.url()).await.unwrap();
    assert_eq!(store.head().await.unwrap().position, Position(1));
}

/// A writer process killed with SIGKILL in the middle of its appends leaves
/// whole batches only, and the chain verifies.
async fn killed_writer_process(store: Store, db: &TestDatabase) {
    // The example is built by `cargo test` next to this test binary.
    let exe = std::env::current_exe().unwrap();
    let examples = exe.parent().unwrap().parent().unwrap().join("examples");
    let writer = examples.join("append_forever");
    assert!(
        writer.exists(),
        "{} is missing (cargo test builds examples)",
        writer.display()
    );
    let mut child = std::process::Command::new(&writer)
        .arg(db.url())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Let it commit a few batches, then kill it at a random point.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while store.stream_version("crash").await.unwrap() < 4000 {
        assert!(
            std::time::Instant::now() < deadline,
            "the writer made no progress"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(
        uuid::Uuid::new_v4().as_u128() as u64 % 50,
    ))
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    // A PostgreSQL server may still finish (and commit) the statement the
    // dead client sent last: its outcome was never known to the client, like
    // any append whose connection breaks. Wait for the log to settle.
    let mut head = store.head().await.unwrap().position;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = store.head().await.unwrap().position;
        if now == head {
            break;
        }
        head = now;
    }

    let version = store.stream_version("crash").await.unwrap();
    assert_eq!(version % 2000, 0, "only whole batches survive: {version}");
    let head = store.head().await.unwrap();
    assert_eq!(head.position.0, version);
    assert!(
        matches!(verify(store.as_ref()).await.unwrap(), Verification::Intact { events, .. } if events == version)
    );
    // And the log takes appends again.
    store
        .append("after", ExpectedVersion::NoStream, events(0..1))
        .await
        .unwrap();
    assert!(matches!(
        verify(store.as_ref()).await.unwrap(),
        Verification::Intact { .. }
    ));
}

/// The head row changes only with an append: it cannot be deleted,
/// truncated, rewound or pointed at a forged hash by hand, while appends
/// still move it.
async fn head_moves_only_with_an_append(store: Store, db: &TestDatabase) {
    store
        .append("a", ExpectedVersion::NoStream, events(0..2))
        .await
        .unwrap();
    let head = store.head().await.unwrap();
    let backend = Backend::from_url(db.url()).unwrap();

    let delete = raw_error(db, "DELETE FROM event_log_head").await;
    assert!(
        delete.contains("append-only") && delete.contains("DELETE"),
        "{delete}"
    );
    if backend == Backend::Postgres {
        let truncate = raw_error(db, "TRUNCATE event_log_head").await;
        assert!(
            truncate.contains("append-only") && truncate.contains("TRUNCATE"),
            "{truncate}"
        );
    }
    // An upsert (SQLite's REPLACE deletes without firing DELETE triggers).
    let replace = match backend {
        Backend::Postgres => {
            "INSERT INTO event_log_head (singleton, position, hash) \
             VALUES (true, 0, decode(repeat('00', 32), 'hex')) \
             ON CONFLICT (singleton) DO UPDATE SET position = 0"
        }
        Backend::Sqlite => {
            "INSERT OR REPLACE INTO event_log_head (singleton, position, hash, recorded_at) \
             VALUES (1, 0, zeroblob(32), NULL)"
        }
    };
    let replace = raw_error(db, replace).await;
    assert!(
        replace.contains("append-only") && replace.contains("INSERT"),
        "{replace}"
    );
    let forged_hash = match backend {
        Backend::Postgres => "UPDATE event_log_head SET hash = decode(repeat('00', 32), 'hex')",
        Backend::Sqlite => "UPDATE event_log_head SET hash = zeroblob(32)",
    };
    let forged = raw_error(db, forged_hash).await;
    assert!(
        forged.contains("append-only") && forged.contains("UPDATE"),
        "{forged}"
    );
    // Rewinding to an earlier event, hash and time included, is refused too.
    let rewind = raw_error(
        db,
        "UPDATE event_log_head SET (position, hash, recorded_at) = \
         (SELECT position, hash, recorded_at FROM events WHERE position = 1)",
    )
    .await;
    assert!(
        rewind.contains("append-only") && rewind.contains("UPDATE"),
        "{rewind}"
    );
    let ahead = raw_error(db, "UPDATE event_log_head SET position = position + 1").await;
    assert!(
        ahead.contains("append-only") && ahead.contains("UPDATE"),
        "{ahead}"
    );

    assert_eq!(store.head().await.unwrap(), head);
    store
        .append("a", ExpectedVersion::Exact(2), events(2..4))
        .await
        .unwrap();
    assert_eq!(store.head().await.unwrap().position, Position(4));
    assert!(matches!(
        verify(store.as_ref()).await.unwrap(),
        Verification::Intact { events: 4, .. }
    ));
}

/// A stored event cannot be replaced by an upsert on any of its unique keys
/// (position, event id, stream and version): SQLite's `INSERT OR REPLACE`
/// deletes the row it replaces without firing DELETE triggers, so an INSERT
/// that would collide is refused outright; an `ON CONFLICT DO UPDATE` is an
/// UPDATE, refused on both backends. Appends, batches included, still work.
async fn events_are_never_replaced(store: Store, db: &TestDatabase) {
    store
        .append("a", ExpectedVersion::NoStream, events(0..3))
        .await
        .unwrap();
    let before = store.read_all(Position::START, 10).await.unwrap();
    let head = store.head().await.unwrap();
    let backend = Backend::from_url(db.url()).unwrap();

    // Rows copied from event 2, colliding with it on one key each (or all).
    let rest = "'Forged', schema_version, payload, metadata, recorded_at, hash \
                FROM events WHERE position = 2";
    let new_id = "'00000000-0000-4000-8000-000000000001'";
    let collisions = [
        (
            "position",
            "position, stream_id, stream_version, event_id".to_owned(),
        ),
        ("position", format!("position, 'forged', 1, {new_id}")),
        ("event_id", "4, 'forged', 1, event_id".to_owned()),
        (
            "stream_id, stream_version",
            format!("4, stream_id, stream_version, {new_id}"),
        ),
    ];
    for (key, columns) in &collisions {
        let upsert = format!(
            "INSERT INTO events SELECT {columns}, {rest} \
             ON CONFLICT ({key}) DO UPDATE SET event_type = 'Forged'"
        );
        let refused = raw_error(db, &upsert).await;
        let op = match backend {
            // The INSERT is refused before SQLite looks for a conflict.
            Backend::Sqlite => "INSERT",
            Backend::Postgres => "UPDATE",
        };
        assert!(
            refused.contains("append-only") && refused.contains(op),
            "{upsert}: {refused}"
        );
        if backend == Backend::Sqlite {
            for verb in ["INSERT OR REPLACE", "REPLACE"] {
                let replace = format!("{verb} INTO events SELECT {columns}, {rest}");
                let refused = raw_error(db, &replace).await;
                assert!(
                    refused.contains("append-only") && refused.contains("INSERT"),
                    "{replace}: {refused}"
                );
            }
        }
    }

    assert_eq!(store.read_all(Position::START, 10).await.unwrap(), before);
    assert_eq!(store.head().await.unwrap(), head);
    assert!(matches!(
        verify(store.as_ref()).await.unwrap(),
        Verification::Intact { events: 3, .. }
    ));
    store
        .append("a", ExpectedVersion::Exact(3), events(3..4))
        .await
        .unwrap();
    store
        .append("b", ExpectedVersion::NoStream, events(4..9))
        .await
        .unwrap();
    assert!(matches!(
        verify(store.as_ref()).await.unwrap(),
        Verification::Intact { events: 9, .. }
    ));
}

/// Reads through the actor and target indexes: only the stream asked
/// about, only exact matches, in log order, after a position, limited.
async fn indexed_metadata(store: Store, _db: &TestDatabase) {
    let tagged = |n: u64, actor: &str, target: Option<&str>| {
        let mut metadata =
            json!({"actor": {"principal_arn": actor}, "request_id": format!("req-{n}")});
        if let Some(target) = target {
            metadata["target"] = json!(target);
        }
        event(n).with_metadata(metadata)
    };
    let alice = "arn:aws:iam::123456789012:user/alice";
    let bob = "arn:aws:iam::123456789012:user/bob";
    let doc = "arn:aws:iam::123456789012:policy/doc";
    store
        .append(
            "a",
            ExpectedVersion::NoStream,
            vec![
                tagged(1, alice, Some(doc)),
                tagged(2, bob, Some(doc)),
                tagged(3, alice, None),
            ],
        )
        .await
        .unwrap();
    // Another stream with the same actor and target: never in stream a's answers.
    store
        .append(
            "b",
            ExpectedVersion::NoStream,
            vec![tagged(4, alice, Some(doc))],
        )
        .await
        .unwrap();
    store
        .append(
            "a",
            ExpectedVersion::Exact(3),
            vec![
                tagged(5, alice, Some(bob)),
                tagged(6, "arn:aws:iam::123456789012:user/alice2", Some(doc)),
            ],
        )
        .await
        .unwrap();
    let positions = |events: Vec<iam_event_store::RecordedEvent>| {
        events.iter().map(|e| e.position.0).collect::<Vec<_>>()
    };
    let read = |index, value: &'static str, after: u64, limit| {
        let store = store.clone();
        async move {
            positions(
                store
                    .read_indexed("a", index, value, Position(after), limit)
                    .await
                    .unwrap(),
            )
        }
    };
    use iam_event_store::MetadataIndex::{Actor, Target};
    assert_eq!(read(Actor, alice, 0, 100).await, vec![1, 3, 5]);
    assert_eq!(read(Actor, alice, 1, 100).await, vec![3, 5]);
    assert_eq!(read(Actor, alice, 0, 2).await, vec![1, 3]);
    assert_eq!(read(Actor, bob, 0, 100).await, vec![2]);
    assert_eq!(read(Target, doc, 0, 100).await, vec![1, 2, 6]);
    assert_eq!(read(Target, bob, 0, 100).await, vec![5]);
    assert_eq!(
        read(Target, "arn:aws:iam::123456789012:policy/%", 0, 100).await,
        Vec::<u64>::new()
    );
    assert_eq!(read(Actor, "", 0, 100).await, Vec::<u64>::new());
    let b = store
        .read_indexed("b", Actor, alice, Position::START, 100)
        .await
        .unwrap();
    assert_eq!(positions(b), vec![4]);
}

macro_rules! contract {
    ($backend:ident, $($test:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let db = iam_event_store::testing::TestDatabase::$backend().await;
                    let store = iam_event_store::open(db.url()).await.expect("open the test database");
                    super::$test(store, &db).await;
                }
            )*
        }
    };
}

macro_rules! all_backends {
    ($($test:ident),* $(,)?) => {
        contract!(postgres, $($test),*);
        contract!(sqlite, $($test),*);
    };
}

all_backends!(
    ordering,
    streaming_a_stream,
    conflicts,
    idempotency,
    atomic_batches,
    read_by_time,
    hash_chain,
    tamper_detection,
    tamper_by_deletion,
    tamper_with_time,
    append_only_triggers,
    head_moves_only_with_an_append,
    events_are_never_replaced,
    indexed_metadata,
    subscription_catches_up_then_follows,
    concurrent_writers_and_a_follower,
    racing_writers_on_one_stream,
    snapshots,
    empty_log,
    migrating_twice_is_harmless,
    killed_writer_process,
);

#[tokio::test]
async fn unsupported_urls_are_named() {
    let err = open("mysql://localhost/x").await.err().unwrap();
    assert!(matches!(err, StoreError::UnsupportedUrl(_)));
    assert!(err.to_string().contains("mysql://localhost/x"), "{err}");
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_error_naming_it() {
    let err = open("postgres://iamd:secret@127.0.0.1:1/nowhere")
        .await
        .err()
        .unwrap();
    let text = err.to_string();
    assert!(matches!(err, StoreError::Connect { .. }), "{text}");
    assert!(text.contains("127.0.0.1:1/nowhere"), "{text}");
    assert!(
        !text.contains("secret"),
        "the password is not shown: {text}"
    );
}

#[tokio::test]
async fn a_missing_postgres_database_is_a_clear_error() {
    let mut url = url::Url::parse(&iam_event_store::testing::postgres_admin_url()).unwrap();
    url.set_path("iamd_does_not_exist");
    let err = open(url.as_str()).await.err().unwrap();
    assert!(err.to_string().contains("iamd_does_not_exist"), "{err}");
}

/// Backends of this database that are waiting in `LISTEN`.
async fn listeners(admin: &mut sqlx::PgConnection) -> Vec<i32> {
    sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity \
         WHERE datname = current_database() AND query ILIKE 'listen%'",
    )
    .fetch_all(admin)
    .await
    .unwrap()
}

/// The PostgreSQL listener survives losing its connection: after its
/// backend is killed it listens again and keeps signalling appends made by
/// another process (having also re-read the head once listening again).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_notification_listener_reconnects() {
    let db = TestDatabase::postgres().await;
    let follower = iam_event_store::PostgresStore::connect(db.url())
        .await
        .unwrap();
    let mut admin = sqlx::PgConnection::connect(db.url()).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let before = loop {
        let found = listeners(&mut admin).await;
        if !found.is_empty() {
            break found;
        }
        assert!(std::time::Instant::now() < deadline, "no listener started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    for pid in &before {
        let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .fetch_one(&mut admin)
            .await
            .unwrap();
        assert!(killed);
    }
    // It listens again, on a new backend.
    loop {
        let now = listeners(&mut admin).await;
        if now.iter().any(|pid| !before.contains(pid)) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the listener did not come back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let writer = iam_event_store::PostgresStore::connect(db.url())
        .await
        .unwrap();
    let outcome = writer
        .append("after-the-loss", ExpectedVersion::NoStream, events(0..3))
        .await
        .unwrap();
    let mut signal = follower.append_signal();
    while *signal.borrow_and_update() < outcome.last_position {
        assert!(
            std::time::Instant::now() < deadline,
            "the signal never reached the new head"
        );
        let _ = tokio::time::timeout(Duration::from_millis(200), signal.changed()).await;
    }
}
