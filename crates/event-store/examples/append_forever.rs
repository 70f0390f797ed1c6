//! Appends 2,000-event batches to the stream `crash` until killed. The
//! contract suite runs it as a child process and kills it with SIGKILL in
//! the middle of a batch, to check that a crashed writer leaves only whole
//! batches and an intact hash chain.
//!
//! Usage: `append_forever DATABASE_URL`

use iam_event_store::{ExpectedVersion, NewEvent};

#[tokio::main]
async fn main() {
    let url = std::env::args()
        .nth(1)
        .expect("usage: append_forever DATABASE_URL");
    let store = iam_event_store::open(&url).await.expect("open the store");
    let mut batch = 0u64;
    loop {
        let events = (0..2000)
            .map(|i| {
                NewEvent::new(
                    "Crash",
                    1,
                    serde_json::json!({"batch": batch, "i": i, "pad": "x".repeat(100)}),
                )
            })
            .collect();
        store
            .append("crash", ExpectedVersion::Any, events)
            .await
            .expect("append");
        batch += 1;
        println!("{batch}");
    }
}
