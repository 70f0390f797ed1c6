-- Indexes for the audit trail's two questions: what did this actor do, and
-- what was done to this resource (see the PostgreSQL migration of the same
-- name). The expressions must stay exactly as the store's queries write
-- them (`MetadataIndex` in crates/event-store/src/sqlite.rs).
CREATE INDEX events_actor ON events (json_extract(metadata, '$.actor.principal_arn'), position);
CREATE INDEX events_target ON events (json_extract(metadata, '$.target'), position);
