-- The append-only event log (SQLite): times are integer microseconds since
-- the Unix epoch, JSON is canonical text.

CREATE TABLE event_log_head (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    position    INTEGER NOT NULL,
    hash        BLOB    NOT NULL,
    recorded_at INTEGER
);
INSERT INTO event_log_head (singleton, position, hash, recorded_at) VALUES (1, 0, zeroblob(32), NULL);

CREATE TABLE events (
    position       INTEGER PRIMARY KEY CHECK (position > 0),
    stream_id      TEXT    NOT NULL,
    stream_version INTEGER NOT NULL CHECK (stream_version > 0),
    event_id       TEXT    NOT NULL UNIQUE,
    event_type     TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    payload        TEXT    NOT NULL,
    metadata       TEXT    NOT NULL,
    recorded_at    INTEGER NOT NULL,
    hash           BLOB    NOT NULL,
    UNIQUE (stream_id, stream_version)
);
CREATE INDEX events_recorded_at ON events (recorded_at, position);
CREATE INDEX events_event_type ON events (event_type, position);

CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the iamd event log is append-only: UPDATE on table events is not allowed');
END;

CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'the iamd event log is append-only: DELETE on table events is not allowed');
END;

CREATE TABLE snapshots (
    name           TEXT    NOT NULL,
    position       INTEGER NOT NULL,
    schema_version INTEGER NOT NULL,
    data           BLOB    NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (name, position)
);
