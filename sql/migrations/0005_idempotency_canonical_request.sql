-- idempotency_keys.request_hash never held a hash: it holds the call's canonical request
-- (a charge's amount, a payment's seat id), which a retry with the same Idempotency-Key
-- must repeat. Named for what it holds. A rename keeps every stored answer.
ALTER TABLE idempotency_keys RENAME COLUMN request_hash TO canonical_request;
