-- Webhook events queued a write at a time: one row per write, its events
-- as one JSON array ([{"event": ..., "data": {...}}, ...]), instead of a
-- row per event (500 rows, each with a random key and an index entry, for
-- a bulk write of 500 records). The delivery thread fans the events out in
-- turns of a few hundred: fanned_out counts those already fanned out, and
-- a row goes once all are.
CREATE TABLE webhook_outbox (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    events          TEXT NOT NULL,
    event_count     INTEGER NOT NULL,
    fanned_out      INTEGER NOT NULL DEFAULT 0,
    event_time      BIGINT NOT NULL
);
CREATE INDEX webhook_outbox_time ON webhook_outbox(event_time, id);
INSERT INTO webhook_outbox (id, organization_id, events, event_count,
                            event_time)
    SELECT id, organization_id,
           CAST(json_build_array(json_build_object('event', event,
                                 'data', CAST(data AS json))) AS text),
           1, event_time
    FROM webhook_events;
DROP TABLE webhook_events;
