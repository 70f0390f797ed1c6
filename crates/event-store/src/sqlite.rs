//! The SQLite backend: the zero-setup embedded default.
//!
//! The same design as PostgreSQL, in one file: WAL journal, `synchronous =
//! FULL` so a committed append survives power loss, appends in `BEGIN
//! IMMEDIATE` transactions (SQLite's single writer lock plays the role of the
//! head-row lock), and an in-process mutex so writers in one process queue
//! rather than spin on `SQLITE_BUSY`. Times are stored as integer
//! microseconds since the Unix epoch, JSON as canonical text.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};
use tokio::sync::{watch, Mutex};
use uuid::Uuid;

use crate::error::{redact_url, Result, StoreError};
use crate::event::{
    AppendOutcome, ExpectedVersion, Head, MetadataIndex, NewEvent, Position, RecordedEvent,
    Snapshot,
};
use crate::hash::Hash;
use crate::prepare::{prepare_batch, truncate_to_micros};
use crate::store::EventStore;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// Cheap to clone: clones share the pool, the wake-up signal and the writer lock.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    database: String,
    signal: Arc<watch::Sender<Position>>,
    write_lock: Arc<Mutex<()>>,
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn from_micros(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// Creates the database file, readable and writable by its owner only
/// (0600, like the key files beside it), if it does not exist yet. SQLite
/// gives the `-wal` and `-shm` files it creates the database file's mode.
fn create_private(path: &std::path::Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

impl SqliteStore {
    /// Opens (creating the file and its directory if needed) and migrates.
    pub async fn connect(url: &str) -> Result<Self> {
        let store = Self::open_with(url, true).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens an existing database without touching its schema; a missing
    /// file is an error rather than a new empty log.
    pub async fn connect_without_migrating(url: &str) -> Result<Self> {
        Self::open_with(url, false).await
    }

    async fn open_with(url: &str, create: bool) -> Result<Self> {
        let database = redact_url(url);
        let connect_err = |source| StoreError::Connect {
            database: database.clone(),
            source,
        };
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let mut options = SqliteConnectOptions::from_str(url)
            .map_err(connect_err)?
            .create_if_missing(create)
            .busy_timeout(Duration::from_secs(10))
            .synchronous(SqliteSynchronous::Full);
        if !in_memory {
            options = options.journal_mode(SqliteJournalMode::Wal);
        }
        if !in_memory && create {
            if let Some(dir) = options.get_filename().parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir).map_err(|e| StoreError::Connect {
                        database: database.clone(),
                        source: sqlx::Error::Io(e),
                    })?;
                }
            }
            create_private(options.get_filename()).map_err(|e| StoreError::Connect {
                database: database.clone(),
                source: sqlx::Error::Io(e),
            })?;
        }
        let pool = SqlitePoolOptions::new()
            // An in-memory database exists per connection: keep exactly one.
            .max_connections(if in_memory { 1 } else { 8 })
            .min_connections(if in_memory { 1 } else { 0 })
            .idle_timeout(if in_memory {
                None
            } else {
                Some(Duration::from_secs(600))
            })
            .max_lifetime(if in_memory {
                None
            } else {
                Some(Duration::from_secs(1800))
            })
            .connect_with(options)
            .await
            .map_err(connect_err)?;
        let (sender, _) = watch::channel(Position::START);
        Ok(SqliteStore {
            pool,
            database,
            signal: Arc::new(sender),
            write_lock: Arc::new(Mutex::new(())),
        })
    }

    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|source| StoreError::Migrate {
                database: self.database.clone(),
                source,
            })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    fn db_err(&self, source: sqlx::Error) -> StoreError {
        StoreError::Database {
            database: self.database.clone(),
            source,
        }
    }

    fn corrupt(&self, position: i64, reason: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            database: self.database.clone(),
            position: position as u64,
            reason: reason.into(),
        }
    }

    fn decode(&self, row: &SqliteRow) -> Result<RecordedEvent> {
        let get = |e| self.db_err(e);
        let position: i64 = row.try_get("position").map_err(get)?;
        let hash_bytes: Vec<u8> = row.try_get("hash").map_err(get)?;
        let hash = Hash::from_slice(&hash_bytes).ok_or_else(|| {
            self.corrupt(
                position,
                format!("hash has {} bytes, not 32", hash_bytes.len()),
            )
        })?;
        let event_id: String = row.try_get("event_id").map_err(get)?;
        let payload: String = row.try_get("payload").map_err(get)?;
        let metadata: String = row.try_get("metadata").map_err(get)?;
        Ok(RecordedEvent {
            position: Position(position as u64),
            stream_id: row.try_get("stream_id").map_err(get)?,
            stream_version: row.try_get::<i64, _>("stream_version").map_err(get)? as u64,
            event_id: Uuid::parse_str(&event_id)
                .map_err(|e| self.corrupt(position, format!("event id: {e}")))?,
            event_type: row.try_get("event_type").map_err(get)?,
            schema_version: row.try_get::<i64, _>("schema_version").map_err(get)? as u32,
            payload: serde_json::from_str(&payload)
                .map_err(|e| self.corrupt(position, format!("payload: {e}")))?,
            metadata: serde_json::from_str(&metadata)
                .map_err(|e| self.corrupt(position, format!("metadata: {e}")))?,
            recorded_at: from_micros(row.try_get("recorded_at").map_err(get)?),
            hash,
        })
    }

    async fn original_outcome(&self, stream: &str, ids: &[Uuid]) -> Result<AppendOutcome> {
        let id_list = serde_json::to_string(&ids.iter().map(|i| i.to_string()).collect::<Vec<_>>())
            .unwrap_or_default();
        let rows = sqlx::query(
            "SELECT position, stream_id, stream_version, event_id, recorded_at FROM events \
             WHERE event_id IN (SELECT value FROM json_each(?1)) ORDER BY position",
        )
        .bind(id_list)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db_err(e))?;
        let mut stored = Vec::with_capacity(rows.len());
        for row in &rows {
            let get = |e| self.db_err(e);
            let position: i64 = row.try_get("position").map_err(get)?;
            let event_id: String = row.try_get("event_id").map_err(get)?;
            stored.push((
                position as u64,
                row.try_get::<String, _>("stream_id").map_err(get)?,
                row.try_get::<i64, _>("stream_version").map_err(get)? as u64,
                Uuid::parse_str(&event_id).map_err(|e| self.corrupt(position, e.to_string()))?,
                from_micros(row.try_get("recorded_at").map_err(get)?),
            ));
        }
        crate::prepare::original_outcome(stream, ids, &stored)
    }
}

