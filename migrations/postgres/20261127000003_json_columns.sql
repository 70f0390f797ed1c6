-- Payload and metadata as `json` rather than `jsonb`.
--
-- The log stores each event's canonical (RFC 8785) text, and the hash chain
-- is computed over that form in any case, so jsonb's binary representation
-- buys nothing on the write or replay paths and costs a conversion in both
-- directions (text -> jsonb on every append, jsonb -> text on every read).
-- `json` keeps the text as written, still validates it, and still supports
-- the JSON operators for ad-hoc audit queries.
--
-- The event_type index goes too: no query of the store uses it, and every
-- append paid for it. Audit queries that need it will add their own.

ALTER TABLE events ALTER COLUMN payload TYPE json USING payload::json;
ALTER TABLE events ALTER COLUMN metadata TYPE json USING metadata::json;
DROP INDEX IF EXISTS events_event_type;

CREATE OR REPLACE FUNCTION iamd_append(
    p_stream text,
    p_expected bigint,
    p_ids uuid[],
    p_types text[],
    p_schema_versions integer[],
    p_payloads text[],
    p_metadata text[],
    p_prefixes text[],
    p_middles text[]
) RETURNS TABLE (status text, first_position bigint, last_position bigint, stream_version bigint, recorded_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    head_position bigint;
    head_hash bytea;
    head_time timestamptz;
    ts timestamptz;
    ts_text text;
    current_version bigint;
    n integer := coalesce(array_length(p_ids, 1), 0);
    positions bigint[] := '{}';
    versions bigint[] := '{}';
    hashes bytea[] := '{}';
    h bytea;
BEGIN
    SELECT l.position, l.hash, l.recorded_at INTO head_position, head_hash, head_time
    FROM event_log_head l FOR UPDATE;

    IF EXISTS (SELECT 1 FROM events e WHERE e.event_id = ANY (p_ids)) THEN
        RETURN QUERY SELECT 'duplicate'::text, NULL::bigint, NULL::bigint, NULL::bigint, NULL::timestamptz;
        RETURN;
    END IF;

    SELECT coalesce(max(e.stream_version), 0) INTO current_version FROM events e WHERE e.stream_id = p_stream;
    IF p_expected >= 0 AND current_version <> p_expected THEN
        RETURN QUERY SELECT 'conflict'::text, NULL::bigint, NULL::bigint, current_version, NULL::timestamptz;
        RETURN;
    END IF;

    ts := clock_timestamp();
    IF head_time IS NOT NULL AND head_time > ts THEN
        ts := head_time;
    END IF;
    ts_text := to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');

    h := head_hash;
    FOR i IN 1 .. n LOOP
        h := sha256(h || convert_to(
            p_prefixes[i] || (head_position + i)::text || ',"recorded_at":"' || ts_text
            || p_middles[i] || (current_version + i)::text || '}', 'UTF8'));
        positions := positions || (head_position + i);
        versions := versions || (current_version + i);
        hashes := hashes || h;
    END LOOP;

    INSERT INTO events (position, stream_id, stream_version, event_id, event_type, schema_version,
                        payload, metadata, recorded_at, hash)
    SELECT t.position, p_stream, t.version, t.id, t.type, t.schema, t.payload::json, t.metadata::json, ts, t.hash
    FROM unnest(positions, versions, p_ids, p_types, p_schema_versions, p_payloads, p_metadata, hashes)
         AS t(position, version, id, type, schema, payload, metadata, hash);

    UPDATE event_log_head SET position = head_position + n, hash = h, recorded_at = ts;
    PERFORM pg_notify('iamd_events', (head_position + n)::text);

    RETURN QUERY SELECT 'appended'::text, head_position + 1, head_position + n, current_version + n, ts;
END
$$;
