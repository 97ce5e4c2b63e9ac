-- DDS status changes are recorded as webhook events (the outbox), in the
-- transaction of the change; this table had no reader.
DROP TABLE dds_status_changes;
