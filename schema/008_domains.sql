-- 008_domains: the enumerated columns (providers, states, how an event came
-- in) are domains instead of text columns with CHECK constraints. The rules
-- are the same; what changes is their cost. PostgreSQL parses and plans a
-- table's CHECK constraints again in every execution of a statement that
-- writes the table, cached plan or not, while a domain's constraints are
-- prepared once per connection (in its type cache). The statement that
-- records a batch of 16 callbacks spent 5% of its instructions on them
-- (callgrind).
--
-- Each domain is created without its constraint, so that a column changes
-- to it without a rewrite (same base type); the constraint is then added,
-- which reads each table once to check its rows, and the table's own CHECK
-- constraint is dropped. Indexes whose predicate names a changed column are
-- rebuilt (media_unfinished_idx, uploads_claim_idx, uploads_url_parked_idx),
-- and the view media_lifecycle is dropped and created again, unchanged.
-- Values read back are plain text and smallint to every client.
CREATE DOMAIN vod_provider AS text;
CREATE DOMAIN upload_state AS text;
CREATE DOMAIN upload_source_kind AS text;
CREATE DOMAIN upload_media_kind AS text;
CREATE DOMAIN media_state AS text;
CREATE DOMAIN media_state_rank AS smallint;
CREATE DOMAIN event_source AS text;

DROP VIEW media_lifecycle;

ALTER TABLE uploads
    ALTER COLUMN provider TYPE vod_provider,
    ALTER COLUMN state TYPE upload_state,
    ALTER COLUMN source_kind TYPE upload_source_kind,
    ALTER COLUMN media_kind TYPE upload_media_kind;
ALTER TABLE media
    ALTER COLUMN provider TYPE vod_provider,
    ALTER COLUMN state TYPE media_state,
    ALTER COLUMN state_rank TYPE media_state_rank;
ALTER TABLE vod_events
    ALTER COLUMN provider TYPE vod_provider,
    ALTER COLUMN received_via TYPE event_source;

ALTER DOMAIN vod_provider ADD CONSTRAINT vod_provider_check
    CHECK (VALUE IN ('tencent', 'alibaba'));
ALTER DOMAIN upload_state ADD CONSTRAINT upload_state_check
    CHECK (VALUE IN ('queued', 'uploading', 'committing', 'uploaded',
                     'confirmed', 'processing', 'ready', 'failed', 'canceled'));
ALTER DOMAIN upload_source_kind ADD CONSTRAINT upload_source_kind_check
    CHECK (VALUE IN ('file', 'url'));
ALTER DOMAIN upload_media_kind ADD CONSTRAINT upload_media_kind_check
    CHECK (VALUE IN ('video', 'image'));
ALTER DOMAIN media_state ADD CONSTRAINT media_state_check
    CHECK (VALUE IN ('uploaded', 'confirmed', 'processing', 'ready', 'failed'));
ALTER DOMAIN media_state_rank ADD CONSTRAINT media_state_rank_check
    CHECK (VALUE BETWEEN 1 AND 4);
ALTER DOMAIN event_source ADD CONSTRAINT event_source_check
    CHECK (VALUE IN ('push', 'pull', 'spool', 'reconcile'));

ALTER TABLE uploads
    DROP CONSTRAINT uploads_provider_check,
    DROP CONSTRAINT uploads_state_check,
    DROP CONSTRAINT uploads_source_kind_check,
    DROP CONSTRAINT uploads_media_kind_check;
ALTER TABLE media
    DROP CONSTRAINT media_provider_check,
    DROP CONSTRAINT media_state_check,
    DROP CONSTRAINT media_state_rank_check;
ALTER TABLE vod_events
    DROP CONSTRAINT vod_events_provider_check,
    DROP CONSTRAINT vod_events_received_via_check;

CREATE VIEW media_lifecycle AS
SELECT
    m.id,
    m.provider,
    m.file_id,
    m.state,
    m.upload_id,
    u.state                                        AS upload_state,
    u.media_name,
    u.source_context                               AS upload_context,
    m.media_url,
    m.size,
    m.procedure_task_id,
    coalesce(u.created_at, m.uploaded_at, m.confirmed_at, m.created_at)
                                                   AS started_at,
    coalesce(m.uploaded_at, m.confirmed_at)        AS uploaded_at,
    m.ready_at,
    m.failed_at,
    coalesce(m.uploaded_at, m.confirmed_at) - u.created_at
                                                   AS upload_duration,
    coalesce(m.ready_at, m.failed_at)
        - coalesce(m.processing_at, m.confirmed_at, m.uploaded_at)
                                                   AS processing_duration,
    coalesce(m.ready_at, m.failed_at)
        - coalesce(u.created_at, m.uploaded_at, m.confirmed_at)
                                                   AS total_duration,
    coalesce(m.error_code, u.error_code)           AS last_error_code,
    coalesce(m.error_message, u.error_message)     AS last_error_message,
    (SELECT count(*) FROM vod_events e
      WHERE e.provider = m.provider AND e.file_id = m.file_id) AS events,
    m.updated_at
FROM media m
LEFT JOIN uploads u ON u.id = m.upload_id;
