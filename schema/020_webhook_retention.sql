-- 020_webhook_retention: webhook messages found by the time they ended.
--
-- A message ends delivered or failed; its time is then delivered_at or
-- failed_at, whichever its state set (a resend clears both, store/
-- webhooks.c). This index serves three readers, each reading only the
-- rows it returns:
--   - the retention (store/retention.c), which deletes the messages ended
--     more than retention_webhooks_days ago, oldest first per state, in
--     batches, their attempts by cascade through webhook_attempts_message_idx;
--   - GET /v1/summary, which counts the failed messages (an index-only
--     scan of the 'failed' range);
--   - GET /v1/failures, which lists the last failed messages, newest
--     first (a backward scan of that range).
-- Pending messages, the ones still to deliver, are never in it: a
-- delivery's claim and its writes keep using 016's indexes, and a message
-- enters this one once, when it ends (an update that changes its state,
-- and so writes every index already). The key starts with the state, so
-- that the failed ones, few, are found without reading the delivered.
-- Building it locks the table against writes while it runs.
CREATE INDEX webhook_messages_ended_idx
    ON webhook_messages (state, coalesce(delivered_at, failed_at), id)
    WHERE state IN ('delivered', 'failed');
