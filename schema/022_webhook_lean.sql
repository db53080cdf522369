-- 022_webhook_lean: with a subscription, recording a media record's change
-- writes one narrow message row, and delivering a batch of messages takes
-- two statements, neither waiting for a WAL flush.
--
-- Measured with one subscription (bench/results/2026-12-06-webhooks.md):
-- 021's statement trigger spent most of its cost on the sequence numbers'
-- upsert into webhook_subjects (a row lock and a tuple per record), on
-- building the ~1 KB body in JSON, which also doubled the WAL per
-- callback, and on the foreign key's check of each message; a delivery
-- cost two synchronous commits and, on a table without statistics, a read
-- of every pending message. Now:
--   - A media message's seq is the record's state rank (media_state_rank:
--     1 uploaded ... 5 deleted). A record only moves to a higher rank, so
--     its messages' seq grows with each change, as webhook_subjects' count
--     did, and is never below a count 016 or 021 gave (their first message
--     had seq 1 at rank 1 or more, and each change adds at least 1 to
--     both). Seq may skip a number (a record that goes straight to ready,
--     say): a receiver drops a message whose seq is not above the last it
--     has. Upload messages keep webhook_subjects' count.
--   - A media message keeps the record as the change left it (media_row,
--     the media table's row type: copying it is cheap, formatting it is
--     not), the state before, and the ids of the transaction's events; its
--     body is built from them when it is read (webhook_message_body), the
--     same text 021's trigger wrote, and body stays NULL. Messages written
--     before this migration, and upload messages, keep their body.
--     The events are those still kept when the message is read: a
--     retention shorter than a delivery's delay leaves them out.
--     A later migration that rewrites media (ALTER COLUMN ... TYPE) must
--     first convert or drop this column: PostgreSQL refuses to rewrite a
--     table whose row type a stored column uses.
--   - webhook_claim_batch claims up to a batch of a subscription's messages
--     and returns what is sent, and webhook_finish_batch records their
--     attempts, each in one statement, and both commit without waiting for
--     the WAL flush (synchronous_commit off for their transaction only). A
--     database crash can then forget the last few hundred milliseconds of
--     claims and outcomes: those messages are sent again, which
--     at-least-once delivery allows (a receiver drops a duplicate by its
--     webhook-id). WAL is written in order, so a lost outcome never leaves
--     a later message of its subject recorded as delivered. A change
--     itself, and its message, commit with the callback's transaction,
--     synchronously, as before.

ALTER TABLE webhook_messages
    ALTER COLUMN body DROP NOT NULL,
    ADD COLUMN media_row media,
    ADD COLUMN from_state text,
    ADD COLUMN event_ids bigint[],
    -- One or the other (a row's IS NOT NULL asks for every field).
    ADD CONSTRAINT webhook_messages_body_check
        CHECK (num_nonnulls(body, media_row) = 1);

-- A message's subscription is held by the transaction that writes the
-- message, once per statement (FOR KEY SHARE, below), instead of by a
-- foreign key, whose check locked the same row once per message (a tenth
-- of the instructions of recording a callback). The guarantee is the
-- same: deleting a subscription (webhook_delete) waits for the
-- transactions that write its messages, then deletes them; and a
-- transaction that would write one after the deletion finds the
-- subscription gone when it locks it.
ALTER TABLE webhook_messages
    DROP CONSTRAINT webhook_messages_subscription_id_fkey;

-- Delete subscription p_id and its messages (their attempts cascade);
-- false when there is none. Two statements: the second's snapshot sees
-- the messages of the transactions the first waited for.
CREATE FUNCTION webhook_delete(p_id uuid) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM webhook_subscriptions WHERE id = p_id;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    DELETE FROM webhook_messages WHERE subscription_id = p_id;
    RETURN true;
END
$$;

-- 016's upload trigger, holding the subscriptions it writes messages for.
CREATE OR REPLACE FUNCTION webhook_upload_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_subject text;
    v_seq bigint;
    v_body text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhook_subscriptions s
                   WHERE webhook_selects(s, 'upload', NEW.provider,
                                         NEW.state)) THEN
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
    FROM (SELECT s.id FROM webhook_subscriptions s
          WHERE webhook_selects(s, 'upload', NEW.provider, NEW.state)
          FOR KEY SHARE) s;
    RETURN NULL;