const SELECT_EVENT: &str =
    "SELECT position, stream_id, stream_version, event_id, event_type, schema_version, \
                            payload, metadata, recorded_at, hash FROM events";

/// The expression each metadata index is built on, exactly as the
/// migration `20261202000003_metadata_indexes.sql` writes it (the planner
/// uses an expression index only for the same expression).
fn indexed(index: MetadataIndex) -> &'static str {
    match index {
        MetadataIndex::Actor => "json_extract(metadata, '$.actor.principal_arn')",
        MetadataIndex::Target => "json_extract(metadata, '$.target')",
    }
}

#[async_trait]
impl EventStore for SqliteStore {
    /// Runs in its own task: a caller that is cancelled mid-append cannot
    /// leave a half-done transaction holding SQLite's write lock; the append
    /// commits or rolls back on its own, and a retry with the same event ids
    /// returns its outcome.
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
            "{SELECT_EVENT} WHERE stream_id = ?1 AND stream_version > ?2 ORDER BY stream_version LIMIT ?3"
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
            "{SELECT_EVENT} WHERE stream_id = ?1 AND stream_version > ?2 AND position <= ?3 AND {} \
             ORDER BY stream_version LIMIT ?4",
            crate::sql::versions_up_to_the_cut!("?1", "?2", "?3")
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

    async fn stream_version(&self, stream: &str) -> Result<u64> {
        let v: i64 = sqlx::query_scalar(
            "SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = ?1",
        )
        .bind(stream)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.db_err(e))?;
        Ok(v as u64)
    }

    async fn read_all(&self, after: Position, limit: usize) -> Result<Vec<RecordedEvent>> {
        let rows = sqlx::query(&format!(
            "{SELECT_EVENT} WHERE position > ?1 ORDER BY position LIMIT ?2"
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
            "{SELECT_EVENT} WHERE {} = ?1 AND stream_id = ?2 AND position > ?3 \
             ORDER BY position LIMIT ?4",
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
            "SELECT position FROM events WHERE recorded_at <= ?1 ORDER BY recorded_at DESC, position DESC LIMIT 1",
        )
        .bind(micros(time))
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
        let recorded_at: Option<i64> = row.try_get("recorded_at").map_err(|e| self.db_err(e))?;
        Ok(Head {
            position: Position(position as u64),
            hash: Hash::from_slice(&hash)
                .ok_or_else(|| self.corrupt(position, "head hash is not 32 bytes"))?,
            recorded_at: recorded_at.map(from_micros),
        })
    }

    fn append_signal(&self) -> watch::Receiver<Position> {
        self.signal.subscribe()
    }

    async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<()> {
        sqlx::query(
            "INSERT INTO snapshots (name, position, schema_version, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (name, position) DO UPDATE SET schema_version = excluded.schema_version, \
             data = excluded.data, created_at = excluded.created_at",
        )
        .bind(&snapshot.name)
        .bind(snapshot.position.0 as i64)
        .bind(snapshot.schema_version as i64)
        .bind(&snapshot.data)
        .bind(micros(Utc::now()))
        .execute(&self.pool)
        .await
        .map_err(|e| self.db_err(e))?;
        Ok(())
    }

    async fn prune_snapshots(&self, name: &str, before: Position) -> Result<u64> {
        let done = sqlx::query("DELETE FROM snapshots WHERE name = ?1 AND position < ?2")
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
                let version: i64 = row.try_get("schema_version").map_err(|e| self.db_err(e))?;
                Ok((name, Position(position as u64), version as u32))
            })
            .collect()
    }

    async fn load_snapshot(&self, name: &str, at_or_before: Position) -> Result<Option<Snapshot>> {
        let row = sqlx::query(
            "SELECT name, position, schema_version, data FROM snapshots \
             WHERE name = ?1 AND position <= ?2 ORDER BY position DESC LIMIT 1",
        )
        .bind(name)
        .bind(crate::sql::int(at_or_before.0))
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.db_err(e))?;
        row.map(|row| {
            let get = |e| self.db_err(e);
            Ok(Snapshot {
                name: row.try_get("name").map_err(get)?,
                position: Position(row.try_get::<i64, _>("position").map_err(get)? as u64),
                schema_version: row.try_get::<i64, _>("schema_version").map_err(get)? as u32,
                data: row.try_get("data").map_err(get)?,
            })
        })
        .transpose()
    }

    fn database(&self) -> &str {
        &self.database
    }
}

