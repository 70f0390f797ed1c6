//! The current view of every account, kept up to date by following the log,
//! and the write path.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use iam_domain::ids::AccountId;
use iam_domain::{
    decide, evolve, AccountState, Command, DomainError, Event, EventMetadata, Quotas,
    SCHEMA_VERSION,
};
use iam_event_store::{EventStore, ExpectedVersion, NewEvent, Position, RecordedEvent, StoreError};
use tokio::sync::watch;

use crate::error::ProjectionError;
use crate::snapshot;
use crate::stats::{AppendResult, ProjectionStats};
use crate::view::{take_domain_event, AccountView};

/// How a projection behaves.
#[derive(Debug, Clone)]
pub struct ProjectionConfig {
    /// Save an account's snapshot every this many of its events (0: never).
    pub snapshot_every: u64,
    /// Save a checkpoint of every account's view every this many events of
    /// the whole log (0: never); a restarting node starts from the newest.
    pub checkpoint_every: u64,
    /// Attempts of one command before giving up under contention.
    pub max_attempts: u32,
    /// The IAM quotas `decide` enforces.
    pub quotas: Quotas,
    /// How often a follower polls when no wake-up arrives.
    pub poll_interval: Duration,
    /// Authenticates the snapshots and checkpoints this projection saves
    /// and trusts (the server derives it from the master key). The default
    /// is a random key of this process: nothing another process saved is
    /// trusted.
    pub snapshot_key: snapshot::SnapshotKey,
}

impl Default for ProjectionConfig {
    fn default() -> Self {
        ProjectionConfig {
            snapshot_every: 1000,
            checkpoint_every: 50_000,
            max_attempts: 30,
            quotas: Quotas::default(),
            poll_interval: Duration::from_millis(500),
            snapshot_key: snapshot::SnapshotKey::ephemeral(),
        }
    }
}

/// What a successful command did.
#[derive(Debug, Clone)]
pub struct CommandOutcome {
    /// The events appended (empty for a command that changed nothing).
    pub events: Vec<Event>,
    /// The log position of the last appended event — or, when nothing was
    /// appended, of the view the command was decided against. A client can
    /// wait for any node to reach it to read its own write.
    pub position: Position,
    /// How many attempts it took (1 without contention).
    pub attempts: u32,
    /// How many commands were decided and appended together with this one,
    /// itself included (1 when it ran alone).
    pub batch: usize,
}

struct Inner {
    position: Position,
    accounts: HashMap<String, Arc<AccountView>>,
    snapshotted: HashMap<String, u64>,
    /// Position of the last checkpoint saved or restored.
    checkpointed: Position,
}

/// Every account's current view.
pub struct Projection {
    store: Arc<dyn EventStore>,
    config: ProjectionConfig,
    inner: RwLock<Inner>,
    /// One catch-up at a time, so events are applied once and in order.
    applying: tokio::sync::Mutex<()>,
    reached: watch::Sender<Position>,
    /// One writer per account stream in this process: commands for the same
    /// account queue here instead of racing each other into conflicts.
    /// Writers on other nodes are still handled by optimistic concurrency.
    writers: std::sync::Mutex<HashMap<String, Arc<Writer>>>,
    /// A checkpoint is being saved.
    checkpointing: Arc<std::sync::atomic::AtomicBool>,
    /// Appends, snapshots and checkpoints counted (see [`Projection::stats`]).
    stats: Arc<ProjectionStats>,
}

/// The writer of one account's stream in this process.
///
/// Commands queue; whoever takes the turn drains the queue and writes what
/// it found as one batch: each command decided in order against the state
/// the earlier ones left (exactly as if they had run one by one), then all
/// their events appended at once. Under concurrent writes this turns many
/// single-event commits into one, so a busy account is not limited to one
/// commit's round trip and disk flush per command.
#[derive(Default)]
struct Writer {
    queue: std::sync::Mutex<Vec<Pending>>,
    turn: Arc<tokio::sync::Mutex<()>>,
}

