-- The version of an organization's records of one type: every write moves
-- it on in its own transaction, so that a listing answered at one version
-- can be answered again, unchanged, until the next.
ALTER TABLE record_counts ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
