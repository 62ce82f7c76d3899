#include "storage/pg/seat_map_repository.hpp"

#include "storage/pg/error.hpp"

namespace tp::pg {
namespace {

// In the order of the index performance_seats_position_unique: no sort. The watermark is an
// uncorrelated subquery, evaluated once; pg_current_snapshot() is the statement's snapshot.
constexpr query select_all{"seat_map_all", R"sql(
    SELECT s.id, s.seat_number, s.price, s.reservation_status::text,
           (extract(epoch FROM s.hold_expires_at) * 1000)::bigint, s.change_count,
           coalesce(s.holder_id::text, ''), s.position,
           (SELECT pg_snapshot_xmin(pg_current_snapshot()))::text,
           (SELECT (extract(epoch FROM p.ticketing_start_date) * 1000)::bigint
              FROM performance_staging_dates d JOIN performances p ON p.id = d.performance_id
             WHERE d.id = $1)
    FROM performance_seats s
    WHERE s.staging_date_id = $1
    ORDER BY s.position
)sql"};

// The first row (position -1) carries the watermark, so it comes back when nothing changed.
constexpr query select_changes{"seat_map_changes", R"sql(
    SELECT -1, NULL, NULL, NULL, NULL, pg_snapshot_xmin(pg_current_snapshot())::text
    UNION ALL
    SELECT s.position, s.reservation_status::text, (extract(epoch FROM s.hold_expires_at) * 1000)::bigint,
           s.change_count, coalesce(s.holder_id::text, ''), NULL
    FROM performance_seats s
    WHERE s.staging_date_id = $1 AND s.changed_xid >= $2::xid8
)sql"};

constexpr query schedule_exists{"seat_map_schedule_exists", R"sql(
    SELECT 1 FROM performance_staging_dates WHERE id = $1
)sql"};

seat_state state_of(const result& r, int row, int status_column) {
    return seat_state{
        .status = domain::parse_seat_status(r.text(row, status_column)).value_or(domain::seat_status::reserved),
        .hold_expires = r.optional_int64(row, status_column + 1),
        .change_count = r.int64(row, status_column + 2),
        .holder = r.string(row, status_column + 3)};
}

} // namespace

awaitable<domain::result<seat_list_read>> seat_map_repository::read_all(const domain::schedule_id& schedule_id) {
    const auto r = co_await pool_.execute(select_all, make_params(schedule_id));
    seat_list_read out;
    if (r.empty()) {
        const auto exists = co_await pool_.execute(schedule_exists, make_params(schedule_id));
        if (exists.empty()) {
            co_return domain::make_error(domain::errc::schedule_not_found);
        }
        co_return out;
    }
    out.seats.reserve(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row) {
        if (r.int64(row, 7) != row) {
            throw error(error::kind::query, "seat positions of schedule " + schedule_id.str() + " are not 0..n-1");
        }
        out.seats.push_back(listed_seat{
            .id = r.string(row, 0),
            .seat_number = r.string(row, 1),
            .price = r.int64(row, 2),
            .state = state_of(r, row, 3)});
    }
    out.watermark = r.string(0, 8);
    out.ticketing_starts = r.int64(0, 9);
    co_return out;
}

awaitable<seat_changes_read>
seat_map_repository::read_changes(const domain::schedule_id& schedule_id, const std::string& watermark) {
    const auto r = co_await pool_.execute(select_changes, make_params(schedule_id, watermark));
    seat_changes_read out;
    out.changes.reserve(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row) {
        const auto position = r.int64(row, 0);
        if (position < 0) {
            out.watermark = r.string(row, 5);
        } else {
            out.changes.push_back(seat_change{
                .position = static_cast<std::size_t>(position), .state = state_of(r, row, 1)});
        }
    }
    co_return out;
}

} // namespace tp::pg
