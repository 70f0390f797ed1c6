-- The head row moves only with an append.
--
-- An append locks event_log_head, inserts its events and moves the head to
-- the last of them (iamd_append). Nothing else may change the row: deleting,
-- truncating or inserting is refused outright, as changes to `events` are,
-- and an UPDATE is refused unless the new head describes the last stored
-- event exactly (its position, hash and recorded_at), which is what an
-- append writes and the only value the head can rightly hold. A head that
-- was deleted, rewound or pointed at a forged hash would make the next
-- append fail or chain onto the wrong hash; `iamd verify` would name it, but
-- only after the fact.
--
-- As for `events`, only a superuser who disables triggers
-- (session_replication_role = replica) gets past this.
--
-- A new migration rather than an edit of the first: sqlx records each
-- applied migration's checksum and refuses to run when an applied file
-- changed.

CREATE FUNCTION event_log_head_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the iamd event log is append-only: % on table event_log_head is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'the head moves only with an append';
END
$$;

-- One backward scan of the primary key finds the last stored event: a
-- second lookup (`EXISTS ... position > NEW.position`) made every append
-- about 20% slower on pgbench's loop; this form costs about 3%.
CREATE FUNCTION event_log_head_check_move() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last record;
BEGIN
    SELECT e.position, e.hash, e.recorded_at INTO last
        FROM events e ORDER BY e.position DESC LIMIT 1;
    IF last.position IS DISTINCT FROM NEW.position
       OR last.hash IS DISTINCT FROM NEW.hash
       OR last.recorded_at IS DISTINCT FROM NEW.recorded_at THEN
        RAISE EXCEPTION 'the iamd event log is append-only: UPDATE on table event_log_head may only move it to the last stored event'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'the head moves only with an append';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER event_log_head_only_appends_move_it
    BEFORE UPDATE ON event_log_head
    FOR EACH ROW EXECUTE FUNCTION event_log_head_check_move();

CREATE TRIGGER event_log_head_kept_rows
    BEFORE INSERT OR DELETE ON event_log_head
    FOR EACH ROW EXECUTE FUNCTION event_log_head_reject_change();

CREATE TRIGGER event_log_head_kept_truncate
    BEFORE TRUNCATE ON event_log_head
    FOR EACH STATEMENT EXECUTE FUNCTION event_log_head_reject_change();
