#include "storage/pg/catalog_repository.hpp"

#include "storage/pg/transaction.hpp"

namespace tp::pg {
namespace {

constexpr query insert_stage{"catalog_insert_stage", R"sql(
    INSERT INTO stages (name, location) VALUES ($1, $2) RETURNING id
)sql"};

constexpr query insert_performance{"catalog_insert_performance", R"sql(
    INSERT INTO performances (stage_id, title, ticketing_start_date)
    VALUES ($1, $2, to_timestamp($3::bigint / 1000.0))
    RETURNING id
)sql"};

constexpr query insert_schedule{"catalog_insert_schedule", R"sql(
    INSERT INTO performance_staging_dates (performance_id, staging_date)
    VALUES ($1, to_timestamp($2::bigint / 1000.0))
    RETURNING id
)sql"};

// One round trip for all seats of a schedule; WITH ORDINALITY numbers them in the operator's
// order (the seat list's order) and keeps the returned ids in that order.
constexpr query insert_seats{"catalog_insert_seats", R"sql(
    INSERT INTO performance_seats (staging_date_id, seat_number, price, position)
    SELECT $1, s.seat_number, s.price, s.position - 1
    FROM unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS s (seat_number, price, position)
    ORDER BY s.position
    RETURNING id
)sql"};

// Every fan's first call of an on-sale. The count visits only unsold seats (the partial index
// performance_seats_unsold), so a sold schedule costs nothing however large its hall; still,
// during an on-sale that is thousands of seats per call, so the schedules whose counts the
// caller knows already ($1) are not counted (NULL).
constexpr query select_performances{"catalog_performances", R"sql(
    SELECT p.id, p.title, (extract(epoch FROM p.ticketing_start_date) * 1000)::bigint,
           st.name, st.location,
           d.id, (extract(epoch FROM d.staging_date) * 1000)::bigint,
           CASE WHEN d.id = ANY($1::uuid[]) THEN NULL ELSE
           (SELECT count(*) FROM performance_seats s
             WHERE s.staging_date_id = d.id AND s.reservation_status <> 'RESERVED'
               AND (s.reservation_status = 'AVAILABLE' OR s.hold_expires_at <= now())) END
    FROM performances p
    JOIN stages st ON st.id = p.stage_id
    JOIN performance_staging_dates d ON d.performance_id = p.id
    ORDER BY p.ticketing_start_date, p.id, d.staging_date, d.id
)sql"};

constexpr query schedule_opening_query{"catalog_schedule_opening", R"sql(
    SELECT (extract(epoch FROM p.ticketing_start_date) * 1000)::bigint
    FROM performance_staging_dates d JOIN performances p ON p.id = d.performance_id
    WHERE d.id = $1
)sql"};

// One pass over the seats of every schedule (the console asks every few seconds; a
// schedule of 15,000 seats counts in a few milliseconds).
constexpr query select_sales{"catalog_sales", R"sql(
    SELECT p.id, p.title, d.id, (extract(epoch FROM d.staging_date) * 1000)::bigint,
           count(s.id) FILTER (WHERE s.reservation_status = 'AVAILABLE' OR
                                     (s.reservation_status = 'TEMPORARY_RESERVED' AND s.hold_expires_at <= now())),
           count(s.id) FILTER (WHERE s.reservation_status = 'TEMPORARY_RESERVED' AND s.hold_expires_at > now()),
           count(s.id) FILTER (WHERE s.reservation_status = 'RESERVED'),
           coalesce(sum(s.price) FILTER (WHERE s.reservation_status = 'RESERVED'), 0)
    FROM performances p
    JOIN performance_staging_dates d ON d.performance_id = p.id
    LEFT JOIN performance_seats s ON s.staging_date_id = d.id
    GROUP BY p.id, p.title, p.ticketing_start_date, d.id, d.staging_date
    ORDER BY p.ticketing_start_date, p.id, d.staging_date, d.id
)sql"};

} // namespace

awaitable<created_performance> catalog_repository::create(const domain::new_performance& p) {
    auto tx = co_await transaction::begin(pool_);
    created_performance out;
    out.stage_id = (co_await tx.execute(insert_stage, p.stage_name, p.stage_location)).string(0, 0);
    out.id = (co_await tx.execute(insert_performance, out.stage_id, p.title, p.ticketing_start_date)).string(0, 0);
    for (const auto& schedule : p.schedules) {
        created_schedule created;
        created.staging_date = schedule.staging_date;
        created.id = (co_await tx.execute(insert_schedule, out.id, schedule.staging_date)).string(0, 0);
        std::vector<std::string> numbers;
        std::vector<std::int64_t> prices;
        for (const auto& seat : schedule.seats) {
            numbers.push_back(seat.seat_number);
            prices.push_back(seat.price);
        }
        const auto seats = co_await tx.execute(insert_seats, created.id, numbers, prices);
        for (int row = 0; row < seats.rows(); ++row) {
            created.seat_ids.push_back(seats.string(row, 0));
        }
        out.schedules.push_back(std::move(created));
    }
    co_await tx.commit();
    co_return out;
}

awaitable<std::vector<performance_summary>>
catalog_repository::list_performances(const std::vector<domain::schedule_id>& counted_elsewhere) {
    const auto r = co_await pool_.execute(select_performances, make_params(counted_elsewhere));
    std::vector<performance_summary> out;
    for (int row = 0; row < r.rows(); ++row) {
        if (out.empty() || out.back().id != r.text(row, 0)) {
            out.push_back(performance_summary{
                .id = r.string(row, 0),
                .title = r.string(row, 1),
                .ticketing_start_date = r.int64(row, 2),
                .stage_name = r.string(row, 3),
                .stage_location = r.string(row, 4),
                .schedules = {}});
        }
        out.back().schedules.push_back(schedule_summary{
            .id = r.string(row, 5),
            .staging_date = r.int64(row, 6),
            .reserveable_seats_count = r.optional_int64(row, 7)});
    }
    co_return out;
}

awaitable<std::optional<domain::epoch_ms>> catalog_repository::schedule_opening(const domain::schedule_id& schedule_id
) {
    if (const auto known = known_openings_.find(schedule_id); known != known_openings_.end()) {
        co_return known->second;
    }
    const auto r = co_await pool_.execute(schedule_opening_query, make_params(schedule_id));
    if (r.empty()) {
        co_return std::nullopt;
    }
    const auto opening = r.int64(0, 0);
    known_openings_.emplace(schedule_id, opening);
    co_return opening;
}

awaitable<std::vector<schedule_sales>> catalog_repository::sales() {
    const auto r = co_await pool_.execute(select_sales, {});
    std::vector<schedule_sales> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row) {
        out.push_back(schedule_sales{
            .performance_id = r.string(row, 0),
            .title = r.string(row, 1),
            .schedule_id = r.string(row, 2),
            .staging_date = r.int64(row, 3),
            .available = r.int64(row, 4),
            .held = r.int64(row, 5),
            .sold = r.int64(row, 6),
            .revenue = r.int64(row, 7)});
    }
    co_return out;
}

} // namespace tp::pg
