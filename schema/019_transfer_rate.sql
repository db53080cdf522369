-- 019_transfer_rate: an upload in progress shows how fast it goes and
-- how many parts it sends at once. The transfer engine adapts the parts
-- in flight to the path (more while the rate rises, fewer on throttling),
-- so the count is worth seeing next to the rate. Both are written with the
-- heartbeat of the job's lease and are NULL when no part is in flight;
-- GET /v1/uploads/{id} shows them while the state is uploading.
ALTER TABLE uploads
    ADD COLUMN rate_bps bigint CHECK (rate_bps >= 0),
    ADD COLUMN parts_in_flight integer CHECK (parts_in_flight >= 0);
