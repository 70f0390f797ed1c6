//! The PostgreSQL backend: the production log.
//!
//! Appends serialize on one head row (`event_log_head`), locked for the
//! length of the append transaction. The row holds the head position, the
//! last hash and the last `recorded_at`, so the next event's position, hash
//! and timestamp are computed under the lock and commit order equals position
//! order. An append is one round trip: the `iamd_append` function (see
//! migrations/postgres) locks the head, checks idempotency and the expected
//! version, completes the canonical encoding and chains the hashes, inserts
//! the batch, moves the head and sends `NOTIFY`, all in one autocommitted
//! statement, so the lock is never held across client round trips.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::{BoxStream, StreamExt};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions, PgRow};
use sqlx::{PgPool, Row};
use tokio::sync::watch;
use uuid::Uuid;

use crate::canonical::to_canonical_string;
use crate::error::{redact_url, Result, StoreError};
use crate::event::{
    AppendOutcome, ExpectedVersion, Head, MetadataIndex, NewEvent, Position, RecordedEvent,
    Snapshot,
};
use crate::hash::Hash;
use crate::hash::{canonical_middle, canonical_prefix};
use crate::store::EventStore;

/// The channel appends NOTIFY on; the payload is the new head position.
pub const NOTIFY_CHANNEL: &str = "iamd_events";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// Cheap to clone: clones share the pool, the LISTEN task and the signal.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    database: String,
    signal: Arc<watch::Sender<Position>>,
    _listener: Arc<ListenerTask>,
}

/// Stops the LISTEN task when the last clone of the store goes away.
struct ListenerTask(tokio::task::JoinHandle<()>);

impl Drop for ListenerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl PostgresStore {
    /// Connects and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        let store = Self::connect_without_migrating(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without touching the schema.
    pub async fn connect_without_migrating(url: &str) -> Result<Self> {
        let database = redact_url(url);
        let options: PgConnectOptions = url.parse().map_err(|source| StoreError::Connect {
            database: database.clone(),
            source,
        })?;
        // One direct attempt first: an unreachable server answers with its
        // real cause ("Connection refused", an authentication failure) at
        // once, where the pool would retry until its acquire timeout and
        // then report only that it timed out.
        match tokio::time::timeout(
            Duration::from_secs(5),
            <sqlx::PgConnection as sqlx::Connection>::connect_with(&options),
        )
        .await
        {
            Ok(Ok(probe)) => {
                let _ = sqlx::Connection::close(probe).await;
            }
            Ok(Err(source)) => {
                return Err(StoreError::Connect {
                    database: database.clone(),
                    source,
                })
            }
            Err(_) => {
                return Err(StoreError::Connect {
                    database: database.clone(),
                    source: sqlx::Error::PoolTimedOut,
                })
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            // sqlx pings every connection it hands out by default: one more
            // round trip per append. A dead connection fails the statement
            // instead, which surfaces as an error and is retried by callers.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Connect {
                database: database.clone(),
                source,
            })?;
        Ok(Self::from_pool(pool, database))
    }

    /// Wraps an existing pool (the schema must already be migrated).
    pub fn from_pool(pool: PgPool, database: String) -> Self {
        let (sender, _) = watch::channel(Position::START);
        let signal = Arc::new(sender);
        let listener = tokio::spawn(listen(pool.clone(), Arc::downgrade(&signal)));
        PostgresStore {
            pool,
            database,
            signal,
            _listener: Arc::new(ListenerTask(listener)),
        }
    }

    /// Applies pending migrations; harmless when there are none.
    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|source| StoreError::Migrate {
                database: self.database.clone(),
                source,
            })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn db_err(&self, source: sqlx::Error) -> StoreError {
        StoreError::Database {
            database: self.database.clone(),
            source,
        }
    }

    fn decode(&self, row: &PgRow) -> Result<RecordedEvent> {
        let position: i64 = row.try_get("position").map_err(|e| self.db_err(e))?;
        let hash_bytes: Vec<u8> = row.try_get("hash").map_err(|e| self.db_err(e))?;
        let hash = Hash::from_slice(&hash_bytes).ok_or_else(|| StoreError::Corrupt {
            database: self.database.clone(),
            position: position as u64,
            reason: format!("hash has {} bytes, not 32", hash_bytes.len()),
        })?;
        let get = |e| self.db_err(e);
        Ok(RecordedEvent {
            position: Position(position as u64),
            stream_id: row.try_get("stream_id").map_err(get)?,
            stream_version: row.try_get::<i64, _>("stream_version").map_err(get)? as u64,
            event_id: row.try_get("event_id").map_err(get)?,
            event_type: row.try_get("event_type").map_err(get)?,
            schema_version: row.try_get::<i32, _>("schema_version").map_err(get)? as u32,
            payload: row.try_get("payload").map_err(get)?,
            metadata: row.try_get("metadata").map_err(get)?,
            recorded_at: row.try_get("recorded_at").map_err(get)?,
            hash,
        })
    }

    async fn original_outcome(&self, stream: &str, ids: &[Uuid]) -> Result<AppendOutcome> {
        let rows = sqlx::query(
            "SELECT position, stream_id, stream_version, event_id, recorded_at FROM events \
             WHERE event_id = ANY($1) ORDER BY position",
        )
        .bind(ids)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db_err(e))?;
        let mut stored = Vec::with_capacity(rows.len());
        for row in &rows {
            let position: i64 = row.try_get("position").map_err(|e| self.db_err(e))?;
            let stream_id: String = row.try_get("stream_id").map_err(|e| self.db_err(e))?;
            let version: i64 = row.try_get("stream_version").map_err(|e| self.db_err(e))?;
            let event_id: Uuid = row.try_get("event_id").map_err(|e| self.db_err(e))?;
            let recorded_at: DateTime<Utc> =
                row.try_get("recorded_at").map_err(|e| self.db_err(e))?;
            stored.push((
                position as u64,
                stream_id,
                version as u64,
                event_id,
                recorded_at,
            ));
        }
        crate::prepare::original_outcome(stream, ids, &stored)
    }
}

