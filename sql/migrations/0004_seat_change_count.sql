-- The seat list's change log (docs/seat-map.md).
--
-- change_count: how many times the seat changed. Every statement that changes a seat adds
-- one, under the row's lock, so of two states of one seat the one with the higher count is
-- the newer, whatever order they reach a reader in. Seat changes travel to every instance
-- through Redis with their counts; a cache keeps, for each seat, the state of the highest
-- count it has seen (from PostgreSQL or from the log).
ALTER TABLE performance_seats ADD COLUMN change_count bigint NOT NULL DEFAULT 0;
