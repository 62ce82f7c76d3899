-- The raw SQL ceilings' data (scripts/bench.sh): one schedule of :count seats and :count fans
-- with enough points for one seat each, in a database of their own. Fan n and seat n have ids
-- made from n, so that pgbench can name them without a lookup (see hold.sql).
WITH stage AS (
    INSERT INTO stages (name, location) VALUES ('Ceiling hall', 'Seoul') RETURNING id
), performance AS (
    INSERT INTO performances (stage_id, title, ticketing_start_date)
    SELECT id, 'Raw SQL ceilings', '2025-01-01T00:00:00Z' FROM stage RETURNING id
), schedule AS (
    INSERT INTO performance_staging_dates (performance_id, staging_date)
    SELECT id, '2030-01-01T19:00:00Z' FROM performance RETURNING id
)
INSERT INTO performance_seats (id, staging_date_id, seat_number, price, position)
SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, schedule.id, n::text, 50000, n - 1
FROM schedule, generate_series(1, :count) n;

WITH fans AS (
    INSERT INTO users (id, email_address, password_hash, balance)
    SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'ceiling-' || n || '@example.com',
           'not-a-hash', 50000
    FROM generate_series(1, :count) n
    RETURNING id, balance
)
INSERT INTO ledger_entries (user_id, amount, cause) SELECT id, balance, 'CHARGED_BY_USER' FROM fans;