/// Follows `NOTIFY` on [`NOTIFY_CHANNEL`] and forwards positions to the
/// store's signal; reconnects after errors. Subscribers poll as well, so
/// this only makes them faster.
async fn listen(pool: PgPool, signal: std::sync::Weak<watch::Sender<Position>>) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(error) => {
                tracing::warn!(%error, "cannot LISTEN for appends; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                if signal.strong_count() == 0 {
                    return;
                }
                continue;
            }
        };
        if let Err(error) = listener.listen(NOTIFY_CHANNEL).await {
            tracing::warn!(%error, "LISTEN failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        // Appends made while no LISTEN was active sent notifications nobody
        // heard: publish the head as the database has it now, so subscribers
        // behind it read on at once instead of at their next poll.
        match sqlx::query_scalar::<_, i64>("SELECT position FROM event_log_head")
            .fetch_one(&pool)
            .await
        {
            Ok(head) => {
                let Some(sender) = signal.upgrade() else {
                    return;
                };
                crate::store::publish_head(&sender, Position(head as u64));
            }
            Err(error) => tracing::warn!(%error, "cannot read the head after LISTEN"),
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    let Some(sender) = signal.upgrade() else {
                        return;
                    };
                    if let Ok(p) = notification.payload().parse::<u64>() {
                        crate::store::publish_head(&sender, Position(p));
                    }
                }
                // The connection was lost: wake subscribers so they re-read,
                // then reconnect here (not inside the listener), so the head
                // is read again once LISTEN is back.
                Ok(None) => {
                    let Some(sender) = signal.upgrade() else {
                        return;
                    };
                    sender.send_modify(|_| {});
                    break;
                }
                Err(error) => {
                    tracing::warn!(%error, "notification connection failed; reconnecting");
                    break;
                }
            }
        }
    }
}

/// `SELECT` of every column of `events`, followed by the given literals
/// (a macro, so a whole query can be a `&'static str`).
macro_rules! select_event {
    ($($rest:expr),*) => {
        concat!(
            "SELECT position, stream_id, stream_version, event_id, event_type, schema_version, \
             payload, metadata, recorded_at, hash FROM events",
            $($rest),*
        )
    };
}

const SELECT_EVENT: &str = select_event!();

/// The expression each metadata index is built on, exactly as the
/// migration `20261202000003_metadata_indexes.sql` writes it (the planner
/// uses an expression index only for the same expression).
fn indexed(index: MetadataIndex) -> &'static str {
    match index {
        MetadataIndex::Actor => "(metadata -> 'actor' ->> 'principal_arn')",
        MetadataIndex::Target => "(metadata ->> 'target')",
    }
}

#[async_trait]
impl EventStore for PostgresStore {
    /// Runs in its own task, so a cancelled caller never abandons a
    /// transaction halfway: it commits or rolls back on its own, and a retry
    /// with the same event ids returns its outcome.
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendOutcome> {
        crate::prepare::validate(stream, &events)?;
        let this = self.clone();
        let stream = stream.to_owned();
        tokio::spawn(async move { this.append_in_task(&stream, expected, events).await })
            .await
            .map_err(|e| StoreError::Internal(format!("the append task failed: {e}")))?
    }
    async fn read_stream(
        &self,
        stream: &str,
        after_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>> {
        let rows = sqlx::query(&format!(
            "{SELECT_EVENT} WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version LIMIT $3"
        ))
        .bind(stream)
        .bind(crate::sql::int(after_version))
        .bind(crate::sql::int(limit as u64))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db_err(e))?;
        rows.iter().map(|r| self.decode(r)).collect()
    }

