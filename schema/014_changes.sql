-- 014_changes: every change of a media record's state and of an upload job's
-- state or progress is published on the channel vodhook_changes
-- (pg_notify), in the transaction that makes it: a listener hears it once
-- the change is committed, and never hears a change that was rolled back.
-- Any process on the database hears every change, whichever process made
-- it, so each vodhook serve's /v1/stream and an application's own LISTEN
-- see the same lifecycle.
--
-- The payload is compact JSON, built by vodhook_media_change and
-- vodhook_upload_change, which the stream's snapshot (store/changes.c) uses
-- too so that both take one shape:
--   {"kind":"media","provider":..,"file_id":..,"state":..,"from":..,
--    "upload_id":..,"time":..}
--   {"kind":"upload","upload_id":..,"provider":..,"file_id":..,"state":..,
--    "from":..,"bytes_done":..,"bytes_total":..,"time":..}
-- "from" is the previous state (null for a new row, a snapshot, or an
-- upload's progress in the same state), "time"
-- RFC 3339 in UTC with milliseconds. NOTIFY refuses a payload of 8000
-- bytes or more: every value is bounded (providers and states are domains,
-- ids are uuids or platform ids), and a file id longer than 1000 bytes,
-- which no platform issues, is given as null rather than risk the
-- transaction.
--
-- Cost: the callback committer records a batch of events in one statement
-- whose media upsert touches a row per event. A row trigger would make a
-- PL/pgSQL call, an SPI query and a formatted time per event, the bulk of
-- what recording an event costs; the media triggers are per statement
-- instead, with transition tables, and format the time once. Upload jobs
-- change a row at a time (progress at most 4 times a second each), so
-- theirs stay per row. The payload functions are STABLE, as to_json and
-- to_char are: PostgreSQL inlines a SQL function into the query that calls
-- it only when it is declared no stricter than its body, and a call that is
-- not inlined runs an executor of its own for each row. Providers, states
-- and uuids need no escaping (domains and a type admit no quote or
-- backslash); a file id is escaped by to_json.

CREATE FUNCTION vodhook_change_time(t timestamptz) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

CREATE FUNCTION vodhook_change_id(id text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN CASE WHEN id IS NULL OR octet_length(id) > 1000 THEN 'null'
                ELSE to_json(id)::text END;

CREATE FUNCTION vodhook_media_change(provider text, file_id text,
                                     state text, from_state text,
                                     upload_id uuid, at text)
    RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
    RETURN '{"kind":"media","provider":"' || provider
        || '","file_id":' || vodhook_change_id(file_id)
        || ',"state":"' || state
        || '","from":' || coalesce('"' || from_state || '"', 'null')
        || ',"upload_id":' || coalesce('"' || upload_id || '"', 'null')
        || ',"time":"' || at || '"}';

CREATE FUNCTION vodhook_upload_change(id uuid, provider text, file_id text,
                                      state text, from_state text,
                                      bytes_done bigint, bytes_total bigint,
                                      at text)
    RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
    RETURN '{"kind":"upload","upload_id":"' || id
        || '","provider":"' || provider
        || '","file_id":' || vodhook_change_id(file_id)
        || ',"state":"' || state
        || '","from":' || coalesce('"' || from_state || '"', 'null')
        || ',"bytes_done":' || bytes_done
        || ',"bytes_total":' || coalesce(bytes_total::text, 'null')
        || ',"time":"' || at || '"}';

CREATE FUNCTION vodhook_media_inserted() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    at text := vodhook_change_time(clock_timestamp());
BEGIN
    PERFORM pg_notify('vodhook_changes', vodhook_media_change(n.provider,
        n.file_id, n.state, NULL, n.upload_id, at))
    FROM vodhook_new n;
    RETURN NULL;
END $$;

CREATE FUNCTION vodhook_media_updated() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    at text := vodhook_change_time(clock_timestamp());
BEGIN
    PERFORM pg_notify('vodhook_changes', vodhook_media_change(n.provider,
        n.file_id, n.state, o.state, n.upload_id, at))
    FROM vodhook_new n JOIN vodhook_old o ON o.id = n.id
    WHERE o.state IS DISTINCT FROM n.state;
    RETURN NULL;
END $$;

CREATE FUNCTION vodhook_upload_notify() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('vodhook_changes', vodhook_upload_change(NEW.id,
        NEW.provider, NEW.file_id, NEW.state,
        CASE WHEN TG_OP = 'UPDATE' AND OLD.state IS DISTINCT FROM NEW.state
             THEN OLD.state END,
        NEW.bytes_done, NEW.bytes_total,
        vodhook_change_time(clock_timestamp())));
    RETURN NULL;
END $$;

CREATE TRIGGER media_changes_insert AFTER INSERT ON media
    REFERENCING NEW TABLE AS vodhook_new
    FOR EACH STATEMENT EXECUTE FUNCTION vodhook_media_inserted();
CREATE TRIGGER media_changes_update AFTER UPDATE ON media
    REFERENCING OLD TABLE AS vodhook_old NEW TABLE AS vodhook_new
    FOR EACH STATEMENT EXECUTE FUNCTION vodhook_media_updated();

CREATE TRIGGER uploads_changes_insert AFTER INSERT ON uploads
    FOR EACH ROW EXECUTE FUNCTION vodhook_upload_notify();
CREATE TRIGGER uploads_changes_update AFTER UPDATE OF state, bytes_done
    ON uploads
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state
                       OR OLD.bytes_done IS DISTINCT FROM NEW.bytes_done)
    EXECUTE FUNCTION vodhook_upload_notify();
