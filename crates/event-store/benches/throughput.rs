//! Event store throughput on PostgreSQL (`DATABASE_URL`); run through
//! `cargo xtask bench event-store`, which also measures PostgreSQL's ceiling.
//! Prints `name value` lines (events per second).

use std::sync::Arc;
use std::time::{Duration, Instant};

use iam_event_store::{verify, EventStore, ExpectedVersion, NewEvent, Position, PostgresStore};
use serde_json::json;
use sqlx::{Connection, Executor};

fn event(n: u64) -> NewEvent {
    NewEvent::new(
        "UserCreated",
        1,
        json!({"n": n, "name": format!("user-{n:06}"), "path": "/engineering/", "tags": {"team": "platform"}}),
    )
    .with_metadata(json!({"actor": "arn:aws:iam::123456789012:root", "request_id": uuid::Uuid::new_v4().to_string()}))
}

async fn fresh_store(admin_url: &str, name: &str) -> Arc<PostgresStore> {
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connect");
    conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await
        .unwrap();
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let mut url = url::Url::parse(admin_url).unwrap();
    url.set_path(name);
    Arc::new(PostgresStore::connect(url.as_str()).await.expect("open"))
}

async fn appends(store: Arc<PostgresStore>, writers: u64, batch: u64, seconds: u64) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let stream = format!("bench-{writers}-{w}-{batch}");
            let mut version = 0;
            let mut written = 0u64;
            let (mut making, mut appending) = (0f64, 0f64);
            while Instant::now() < deadline {
                let t = Instant::now();
                let events: Vec<NewEvent> = (0..batch).map(|i| event(version + i)).collect();
                making += t.elapsed().as_secs_f64();
                let t = Instant::now();
                store
                    .append(&stream, ExpectedVersion::Exact(version), events)
                    .await
                    .expect("append");
                appending += t.elapsed().as_secs_f64();
                version += batch;
                written += batch;
            }
            if w == 0 {
                eprintln!(
                    "writer 0, batch {batch}: {:.3} ms making events, {:.3} ms appending, per append",
                    1000.0 * making / (written / batch) as f64,
                    1000.0 * appending / (written / batch) as f64
                );
            }
            written
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(10u64);
    let admin_url = std::env::var("DATABASE_URL").expect("DATABASE_URL=postgres://...");

    let store = fresh_store(&admin_url, "iamd_bench_store").await;
    println!(
        "append_single_1_writer {:.1}",
        appends(store.clone(), 1, 1, seconds).await
    );
    println!(
        "append_single_16_writers {:.1}",
        appends(store.clone(), 16, 1, seconds).await
    );
    println!(
        "append_batch_100 {:.1}",
        appends(store.clone(), 1, 100, seconds).await
    );
    // Grow the log to at least 200,000 events for the read-side figures.
    let mut head = store.head().await.unwrap().position.0;
    let mut filler = 0u64;
    while head < 200_000 {
        let events: Vec<NewEvent> = (0..1000).map(event).collect();
        head = store
            .append(
                &format!("filler-{filler}"),
                ExpectedVersion::NoStream,
                events,
            )
            .await
            .unwrap()
            .last_position
            .0;
        filler += 1;
    }
    println!("log_events {head}");

    let start = Instant::now();
    let mut cursor = Position::START;
    let mut read = 0u64;
    loop {
        let batch = store.read_all(cursor, 10_000).await.unwrap();
        let Some(last) = batch.last() else { break };
        cursor = last.position;
        read += batch.len() as u64;
    }
    println!("replay {:.1}", read as f64 / start.elapsed().as_secs_f64());

    let start = Instant::now();
    let result = verify(store.as_ref()).await.unwrap();
    let elapsed = start.elapsed().as_secs_f64();
    assert!(
        matches!(result, iam_event_store::Verification::Intact { .. }),
        "{result:?}"
    );
    println!("verify {:.1}", head as f64 / elapsed);
}