/// A check of the state a command is decided on, run by the writer right
/// before `decide` on that very state: the caller's way to make what it
/// checked beforehand (authorization) and the write one atomic step. A
/// refusal is the command's answer; nothing of it is written.
pub type Precondition = Arc<dyn Fn(&AccountState) -> Result<(), DomainError> + Send + Sync>;

/// A command waiting for its account's writer.
struct Pending {
    command: Command,
    precondition: Option<Precondition>,
    metadata: serde_json::Value,
    reply: tokio::sync::oneshot::Sender<Result<CommandOutcome, ProjectionError>>,
}

/// Most commands written in one batch.
const MAX_BATCH: usize = 256;

const ACCOUNT_STREAM_PREFIX: &str = "account-";

impl Projection {
    pub fn new(store: Arc<dyn EventStore>, config: ProjectionConfig) -> Arc<Projection> {
        Arc::new(Projection {
            store,
            config,
            inner: RwLock::new(Inner {
                position: Position::START,
                accounts: HashMap::new(),
                snapshotted: HashMap::new(),
                checkpointed: Position::START,
            }),
            applying: tokio::sync::Mutex::new(()),
            reached: watch::channel(Position::START).0,
            writers: std::sync::Mutex::new(HashMap::new()),
            checkpointing: Arc::default(),
            stats: Arc::default(),
        })
    }

    /// What this projection counted of its appends, snapshot and checkpoint
    /// writes since it was made (for the server's metrics).
    pub fn stats(&self) -> &ProjectionStats {
        &self.stats
    }

    pub fn store(&self) -> &Arc<dyn EventStore> {
        &self.store
    }

    pub fn config(&self) -> &ProjectionConfig {
        &self.config
    }

