-- A stored event is never replaced (SQLite).
--
-- `INSERT OR REPLACE INTO events ...` (or `REPLACE INTO`) whose position,
-- event id or (stream, version) is already taken deletes the stored row and
-- inserts the new one, and that delete fires no DELETE trigger (unless
-- recursive_triggers is on), so events_append_only_delete never sees it. An
-- INSERT is therefore refused before any conflict resolution when any of the
-- table's unique keys is already stored. An append never trips this: it
-- inserts at the positions after the head, with new event ids and the
-- versions after the stream's last, under BEGIN IMMEDIATE, and only after
-- checking the ids are new.
--
-- The three lookups are the table's own keys: the rowid (position is the
-- INTEGER PRIMARY KEY) and the indexes behind UNIQUE (event_id) and
-- UNIQUE (stream_id, stream_version), which every insert probes anyway.
--
-- Nothing else in SQLite needs the same: event_log_head refuses every INSERT
-- already (20261202000001), and snapshots (the signed digests included)
-- have no append-only triggers to get around: saving one upserts and
-- pruning deletes.
--
-- A new migration rather than an edit of an earlier one: sqlx records each
-- applied migration's checksum and refuses to run when an applied file
-- changed.

CREATE TRIGGER events_never_replaced BEFORE INSERT ON events
WHEN EXISTS (SELECT 1 FROM events e WHERE e.position = NEW.position)
  OR EXISTS (SELECT 1 FROM events e WHERE e.event_id = NEW.event_id)
  OR EXISTS (SELECT 1 FROM events e
             WHERE e.stream_id = NEW.stream_id AND e.stream_version = NEW.stream_version)
BEGIN
    SELECT RAISE(ABORT, 'the iamd event log is append-only: INSERT on table events may not replace a stored event (its position, event id or stream version is taken)');
END;
