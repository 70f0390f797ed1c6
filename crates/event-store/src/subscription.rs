//! Catch-up-then-live subscriptions over any backend.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::error::Result;
use crate::event::{Position, RecordedEvent};
use crate::store::EventStore;

/// Reads the log from a position on, first what is already there, then each
/// new event as it is committed, exactly once and in position order.
///
/// Because appends commit in position order, a reader that asks for
/// "everything after the last position I saw" never skips an event; wake-ups
/// from [`EventStore::append_signal`] make it prompt, and a poll interval is
/// the safety net for lost notifications.
pub struct Subscription {
    store: Arc<dyn EventStore>,
    cursor: Position,
    buffer: VecDeque<RecordedEvent>,
    signal: watch::Receiver<Position>,
    poll_interval: Duration,
    batch_size: usize,
}

impl Subscription {
    pub fn new(store: Arc<dyn EventStore>, after: Position) -> Self {
        let signal = store.append_signal();
        Subscription {
            store,
            cursor: after,
            buffer: VecDeque::new(),
            signal,
            poll_interval: Duration::from_millis(500),
            batch_size: 1000,
        }
    }

    /// How long to wait between polls when no wake-up arrives.
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// The position of the last event handed out.
    pub fn position(&self) -> Position {
        self.cursor
    }

    /// The next event, waiting for one to be appended if need be.
    pub async fn next(&mut self) -> Result<RecordedEvent> {
        loop {
            if let Some(event) = self.buffer.pop_front() {
                self.cursor = event.position;
                return Ok(event);
            }
            // Mark the signal seen *before* reading, so an append that lands
            // after the read still wakes us.
            self.signal.borrow_and_update();
            let batch = self.store.read_all(self.cursor, self.batch_size).await?;
            if !batch.is_empty() {
                self.buffer.extend(batch);
                continue;
            }
            tokio::select! {
                _ = self.signal.changed() => {}
                _ = tokio::time::sleep(self.poll_interval) => {}
            }
        }
    }

    /// The next event if one arrives within `timeout`.
    pub async fn next_timeout(&mut self, timeout: Duration) -> Result<Option<RecordedEvent>> {
        match tokio::time::timeout(timeout, self.next()).await {
            Ok(result) => result.map(Some),
            Err(_) => Ok(None),
        }
    }
}
