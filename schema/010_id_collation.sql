-- 010_id_collation: the text columns that vodhook's indexes sort (ids, dedup
-- keys, providers, states) compare bytewise (COLLATE "C") whatever the
-- database's collation. They are identifiers, not words: their order need
-- not follow a language, and two reasons say it must not.
--
-- Cost. In a database whose collation is a language's (en_US.UTF-8 and the
-- like: what a server set up in such a locale gives every database), each
-- comparison of an index descent called the collation library. Recording a
-- batch of 16 callbacks took, in instructions (bench/record.sh with
-- VH_BENCH_DB_OPTS, callgrind), 6.41 M in a glibc en_US.UTF-8 database and
-- 3.19 M in an ICU en-US one, against 2.75 M in a C one; with this
-- migration it takes 2.75 M in all three. In the glibc database the
-- backend's CPU per event fell from 87 to 53 us. A C database is unchanged.
--
-- Safety. A language collation's order is glibc's or ICU's, and changes with
-- their versions: an index built under one order and searched under another
-- misses keys, and a unique index that misses a key takes a second copy of
-- it. That unique index is the dedup that makes a redelivered callback and
-- the spool's replay exactly-once. Byte order never changes.
--
-- The tables are not rewritten (same types, only the collation changes);
-- the indexes on these columns are rebuilt with the tables locked: 4 s for
-- a million events and a million media records here. The view
-- media_lifecycle names these columns, so it is dropped and created again
-- from its own stored definition.
DO $$
DECLARE
    lifecycle text := pg_get_viewdef('media_lifecycle'::regclass);
BEGIN
    DROP VIEW media_lifecycle;
    ALTER TABLE vod_events
        ALTER COLUMN provider TYPE vod_provider COLLATE "C",
        ALTER COLUMN dedup_key TYPE text COLLATE "C",
        ALTER COLUMN file_id TYPE text COLLATE "C",
        ALTER COLUMN task_id TYPE text COLLATE "C";
    ALTER TABLE media
        ALTER COLUMN provider TYPE vod_provider COLLATE "C",
        ALTER COLUMN file_id TYPE text COLLATE "C",
        ALTER COLUMN state TYPE media_state COLLATE "C";
    ALTER TABLE uploads
        ALTER COLUMN provider TYPE vod_provider COLLATE "C",
        ALTER COLUMN state TYPE upload_state COLLATE "C",
        ALTER COLUMN file_id TYPE text COLLATE "C",
        ALTER COLUMN url_job_id TYPE text COLLATE "C";
    EXECUTE 'CREATE VIEW media_lifecycle AS ' || lifecycle;
END
$$;
