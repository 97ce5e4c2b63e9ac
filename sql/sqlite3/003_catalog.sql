-- Products (which may name a supplier), batches (which name a product),
-- their DDS, the per-organization DDS numbering, DDS status changes (for
-- webhook events), and Idempotency-Key responses.
CREATE TABLE products (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    external_id     TEXT NOT NULL,
    name            TEXT,
    category        TEXT,
    country         TEXT,
    hs_code         TEXT,
    unit            TEXT,
    code            TEXT,
    description     TEXT,
    supplier_id     TEXT REFERENCES suppliers(id) ON DELETE SET NULL,
    sync_status     TEXT NOT NULL DEFAULT 'SYNCED',
    last_synced_at  INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (organization_id, external_id)
);
CREATE INDEX products_sync ON products(organization_id, last_synced_at, id);
CREATE INDEX products_supplier ON products(supplier_id);

CREATE TABLE batches (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    external_id     TEXT NOT NULL,
    product_id      TEXT NOT NULL REFERENCES products(id),
    batch_number    TEXT,
    quantity        REAL,
    unit            TEXT,
    received_date   TEXT,
    expiry_date     TEXT,
    sync_status     TEXT NOT NULL DEFAULT 'SYNCED',
    last_synced_at  INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (organization_id, external_id)
);
CREATE INDEX batches_sync ON batches(organization_id, last_synced_at, id);
CREATE INDEX batches_product ON batches(product_id);

CREATE TABLE dds (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    batch_id        TEXT NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
    dds_number      TEXT NOT NULL,
    status          TEXT NOT NULL,
    submitted_at    INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (organization_id, dds_number)
);
CREATE INDEX dds_batch ON dds(batch_id, created_at);

CREATE TABLE dds_sequences (
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    year            INTEGER NOT NULL,
    last_value      INTEGER NOT NULL,
    PRIMARY KEY (organization_id, year)
);

CREATE TABLE dds_status_changes (
    id                TEXT PRIMARY KEY,
    organization_id   TEXT NOT NULL REFERENCES organizations(id),
    dds_id            TEXT NOT NULL,
    batch_external_id TEXT NOT NULL,
    dds_number        TEXT NOT NULL,
    previous_status   TEXT,
    new_status        TEXT NOT NULL,
    created_at        INTEGER NOT NULL
);
CREATE INDEX dds_status_changes_org ON dds_status_changes(organization_id, created_at);

CREATE TABLE idempotency_keys (
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    idem_key        TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    state           TEXT NOT NULL,
    response_status INTEGER,
    response_body   TEXT,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    PRIMARY KEY (organization_id, idem_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys(organization_id, expires_at);
