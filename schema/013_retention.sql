-- 013_retention: what the retention deletes is found by age. Raw events
-- older than retention_events_days, and finished uploads (with their part
-- checkpoints) that finished more than retention_uploads_days ago, are
-- deleted in small batches by a background thread (store/retention.c).
-- Without an index, each batch would read the whole table to find its
-- rows; with these, it reads only the rows it deletes.
--
-- Every recorded event pays for an entry in vod_events_received_idx (the
-- key is the insert's own time, so entries go to the index's rightmost
-- page, which stays in cache): recording a batch of 16 callbacks took
-- 2.54 M instructions before and 2.64 M after, 4% more (bench/record.sh,
-- callgrind), whether or not a retention is set. The uploads index holds
-- finished jobs only. Each index locks its table against writes while it
-- builds.
CREATE INDEX vod_events_received_idx ON vod_events (received_at);

CREATE INDEX uploads_finished_idx ON uploads (finished_at)
    WHERE finished_at IS NOT NULL;
