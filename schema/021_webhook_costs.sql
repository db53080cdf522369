-- 021_webhook_costs: with a subscription, recording a batch of callbacks
-- costs a statement, not a PL/pgSQL call per record, and a delivery's claim
-- reads a few index entries, however many messages are pending.
--
-- Measured with one subscription (bench/results/2026-12-05-webhooks.md):
-- 016's webhook_claim read every pending message of the subscription three
-- times per claim, 11.8 ms and 4,400 buffers at 16,000 pending; the claims
-- took one of two cores from the callbacks. Its EXISTS became a hash join
-- over the pending messages, its count of leases and its test for an
-- earlier message of the same subject scanned webhook_messages_due_idx:
-- the plans PostgreSQL makes without statistics (a new table, or one that
-- grew since its last ANALYZE), which a PL/pgSQL function keeps for its
-- session. Each test is now a probe that only one index answers without a
-- sort (an ORDER BY that is its key, LIMIT, the correlated value as an
-- index condition): the plans are the same empty, grown without
-- statistics and analyzed. What the claim decides is unchanged:
--   - a subscription is a candidate when its oldest pending message is due;
--   - its leases are counted up to p_max (counting more changes nothing);
--   - a message goes out when it is the oldest pending one of its subject
--     (the same as no earlier one pending: it is pending itself).
-- The leases' index gains lease_expires_at, which the count bounds;
-- lease_owner stays its predicate, and the count no longer names the
-- state, which would let the planner take 016's pending indexes instead: a
-- lease is held only while its message is pending (SQL_FINISH ends both at
-- once, a resend clears it).
--
-- The media triggers are per statement (below): 3.4 times the instructions
-- of recording a callback with a subscription, 2.4 times now.

