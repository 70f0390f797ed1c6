-- One-round-trip appends: the whole append (lock the head, check idempotency
-- and the expected version, chain the hashes, insert, move the head, NOTIFY)
-- runs inside the database, so the head lock is held for the function's work
-- and the commit only, never across client round trips.
--
-- The client sends, per event, the canonical (RFC 8785) encoding split around
-- the values only known under the lock: p_prefixes[i] is everything up to and
-- including `"position":`, p_middles[i] is from the closing quote of
-- recorded_at up to and including `"stream_version":`. The function completes
--   prefix || position || ',"recorded_at":"' || recorded_at || middle || stream_version || '}'
-- and chains hash = sha256(previous hash || those bytes). `iamd verify`
-- recomputes the same bytes in Rust (crates/event-store/src/hash.rs).
--
-- p_expected: the stream version required, or -1 for "any".
-- Returns status 'appended', 'duplicate' (some event id is already stored;
-- nothing written) or 'conflict' (stream_version holds the actual version).

CREATE FUNCTION iamd_append(
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
    SELECT t.position, p_stream, t.version, t.id, t.type, t.schema, t.payload::jsonb, t.metadata::jsonb, ts, t.hash
    FROM unnest(positions, versions, p_ids, p_types, p_schema_versions, p_payloads, p_metadata, hashes)
         AS t(position, version, id, type, schema, payload, metadata, hash);

    UPDATE event_log_head SET position = head_position + n, hash = h, recorded_at = ts;
    PERFORM pg_notify('iamd_events', (head_position + n)::text);

    RETURN QUERY SELECT 'appended'::text, head_position + 1, head_position + n, current_version + n, ts;
END
$$;
