-- 004_url_pull: uploads the platform pulls from a URL itself (Alibaba
-- UploadMediaByURL). The job is known by the platform's JobId until the
-- UploadByURLComplete event names its VideoId, or reports that the pull
-- failed (that event has no VideoId: the JobId is the only link).
ALTER TABLE uploads ADD COLUMN url_job_id text;

CREATE UNIQUE INDEX uploads_url_job_idx ON uploads (provider, url_job_id)
    WHERE url_job_id IS NOT NULL;
