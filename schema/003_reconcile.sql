-- 003_reconcile: when a media record was last looked up with the platform's
-- API by the reconciler (records whose callbacks never came).
ALTER TABLE media ADD COLUMN reconciled_at timestamptz;

CREATE INDEX media_unfinished_idx ON media (updated_at)
    WHERE state IN ('uploaded', 'confirmed', 'processing');