END
$$;

-- A claim's test that a message is the oldest pending of its subject:
-- 021's, on (subscription_id, subject, id), could also be answered by
-- webhook_messages_due_idx, which leads with the subscription too, and
-- without statistics (a table that is new or grew since its last ANALYZE)
-- the planner took that one and read every pending message of the
-- subscription: 5.5 ms a claim at 30,000 pending. The index now leads with
-- the subject, and the claim tests the subscription in a form no index
-- answers ("(...) IS TRUE"), so that only this index serves the test.
DROP INDEX webhook_messages_subject_idx;
CREATE INDEX webhook_messages_subject_idx
    ON webhook_messages (subject, subscription_id, id) WHERE state = 'pending';

-- 016's webhook_time, marked STABLE as what it calls is (to_char): an SQL
-- function whose body is more volatile than it says is not inlined, and
-- then is planned again at every call (a third of a claim's time).
CREATE OR REPLACE FUNCTION webhook_time(t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- The body a message is sent with: its own, or the one its media record's
-- change gives (021's webhook_media_body, the events by their ids).
-- PL/pgSQL, whose statements keep their plans for the session: an SQL
-- function with a subquery is never inlined, so it would be planned at
-- every call.
CREATE FUNCTION webhook_message_body(m webhook_messages) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF m.body IS NOT NULL THEN
        RETURN m.body;
    END IF;
    RETURN webhook_media_body(m.media_row, m.from_state, m.seq,
        webhook_time(m.created_at),
        (SELECT coalesce(json_agg(json_build_object('id', e.id::text,
                    'event_type', e.event_type, 'status', e.status,
                    'received_via', e.received_via,
                    'event_time', e.event_time) ORDER BY e.id), '[]'::json)
         FROM vod_events e
         WHERE e.file_id = (m.media_row).file_id
           AND e.provider = (m.media_row).provider
           AND e.id = ANY (m.event_ids)));
END
$$;

-- 021's statement trigger, writing the change instead of its body: one
-- INSERT ... SELECT of the records that changed state, each with its
-- events' ids (this transaction's, as webhook_events finds them), once per
-- subscription that selects it. created_at is the change's time (now(),
-- which 021 wrote into the body as the change's time).
CREATE OR REPLACE FUNCTION webhook_media_statement() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_xid xid;
    v_media media[];
    v_from text[];
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhook_subscriptions s
                   WHERE s.enabled
                     AND (s.kinds IS NULL OR 'media' = ANY (s.kinds))) THEN
        RETURN NULL;
    END IF;
    -- The records that changed state, with their state before; only an
    -- UPDATE's trigger declares webhook_old.
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(n::media), array_agg(NULL::text)
        INTO v_media, v_from
        FROM webhook_new n;
    ELSE
        SELECT array_agg(n::media), array_agg(o.state::text)
        INTO v_media, v_from
        FROM webhook_new n JOIN webhook_old o ON o.id = n.id
        WHERE o.state IS DISTINCT FROM n.state;
    END IF;
    IF v_media IS NULL THEN
        RETURN NULL;
    END IF;
    v_xid := pg_current_xact_id()::xid;
    INSERT INTO webhook_messages (subscription_id, type, subject, seq,
                                  media_row, from_state, event_ids, created_at)
    SELECT s.id, 'media.state_changed',
           'media:' || (u.m).provider || ':' || (u.m).file_id,
           (u.m).state_rank, u.m, u.from_state, ev.ids, now()
    FROM (SELECT v_media[i] AS m, v_from[i] AS from_state
          FROM generate_subscripts(v_media, 1) AS i) u
    CROSS JOIN LATERAL (
        SELECT coalesce(array_agg(e.id ORDER BY e.id), '{}') AS ids
        FROM vod_events e
        WHERE e.file_id = (u.m).file_id AND e.provider = (u.m).provider
          AND e.xmin = v_xid) ev
    JOIN (SELECT s.* FROM webhook_subscriptions s
          WHERE s.enabled AND (s.kinds IS NULL OR 'media' = ANY (s.kinds))
          FOR KEY SHARE) s
        ON webhook_selects(s::webhook_subscriptions, 'media', (u.m).provider,
                           (u.m).state);
    RETURN NULL;
END
$$;

-- 016's and 021's claims of one message at a time give way to claims of a
-- batch: a delivery thread leases up to p_batch messages of one
-- subscription in one statement, sends them one after another over one
-- connection, and records their outcomes in one statement
-- (webhook_finish_batch). The bound per subscription counts the owners
-- holding leases (a thread holds one batch at a time, and sends one message
-- at a time), no longer the messages leased.
DROP FUNCTION webhook_claim(text, integer, integer);

-- Claim up to p_batch messages for p_owner, leased for p_lease_s seconds:
-- of the first enabled subscription (by id) with a message due and fewer
-- than p_max other owners holding leases, the oldest due messages that are
-- each the oldest pending of their subject (so that a subject's messages
-- go out one at a time, in order), with what is sent: id, attempt number,
-- body, the subscription's URL, secret and previous secret (while it still
-- signs), the creation time in ms since the epoch, the subscription's id;
-- oldest first. As 021's claim: the subscription's row is locked first
-- (NO KEY UPDATE; a concurrent claim waits the few milliseconds this one
-- holds it), then its leases are counted in a statement of its own, which
-- sees the claims committed meanwhile; the messages' rows are locked with
-- SKIP LOCKED; each test is a probe that one index answers (the subject's
-- as above); and the claimed messages are read in a statement of their
-- own, whose snapshot sees them (016's reason for a second statement).
CREATE FUNCTION webhook_claim_batch(p_owner text, p_lease_s integer,
                                    p_max integer, p_batch integer)
    RETURNS TABLE (id bigint, attempts integer, body text, url text,
                   secret text, old_secret text, created_ms bigint,
                   subscription_id uuid)
LANGUAGE plpgsql AS $$
DECLARE
    v_sub uuid;
    v_ids bigint[];
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    FOR v_sub IN
        SELECT s.id FROM webhook_subscriptions s
        WHERE s.enabled
          AND (SELECT m.next_attempt_at FROM webhook_messages m
               WHERE m.subscription_id = s.id AND m.state = 'pending'
               ORDER BY m.subscription_id, m.next_attempt_at
               LIMIT 1) <= now()
        ORDER BY s.id
        FOR NO KEY UPDATE
    LOOP
        IF (SELECT count(DISTINCT f.lease_owner) FROM webhook_messages f
            WHERE f.subscription_id = v_sub
              AND f.lease_owner IS NOT NULL
              AND f.lease_expires_at > now()
              AND f.lease_owner <> p_owner) >= p_max THEN
            CONTINUE;
        END IF;
        SELECT array_agg(c.id) INTO v_ids
        FROM (SELECT m.id FROM webhook_messages m
              WHERE m.subscription_id = v_sub AND m.state = 'pending'
                AND m.next_attempt_at <= now()
                AND (m.lease_expires_at IS NULL
                     OR m.lease_expires_at < now())
                AND NOT EXISTS (SELECT 1 FROM webhook_messages p
                     WHERE p.subject = m.subject
                       AND (p.subscription_id = v_sub) IS TRUE
                       AND p.state = 'pending' AND p.id < m.id)
              ORDER BY m.next_attempt_at, m.id LIMIT p_batch
              FOR UPDATE SKIP LOCKED) c;
        IF v_ids IS NOT NULL THEN
            UPDATE webhook_messages m SET lease_owner = p_owner,
                lease_expires_at = now() + make_interval(secs => p_lease_s),
                attempts = m.attempts + 1
            WHERE m.id = ANY (v_ids);
            RETURN QUERY
                SELECT m.id, m.attempts, webhook_message_body(m), s.url,
                       s.secret,
                       CASE WHEN s.old_secret_until > now()
                            THEN s.old_secret END,
                       (extract(epoch FROM m.created_at) * 1000)::bigint,
                       s.id
                FROM webhook_messages m
                JOIN webhook_subscriptions s ON s.id = m.subscription_id
                WHERE m.id = ANY (v_ids)
                ORDER BY m.next_attempt_at, m.id;
            RETURN;
        END IF;
    END LOOP;
END
$$;

-- Record the outcomes p_outcomes (a JSON array, in the order sent, of
-- {id, started_ms, duration_ms, ok, retry_ms, status, error, response}) of
-- messages p_owner leased, those it still holds: ok, delivered; else
-- retry_ms until the retry, negative: failed for good; ok null: not tried
-- (the batch ended first), pending again as it was. Each attempt tried
-- gets its row. The last outcome tried speaks for the subscription: a
-- failure starts or continues its failing_since, a success ends it, and
-- failing for longer than p_disable_after_s seconds (0: never) disables
-- it. Returns whether the subscription is still enabled when this changed
-- it, else NULL.
CREATE FUNCTION webhook_finish_batch(p_owner text, p_outcomes json,
                                     p_disable_after_s bigint)
    RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_sub uuid;
    v_ok boolean;
    v_enabled boolean;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    WITH o AS (
        SELECT (e.v->>'id')::bigint AS id,
               (e.v->>'started_ms')::bigint AS started_ms,
               (e.v->>'duration_ms')::integer AS duration_ms,
               (e.v->>'ok')::boolean AS ok,
               (e.v->>'retry_ms')::bigint AS retry_ms,
               (e.v->>'status')::integer AS status,
               e.v->>'error' AS error, e.v->>'response' AS response, e.ord
        FROM json_array_elements(p_outcomes) WITH ORDINALITY AS e(v, ord)),
    m AS (
        UPDATE webhook_messages m SET
            state = CASE WHEN o.ok THEN 'delivered'
                         WHEN NOT o.ok AND o.retry_ms < 0 THEN 'failed'
                         ELSE 'pending' END,
            next_attempt_at = CASE WHEN NOT o.ok AND o.retry_ms >= 0
                THEN now() + make_interval(secs => o.retry_ms / 1000.0)
                ELSE m.next_attempt_at END,
            delivered_at = CASE WHEN o.ok THEN now() END,
            failed_at = CASE WHEN NOT o.ok AND o.retry_ms < 0
                             THEN now() END,
            attempts = CASE WHEN o.ok IS NULL THEN m.attempts - 1
                            ELSE m.attempts END,
            last_status = CASE WHEN o.ok IS NULL THEN m.last_status
                               ELSE o.status END,
            last_error = CASE WHEN o.ok IS NULL THEN m.last_error
                              ELSE o.error END,
            lease_owner = NULL, lease_expires_at = NULL
        FROM o
        WHERE m.id = o.id AND m.lease_owner = p_owner
        RETURNING m.id, m.subscription_id, o.ok, o.ord, o.started_ms,
                  o.duration_ms, o.status, o.error, o.response),
    a AS (
        INSERT INTO webhook_attempts (message_id, started_at, duration_ms,
                                      status, error, response)
        SELECT m.id, to_timestamp(m.started_ms / 1000.0), m.duration_ms,
               m.status, m.error, m.response
        FROM m WHERE m.ok IS NOT NULL)
    SELECT m.subscription_id, m.ok INTO v_sub, v_ok
    FROM m WHERE m.ok IS NOT NULL ORDER BY m.ord DESC LIMIT 1;
    IF v_sub IS NULL OR (v_ok AND NOT EXISTS (
            SELECT 1 FROM webhook_subscriptions s
            WHERE s.id = v_sub AND s.failing_since IS NOT NULL)) THEN
        RETURN NULL;
    END IF;
    UPDATE webhook_subscriptions s SET
        failing_since = CASE WHEN v_ok THEN NULL
                             ELSE coalesce(s.failing_since, now()) END,
        enabled = s.enabled AND (v_ok OR p_disable_after_s = 0
            OR s.failing_since IS NULL
            OR s.failing_since > now()
                - make_interval(secs => p_disable_after_s)),
        disabled_at = CASE WHEN s.enabled AND NOT v_ok
            AND p_disable_after_s > 0
            AND s.failing_since <= now()
                - make_interval(secs => p_disable_after_s)
            THEN now() ELSE s.disabled_at END,
        disabled_reason = CASE WHEN s.enabled AND NOT v_ok
            AND p_disable_after_s > 0
            AND s.failing_since <= now()
                - make_interval(secs => p_disable_after_s)
            THEN 'every delivery failed since ' || s.failing_since
            ELSE s.disabled_reason END
    WHERE s.id = v_sub
    RETURNING s.enabled INTO v_enabled;
    RETURN v_enabled;
END
$$;
