// TEMPORARY (removed after measuring): append throughput on SQLite with and
// without the events_never_replaced trigger, interleaved.
use std::time::Instant;

use iam_event_store::{EventStore, ExpectedVersion, NewEvent, SqliteStore};
use sqlx::Executor;

fn event(n: u64) -> NewEvent {
    NewEvent::new(
        "UserCreated",
        1,
        serde_json::json!({"n": n, "name": format!("user-{n:06}"), "path": "/engineering/", "tags": {"team": "platform"}}),
    )
    .with_metadata(serde_json::json!({"actor": "arn:aws:iam::123456789012:root"}))
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("zzbench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let with = SqliteStore::connect(&format!("sqlite://{}/with.db", dir.display())).await.unwrap();
    let without = SqliteStore::connect(&format!("sqlite://{}/without.db", dir.display())).await.unwrap();
    without.pool().execute("DROP TRIGGER events_never_replaced").await.unwrap();
    let batch: u64 = std::env::args().nth(1).map(|s| s.parse().unwrap()).unwrap_or(100);
    let rounds: u64 = std::env::args().nth(2).map(|s| s.parse().unwrap()).unwrap_or(200);
    let mut t = [0f64; 2];
    for r in 0..rounds {
        for (i, store) in [&with, &without].into_iter().enumerate() {
            let stream = format!("s-{}", r % 50);
            let version = store.stream_version(&stream).await.unwrap();
            let events = (0..batch).map(|k| event(version + k)).collect();
            let start = Instant::now();
            store.append(&stream, ExpectedVersion::Exact(version), events).await.unwrap();
            t[i] += start.elapsed().as_secs_f64();
        }
    }
    let n = (batch * rounds) as f64;
    println!("batch {batch} x {rounds}: with trigger {:.1} us/event, without {:.1} us/event ({:+.1}%)",
        t[0] / n * 1e6, t[1] / n * 1e6, (t[0] / t[1] - 1.0) * 100.0);
    std::fs::remove_dir_all(&dir).unwrap();
}
