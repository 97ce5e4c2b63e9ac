-- Fair claiming (mi_delivery_claim): a webhook's first due deliveries and
-- the number it has in flight, each found without reading its backlog.
-- The claim no longer scans all due deliveries by time.
CREATE INDEX webhook_deliveries_turn
    ON webhook_deliveries(webhook_id, state, next_attempt_at, id);
CREATE INDEX webhook_deliveries_leased
    ON webhook_deliveries(webhook_id, lease_until) WHERE lease_until IS NOT NULL;
DROP INDEX webhook_deliveries_due;
