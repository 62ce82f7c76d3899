-- The seat map of a big hall (docs/seat-map.md).
--
-- position: the operator's order of a schedule's seats (0, 1, 2, ... as created), so the
-- seat list is read in index order with no sort. Existing seats keep the order fans saw.
ALTER TABLE performance_seats ADD COLUMN position integer;
UPDATE performance_seats s
SET position = o.position
FROM (SELECT id, (row_number() OVER (PARTITION BY staging_date_id
                                     ORDER BY length(seat_number), seat_number) - 1)::integer AS position
      FROM performance_seats) o
WHERE s.id = o.id;
ALTER TABLE performance_seats ALTER COLUMN position SET NOT NULL;
ALTER TABLE performance_seats
    ADD CONSTRAINT performance_seats_position_unique UNIQUE (staging_date_id, position);

-- changed_xid: the transaction that last changed the seat. Every statement that changes a
-- seat sets it to pg_current_xact_id(). A reader that remembers the xmin of the snapshot it
-- last read (every transaction below it had ended) finds every seat changed since with
-- `changed_xid >= xmin`, even when transactions commit out of order: the per-change refresh
-- of the seat list cache.
ALTER TABLE performance_seats ADD COLUMN changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX performance_seats_changes ON performance_seats (staging_date_id, changed_xid);

-- Same columns as the constraint performance_seats_number_unique's own index: one is enough.
DROP INDEX performance_seats_schedule;
