-- Records per organization and type, kept by every write in its own
-- transaction, so that listings know their total without counting.
CREATE TABLE record_counts (
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    entity_type     TEXT NOT NULL,
    total           BIGINT NOT NULL,
    PRIMARY KEY (organization_id, entity_type)
);
INSERT INTO record_counts (organization_id, entity_type, total)
    SELECT organization_id, 'SUPPLIER', COUNT(*) FROM suppliers
    GROUP BY organization_id;
