-- 015_deleted: deletion is part of a media record's lifecycle. A record
-- moves to 'deleted' from any state when the platform says the media is
-- gone (Tencent FileDeleted, Alibaba DeleteMediaComplete, or the
-- reconciler finding that media asked to be deleted no longer exists), and
-- stays there: its rank (5) is above ready and failed, and a record only
-- moves to a higher rank, so a late processing event, whatever the order of
-- arrival, never brings a deleted media back.
--
-- deleted_at is when the platform deleted it; delete_requested_at is when
-- vodhook asked the platform to (DELETE /v1/media/..., vodhook delete),
-- with the platform's refusal, if any, in delete_error_code and
-- delete_error_message. A request that the platform accepted is completed
-- by the event, or by the reconciler (media_delete_pending_idx finds the
-- requests still open).
ALTER DOMAIN media_state DROP CONSTRAINT media_state_check;
ALTER DOMAIN media_state ADD CONSTRAINT media_state_check
    CHECK (VALUE IN ('uploaded', 'confirmed', 'processing', 'ready', 'failed',
                     'deleted'));
ALTER DOMAIN media_state_rank DROP CONSTRAINT media_state_rank_check;
ALTER DOMAIN media_state_rank ADD CONSTRAINT media_state_rank_check
    CHECK (VALUE BETWEEN 1 AND 5);

CREATE OR REPLACE FUNCTION media_state_rank(state text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE state
        WHEN 'uploaded' THEN 1 WHEN 'confirmed' THEN 2 WHEN 'processing' THEN 3
        WHEN 'ready' THEN 4 WHEN 'failed' THEN 4 WHEN 'deleted' THEN 5 END::smallint
$$;

ALTER TABLE media
    ADD COLUMN deleted_at timestamptz,
    ADD COLUMN delete_requested_at timestamptz,
    ADD COLUMN delete_error_code text,
    ADD COLUMN delete_error_message text;

CREATE INDEX media_delete_pending_idx ON media (delete_requested_at)
    WHERE delete_requested_at IS NOT NULL AND state <> 'deleted';

-- The view gains the two times at its end (CREATE OR REPLACE keeps the
-- columns it had, in their order).
CREATE OR REPLACE VIEW media_lifecycle AS
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
    m.updated_at,
    m.deleted_at,
    m.delete_requested_at
FROM media m
LEFT JOIN uploads u ON u.id = m.upload_id;