DROP INDEX webhook_messages_leased_idx;
CREATE INDEX webhook_messages_leased_idx
    ON webhook_messages (subscription_id, lease_expires_at)
    WHERE lease_owner IS NOT NULL;

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
CREATE OR REPLACE FUNCTION webhook_claim(p_owner text, p_lease_s integer,
                                         p_max integer,
                                         OUT claimed_id bigint,
                                         OUT claimed_attempts integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_sub uuid;
    v_id bigint;
BEGIN
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
        IF (SELECT count(*) FROM (SELECT 1 FROM webhook_messages f
                WHERE f.subscription_id = v_sub
                  AND f.lease_owner IS NOT NULL
                  AND f.lease_expires_at > now()
                ORDER BY f.subscription_id, f.lease_expires_at DESC
                LIMIT p_max) f)
           >= p_max THEN
            CONTINUE;
        END IF;
        SELECT m.id INTO v_id FROM webhook_messages m
        WHERE m.subscription_id = v_sub AND m.state = 'pending'
          AND m.next_attempt_at <= now()
          AND (m.lease_expires_at IS NULL OR m.lease_expires_at < now())
          AND (SELECT p.id FROM webhook_messages p
               WHERE p.subscription_id = v_sub AND p.state = 'pending'
                 AND p.subject = m.subject
               ORDER BY p.subscription_id, p.subject, p.id
               LIMIT 1) = m.id
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

-- A media record's message body: the record as GET /v1/media shows it
-- (store/media.c's MEDIA_JSON), the change, its sequence number and the
-- events of the transaction; 016's webhook_media_changed built the same.
CREATE FUNCTION webhook_media_body(n media, p_from text, p_seq bigint,
                                   p_at text, p_events json)
    RETURNS text LANGUAGE sql STABLE
    RETURN json_build_object(
        'type', 'media.state_changed',
        'timestamp', p_at,
        'data', json_build_object(
            'media', json_build_object('provider', n.provider,
                'file_id', n.file_id, 'state', n.state,
                'upload_id', n.upload_id, 'media_url', n.media_url,
                'size', n.size, 'procedure_task_id', n.procedure_task_id,
                'source_context', n.source_context,
                'app_id', n.app_id,
                'error_code', n.error_code,
                'error_message', n.error_message,
                'created_at', n.created_at, 'updated_at', n.updated_at,
                'transitions', json_build_object('uploaded', n.uploaded_at,
                    'confirmed', n.confirmed_at,
                    'processing', n.processing_at,
                    'ready', n.ready_at, 'failed', n.failed_at,
                    'deleted', n.deleted_at),
                'delete', CASE WHEN n.delete_requested_at IS NOT NULL
                          THEN json_build_object(
                              'requested_at', n.delete_requested_at,
                              'error_code', n.delete_error_code,
                              'error_message', n.delete_error_message)
                          END),
            'change', json_build_object(
                'from', p_from, 'to', n.state, 'time', p_at,
                'seq', p_seq, 'events', p_events)))::text;

-- Whether subscription s selects a change of kind p_kind to p_state.
CREATE FUNCTION webhook_selects(s webhook_subscriptions, p_kind text,
                                p_provider text, p_state text)
    RETURNS boolean LANGUAGE sql STABLE
    RETURN s.enabled
        AND (s.providers IS NULL OR p_provider = ANY (s.providers))
        AND (s.states IS NULL OR p_state = ANY (s.states))
        AND (s.kinds IS NULL OR p_kind = ANY (s.kinds));

-- The media records a statement inserted, or whose state it changed: one
-- message per record and subscription that selects it, written by one
-- statement. The callback committer records a batch of events in one
-- statement whose upsert touches a media record per event; 016's row
-- triggers made a PL/pgSQL call and five SPI queries per record (3.4 times
-- the instructions of recording the event itself, bench/record.sh). The
-- transition tables are those 014's triggers capture already (PostgreSQL
-- keeps one per table and operation), so with no subscription a statement
-- costs one index probe, as before, and no row more. A statement touches
-- a record once, and its row lock orders the changes of its subject, as
-- the row trigger's did: the sequence numbers are taken in one upsert.
-- The events are this transaction's, as webhook_events finds them.
CREATE FUNCTION webhook_media_statement() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_at text;
    v_xmin text;
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
    v_at := webhook_time(now());
    v_xmin := (pg_current_xact_id()::text::bigint % 4294967296)::text;
    WITH c AS (
        SELECT u.m, u.from_state,
               'media:' || (u.m).provider || ':' || (u.m).file_id AS subject
        FROM (SELECT v_media[i] AS m, v_from[i] AS from_state
              FROM generate_subscripts(v_media, 1) AS i) u
        WHERE EXISTS (SELECT 1 FROM webhook_subscriptions s
                      WHERE webhook_selects(s, 'media', (u.m).provider,
                                            (u.m).state))),
    q AS (
        INSERT INTO webhook_subjects AS s (subject, seq)
        SELECT c.subject, 1 FROM c
        ON CONFLICT (subject) DO UPDATE SET seq = s.seq + 1
        RETURNING s.subject, s.seq),
    b AS (
        SELECT c.m, c.subject, q.seq,
               webhook_media_body(c.m, c.from_state, q.seq, v_at,
                   (SELECT coalesce(json_agg(json_build_object(
                        'id', e.id::text, 'event_type', e.event_type,
                        'status', e.status,
                        'received_via', e.received_via,
                        'event_time', e.event_time) ORDER BY e.id),
                        '[]'::json)
                    FROM vod_events e
                    WHERE e.provider = (c.m).provider
                      AND e.file_id = (c.m).file_id
                      AND e.xmin::text = v_xmin)) AS body
        FROM c JOIN q ON q.subject = c.subject)
    INSERT INTO webhook_messages (subscription_id, type, subject, seq, body)
    SELECT s.id, 'media.state_changed', b.subject, b.seq, b.body
    FROM b JOIN webhook_subscriptions s
        ON webhook_selects(s, 'media', (b.m).provider, (b.m).state);
    RETURN NULL;
END
$$;

DROP TRIGGER webhook_media_inserted ON media;
DROP TRIGGER webhook_media_updated ON media;
DROP FUNCTION webhook_media_changed();
CREATE TRIGGER webhook_media_inserted AFTER INSERT ON media
    REFERENCING NEW TABLE AS webhook_new
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_media_statement();
CREATE TRIGGER webhook_media_updated AFTER UPDATE ON media
    REFERENCING OLD TABLE AS webhook_old NEW TABLE AS webhook_new
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_media_statement();
