-- Stored answers of Idempotency-Key calls are kept IDEMPOTENCY_RETENTION_HOURS (a day by
-- default), then deleted by the sweeper oldest first: this index serves that scan, so a
-- round costs its batch and not the whole table.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
