-- 016_webhooks: subscriptions to the lifecycle's changes, and the outbox of
-- signed messages delivered to them (webhooks/, server/webhooks_http.c).
--
-- A message is written by a trigger in the transaction that changes a media
-- record's or an upload job's state, so that a change is delivered if and
-- only if it was committed, whatever crashes when. Its body is fixed there:
-- the record as the API shows it, with the change (from, to, time, the
-- events of the transaction, a sequence number per media or upload). With
-- no enabled subscription a trigger does one index probe and writes
-- nothing. The triggers name no state: other states (deleted, say) are
-- delivered like the rest.
--
-- The bodies hold the columns of 015 (deletion), 018 (app_id) and 019
-- (rate_bps, parts_in_flight), as the API returns them. PL/pgSQL resolves
-- NEW's fields when a trigger runs, not here, so this file applies before
-- 018 and 019 (a new database) or after them; no row is written between
-- them, as the migrations run before anything else. The triggers are AFTER ROW
-- triggers: they see the row as written, after 018's BEFORE triggers filled
-- app_id, and do not depend on 014's AFTER triggers, which only notify, nor
-- they on these (AFTER triggers change no row, so their order by name does
-- not matter).

CREATE TABLE webhook_subscriptions (
    id                  uuid PRIMARY KEY,
    url                 text NOT NULL,
    description         text NOT NULL DEFAULT '',
    -- The filter; NULL selects everything.
    providers           text[] COLLATE "C",
    states              text[] COLLATE "C",
    kinds               text[] COLLATE "C",       -- media, upload
    enabled             boolean NOT NULL DEFAULT true,
    disabled_at         timestamptz,
    disabled_reason     text,
    -- The signing secret (whsec_...) is kept in clear: HMAC needs it to sign.
    secret              text NOT NULL,
    -- The previous one still signs until old_secret_until (rotation).
    old_secret          text,
    old_secret_until    timestamptz,
    -- Since when every attempt has failed (NULL: the last one succeeded).
    failing_since       timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX webhook_subscriptions_enabled_idx ON webhook_subscriptions (id)
    WHERE enabled;

-- The last sequence number given to each subject ("media:<provider>:<id>",
-- "upload:<uuid>"): the row lock makes it grow in commit order per subject.
CREATE TABLE webhook_subjects (
    subject             text COLLATE "C" PRIMARY KEY,
    seq                 bigint NOT NULL
);

CREATE TABLE webhook_messages (
    id                  bigserial PRIMARY KEY,
    subscription_id     uuid NOT NULL
                            REFERENCES webhook_subscriptions ON DELETE CASCADE,
    type                text NOT NULL,
    subject             text COLLATE "C" NOT NULL,
    seq                 bigint NOT NULL,
    body                text NOT NULL,
    state               text NOT NULL DEFAULT 'pending'
                            CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts            integer NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    lease_owner         text,
    lease_expires_at    timestamptz,
    last_status         integer,
    last_error          text,
    created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    delivered_at        timestamptz,
    failed_at           timestamptz
);

-- Delivery takes a subscription's oldest due message whose subject has no
-- earlier one pending, and counts the subscription's leased messages.
CREATE INDEX webhook_messages_due_idx
    ON webhook_messages (subscription_id, next_attempt_at, id)
    WHERE state = 'pending';
CREATE INDEX webhook_messages_subject_idx
    ON webhook_messages (subscription_id, subject, id) WHERE state = 'pending';
CREATE INDEX webhook_messages_leased_idx ON webhook_messages (subscription_id)
    WHERE lease_owner IS NOT NULL;
CREATE INDEX webhook_messages_list_idx ON webhook_messages (subscription_id, id);

CREATE TABLE webhook_attempts (
    id                  bigserial PRIMARY KEY,
    message_id          bigint NOT NULL
                            REFERENCES webhook_messages ON DELETE CASCADE,
    started_at          timestamptz NOT NULL,
    duration_ms         integer NOT NULL,
    status              integer,                -- HTTP status; NULL: none
    error               text,                   -- why it failed, if it did
    response            text                    -- the body's start
);

CREATE INDEX webhook_attempts_message_idx ON webhook_attempts (message_id, id);

-- The events this transaction recorded for a media record, oldest first.
CREATE FUNCTION webhook_events(p_provider text, p_file_id text) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT coalesce(json_agg(json_build_object('id', e.id::text,
        'event_type', e.event_type, 'status', e.status,
        'received_via', e.received_via, 'event_time', e.event_time)
        ORDER BY e.id), '[]'::json)
    FROM vod_events e
    WHERE e.provider = p_provider AND e.file_id = p_file_id
      AND e.xmin::text = (pg_current_xact_id()::text::bigint % 4294967296)::text
$$;

-- The next sequence number of a subject.
CREATE FUNCTION webhook_next_seq(p_subject text) RETURNS bigint
LANGUAGE sql AS $$
    INSERT INTO webhook_subjects AS s (subject, seq) VALUES (p_subject, 1)
    ON CONFLICT (subject) DO UPDATE SET seq = s.seq + 1
    RETURNING s.seq
$$;

-- The time in the form the messages use: RFC 3339, UTC, milliseconds.
CREATE FUNCTION webhook_time(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- A media record changed state: one message per subscription that selects
-- it. The record's shape is store/media.c's MEDIA_JSON (GET /v1/media).
CREATE FUNCTION webhook_media_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_subject text;
    v_seq bigint;
    v_body text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhook_subscriptions s
                   WHERE s.enabled
                     AND (s.providers IS NULL OR NEW.provider = ANY (s.providers))
                     AND (s.states IS NULL OR NEW.state = ANY (s.states))
                     AND (s.kinds IS NULL OR 'media' = ANY (s.kinds))) THEN
        RETURN NULL;
    END IF;
    v_subject := 'media:' || NEW.provider || ':' || NEW.file_id;
    v_seq := webhook_next_seq(v_subject);
    v_body := json_build_object(
        'type', 'media.state_changed',
        'timestamp', webhook_time(now()),
        'data', json_build_object(
            'media', json_build_object('provider', NEW.provider,
                'file_id', NEW.file_id, 'state', NEW.state,
                'upload_id', NEW.upload_id, 'media_url', NEW.media_url,
                'size', NEW.size, 'procedure_task_id', NEW.procedure_task_id,
                'source_context', NEW.source_context,
                'app_id', NEW.app_id,
                'error_code', NEW.error_code,
                'error_message', NEW.error_message,
                'created_at', NEW.created_at, 'updated_at', NEW.updated_at,
                'transitions', json_build_object('uploaded', NEW.uploaded_at,
                    'confirmed', NEW.confirmed_at,
                    'processing', NEW.processing_at,
                    'ready', NEW.ready_at, 'failed', NEW.failed_at,
                    'deleted', NEW.deleted_at),
                'delete', CASE WHEN NEW.delete_requested_at IS NOT NULL
                          THEN json_build_object(
                              'requested_at', NEW.delete_requested_at,
                              'error_code', NEW.delete_error_code,
                              'error_message', NEW.delete_error_message)
                          END),
            'change', json_build_object(
                'from', CASE WHEN TG_OP = 'UPDATE' THEN OLD.state END,
                'to', NEW.state, 'time', webhook_time(now()),
                'seq', v_seq,
                'events', webhook_events(NEW.provider, NEW.file_id))))::text;
    INSERT INTO webhook_messages (subscription_id, type, subject, seq, body)
    SELECT s.id, 'media.state_changed', v_subject, v_seq, v_body
    FROM webhook_subscriptions s
    WHERE s.enabled
      AND (s.providers IS NULL OR NEW.provider = ANY (s.providers))
      AND (s.states IS NULL OR NEW.state = ANY (s.states))
      AND (s.kinds IS NULL OR 'media' = ANY (s.kinds));
    RETURN NULL;
END
$$;

-- An upload job changed state. The record's shape is store/uploads.c's
-- UPLOAD_JSON (GET /v1/uploads/{id}).
CREATE FUNCTION webhook_upload_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_subject text;
    v_seq bigint;
    v_body text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhook_subscriptions s
                   WHERE s.enabled
                     AND (s.providers IS NULL OR NEW.provider = ANY (s.providers))
                     AND (s.states IS NULL OR NEW.state = ANY (s.states))
                     AND (s.kinds IS NULL OR 'upload' = ANY (s.kinds))) THEN
        RETURN NULL;
    END IF;
    v_subject := 'upload:' || NEW.id;
    v_seq := webhook_next_seq(v_subject);
    v_body := json_build_object(
        'type', 'upload.state_changed',
        'timestamp', webhook_time(now()),
        'data', json_build_object(
            'upload', json_build_object('id', NEW.id,
                'provider', NEW.provider, 'state', NEW.state,
                'source_kind', NEW.source_kind, 'source', NEW.source,
                'name', NEW.media_name, 'media_type', NEW.media_type,
                'media_kind', NEW.media_kind, 'procedure', NEW.procedure,
                'source_context', NEW.source_context, 'options', NEW.options,
                'bytes_total', NEW.bytes_total, 'bytes_done', NEW.bytes_done,
                'part_size', NEW.part_size, 'rate_bps', NEW.rate_bps,
                'parts_in_flight', NEW.parts_in_flight, 'file_id', NEW.file_id,
                'media_url', NEW.media_url, 'url_job_id', NEW.url_job_id,
                'app_id', NEW.app_id, 'attempts', NEW.attempts,
                'cancel_requested', NEW.cancel_requested,
                'error', CASE WHEN NEW.error_code IS NULL
                                AND NEW.error_message IS NULL THEN NULL
                         ELSE json_build_object('code', NEW.error_code,
                              'message', NEW.error_message) END,
                'created_at', NEW.created_at, 'updated_at', NEW.updated_at,
                'started_at', NEW.started_at,
                'uploaded_at', NEW.uploaded_at,
                'finished_at', NEW.finished_at),
            'change', json_build_object(
                'from', CASE WHEN TG_OP = 'UPDATE' THEN OLD.state END,
                'to', NEW.state, 'time', webhook_time(now()),
                'seq', v_seq,
                'events', CASE WHEN NEW.file_id IS NULL THEN '[]'::json
                          ELSE webhook_events(NEW.provider, NEW.file_id)
                          END)))::text;
    INSERT INTO webhook_messages (subscription_id, type, subject, seq, body)
    SELECT s.id, 'upload.state_changed', v_subject, v_seq, v_body
    FROM webhook_subscriptions s
    WHERE s.enabled
      AND (s.providers IS NULL OR NEW.provider = ANY (s.providers))
      AND (s.states IS NULL OR NEW.state = ANY (s.states))
      AND (s.kinds IS NULL OR 'upload' = ANY (s.kinds));
    RETURN NULL;
