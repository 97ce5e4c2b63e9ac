-- The key that signs listing cursors and ETags (mi_keys, API.md section 5):
-- made once, here, and read by every node, so that a cursor or an ETag one
-- node gave is good on any other. gen_random_uuid() draws from the
-- server's strong random source: two give 244 random bits in 64 hex digits.
CREATE TABLE integration_keys (
    name   TEXT PRIMARY KEY,
    secret TEXT NOT NULL
);
INSERT INTO integration_keys (name, secret)
    VALUES ('listing', replace(CAST(gen_random_uuid() AS text)
                               || CAST(gen_random_uuid() AS text), '-', ''));