    async fn read_stream_until(
        &self,
        stream: &str,
        after_version: u64,
        until: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>> {
        let rows = sqlx::query(&format!(
            "{SELECT_EVENT} WHERE stream_id = $1 AND stream_version > $2 AND position <= $3 AND {} \
             ORDER BY stream_version LIMIT $4",
            crate::sql::versions_up_to_the_cut!("$1", "$2", "$3")
        ))
        .bind(stream)
        .bind(crate::sql::int(after_version))
        .bind(crate::sql::int(until.0))
        .bind(crate::sql::int(limit as u64))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db_err(e))?;
        rows.iter().map(|r| self.decode(r)).collect()
    }

    /// One query whose rows are decoded as they arrive: whatever plan the
    /// statistics give, the stream is scanned once.
    fn stream_events<'a>(
        &'a self,
        stream: &'a str,
        after_version: u64,
        until: Position,
    ) -> BoxStream<'a, Result<RecordedEvent>> {
        // Metadata stays in the database: a replay reads what happened,
        // not who did it (parsing it was a tenth of a replay's time).
        sqlx::query(concat!(
            "SELECT position, stream_id, stream_version, event_id, event_type, schema_version, \
             payload, 'null'::json AS metadata, recorded_at, hash FROM events",
            " WHERE stream_id = $1 AND stream_version > $2 AND position <= $3 AND ",
            crate::sql::versions_up_to_the_cut!("$1", "$2", "$3"),
            " ORDER BY stream_version"
        ))
        .bind(stream)
        .bind(crate::sql::int(after_version))
        .bind(crate::sql::int(until.0))
        .fetch(&self.pool)
        .map(move |row| {
            row.map_err(|e| self.db_err(e))
                .and_then(|r| self.decode(&r))
        })
        .boxed()
    }

    async fn stream_version(&self, stream: &str) -> Result<u64> {
        let v: i64 = sqlx::query_scalar(
            "SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1",
        )
        .bind(stream)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.db_err(e))?;
        Ok(v as u64)
    }

    async fn read_all(&self, after: Position, limit: usize) -> Result<Vec<RecordedEvent>> {
        let rows = sqlx::query(&format!(
            "{SELECT_EVENT} WHERE position > $1 ORDER BY position LIMIT $2"
        ))
        .bind(crate::sql::int(after.0))
        .bind(crate::sql::int(limit as u64))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db_err(e))?;
        rows.iter().map(|r| self.decode(r)).collect()
    }

    async fn read_indexed(
        &self,
        stream: &str,
        index: MetadataIndex,
        value: &str,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>> {
        let rows = sqlx::query(&format!(
            "{SELECT_EVENT} WHERE {} = $1 AND stream_id = $2 AND position > $3 \
             ORDER BY position LIMIT $4",
            indexed(index)
        ))
        .bind(value)
        .bind(stream)
        .bind(crate::sql::int(after.0))
        .bind(crate::sql::int(limit as u64))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db_err(e))?;
        rows.iter().map(|r| self.decode(r)).collect()
    }

    async fn position_at(&self, time: DateTime<Utc>) -> Result<Position> {
        let p: Option<i64> = sqlx::query_scalar(
            "SELECT position FROM events WHERE recorded_at <= $1 ORDER BY recorded_at DESC, position DESC LIMIT 1",
        )
        .bind(time)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.db_err(e))?;
        Ok(Position(p.unwrap_or(0) as u64))
    }

    async fn head(&self) -> Result<Head> {
        let row = sqlx::query("SELECT position, hash, recorded_at FROM event_log_head")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.db_err(e))?;
        let position: i64 = row.try_get("position").map_err(|e| self.db_err(e))?;
        let hash: Vec<u8> = row.try_get("hash").map_err(|e| self.db_err(e))?;
        Ok(Head {
            position: Position(position as u64),
            hash: Hash::from_slice(&hash).ok_or_else(|| StoreError::Corrupt {
                database: self.database.clone(),
                position: position as u64,
                reason: "head hash is not 32 bytes".into(),
            })?,
            recorded_at: row.try_get("recorded_at").map_err(|e| self.db_err(e))?,
        })
    }

    fn append_signal(&self) -> watch::Receiver<Position> {
        self.signal.subscribe()
    }

    async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<()> {
        sqlx::query(
            "INSERT INTO snapshots (name, position, schema_version, data) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name, position) DO UPDATE SET schema_version = EXCLUDED.schema_version, \
             data = EXCLUDED.data, created_at = now()",
        )
        .bind(&snapshot.name)
        .bind(snapshot.position.0 as i64)
        .bind(snapshot.schema_version as i32)
        .bind(&snapshot.data)
        .execute(&self.pool)
        .await
        .map_err(|e| self.db_err(e))?;
        Ok(())
    }

    async fn prune_snapshots(&self, name: &str, before: Position) -> Result<u64> {
        let done = sqlx::query("DELETE FROM snapshots WHERE name = $1 AND position < $2")
            .bind(name)
            .bind(crate::sql::int(before.0))
            .execute(&self.pool)
            .await
            .map_err(|e| self.db_err(e))?;
        Ok(done.rows_affected())
    }

    async fn list_snapshots(&self) -> Result<Vec<(String, Position, u32)>> {
        let rows = sqlx::query(
            "SELECT name, position, schema_version FROM snapshots ORDER BY name, position",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db_err(e))?;
        rows.iter()
            .map(|row| {
                let name: String = row.try_get("name").map_err(|e| self.db_err(e))?;
                let position: i64 = row.try_get("position").map_err(|e| self.db_err(e))?;
                let version: i32 = row.try_get("schema_version").map_err(|e| self.db_err(e))?;
                Ok((name, Position(position as u64), version as u32))
            })
            .collect()
    }

    async fn load_snapshot(&self, name: &str, at_or_before: Position) -> Result<Option<Snapshot>> {
        let row = sqlx::query(
            "SELECT name, position, schema_version, data FROM snapshots \
             WHERE name = $1 AND position <= $2 ORDER BY position DESC LIMIT 1",
        )
        .bind(name)
        .bind(crate::sql::int(at_or_before.0))
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.db_err(e))?;
        row.map(|row| {
            Ok(Snapshot {
                name: row.try_get("name").map_err(|e| self.db_err(e))?,
                position: Position(
                    row.try_get::<i64, _>("position")
                        .map_err(|e| self.db_err(e))? as u64,
                ),
                schema_version: row
                    .try_get::<i32, _>("schema_version")
                    .map_err(|e| self.db_err(e))? as u32,
                data: row.try_get("data").map_err(|e| self.db_err(e))?,
            })
        })
        .transpose()
    }

    fn database(&self) -> &str {
        &self.database
    }
}

