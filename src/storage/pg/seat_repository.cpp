#include "storage/pg/seat_repository.hpp"

#include "storage/pg/constraint_errors.hpp"
#include "storage/pg/transaction.hpp"

namespace tp::pg {
namespace {

constexpr query lock_user{"seats_lock_user", R"sql(
    SELECT 1 FROM users WHERE id = $1 FOR UPDATE
)sql"};

// The guarded write. Rows are locked in id order (no deadlock between multi-seat takes);
// each condition is re-checked on the newest row version after any lock wait, so two fans
// can never both win a seat. The per-fan count runs after the fan's row lock (previous
// statement), so its snapshot sees every earlier take by the same fan.
constexpr query take_seats{"seats_take", R"sql(
    UPDATE performance_seats s
    SET reservation_status = 'TEMPORARY_RESERVED',
        holder_id = $1,
        hold_expires_at = now() + make_interval(secs => $3::int),
        changed_xid = pg_current_xact_id(), change_count = s.change_count + 1
    FROM performance_staging_dates d
    JOIN performances p ON p.id = d.performance_id
    WHERE s.id IN (SELECT id FROM performance_seats
                   WHERE id = ANY($2::uuid[]) ORDER BY id FOR UPDATE)
      AND d.id = s.staging_date_id
      AND ($5::text = '' OR s.staging_date_id::text = $5::text)
      AND (SELECT count(DISTINCT staging_date_id) FROM performance_seats
            WHERE id = ANY($2::uuid[])) = 1
      AND p.ticketing_start_date <= now()
      AND (s.reservation_status = 'AVAILABLE'
           OR (s.reservation_status = 'TEMPORARY_RESERVED' AND s.hold_expires_at <= now()))
      AND (SELECT count(*) FROM performance_seats m
            WHERE m.holder_id = $1 AND m.staging_date_id = s.staging_date_id
              AND (m.reservation_status = 'RESERVED' OR m.hold_expires_at > now()))
          + cardinality($2::uuid[]) <= $4::int
    RETURNING s.id, s.seat_number, s.price, (extract(epoch FROM s.hold_expires_at) * 1000)::bigint,
              s.staging_date_id, s.position, s.change_count
)sql"};

// What each requested seat looks like now, for explaining a refusal. The last column is 1 if
// any seat of the schedule can still be taken, else 0 (LIMIT 1 on the partial index
// performance_seats_unsold: whether, not how many).
constexpr query inspect_seats{"seats_inspect", R"sql(
    SELECT s.id, s.staging_date_id,
           CASE WHEN s.reservation_status = 'TEMPORARY_RESERVED' AND s.hold_expires_at <= now()
                THEN 'AVAILABLE' ELSE s.reservation_status::text END,
           coalesce(s.holder_id = $1, false),
           coalesce(s.hold_expires_at <= now(), false),
           p.ticketing_start_date <= now(),
           s.price,
           (SELECT count(*) FROM performance_seats m
             WHERE m.holder_id = $1 AND m.staging_date_id = s.staging_date_id
               AND (m.reservation_status = 'RESERVED' OR m.hold_expires_at > now())),
           (SELECT count(*) FROM (SELECT 1 FROM performance_seats a
             WHERE a.staging_date_id = s.staging_date_id AND a.reservation_status <> 'RESERVED'
               AND (a.reservation_status = 'AVAILABLE' OR a.hold_expires_at <= now())
             LIMIT 1) any_available)
    FROM performance_seats s
    JOIN performance_staging_dates d ON d.id = s.staging_date_id
    JOIN performances p ON p.id = d.performance_id
    WHERE s.id = ANY($2::uuid[])
    ORDER BY s.id
)sql"};

constexpr query select_mine{"seats_mine", R"sql(
    SELECT p.id, p.title, (extract(epoch FROM p.ticketing_start_date) * 1000)::bigint,
           st.name, st.location,
           d.id, (extract(epoch FROM d.staging_date) * 1000)::bigint,
           s.id, s.seat_number, s.price, s.reservation_status::text,
           (extract(epoch FROM s.hold_expires_at) * 1000)::bigint
    FROM performance_seats s
    JOIN performance_staging_dates d ON d.id = s.staging_date_id
    JOIN performances p ON p.id = d.performance_id
    JOIN stages st ON st.id = p.stage_id
    WHERE s.holder_id = $1
      AND (s.reservation_status = 'RESERVED' OR s.hold_expires_at > now())
    ORDER BY p.ticketing_start_date, p.id, d.staging_date, d.id, s.position
)sql"};

// MATERIALIZED: the batch is chosen (and locked) once; as a plain IN (subquery) the planner
// may run the LIMITed subquery again per row and release more than a batch.
constexpr query release_expired{"seats_release_expired", R"sql(
    WITH batch AS MATERIALIZED (
        SELECT id FROM performance_seats
        WHERE reservation_status = 'TEMPORARY_RESERVED' AND hold_expires_at <= now()
        ORDER BY hold_expires_at LIMIT $1 FOR UPDATE SKIP LOCKED
    )
    UPDATE performance_seats s
    SET reservation_status = 'AVAILABLE', holder_id = NULL, hold_expires_at = NULL,
        changed_xid = pg_current_xact_id(), change_count = s.change_count + 1
    FROM batch
    WHERE s.id = batch.id
      AND s.reservation_status = 'TEMPORARY_RESERVED' AND s.hold_expires_at <= now()
)sql"};

} // namespace

awaitable<domain::result<std::vector<held_seat>>> seat_repository::take(
    const domain::user_id& user_id,
    const std::vector<domain::seat_id>& seat_ids,
    const domain::hold_policy& policy,
    const domain::schedule_id& schedule_id
) {
    try {
        // The transaction's connection goes back to the pool when the attempt ends, before a
        // refusal is explained: a request never holds two connections.
        auto out = co_await run_with_retries([&]() -> awaitable<std::vector<held_seat>> {
            std::vector<held_seat> held;
            auto tx = co_await transaction::begin(pool_);
            tx.send_ahead(lock_user, user_id); // travels with the take: one round trip
            const auto r = co_await tx.execute(
                take_seats, user_id, seat_ids, policy.hold_ttl_seconds, policy.max_seats_per_user, schedule_id
            );
            if (std::cmp_not_equal(r.rows(), seat_ids.size())) {
                co_await tx.rollback();
                co_return held;
            }
            co_await tx.commit();
            held.reserve(static_cast<std::size_t>(r.rows()));
            for (int row = 0; row < r.rows(); ++row) {
                held.push_back(held_seat{
                    .id = r.id<domain::seat_id>(row, 0),
                    .seat_number = r.string(row, 1),
                    .price = r.int64(row, 2),
                    .hold_expire_timestamp = r.int64(row, 3),
                    .schedule_id = r.id<domain::schedule_id>(row, 4),
                    .position = static_cast<std::size_t>(r.int64(row, 5)),
                    .change_count = r.int64(row, 6)});
            }
            co_return held;
        });
        if (out.empty()) {
            co_return co_await explain_refusal(user_id, seat_ids, policy, schedule_id);
        }
        co_return out;
    } catch (const error& e) {
        if (auto refused = as_domain_error(e)) {
            co_return *refused;
        }
        throw;
    }
}

awaitable<domain::error> seat_repository::explain_refusal(
    const domain::user_id& user_id,
    const std::vector<domain::seat_id>& seat_ids,
    const domain::hold_policy& policy,
    const domain::schedule_id& schedule_id
) {
    const auto r = co_await pool_.execute(inspect_seats, make_params(user_id, seat_ids));
    std::vector<domain::seat_view> seats;
    domain::take_context context{
        .requested_ids = seat_ids,
        .seats = {},
        .my_live_seats_in_schedule = 0,
        .available_in_schedule = 0,
        .max_seats_per_user = policy.max_seats_per_user,
        .required_schedule_id = schedule_id};
    for (int row = 0; row < r.rows(); ++row) {
        seats.push_back(domain::seat_view{
            .id = r.id<domain::seat_id>(row, 0),
            .schedule_id = r.id<domain::schedule_id>(row, 1),
            .status = domain::parse_seat_status(r.text(row, 2)).value_or(domain::seat_status::available),
            .held_by_me = r.boolean(row, 3),
            .hold_expired = r.boolean(row, 4),
            .ticketing_started = r.boolean(row, 5),
            .price = r.int64(row, 6)});
        context.my_live_seats_in_schedule = static_cast<int>(r.int64(row, 7));
        context.available_in_schedule = static_cast<int>(r.int64(row, 8));
    }
    context.seats = seats;
    co_return domain::explain_refused_take(context);
}

awaitable<std::vector<my_seat>> seat_repository::list_mine(const domain::user_id& user_id) {
    const auto r = co_await pool_.execute(select_mine, make_params(user_id));
    std::vector<my_seat> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row) {
        out.push_back(my_seat{
            .performance_id = r.string(row, 0),
            .title = r.string(row, 1),
            .ticketing_start_date = r.int64(row, 2),
            .stage_name = r.string(row, 3),
            .stage_location = r.string(row, 4),
            .schedule_id = r.string(row, 5),
            .staging_date = r.int64(row, 6),
            .seat_id = r.string(row, 7),
            .seat_number = r.string(row, 8),
            .price = r.int64(row, 9),
            .status = domain::parse_seat_status(r.text(row, 10)).value_or(domain::seat_status::reserved),
            .hold_expire_timestamp = r.optional_int64(row, 11)});
    }
    co_return out;
}

awaitable<std::int64_t> seat_repository::release_expired_holds(int batch) {
    const auto r = co_await pool_.execute(release_expired, make_params(batch));
    co_return r.affected();
}

} // namespace tp::pg