END
$$;

-- Claim one message for p_owner: of an enabled subscription with fewer
-- than p_max messages leased, the oldest due whose subject has no earlier
-- one pending (so that each media's or upload's messages go out one at a
-- time, in order). The subscription's row is locked first (NO KEY UPDATE,
-- which the triggers' foreign-key checks do not wait for; a concurrent
-- claim waits the few milliseconds this one holds it rather than skip the
-- subscription and sleep, and rows are locked in id order so that two
-- claims never wait on each other in a cycle), and only then, in a
-- statement of its own and so with a snapshot that sees the claims
-- committed meanwhile, are its leases counted: two claims cannot both
-- count below the bound. The message's row is locked with SKIP LOCKED
-- too, so that a lease taken meanwhile is seen (its new version checked).
CREATE FUNCTION webhook_claim(p_owner text, p_lease_s integer, p_max integer,
                              OUT claimed_id bigint, OUT claimed_attempts integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_sub uuid;
    v_id bigint;
BEGIN
    FOR v_sub IN
        SELECT s.id FROM webhook_subscriptions s
        WHERE s.enabled AND EXISTS (SELECT 1 FROM webhook_messages m
            WHERE m.subscription_id = s.id AND m.state = 'pending'
              AND m.next_attempt_at <= now())
        ORDER BY s.id
        FOR NO KEY UPDATE
    LOOP
        IF (SELECT count(*) FROM webhook_messages f
            WHERE f.subscription_id = v_sub AND f.lease_owner IS NOT NULL
              AND f.state = 'pending' AND f.lease_expires_at > now())
           >= p_max THEN
            CONTINUE;
        END IF;
        SELECT m.id INTO v_id FROM webhook_messages m
        WHERE m.subscription_id = v_sub AND m.state = 'pending'
          AND m.next_attempt_at <= now()
          AND (m.lease_expires_at IS NULL OR m.lease_expires_at < now())
          AND NOT EXISTS (SELECT 1 FROM webhook_messages p
              WHERE p.subscription_id = v_sub AND p.state = 'pending'
                AND p.subject = m.subject AND p.id < m.id)
        ORDER BY m.next_attempt_at, m.id LIMIT 1
        FOR UPDATE SKIP LOCKED;
        IF v_id IS NOT NULL THEN
            UPDATE webhook_messages SET lease_owner = p_owner,
                lease_expires_at = now() + make_interval(secs => p_lease_s),
                attempts = attempts + 1
            WHERE id = v_id RETURNING id, attempts
            INTO claimed_id, claimed_attempts;
            RETURN;
        END IF;
    END LOOP;
END
$$;

CREATE TRIGGER webhook_media_inserted AFTER INSERT ON media
    FOR EACH ROW EXECUTE FUNCTION webhook_media_changed();
CREATE TRIGGER webhook_media_updated AFTER UPDATE OF state ON media
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION webhook_media_changed();
CREATE TRIGGER webhook_upload_inserted AFTER INSERT ON uploads
    FOR EACH ROW EXECUTE FUNCTION webhook_upload_changed();
CREATE TRIGGER webhook_upload_updated AFTER UPDATE OF state ON uploads
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION webhook_upload_changed();
