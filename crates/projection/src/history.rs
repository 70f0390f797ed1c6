//! Time travel: an account's view as of a past log position or time.
//!
//! The cut is a global log position (a time is first turned into the last
//! position recorded at or before it; `recorded_at` never decreases along
//! the log, so that is a clean prefix). The view starts from the newest
//! trusted snapshot at or before the cut and replays the account's stream
//! from there, stopping at the first event past the cut.

use std::sync::Arc;

use futures::StreamExt;
use iam_domain::ids::AccountId;
use iam_domain::Event;
use iam_event_store::{EventStore, Position, RecordedEvent, Until};

use crate::error::ProjectionError;
use crate::snapshot;
use crate::view::AccountView;

/// The view of `account` with every event at or before `until` applied and
/// nothing after.
///
/// With a snapshot, the stream's tail after it is read while the snapshot
/// decodes (decoding a large account's snapshot is most of the time an
/// as-of query takes): the version the snapshot ends at is that of the
/// event at its position, which one indexed read tells without decoding.
///
/// Snapshots are trusted only with a valid MAC under `key` (the one the
/// projection that saved them was configured with); any other is ignored
/// and the stream replayed from its start.
pub async fn account_as_of(
    store: &Arc<dyn EventStore>,
    key: &snapshot::SnapshotKey,
    account: &AccountId,
    until: Until,
) -> Result<AccountView, ProjectionError> {
    let cut = cut_position(store.as_ref(), until).await?;
    let stream = account.stream_name();
    let saved = match store.load_snapshot(&snapshot::name(account), cut).await? {
        Some(s) if s.schema_version == snapshot::schema_version() => {
            match store.event_at(s.position).await? {
                Some(e) if e.stream_id == stream => Some((s, e.stream_version)),
                _ => None,
            }
        }
        Some(s) => {
            // Of another version: decoding refuses it and logs why.
            let _ = snapshot::decode(key, &s);
            None
        }
        None => None,
    };
    let Some((saved, version)) = saved else {
        return replay(store, &stream, AccountView::default(), cut).await;
    };
    let mut tail = read_stream(store, &stream, version, cut, applied);
    let key = key.clone();
    let decoded = tokio::task::spawn_blocking(move || snapshot::decode(&key, &saved))
        .await
        .map_err(|e| {
            ProjectionError::Store(iam_event_store::StoreError::Internal(e.to_string()))
        })?;
    match decoded {
        Some(view) if view.stream_version == version => {
            apply_all(view, &mut tail.events, tail.reader).await
        }
        // Untrusted after all: rebuilt from the log, never trusted.
        _ => {
            tail.reader.abort();
            replay(store, &stream, AccountView::default(), cut).await
        }
    }
}

/// `view` with the rest of its stream up to `cut` applied.
async fn replay(
    store: &Arc<dyn EventStore>,
    stream: &str,
    view: AccountView,
    cut: Position,
) -> Result<AccountView, ProjectionError> {
    let mut tail = read_stream(store, stream, view.stream_version, cut, applied);
    apply_all(view, &mut tail.events, tail.reader).await
}

/// A stream being read and decoded by a task of its own.
struct Tail<T> {
    events: tokio::sync::mpsc::Receiver<Vec<T>>,
    reader: tokio::task::JoinHandle<Result<(), ProjectionError>>,
}

/// What the applying side needs of each event: the decoded event, its
/// stream version and its position.
type Applied = (Event, u64, Position);

fn applied(event: Event, row: RecordedEvent) -> Applied {
    (event, row.stream_version, row.position)
}

/// Starts reading `stream` after `after` up to `cut`, handing over what
/// `keep` makes of each decoded event and its row (payload taken out).
///
/// A task of its own reads the stream and decodes its events, handing them
/// over in batches while the caller applies them, so the two run on both
/// cores at once. The reader also drops what it parsed: memory freed on the
/// thread that allocated it stays off the other thread's allocator locks
/// (applying raw rows on the other thread instead took 7x as long).
fn read_stream<T: Send + 'static>(
    store: &Arc<dyn EventStore>,
    stream: &str,
    after: u64,
    cut: Position,
    keep: fn(Event, RecordedEvent) -> T,
) -> Tail<T> {
    let (tx, events) = tokio::sync::mpsc::channel::<Vec<T>>(4);
    let store = store.clone();
    let stream = stream.to_owned();
    let reader = tokio::spawn(async move {
        let mut rows = store.stream_events(&stream, after, cut);
        let mut batch = Vec::with_capacity(BATCH);
        while let Some(row) = rows.next().await {
            let mut row = row?;
            let event = crate::view::take_domain_event(&mut row)?;
            batch.push(keep(event, row));
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if tx.send(full).await.is_err() {
                    return Ok(());
                }
            }
        }
        if !batch.is_empty() {
            let _ = tx.send(batch).await;
        }
        Ok(())
    });
    Tail { events, reader }
}

