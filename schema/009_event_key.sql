-- 009_event_key: an event's primary key is its dedup key. The bigserial id
-- had an index of its own that no statement looks up (events are found by
-- dedup key, or by media through vod_events_file_idx, whose keys end with
-- id), and every recorded event paid for an entry in it: 4% of the
-- instructions PostgreSQL spends recording a batch of 16 callbacks, 2.86 M
-- before and 2.75 M after (bench/record.sh, callgrind). id stays, unique as
-- its sequence makes it: it orders a media's events and the API shows it.
--
-- The key's index is built anew (an index that backs a constraint cannot
-- become the primary key's): the table is locked while it builds, about 2 s
-- per million events here.
ALTER TABLE vod_events DROP CONSTRAINT vod_events_pkey,
    DROP CONSTRAINT vod_events_dedup_key_key,
    ADD CONSTRAINT vod_events_pkey PRIMARY KEY (dedup_key, provider);