impl SqliteStore {
    async fn append_in_task(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendOutcome> {
        let _writer = self.write_lock.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| self.db_err(e))?;
        let head = sqlx::query("SELECT position, hash, recorded_at FROM event_log_head")
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| self.db_err(e))?;
        let head_position: i64 = head.try_get("position").map_err(|e| self.db_err(e))?;
        let head_hash: Vec<u8> = head.try_get("hash").map_err(|e| self.db_err(e))?;
        let head_time: Option<i64> = head.try_get("recorded_at").map_err(|e| self.db_err(e))?;
        let head_hash = Hash::from_slice(&head_hash)
            .ok_or_else(|| self.corrupt(head_position, "head hash is not 32 bytes"))?;
        let now = truncate_to_micros(Utc::now());
        let recorded_at = match head_time.map(from_micros) {
            Some(last) if last > now => last,
            _ => now,
        };

        let ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
        let id_list = serde_json::to_string(&ids.iter().map(|i| i.to_string()).collect::<Vec<_>>())
            .unwrap_or_default();
        let duplicates: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM events WHERE event_id IN (SELECT value FROM json_each(?1))",
        )
        .bind(&id_list)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| self.db_err(e))?;
        if duplicates > 0 {
            tx.rollback().await.map_err(|e| self.db_err(e))?;
            return self.original_outcome(stream, &ids).await;
        }
        let actual: i64 = sqlx::query_scalar(
            "SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = ?1",
        )
        .bind(stream)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| self.db_err(e))?;
        let current = actual as u64;
        if let Some(required) = expected.required() {
            if required != current {
                tx.rollback().await.map_err(|e| self.db_err(e))?;
                return Err(StoreError::Conflict {
                    stream: stream.to_owned(),
                    expected,
                    actual: current,
                });
            }
        }

        let batch = prepare_batch(
            stream,
            current,
            head_position as u64,
            &head_hash,
            recorded_at,
            &events,
        );
        for (prepared, event) in batch.iter().zip(&events) {
            sqlx::query(
                "INSERT INTO events (position, stream_id, stream_version, event_id, event_type, schema_version, \
                 payload, metadata, recorded_at, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .bind(prepared.position as i64)
            .bind(stream)
            .bind(prepared.stream_version as i64)
            .bind(event.event_id.to_string())
            .bind(&event.event_type)
            .bind(event.schema_version as i64)
            .bind(&prepared.payload_json)
            .bind(&prepared.metadata_json)
            .bind(micros(recorded_at))
            .bind(prepared.hash.0.as_slice())
            .execute(&mut *tx)
            .await
            .map_err(|e| self.db_err(e))?;
        }
        let last = batch
            .last()
            .map(|e| (e.position, e.hash))
            .unwrap_or((head_position as u64, head_hash));
        sqlx::query("UPDATE event_log_head SET position = ?1, hash = ?2, recorded_at = ?3")
            .bind(last.0 as i64)
            .bind(last.1 .0.as_slice())
            .bind(micros(recorded_at))
            .execute(&mut *tx)
            .await
            .map_err(|e| self.db_err(e))?;
        tx.commit().await.map_err(|e| self.db_err(e))?;
        crate::store::publish_head(&self.signal, Position(last.0));
        Ok(AppendOutcome {
            first_position: Position(batch[0].position),
            last_position: Position(last.0),
            stream_version: current + events.len() as u64,
            recorded_at,
            duplicate: false,
        })
    }
}
