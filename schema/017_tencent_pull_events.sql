-- 017_tencent_pull_events: find the PullComplete events of a Tencent
-- PullUpload TaskId. As with 005's UploadByURLComplete, the event can be
-- recorded before the worker has stored the TaskId in uploads.url_job_id;
-- the worker then looks the event up by TaskId (vod_events.task_id) right
-- after recording it (store_upload_set_url_job). Partial: PullComplete
-- events only.
CREATE INDEX vod_events_pull_complete_idx ON vod_events (provider, task_id)
    WHERE event_type = 'PullComplete';
