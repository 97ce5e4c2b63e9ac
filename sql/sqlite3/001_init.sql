-- Tenants, integrations, tokens, suppliers and sync logs.
-- Times are Unix epoch milliseconds (UTC) in both dialects.
CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE integrations (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    name            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'ACTIVE',
    created_at      INTEGER NOT NULL
);

CREATE TABLE tokens (
    id              TEXT PRIMARY KEY,
    integration_id  TEXT NOT NULL REFERENCES integrations(id),
    name            TEXT NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,
    prefix          TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    expires_at      INTEGER,
    revoked         INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER
);
CREATE INDEX tokens_integration ON tokens(integration_id);

CREATE TABLE suppliers (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    external_id     TEXT NOT NULL,
    name            TEXT,
    code            TEXT,
    country         TEXT,
    address         TEXT,
    city            TEXT,
    state           TEXT,
    postal_code     TEXT,
    website         TEXT,
    tax_id          TEXT,
    contact_person  TEXT,
    email           TEXT,
    phone           TEXT,
    certifications  TEXT,
    is_eu_origin    INTEGER,
    sync_status     TEXT NOT NULL DEFAULT 'SYNCED',
    last_synced_at  INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (organization_id, external_id)
);
CREATE INDEX suppliers_sync ON suppliers(organization_id, last_synced_at, id);

CREATE TABLE sync_logs (
    id                TEXT PRIMARY KEY,
    organization_id   TEXT NOT NULL REFERENCES organizations(id),
    integration_id    TEXT NOT NULL,
    entity_type       TEXT NOT NULL,
    action            TEXT NOT NULL,
    status            TEXT NOT NULL,
    records_affected  INTEGER NOT NULL,
    error_message     TEXT,
    metadata          TEXT NOT NULL,
    started_at        INTEGER NOT NULL,
    completed_at      INTEGER,
    created_at        INTEGER NOT NULL
);
CREATE INDEX sync_logs_org ON sync_logs(organization_id, created_at, id);
