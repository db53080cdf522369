-- 002_lifecycle: state ranks, and the media_lifecycle view.

-- Rank of a media state; a record only ever moves to a higher rank.
CREATE FUNCTION media_state_rank(state text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE state
        WHEN 'uploaded' THEN 1 WHEN 'confirmed' THEN 2 WHEN 'processing' THEN 3
        WHEN 'ready' THEN 4 WHEN 'failed' THEN 4 END::smallint
$$;

-- Rank of an upload job state; canceled is terminal like ready and failed.
CREATE FUNCTION upload_state_rank(state text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE state
        WHEN 'queued' THEN 0 WHEN 'uploading' THEN 1 WHEN 'committing' THEN 2
        WHEN 'uploaded' THEN 3 WHEN 'confirmed' THEN 4 WHEN 'processing' THEN 5
        WHEN 'ready' THEN 6 WHEN 'failed' THEN 6 WHEN 'canceled' THEN 6 END::smallint
$$;

-- One row per media: where it stands, how long each phase took, the upload
-- that produced it (if vodhook uploaded it) and the last error.
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
