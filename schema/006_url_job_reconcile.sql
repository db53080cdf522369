-- 006_url_job_reconcile: URL pulls whose callbacks never came. A job the
-- platform pulls (url_job_id set) waits for its callbacks; the reconciler
-- asks the platform about one that waited too long (GetURLUploadInfos) and
-- records here when it last did, so that it asks again only after the same
-- delay. The index holds the parked jobs only.
ALTER TABLE uploads ADD COLUMN reconciled_at timestamptz;

CREATE INDEX uploads_url_parked_idx ON uploads (updated_at)
    WHERE url_job_id IS NOT NULL AND file_id IS NULL AND state = 'uploading';