/// Applies everything the reader hands over, then reports its failure if
/// it failed (the channel closes when the reader is done either way).
async fn apply_all(
    mut view: AccountView,
    events: &mut tokio::sync::mpsc::Receiver<Vec<Applied>>,
    reader: tokio::task::JoinHandle<Result<(), ProjectionError>>,
) -> Result<AccountView, ProjectionError> {
    while let Some(batch) = events.recv().await {
        for (event, version, position) in batch {
            view.apply_event(&event, version, position);
        }
    }
    finished(reader).await?;
    Ok(view)
}

async fn finished(
    reader: tokio::task::JoinHandle<Result<(), ProjectionError>>,
) -> Result<(), ProjectionError> {
    reader
        .await
        .map_err(|e| ProjectionError::Store(iam_event_store::StoreError::Internal(e.to_string())))?
}

/// Replays the account's stream from `view` up to `cut`, handing `each`
/// the view after every event with that event as stored (its payload and
/// metadata taken out): what "what was true after every change" questions
/// (access history, permission diffs) walk. The stream is read and decoded
/// on another task while `each` runs; an error from `each` stops both.
pub async fn replay_each<E: From<ProjectionError>>(
    store: &Arc<dyn EventStore>,
    account: &AccountId,
    mut view: AccountView,
    cut: Position,
    mut each: impl FnMut(&AccountView, &RecordedEvent) -> Result<(), E>,
) -> Result<AccountView, E> {
    let stream = account.stream_name();
    // The rows come without their metadata (`stream_events`).
    let mut tail = read_stream(store, &stream, view.stream_version, cut, |event, row| {
        (event, row)
    });
    while let Some(batch) = tail.events.recv().await {
        for (event, row) in batch {
            view.apply_event(&event, row.stream_version, row.position);
            if let Err(e) = each(&view, &row) {
                tail.reader.abort();
                return Err(e);
            }
        }
    }
    finished(tail.reader).await?;
    Ok(view)
}

/// Events handed from the reading task to the applying one at a time.
const BATCH: usize = 1000;

/// The log position a view as of `until` is cut at.
pub async fn cut_position(
    store: &dyn EventStore,
    until: Until,
) -> Result<Position, ProjectionError> {
    Ok(match until {
        Until::Position(p) => p,
        Until::Time(t) => store.position_at(t).await?,
    })
}

/// The past views asked for lately, so that further questions about one
/// moment are answered from memory: the first decision at a cut costs a
/// snapshot's decode and a replay (tens of milliseconds on a large
/// account), the next ones a lookup.
///
/// A view built for cut `c` is the account after its last event at or
/// before `c`, at position `p ≤ c`; it is also the view of every cut in
/// `p..=c`, and is found for any of them. Requests for a cut being built
/// wait for that one build rather than starting their own.
///
/// Memory is bounded by the number of views kept ([`PastViews::new`]);
/// each is a whole account's state, so the bound should stay small.
pub struct PastViews {
    capacity: usize,
    /// Most recently used last.
    entries: std::sync::Mutex<std::collections::VecDeque<PastView>>,
    /// When the events at positions asked about lately were recorded (a
    /// position's moment), most recently asked last.
    times: std::sync::Mutex<std::collections::VecDeque<(Position, chrono::DateTime<chrono::Utc>)>>,
}

struct PastView {
    cut: Position,
    view: Arc<tokio::sync::OnceCell<Arc<AccountView>>>,
}

impl PastView {
    /// Whether this entry's view is the account's view at `cut`.
    fn covers(&self, cut: Position) -> bool {
        self.cut == cut
            || self
                .view
                .get()
                .is_some_and(|v| v.position <= cut && cut <= self.cut)
    }
}

impl Default for PastViews {
    /// Enough for a few auditors each looking at a moment of their own;
    /// each view is a whole account's state (37 MiB for the bench's
    /// 184,501-event account).
    fn default() -> Self {
        PastViews::new(8)
    }
}

