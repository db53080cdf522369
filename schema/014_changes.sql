-- 014_changes: every change of a media record's state and of an upload job's
-- state or progress is published on the channel vodhook_changes
-- (pg_notify), in the transaction that makes it: a listener hears it once
-- the change is committed, and never hears a change that was rolled back.
-- Any process on the database hears every change, whichever process made
-- it, so each vodhook serve's /v1/stream and an application's own LISTEN
-- see the same lifecycle.
--
-- The payload is compact JSON, built by the two functions below, which the
-- stream's snapshot (store/changes.c) uses too so that both take one shape:
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

CREATE FUNCTION vodhook_change_time(t timestamptz) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

CREATE FUNCTION vodhook_change_id(id text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN id IS NULL OR octet_length(id) > 1000 THEN 'null'
                ELSE to_json(id)::text END;

CREATE FUNCTION vodhook_media_change(m media, from_state text, t timestamptz)
    RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
    RETURN '{"kind":"media","provider":' || to_json(m.provider::text)
        || ',"file_id":' || vodhook_change_id(m.file_id)
        || ',"state":' || to_json(m.state::text)
        || ',"from":' || coalesce(to_json(from_state)::text, 'null')
        || ',"upload_id":' || coalesce(to_json(m.upload_id)::text, 'null')
        || ',"time":"' || vodhook_change_time(t) || '"}';

CREATE FUNCTION vodhook_upload_change(u uploads, from_state text,
                                      t timestamptz)
    RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
    RETURN '{"kind":"upload","upload_id":' || to_json(u.id)::text
        || ',"provider":' || to_json(u.provider::text)
        || ',"file_id":' || vodhook_change_id(u.file_id)
        || ',"state":' || to_json(u.state::text)
        || ',"from":' || coalesce(to_json(from_state)::text, 'null')
        || ',"bytes_done":' || u.bytes_done
        || ',"bytes_total":' || coalesce(u.bytes_total::text, 'null')
        || ',"time":"' || vodhook_change_time(t) || '"}';

CREATE FUNCTION vodhook_media_notify() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('vodhook_changes', vodhook_media_change(NEW,
        CASE WHEN TG_OP = 'UPDATE' THEN OLD.state::text END,
        clock_timestamp()));
    RETURN NULL;
END $$;

CREATE FUNCTION vodhook_upload_notify() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('vodhook_changes', vodhook_upload_change(NEW,
        CASE WHEN TG_OP = 'UPDATE' AND OLD.state IS DISTINCT FROM NEW.state
             THEN OLD.state::text END,
        clock_timestamp()));
    RETURN NULL;
END $$;

CREATE TRIGGER media_changes_insert AFTER INSERT ON media
    FOR EACH ROW EXECUTE FUNCTION vodhook_media_notify();
CREATE TRIGGER media_changes_update AFTER UPDATE OF state ON media
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION vodhook_media_notify();

CREATE TRIGGER uploads_changes_insert AFTER INSERT ON uploads
    FOR EACH ROW EXECUTE FUNCTION vodhook_upload_notify();
CREATE TRIGGER uploads_changes_update AFTER UPDATE OF state, bytes_done
    ON uploads
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state
                       OR OLD.bytes_done IS DISTINCT FROM NEW.bytes_done)
    EXECUTE FUNCTION vodhook_upload_notify();
