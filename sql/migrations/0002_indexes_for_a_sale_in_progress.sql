-- Indexes that stay right while a sale runs, when the table's statistics are those of the
-- schedule before its sale (every seat AVAILABLE, no holds).
--
-- The expiry index was partial (TEMPORARY_RESERVED seats only). Estimated empty by such
-- statistics, a whole scan of it looked cheaper to the planner than the primary key for a
-- payment's "this seat, held by me", and every payment walked every live hold. A plain index
-- cannot be scanned whole for a query that only names a seat (payments also write their
-- expiry test so that it cannot be an index condition; see wallet_repository.cpp).
DROP INDEX performance_seats_hold_expiry;
CREATE INDEX performance_seats_hold_expiry ON performance_seats (hold_expires_at);

-- The seats of a schedule not yet sold, for "is anything left?" (a payment asks whether it
-- sold the last seat; a refused hold, whether the schedule is sold out) without counting the
-- whole schedule. Shrinks as the sale goes on.
CREATE INDEX performance_seats_unsold ON performance_seats (staging_date_id)
    WHERE reservation_status <> 'RESERVED';
