-- The raw SQL of a hold, as ticketd runs it (storage/pg/seat_repository.cpp, seat_repository::take):
-- BEGIN, lock the fan's row, the guarded UPDATE, COMMIT, one round trip each. Every
-- transaction holds a seat of its own for a fan of its own: client c's k-th transaction
-- takes seat c * :per_client + k for fan c * :per_client + k (run with -D k=0 -D per_client=T -t T).
\set k :k + 1
\set n :client_id * :per_client + :k
BEGIN;
SELECT 1 FROM users WHERE id = ('00000000-0000-4000-8000-' || lpad(:n::text, 12, '0'))::uuid FOR UPDATE;
UPDATE performance_seats s
SET reservation_status = 'TEMPORARY_RESERVED',
    holder_id = ('00000000-0000-4000-8000-' || lpad(:n::text, 12, '0'))::uuid,
    hold_expires_at = now() + make_interval(secs => 300),
    changed_xid = pg_current_xact_id(), change_count = change_count + 1
FROM performance_staging_dates d
JOIN performances p ON p.id = d.performance_id
WHERE s.id IN (SELECT id FROM performance_seats
               WHERE id = ANY(ARRAY[('00000000-0000-4000-8000-' || lpad(:n::text, 12, '0'))::uuid]) ORDER BY id FOR UPDATE)
  AND d.id = s.staging_date_id
  AND ('' = '' OR s.staging_date_id::text = '')
  AND (SELECT count(DISTINCT staging_date_id) FROM performance_seats
        WHERE id = ANY(ARRAY[('00000000-0000-4000-8000-' || lpad(:n::text, 12, '0'))::uuid])) = 1
  AND p.ticketing_start_date <= now()
  AND (s.reservation_status = 'AVAILABLE'
       OR (s.reservation_status = 'TEMPORARY_RESERVED' AND s.hold_expires_at <= now()))
  AND (SELECT count(*) FROM performance_seats m
        WHERE m.holder_id = ('00000000-0000-4000-8000-' || lpad(:n::text, 12, '0'))::uuid
          AND m.staging_date_id = s.staging_date_id
          AND (m.reservation_status = 'RESERVED' OR m.hold_expires_at > now()))
      + 1 <= 4
RETURNING s.id, s.seat_number, s.price, (extract(epoch FROM s.hold_expires_at) * 1000)::bigint,
          s.staging_date_id;
COMMIT;