impl PastViews {
    pub fn new(capacity: usize) -> Self {
        PastViews {
            capacity: capacity.max(1),
            entries: Default::default(),
            times: Default::default(),
        }
    }

    /// The view at `cut`: remembered, or built by `build` (once, however
    /// many ask at the same time). A failed build is not remembered.
    pub async fn get_or_build<F, Fut>(
        &self,
        cut: Position,
        build: F,
    ) -> Result<Arc<AccountView>, ProjectionError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<AccountView, ProjectionError>>,
    {
        let cell = {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            match entries.iter().position(|e| e.covers(cut)) {
                Some(i) => {
                    let entry = entries.remove(i).expect("the index was just found");
                    let cell = entry.view.clone();
                    entries.push_back(entry);
                    cell
                }
                None => {
                    let cell = Arc::new(tokio::sync::OnceCell::new());
                    entries.push_back(PastView {
                        cut,
                        view: cell.clone(),
                    });
                    while entries.len() > self.capacity {
                        entries.pop_front();
                    }
                    cell
                }
            }
        };
        let view = cell
            .get_or_try_init(|| async { build().await.map(Arc::new) })
            .await?;
        Ok(view.clone())
    }

    /// When the event at `position` was recorded (`None` for a position
    /// no event has), remembered for the positions asked about lately.
    pub async fn recorded_at(
        &self,
        store: &dyn EventStore,
        position: Position,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, ProjectionError> {
        const KEPT: usize = 256;
        let known = {
            let times = self.times.lock().unwrap_or_else(|p| p.into_inner());
            times.iter().find(|(p, _)| *p == position).map(|(_, t)| *t)
        };
        if known.is_some() {
            return Ok(known);
        }
        let Some(event) = store.event_at(position).await? else {
            return Ok(None);
        };
        let mut times = self.times.lock().unwrap_or_else(|p| p.into_inner());
        times.push_back((position, event.recorded_at));
        if times.len() > KEPT {
            times.pop_front();
        }
        Ok(Some(event.recorded_at))
    }

    /// How many views are kept (built or being built).
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod past_views {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn view_at(position: u64) -> AccountView {
        AccountView::from_parts(None, Default::default(), 1, Position(position))
    }

    #[tokio::test]
    async fn a_cut_is_built_once_and_found_for_every_cut_it_covers() {
        let views = PastViews::new(2);
        let builds = AtomicUsize::new(0);
        let build = |at: u64| {
            let builds = &builds;
            move || async move {
                builds.fetch_add(1, Ordering::SeqCst);
                Ok(view_at(at))
            }
        };
        // The account's last event at or before cut 10 is at 7.
        let first = views.get_or_build(Position(10), build(7)).await.unwrap();
        assert_eq!(first.position, Position(7));
        for cut in [7, 8, 10] {
            let again = views.get_or_build(Position(cut), build(99)).await.unwrap();
            assert!(Arc::ptr_eq(&first, &again), "cut {cut}");
        }
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        // Outside 7..=10 is another view.
        let later = views.get_or_build(Position(11), build(11)).await.unwrap();
        assert_eq!(later.position, Position(11));
        let earlier = views.get_or_build(Position(6), build(5)).await.unwrap();
        assert_eq!(earlier.position, Position(5));
        assert_eq!(builds.load(Ordering::SeqCst), 3);
        // Two kept: the least recently used (cut 10) went.
        assert_eq!(views.len(), 2);
        views.get_or_build(Position(10), build(7)).await.unwrap();
        assert_eq!(builds.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_failed_build_is_not_remembered_and_concurrent_askers_share_one_build() {
        let views = PastViews::new(4);
        let failed = views
            .get_or_build(Position(3), || async {
                Err(ProjectionError::Store(
                    iam_event_store::StoreError::Internal("down".into()),
                ))
            })
            .await;
        assert!(failed.is_err());
        let builds = AtomicUsize::new(0);
        let ask = || {
            views.get_or_build(Position(3), || async {
                builds.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
                Ok(view_at(3))
            })
        };
        let (a, b, c) = tokio::join!(ask(), ask(), ask());
        assert!(Arc::ptr_eq(&a.unwrap(), &b.unwrap()));
        assert_eq!(c.unwrap().position, Position(3));
        assert_eq!(builds.load(Ordering::SeqCst), 1);
    }
}
