-- The append-only event log: one row per event, a single head row that
-- serializes appends, and the projections' snapshots.

CREATE TABLE event_log_head (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    position    bigint      NOT NULL,
    hash        bytea       NOT NULL,
    recorded_at timestamptz
);
INSERT INTO event_log_head (singleton, position, hash, recorded_at)
VALUES (true, 0, decode(repeat('00', 32), 'hex'), NULL);

CREATE TABLE events (
    position       bigint      PRIMARY KEY CHECK (position > 0),
    stream_id      text        NOT NULL,
    stream_version bigint      NOT NULL CHECK (stream_version > 0),
    event_id       uuid        NOT NULL UNIQUE,
    event_type     text        NOT NULL,
    schema_version integer     NOT NULL,
    payload        jsonb       NOT NULL,
    metadata       jsonb       NOT NULL,
    recorded_at    timestamptz NOT NULL,
    hash           bytea       NOT NULL,
    UNIQUE (stream_id, stream_version)
);
CREATE INDEX events_recorded_at ON events (recorded_at, position);
CREATE INDEX events_event_type ON events (event_type, position);

CREATE FUNCTION events_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the iamd event log is append-only: % on table events is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'events are facts; record a correcting event instead';
END
$$;

CREATE TRIGGER events_append_only_rows
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_reject_change();

CREATE TRIGGER events_append_only_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_reject_change();

CREATE TABLE snapshots (
    name           text        NOT NULL,
    position       bigint      NOT NULL,
    schema_version integer     NOT NULL,
    data           bytea       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, position)
);