    /// The last log position applied.
    pub fn position(&self) -> Position {
        self.read().position
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The current view of an account (`None` if nothing was ever recorded for it).
    pub fn view(&self, account: &AccountId) -> Option<Arc<AccountView>> {
        self.read().accounts.get(&account.stream_name()).cloned()
    }

    /// Accounts with at least one event.
    pub fn accounts(&self) -> Vec<AccountId> {
        self.read()
            .accounts
            .values()
            .filter_map(|v| v.account_id.clone())
            .collect()
    }

    /// Starts from the newest trusted checkpoint, if this projection has
    /// applied nothing yet; returns the position it starts from. The log
    /// after it is applied by the next `catch_up`. A checkpoint of another
    /// version, or one that does not decode, is ignored, never trusted: the
    /// log is then replayed from its beginning.
    pub async fn restore(&self) -> Result<Position, ProjectionError> {
        let _applying = self.applying.lock().await;
        if self.position() != Position::START {
            return Ok(self.position());
        }
        let mut at = self.store.head().await?.position;
        // The newest checkpoint this build trusts, looking back past a few
        // it does not (say, written by a newer build during an upgrade).
        for _ in 0..RESTORE_CANDIDATES {
            let Some(saved) = self.store.load_snapshot(snapshot::CHECKPOINT, at).await? else {
                break;
            };
            if let Some(views) = self.trusted_checkpoint(&saved).await? {
                let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
                // A write applied meanwhile: this node is not fresh any more.
                if inner.position != Position::START {
                    return Ok(inner.position);
                }
                for view in views {
                    let Some(account) = view.account_id.clone() else {
                        continue;
                    };
                    let stream = account.stream_name();
                    inner
                        .snapshotted
                        .insert(stream.clone(), view.stream_version);
                    inner.accounts.insert(stream, Arc::new(view));
                }
                inner.position = saved.position;
                inner.checkpointed = saved.position;
                self.reached.send_replace(saved.position);
                tracing::info!(
                    position = saved.position.0,
                    accounts = inner.accounts.len(),
                    "restored the projection from its checkpoint"
                );
                return Ok(saved.position);
            }
            match saved.position.0.checked_sub(1) {
                Some(before) => at = Position(before),
                None => break,
            }
        }
        Ok(Position::START)
    }

    /// The views of a checkpoint that decodes and belongs to this log: the
    /// event at its position must have the hash the checkpoint recorded (the
    /// hash chain covers everything before it), so a checkpoint left behind
    /// by another log that has since grown past its position is not used.
    async fn trusted_checkpoint(
        &self,
        saved: &iam_event_store::Snapshot,
    ) -> Result<Option<Vec<AccountView>>, ProjectionError> {
        let Some((log_hash, views)) = snapshot::decode_checkpoint(&self.config.snapshot_key, saved)
        else {
            return Ok(None);
        };
        let Some(before) = saved.position.0.checked_sub(1) else {
            return Ok(None);
        };
        let at = self.store.read_all(Position(before), 1).await?;
        match at.first() {
            Some(e) if e.position == saved.position && e.hash.to_hex() == log_hash => {
                Ok(Some(views))
            }
            _ => {
                tracing::warn!(
                    position = saved.position.0,
                    "a checkpoint does not match the log at its position; ignoring it"
                );
                Ok(None)
            }
        }
    }

    /// Starts saving a checkpoint when `checkpoint_every` events have been
    /// applied since the last one. The views are taken at once (they are
    /// immutable `Arc`s); encoding and saving run in tasks of their own, so
    /// a writer that triggers it does not wait for it.
    fn checkpoint_if_due(&self) -> Option<tokio::task::JoinHandle<()>> {
        let every = self.config.checkpoint_every;
        let (position, views) = {
            let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
            if every == 0 || inner.position.0 < inner.checkpointed.0 + every {
                return None;
            }
            // One at a time: while one is being saved, the next waits for
            // the mark to be crossed again.
            if self
                .checkpointing
                .swap(true, std::sync::atomic::Ordering::AcqRel)
            {
                return None;
            }
            inner.checkpointed = inner.position;
            let views: Vec<Arc<AccountView>> = inner.accounts.values().cloned().collect();
            (inner.position, views)
        };
        let store = self.store.clone();
        let checkpointing = self.checkpointing.clone();
        let key = self.config.snapshot_key.clone();
        let stats = self.stats.clone();
        Some(tokio::spawn(async move {
            let started = std::time::Instant::now();
            match save_checkpoint(store.as_ref(), &key, position, views).await {
                Ok(bytes) => stats.checkpoints.written(bytes, started.elapsed()),
                Err(error) => {
                    stats.checkpoints.failed();
                    // A missing checkpoint only costs replay time at the next start.
                    tracing::warn!(%error, "could not save the projection's checkpoint");
                }
            }
            checkpointing.store(false, std::sync::atomic::Ordering::Release);
        }))
    }

    /// Applies everything appended since the last catch-up; returns the new
    /// position.
    ///
    /// Pages of the log are read and decoded by a task of their own, one page
    /// ahead of the one being applied, so reading, decoding and applying
    /// share both cores (and each page's parsed rows are freed on the thread
    /// that made them).
    pub async fn catch_up(&self) -> Result<Position, ProjectionError> {
        let applying = self.applying.lock().await;
        let read = |after: Position| {
            let store = self.store.clone();
            tokio::spawn(async move {
                let page = store.read_all(after, CATCH_UP_PAGE).await?;
                decode_page(page)
            })
        };
        let mut next = read(self.position());
        let mut saving = Vec::new();
        let reached = loop {
            let page = next
                .await
                .map_err(|e| ProjectionError::Store(StoreError::Internal(e.to_string())))??;
            let Some((_, _, last, _)) = page.last() else {
                break self.position();
            };
            next = read(*last);
            let due = self.apply_decoded(page);
            saving.extend(self.save_snapshots(due));
            saving.extend(self.checkpoint_if_due());
        };
        // Catch-up is the follower's work, not a request's: it waits for the
        // snapshots and checkpoints it started, but without holding up
        // writers meanwhile.
        drop(applying);
        for task in saving {
            let _ = task.await;
        }
        Ok(reached)
    }

    /// Applies decoded events that directly follow the current position, in
    /// order: (stream, stream version, position, the event if it is an
    /// account's). Returns views due for a snapshot.
    fn apply_decoded(&self, events: DecodedPage) -> Vec<(AccountId, Arc<AccountView>)> {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        self.apply_locked(&mut inner, events)
    }

    /// [`Projection::apply_decoded`] with the views already locked. Events
    /// at or before the current position were applied already (the write
    /// path applies its own events while a catch-up may be reading them
    /// too) and are skipped, so each event is applied exactly once.
    fn apply_locked(
        &self,
        inner: &mut Inner,
        events: DecodedPage,
    ) -> Vec<(AccountId, Arc<AccountView>)> {
        let mut due = Vec::new();
        for (stream_id, stream_version, position, event) in events {
            if position <= inner.position {
                continue;
            }
            if let Some(event) = event {
                let view = inner.accounts.entry(stream_id.clone()).or_default();
                // Copy-on-write: readers holding the old Arc keep a consistent view.
                Arc::make_mut(view).apply_event(&event, stream_version, position);
                if self.config.snapshot_every > 0 {
                    let last = inner.snapshotted.entry(stream_id).or_insert(0);
                    if stream_version >= *last + self.config.snapshot_every {
                        *last = stream_version;
                        due.push((event.account_id.clone(), view.clone()));
                    }
                }
            }
            inner.position = position;
        }
        self.reached.send_replace(inner.position);
        due
    }

    /// After a successful append: when nothing else was appended between
    /// this node's position and the new events, apply them directly instead
    /// of reading them back. Returns false when a catch-up is needed.
    ///
    /// It does not wait for a catch-up in progress (the follower, woken by
    /// this very append, is often reading it): the check and the apply
    /// happen under the views' lock, and whichever of the two comes second
    /// finds the events applied. Snapshots and checkpoints it makes due are
    /// saved in the background; the writer does not wait for them.
    fn apply_own(
        &self,
        stream: &str,
        events: &[Event],
        outcome: &iam_event_store::AppendOutcome,
    ) -> bool {
        let due = {
            let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
            if inner.position >= outcome.last_position {
                return true;
            }
            if inner.position.next() != outcome.first_position {
                return false;
            }
            let first_version = outcome.stream_version + 1 - events.len() as u64;
            let decoded = events
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    (
                        stream.to_owned(),
                        first_version + i as u64,
                        Position(outcome.first_position.0 + i as u64),
                        Some(e.clone()),
                    )
                })
                .collect();
            self.apply_locked(&mut inner, decoded)
        };
        drop(self.save_snapshots(due));
        drop(self.checkpoint_if_due());
        true
    }

    /// Starts saving the snapshots of views that came due, each in a task
    /// of its own (encoding a large account takes tens of milliseconds).
    fn save_snapshots(
        &self,
        due: Vec<(AccountId, Arc<AccountView>)>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        due.into_iter()
            .map(|(account, view)| {
                let store = self.store.clone();
                let key = self.config.snapshot_key.clone();
                let stats = self.stats.clone();
                tokio::spawn(async move {
                    let name = snapshot::name(&account);
                    let started = std::time::Instant::now();
                    let saved = tokio::task::spawn_blocking(move || {
                        snapshot::encode(&key, &account, &view)
                    })
                    .await;
                    let result = match saved {
                        Ok(saved) => store
                            .save_snapshot(&saved)
                            .await
                            .map(|()| saved.data.len())
                            .map_err(|e| e.to_string()),
                        Err(e) => Err(e.to_string()),
                    };
                    match result {
                        Ok(bytes) => stats.snapshots.written(bytes, started.elapsed()),
                        Err(error) => {
                            stats.snapshots.failed();
                            // A missing snapshot only costs replay time later.
                            tracing::warn!(%error, %name, "could not save a snapshot");
                        }
                    }
                })
            })
            .collect()
    }

    /// Keeps the views current for as long as it runs: applies new events
    /// as the store signals appends, and polls as the safety net. A failed
    /// catch-up (the database unreachable, an event this build cannot read)
    /// is logged and retried with a growing pause, up to 30 s: the node
    /// keeps serving the views it has, and resumes as soon as it can read.
    pub async fn follow(self: Arc<Self>) {
        let mut signal = self.store.append_signal();
        let mut polled = true;
        let mut last_head = Position::START;
        let mut failures = 0u32;
        loop {
            // A wake-up for an append this node has already applied (its own
            // write, applied by the write path) needs no read of the log. A
            // wake-up that does not move the head (the store lost its
            // notification connection) and the poll catch up regardless.
            let head = *signal.borrow_and_update();
            let unexplained = head == last_head;
            last_head = head;
            if polled || unexplained || head > self.position() || failures > 0 {
                match self.catch_up().await {
                    Ok(_) => failures = 0,
                    Err(error) => {
                        failures += 1;
                        let pause = Duration::from_millis(100 << failures.min(8))
                            .min(Duration::from_secs(30));
                        tracing::error!(%error, retry_in = ?pause, "the projection could not catch up with the log");
                        tokio::time::sleep(pause).await;
                        continue;
                    }
                }
            }
            polled = tokio::select! {
                _ = signal.changed() => false,
                _ = tokio::time::sleep(self.config.poll_interval) => true,
            };
        }
    }

    /// Waits until the views include log position `position`.
    pub async fn wait_for(
        &self,
        position: Position,
        timeout: Duration,
    ) -> Result<(), ProjectionError> {
        let mut reached = self.reached.subscribe();
        let wait = async {
            loop {
                if *reached.borrow_and_update() >= position {
                    return;
                }
                if reached.changed().await.is_err() {
                    return;
                }
            }
        };
        let _ = tokio::time::timeout(timeout, wait).await;
        let now = self.position();
        if now >= position {
            Ok(())
        } else {
            Err(ProjectionError::NotCaughtUp {
                wanted: position.0,
                reached: now.0,
            })
        }
    }

    /// Decides `command` against the account's view at version V and appends
    /// the events with expected version V. Another writer may have appended
    /// first (on this node or another): then the view catches up and the
    /// command is decided again, at most `max_attempts` times. On success the
    /// view already includes the new events (read your own writes).
    ///
    /// Commands for one account that arrive while a write is in flight are
    /// written together in the next batch (one append for the batch). A batch runs in
    /// a task of its own, so a caller that gives up waiting cancels nobody
    /// else's command; its own may still be written.
    pub async fn execute(
        self: &Arc<Self>,
        account: &AccountId,
        command: &Command,
        metadata: &EventMetadata,
    ) -> Result<CommandOutcome, ProjectionError> {
        self.execute_checked(account, command, metadata, None).await
    }

    /// [`Projection::execute`], with `precondition` checked by the writer on
    /// the exact state the command is decided on (every attempt), so that a
    /// decision made earlier on an older view (who may do this, to which
    /// entity) cannot be applied to an entity that changed in between.
    pub async fn execute_checked(
        self: &Arc<Self>,
        account: &AccountId,
        command: &Command,
        metadata: &EventMetadata,
        precondition: Option<Precondition>,
    ) -> Result<CommandOutcome, ProjectionError> {
        let writer = {
            let mut writers = self.writers.lock().unwrap_or_else(|p| p.into_inner());
            writers.entry(account.stream_name()).or_default().clone()
        };
        let (reply, mut answer) = tokio::sync::oneshot::channel();
        writer
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Pending {
                command: command.clone(),
                precondition,
                metadata: metadata.to_json(),
                reply,
            });
        loop {
            tokio::select! {
                biased;
                answer = &mut answer => return answer.unwrap_or_else(|_| Err(lost())),
                turn = writer.turn.clone().lock_owned() => {
                    // An earlier batch may have carried this command already.
                    if let Ok(answer) = answer.try_recv() {
                        return answer;
                    }
                    let batch: Vec<Pending> = {
                        let mut queue = writer.queue.lock().unwrap_or_else(|p| p.into_inner());
                        // Commands whose callers stopped waiting before
                        // their turn came are dropped, not written later.
                        queue.retain(|p| !p.reply.is_closed());
                        let n = queue.len().min(MAX_BATCH);
                        queue.drain(..n).collect()
                    };
                    let this = self.clone();
                    let account = account.clone();
                    let task = tokio::spawn(async move {
                        this.write_batch(&account, batch).await;
                        drop(turn);
                    });
                    if task.await.is_err() {
                        return Err(lost());
                    }
                }
            }
        }
    }

    /// Writes one batch of queued commands and answers each.
    async fn write_batch(&self, account: &AccountId, batch: Vec<Pending>) {
        let answers = match self.decide_and_append(account, &batch).await {
            Ok(answers) => answers,
            Err(failure) => {
                let mut answers: Vec<_> = (1..batch.len())
                    .map(|_| Err(failure.for_another_command()))
                    .collect();
                answers.insert(0, Err(failure));
                answers
            }
        };
        for (pending, answer) in batch.into_iter().zip(answers) {
            // A caller that stopped waiting no longer needs its answer.
            let _ = pending.reply.send(answer);
        }
    }

    /// Decides the batch's commands in order, each against the state the
    /// ones before it produced, and appends all their events in one append,
    /// retrying the whole batch on a conflict. Returns one answer per
    /// command; an error for the batch as a whole is every command's. Each
    /// attempt leaves out the commands whose callers have stopped waiting:
    /// nothing is written for a caller who left before it was.
    async fn decide_and_append(
        &self,
        account: &AccountId,
        commands: &[Pending],
    ) -> Result<Vec<Result<CommandOutcome, ProjectionError>>, ProjectionError> {
        let stream = account.stream_name();
        let batch = commands.len();
        for attempt in 1..=self.config.max_attempts {
            let view = self.view(account).unwrap_or_default();
            let mut state = view.state.clone();
            let mut decided = Vec::with_capacity(batch);
            for pending in commands {
                if pending.reply.is_closed() {
                    decided.push(None);
                    continue;
                }
                let result = match &pending.precondition {
                    Some(check) => check(&state),
                    None => Ok(()),
                }
                .and_then(|()| decide(&state, &pending.command, &self.config.quotas));
                if let Ok(events) = &result {
                    for event in events {
                        evolve(&mut state, event);
                    }
                }
                decided.push(Some(result));
            }
            // A refusal decided on a stale view (another node created the
            // entity a moment ago) is not the answer: catch up and decide
            // again. Only a refusal on the latest state is returned.
            if decided.iter().flatten().any(Result::is_err)
                && self.store.stream_version(&stream).await? > view.stream_version
            {
                self.catch_up().await?;
                continue;
            }
            let mut new_events = Vec::new();
            let mut appended = Vec::new();
            for (pending, result) in commands.iter().zip(&decided) {
                for event in result.iter().flatten().flatten() {
                    new_events.push(
                        NewEvent::new(event.event_type(), SCHEMA_VERSION, event.to_payload())
                            .with_metadata(pending.metadata.clone()),
                    );
                    appended.push(event.clone());
                }
            }
            let unchanged = view.position.max(self.position());
            if new_events.is_empty() {
                return Ok(answers(decided, unchanged, None, attempt, batch));
            }
            let expected = match view.stream_version {
                0 => ExpectedVersion::NoStream,
                v => ExpectedVersion::Exact(v),
            };
            let count = new_events.len();
            let started = std::time::Instant::now();
            let appended_or_not = self.store.append(&stream, expected, new_events).await;
            let result = match &appended_or_not {
                Ok(outcome) if outcome.duplicate => AppendResult::Duplicate,
                Ok(_) => AppendResult::Appended,
                Err(StoreError::Conflict { .. }) => AppendResult::Conflict,
                Err(_) => AppendResult::Error,
            };
            self.stats.appends.record(result, count, started.elapsed());
            match appended_or_not {
                Ok(outcome) => {
                    // Written: from here on every command gets its answer.
                    // A view that cannot catch up now is the follower's to
                    // fix; callers reading elsewhere wait for their position.
                    if outcome.duplicate || !self.apply_own(&stream, &appended, &outcome) {
                        if let Err(error) = self.catch_up().await {
                            tracing::warn!(%error, "the view did not catch up after a write");
                        }
                    }
                    return Ok(answers(
                        decided,
                        unchanged,
                        Some(outcome.first_position),
                        attempt,
                        batch,
                    ));
                }
                Err(StoreError::Conflict { .. }) => {
                    self.catch_up().await?;
                    // Jittered backoff, so writers racing for one account
                    // don't collide again in lockstep.
                    let jitter = uuid::Uuid::new_v4().as_u128() % 1000;
                    let micros = (200 * u64::from(attempt.min(10))) * (500 + jitter as u64) / 1000;
                    tokio::time::sleep(Duration::from_micros(micros)).await;
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(ProjectionError::Contention {
            attempts: self.config.max_attempts,
        })
    }
}

/// Encodes and saves a checkpoint, with the hash of the log's event at its
/// position, then deletes the older checkpoints (a restart needs only the
/// newest). Returns the checkpoint's size in bytes.
async fn save_checkpoint(
    store: &dyn EventStore,
    key: &snapshot::SnapshotKey,
    position: Position,
    views: Vec<Arc<AccountView>>,
) -> Result<usize, ProjectionError> {
    let before = Position(position.0.saturating_sub(1));
    let at = store.read_all(before, 1).await?;
    let Some(event) = at.first().filter(|e| e.position == position) else {
        return Err(ProjectionError::Store(StoreError::Internal(format!(
            "no event at the checkpoint's position {position}"
        ))));
    };
    let log_hash = event.hash.to_hex();
    let key = key.clone();
    let saved = tokio::task::spawn_blocking(move || {
        snapshot::encode_checkpoint(&key, position, &log_hash, views.iter().map(|v| &**v))
    })
    .await
    .map_err(|e| ProjectionError::Store(StoreError::Internal(e.to_string())))?;
    store.save_snapshot(&saved).await?;
    store
        .prune_snapshots(snapshot::CHECKPOINT, position)
        .await?;
    Ok(saved.data.len())
}

/// How many checkpoints `restore` looks at, newest first.
const RESTORE_CANDIDATES: usize = 3;

/// Events read per page while catching up with the log.
const CATCH_UP_PAGE: usize = 5000;

/// A page of the global log as `apply_decoded` takes it: the events of
/// account streams decoded, every other stream's passed over.
type DecodedPage = Vec<(String, u64, Position, Option<Event>)>;

fn decode_page(page: Vec<RecordedEvent>) -> Result<DecodedPage, ProjectionError> {
    page.into_iter()
        .map(|mut recorded| {
            let event = if recorded.stream_id.starts_with(ACCOUNT_STREAM_PREFIX) {
                Some(take_domain_event(&mut recorded)?)
            } else {
                None
            };
            Ok((
                recorded.stream_id,
                recorded.stream_version,
                recorded.position,
                event,
            ))
        })
        .collect()
}

/// Each command's answer once its batch is written. A command's position is
/// that of its last event, or, for one that appended nothing, of the last
/// event appended before it in the batch (or the view it was decided on).
///
/// A command left out (`None`: its caller had left) gets an answer nobody
/// receives.
fn answers(
    decided: Vec<Option<Result<Vec<Event>, iam_domain::DomainError>>>,
    unchanged: Position,
    first_position: Option<Position>,
    attempts: u32,
    batch: usize,
) -> Vec<Result<CommandOutcome, ProjectionError>> {
    let mut written = 0u64;
    decided
        .into_iter()
        .map(|result| {
            let Some(result) = result else {
                return Err(lost());
            };
            let events = result?;
            written += events.len() as u64;
            let position = match first_position {
                Some(first) if written > 0 => Position(first.0 + written - 1),
                _ => unchanged,
            };
            Ok(CommandOutcome {
                events,
                position,
                attempts,
                batch,
            })
        })
        .collect()
}

/// The answer of a command whose batch task died (a bug: it panicked), or
/// of one left out because its caller had stopped waiting.
fn lost() -> ProjectionError {
    ProjectionError::Store(StoreError::Internal(
        "the task writing this command's batch failed".into(),
    ))
}
