-- 005_url_job_events: find the UploadByURLComplete events of a JobId.
-- A pull that fails at once can be reported by its callback before the
-- worker has recorded the JobId in uploads.url_job_id; the worker then
-- looks the event up by JobId (vod_events.task_id) right after recording
-- it (store_upload_set_url_job). Partial: only URL pull events are indexed.
CREATE INDEX vod_events_url_job_idx ON vod_events (provider, task_id)
    WHERE event_type = 'UploadByURLComplete';
