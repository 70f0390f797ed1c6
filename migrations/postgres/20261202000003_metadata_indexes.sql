-- Indexes for the audit trail's two questions: what did this actor do, and
-- what was done to this resource (`GET /v1/events?actor=…` / `?target=…`,
-- and access history's search for a principal's first event). Without them
-- a filtered page scans the log; with them it reads the matching rows.
--
-- The expressions must stay exactly as the store's queries write them
-- (`MetadataIndex` in crates/event-store/src/postgres.rs). Events without
-- the field index as NULL and are never asked for.
CREATE INDEX events_actor ON events ((metadata -> 'actor' ->> 'principal_arn'), position);
CREATE INDEX events_target ON events ((metadata ->> 'target'), position);
