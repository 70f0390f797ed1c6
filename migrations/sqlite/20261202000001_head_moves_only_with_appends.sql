-- The head row moves only with an append (SQLite).
--
-- An append (SqliteStore, in one BEGIN IMMEDIATE transaction) inserts its
-- events and moves the head to the last of them. Nothing else may change the
-- row: deleting or inserting is refused outright, as changes to `events` are,
-- and an UPDATE is refused unless the new head describes the last stored
-- event exactly (its position, hash and recorded_at), which is what an
-- append writes and the only value the head can rightly hold. INSERT is
-- refused too because `INSERT OR REPLACE` deletes the row it replaces
-- without firing DELETE triggers (unless recursive_triggers is on).
--
-- A new migration rather than an edit of the first: sqlx records each
-- applied migration's checksum and refuses to run when an applied file
-- changed.

CREATE TRIGGER event_log_head_only_appends_move_it BEFORE UPDATE ON event_log_head
BEGIN
    SELECT RAISE(ABORT, 'the iamd event log is append-only: UPDATE on table event_log_head may only move it to the last stored event')
    WHERE NOT EXISTS (SELECT 1 FROM events e
                      WHERE e.position = NEW.position
                        AND e.hash = NEW.hash
                        AND e.recorded_at = NEW.recorded_at)
       OR EXISTS (SELECT 1 FROM events e WHERE e.position > NEW.position);
END;

CREATE TRIGGER event_log_head_kept_delete BEFORE DELETE ON event_log_head
BEGIN
    SELECT RAISE(ABORT, 'the iamd event log is append-only: DELETE on table event_log_head is not allowed');
END;

CREATE TRIGGER event_log_head_kept_insert BEFORE INSERT ON event_log_head
BEGIN
    SELECT RAISE(ABORT, 'the iamd event log is append-only: INSERT on table event_log_head is not allowed');
END;
