-- The sweeper finds the schedules of recent payments and tells the waiting queue again of
-- those that have sold out (a notice lost to a Redis outage or to payments of the last seats
-- at the same moment). This index serves "paid within the last minutes" without a scan.
CREATE INDEX performance_seats_reserved_at ON performance_seats (reserved_at) WHERE reserved_at IS NOT NULL;
