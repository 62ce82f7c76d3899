-- The raw SQL of a payment, as ticketd runs it (storage/pg/wallet_repository.cpp,
-- wallet_repository::pay, without an Idempotency-Key): BEGIN, lock the fan's row, seat +
-- balance + ledger in one statement, COMMIT, one round trip each. Run after hold.sql with the
-- same -t: transaction n pays for seat n, which fan n holds.
\set k :k + 1
\set n :client_id * :per_client + :k
BEGIN;
SELECT balance FROM users WHERE id = ('00000000-0000-4000-8000-' || lpad(:n::text, 12, '0'))::uuid FOR UPDATE;
WITH seat AS (
    UPDATE performance_seats
    SET reservation_status = 'RESERVED', hold_expires_at = NULL, reserved_at = now(),
        changed_xid = pg_current_xact_id(), change_count = change_count + 1
    WHERE id = ('00000000-0000-4000-8000-' || lpad(:n::text, 12, '0'))::uuid
      AND holder_id = ('00000000-0000-4000-8000-' || lpad(:n::text, 12, '0'))::uuid
      AND reservation_status = 'TEMPORARY_RESERVED' AND (hold_expires_at > now()) IS TRUE
    RETURNING id, price, staging_date_id
), debited AS (
    UPDATE users SET balance = users.balance - seat.price
    FROM seat WHERE users.id = ('00000000-0000-4000-8000-' || lpad(:n::text, 12, '0'))::uuid
    RETURNING users.balance
), entry AS (
    INSERT INTO ledger_entries (user_id, amount, cause, performance_seat_id)
    SELECT ('00000000-0000-4000-8000-' || lpad(:n::text, 12, '0'))::uuid, -price, 'PAYMENT_PERFORMANCE_SEAT', id FROM seat
)
SELECT seat.id, seat.price, debited.balance, seat.staging_date_id,
       NOT EXISTS (SELECT 1 FROM performance_seats o
                    WHERE o.staging_date_id = seat.staging_date_id AND o.id <> seat.id
                      AND o.reservation_status <> 'RESERVED')
FROM seat, debited;
COMMIT;
