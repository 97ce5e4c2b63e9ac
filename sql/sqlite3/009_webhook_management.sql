-- Secret rotation with an overlap (API.md section 9): the secret that a
-- rotation replaced signs deliveries too until previous_secret_until (ms);
-- both NULL without an overlap.
ALTER TABLE webhooks ADD COLUMN previous_secret TEXT;
ALTER TABLE webhooks ADD COLUMN previous_secret_until INTEGER;

-- The deliveries listing (mi_webhook_deliveries): a webhook's deliveries
-- newest first, all of them or those of one state, a page and the total
-- read from the index whatever the webhook's backlog. The first replaces
-- webhook_deliveries_webhook, which had no id for the ties.
CREATE INDEX webhook_deliveries_recent
    ON webhook_deliveries(webhook_id, created_at, id);
CREATE INDEX webhook_deliveries_recent_state
    ON webhook_deliveries(webhook_id, state, created_at, id);
DROP INDEX webhook_deliveries_webhook;
