-- Webhook events as the writes queue them: one row per event, in the
-- write's transaction. The delivery thread fans them out to the subscribed
-- webhooks' delivery rows, off the request's path.
CREATE TABLE webhook_events (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    event           TEXT NOT NULL,
    data            TEXT NOT NULL,
    event_time      BIGINT NOT NULL
);
CREATE INDEX webhook_events_time ON webhook_events(event_time);