impl PostgresStore {
    /// One round trip: `iamd_append` (migrations/postgres) does the whole
    /// append under the head lock inside the database.
    async fn append_in_task(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendOutcome> {
        let ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
        let mut prefixes = Vec::with_capacity(events.len());
        let mut middles = Vec::with_capacity(events.len());
        let mut payloads = Vec::with_capacity(events.len());
        let mut metadata = Vec::with_capacity(events.len());
        for e in &events {
            prefixes.push(utf8(canonical_prefix(
                &e.event_id,
                &e.event_type,
                &e.metadata,
                &e.payload,
            )));
            middles.push(utf8(canonical_middle(e.schema_version, stream)));
            payloads.push(to_canonical_string(&e.payload));
            metadata.push(to_canonical_string(&e.metadata));
        }
        let row = sqlx::query(
            "SELECT status, first_position, last_position, stream_version, recorded_at \
             FROM iamd_append($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(stream)
        .bind(expected.required().map(|v| v as i64).unwrap_or(-1))
        .bind(&ids)
        .bind(
            events
                .iter()
                .map(|e| e.event_type.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            events
                .iter()
                .map(|e| e.schema_version as i32)
                .collect::<Vec<_>>(),
        )
        .bind(&payloads)
        .bind(&metadata)
        .bind(&prefixes)
        .bind(&middles)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.db_err(e))?;
        let status: String = row.try_get("status").map_err(|e| self.db_err(e))?;
        match status.as_str() {
            "appended" => {
                let first: i64 = row.try_get("first_position").map_err(|e| self.db_err(e))?;
                let last: i64 = row.try_get("last_position").map_err(|e| self.db_err(e))?;
                let version: i64 = row.try_get("stream_version").map_err(|e| self.db_err(e))?;
                let recorded_at: DateTime<Utc> =
                    row.try_get("recorded_at").map_err(|e| self.db_err(e))?;
                self.signal.send_if_modified(|head| {
                    let newer = last as u64 > head.0;
                    if newer {
                        *head = Position(last as u64);
                    }
                    newer
                });
                Ok(AppendOutcome {
                    first_position: Position(first as u64),
                    last_position: Position(last as u64),
                    stream_version: version as u64,
                    recorded_at,
                    duplicate: false,
                })
            }
            "duplicate" => self.original_outcome(stream, &ids).await,
            "conflict" => {
                let actual: i64 = row.try_get("stream_version").map_err(|e| self.db_err(e))?;
                Err(StoreError::Conflict {
                    stream: stream.to_owned(),
                    expected,
                    actual: actual as u64,
                })
            }
            other => Err(StoreError::Internal(format!(
                "iamd_append returned status {other:?}"
            ))),
        }
    }
}

/// The canonical encoder writes UTF-8 only.
fn utf8(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_default()
}
