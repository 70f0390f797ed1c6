//! The one trait every backend implements.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use tokio::sync::watch;

use crate::error::Result;
use crate::event::{
    AppendOutcome, ExpectedVersion, Head, MetadataIndex, NewEvent, Position, RecordedEvent,
    Snapshot, Until,
};

/// An append-only, hash-chained, totally ordered event log.
///
/// Guarantees every backend gives (checked by the contract suite in
/// `tests/contract.rs`):
/// - positions start at 1 and increase by one with no gaps; commit order is
///   position order, so a reader tailing by position never skips an event;
/// - `recorded_at` never decreases along the log;
/// - an append is atomic and checks the expected version of its stream;
/// - appending already-stored event ids writes nothing and returns the
///   original outcome;
/// - each event's hash is `SHA-256(previous hash || canonical encoding)`.
#[async_trait]
pub trait EventStore: Send + Sync + 'static {
    /// Appends `events` (at least one) to `stream` atomically.
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendOutcome>;

    /// Events of one stream with `stream_version > after_version`, in order,
    /// at most `limit`.
    async fn read_stream(
        &self,
        stream: &str,
        after_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>>;

    /// Like `read_stream`, but only events at global positions up to
    /// `until` (inclusive): time travel reads a stream up to a cut without
    /// fetching what lies past it.
    async fn read_stream_until(
        &self,
        stream: &str,
        after_version: u64,
        until: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>> {
        let mut batch = self.read_stream(stream, after_version, limit).await?;
        batch.retain(|e| e.position <= until);
        Ok(batch)
    }

    /// Every event of `stream` with `stream_version > after_version` at a
    /// global position up to `until`, in stream order, as one stream of
    /// events: what a replay reads. Replays need what happened, not who
    /// did it: each event's `metadata` is JSON `null`, never read.
    ///
    /// A backend answers with one query where it can, so a long stream is
    /// neither re-planned nor re-scanned once per page (PostgreSQL with
    /// stale statistics sorts the whole rest of the stream for every
    /// `LIMIT`ed page). This default pages through `read_stream_until`.
    fn stream_events<'a>(
        &'a self,
        stream: &'a str,
        after_version: u64,
        until: Position,
    ) -> BoxStream<'a, Result<RecordedEvent>> {
        use futures::{StreamExt, TryStreamExt};
        const PAGE: usize = 5000;
        futures::stream::try_unfold(Some(after_version), move |after| async move {
            let Some(after) = after else { return Ok(None) };
            let page = self.read_stream_until(stream, after, until, PAGE).await?;
            let next = match page.last() {
                Some(last) if page.len() == PAGE => Some(last.stream_version),
                _ => None,
            };
            Ok(Some((
                futures::stream::iter(page.into_iter().map(|mut e| {
                    e.metadata = serde_json::Value::Null;
                    Ok(e)
                })),
                next,
            )))
        })
        .try_flatten()
        .boxed()
    }

    /// The stream's current version (0 when it does not exist).
    async fn stream_version(&self, stream: &str) -> Result<u64>;

    /// Events of the global log after `after`, in position order, at most `limit`.
    async fn read_all(&self, after: Position, limit: usize) -> Result<Vec<RecordedEvent>>;

    /// The event at `position`, if the log has one there.
    async fn event_at(&self, position: Position) -> Result<Option<RecordedEvent>> {
        if position == Position::START {
            return Ok(None);
        }
        let read = self.read_all(Position(position.0 - 1), 1).await?;
        Ok(read.into_iter().find(|e| e.position == position))
    }

    /// Like `read_all`, but stops at a position or time (inclusive).
    async fn read_all_until(
        &self,
        after: Position,
        until: Until,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>> {
        let end = match until {
            Until::Position(p) => p,
            Until::Time(t) => self.position_at(t).await?,
        };
        if end <= after {
            return Ok(Vec::new());
        }
        let span = usize::try_from(end.0 - after.0).unwrap_or(usize::MAX);
        self.read_all(after, limit.min(span)).await
    }

    /// Events of `stream` after `after` whose metadata field `index` is
    /// exactly `value`, in position order, at most `limit`: read through
    /// that field's index, so the cost is the matches', not the log's.
    async fn read_indexed(
        &self,
        stream: &str,
        index: MetadataIndex,
        value: &str,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>>;

    /// The last position recorded at or before `time` (`Position::START` if none).
    async fn position_at(&self, time: DateTime<Utc>) -> Result<Position>;

    /// The end of the log.
    async fn head(&self) -> Result<Head>;

    /// A channel that carries the head position whenever an append is known to
    /// have happened (in this process, or — on PostgreSQL — in any process
    /// through LISTEN/NOTIFY). Subscribers also poll, so a missed wake-up
    /// only delays them.
    fn append_signal(&self) -> watch::Receiver<Position>;

    /// Saves a projection snapshot (replacing one of the same name and position).
    async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<()>;

    /// The newest snapshot called `name` taken at or before `at_or_before`.
    async fn load_snapshot(&self, name: &str, at_or_before: Position) -> Result<Option<Snapshot>>;

    /// Every stored snapshot's name, position and schema version (not its
    /// data), ordered by name and position: what `iamd verify` walks.
    async fn list_snapshots(&self) -> Result<Vec<(String, Position, u32)>>;

    /// Deletes the snapshots called `name` taken before `before`; returns
    /// how many. Snapshots are derived data, not the log: a projection that
    /// only ever needs its newest one (a checkpoint) keeps the table small.
    async fn prune_snapshots(&self, name: &str, before: Position) -> Result<u64>;

    /// The database this store talks to, for messages (password removed).
    fn database(&self) -> &str;
}

/// Moves an append signal's head forward to `head` (never back), waking
/// subscribers only when it moved. Both backends signal through this.
pub(crate) fn publish_head(sender: &watch::Sender<Position>, head: Position) {
    sender.send_if_modified(|known| {
        let newer = head > *known;
        if newer {
            *known = head;
        }
        newer
    });
}
