-- The key that signs listing cursors and ETags (mi_keys, API.md section 5):
-- made once, here, and read by every node, so that a cursor or an ETag one
-- node gave is good on any other.
CREATE TABLE integration_keys (
    name   TEXT PRIMARY KEY,
    secret TEXT NOT NULL
);
INSERT INTO integration_keys (name, secret)
    VALUES ('listing', lower(hex(randomblob(32))));
