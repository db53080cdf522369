-- 011_source_version: what the source was when its session began (a file's
-- device, inode, size and modification time; a URL's ETag or Last-Modified
-- and size). A job resumed from its checkpoint sends only the parts the
-- store lacks; if the source changed in between, the object would join
-- parts of two different contents. A resumed job whose source no longer
-- matches starts over with a new session. NULL: not known (jobs begun
-- before this migration, URLs that say neither).
ALTER TABLE uploads ADD COLUMN source_version text;
