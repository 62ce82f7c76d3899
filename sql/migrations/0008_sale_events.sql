-- The sale events: an outbox of every hold, release, sale, charge and payment, for the
-- operator console and any consumer that follows the sale (GET /admin/events). Triggers
-- append them in the transaction of the change itself, so no code path can change a seat or
-- a balance without its event, and a rolled-back change leaves none.
--
-- Ids come from a sequence, so they are allocated in one order and committed in another; the
-- reader serves an id only once every transaction that could still commit a smaller one has
-- ended (docs/sale-events.md). That proof needs each transaction to hold its xid before it
-- takes an id: the triggers run after their statement's rows are written, which assigns it.
CREATE TYPE sale_event_kind AS ENUM ('hold', 'release', 'sale', 'charge', 'payment');

CREATE TABLE sale_events (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             sale_event_kind NOT NULL,
    occurred_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    user_id          uuid,        -- the holder, buyer or payer (NULL only if a write broke the seat rules)
    schedule_id      uuid,
    seat_id          uuid,
    amount           bigint,      -- sale: the price; charge (+) and payment (-): as in the ledger
    hold_expires_at  timestamptz  -- hold: until when
);
-- Retention deletes by age; rows arrive in time order, which a BRIN index serves for almost
-- nothing per insert.
CREATE INDEX sale_events_occurred_at ON sale_events USING brin (occurred_at);

-- A seat's change of state: a take (hold), a release of an expired hold, a payment (sale).
-- A take of a seat whose hold had expired but was not yet released is one event, a hold by
-- the new holder.
CREATE FUNCTION sale_events_of_seats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sale_events (kind, user_id, schedule_id, seat_id, amount, hold_expires_at)
    SELECT CASE n.reservation_status
               WHEN 'TEMPORARY_RESERVED' THEN 'hold'
               WHEN 'RESERVED' THEN 'sale'
               ELSE 'release' END::sale_event_kind,
           coalesce(n.holder_id, o.holder_id), n.staging_date_id, n.id,
           CASE WHEN n.reservation_status = 'RESERVED' THEN n.price END,
           n.hold_expires_at
    FROM new_seats n JOIN old_seats o ON o.id = n.id
    WHERE (n.reservation_status, n.holder_id, n.hold_expires_at)
          IS DISTINCT FROM (o.reservation_status, o.holder_id, o.hold_expires_at)
    ORDER BY n.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER performance_seats_sale_events AFTER UPDATE ON performance_seats
    REFERENCING OLD TABLE AS old_seats NEW TABLE AS new_seats
    FOR EACH STATEMENT EXECUTE FUNCTION sale_events_of_seats();

-- Money: a charge, or the payment for a seat (with its schedule).
CREATE FUNCTION sale_events_of_ledger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sale_events (kind, user_id, schedule_id, seat_id, amount)
    SELECT CASE e.cause WHEN 'CHARGED_BY_USER' THEN 'charge' ELSE 'payment' END::sale_event_kind,
           e.user_id, s.staging_date_id, e.performance_seat_id, e.amount
    FROM new_entries e LEFT JOIN performance_seats s ON s.id = e.performance_seat_id
    ORDER BY e.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER ledger_entries_sale_events AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION sale_events_of_ledger();
