#include "onsale/churn.hpp"

#include "onsale/blocking_pg.hpp"
#include "storage/redis/seat_map_versions.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <random>

namespace tp::onsale {
namespace {

// Flips one unsold seat between AVAILABLE and held by the churn's own fan, as a take and a
// release do (changed_xid included).
constexpr const char* flip = R"sql(
    UPDATE performance_seats
    SET reservation_status = CASE WHEN reservation_status = 'AVAILABLE'
                                  THEN 'TEMPORARY_RESERVED'::seat_status ELSE 'AVAILABLE' END,
        holder_id = CASE WHEN reservation_status = 'AVAILABLE' THEN $3::uuid END,
        hold_expires_at = CASE WHEN reservation_status = 'AVAILABLE' THEN now() + interval '5 minutes' END,
        changed_xid = pg_current_xact_id()
    WHERE staging_date_id = $1 AND position = $2::int AND reservation_status <> 'RESERVED'
)sql";

} // namespace

int churn(const churn_options& o) {
    const auto db = connect(o.database_url);
    const auto seats = std::stoi(PQgetvalue(
        run(db.get(), "SELECT count(*) FROM performance_seats WHERE staging_date_id = $1", {o.schedule_id}).get(), 0, 0
    ));
    const std::string holder = PQgetvalue(
        run(db.get(),
            "INSERT INTO users (email_address, password_hash) VALUES ('churn-' || gen_random_uuid() || "
            "'@onsale.example', "
            "'not-a-hash') RETURNING id",
            {})
            .get(),
        0,
        0
    );
    const auto redis_options = redis::parse_redis_url(o.redis_url);
    if (!redis_options || seats == 0) {
        throw std::runtime_error("churn: a redis:// URL and a schedule with seats are needed");
    }
    asio::io_context context(1);
    redis::connection conn(context.get_executor(), *redis_options);
    redis::seat_map_versions versions(conn);
    int made = 0;
    auto writer = [&]() -> awaitable<void> {
        std::mt19937_64 rng(20261125);
        std::uniform_int_distribution<int> position(0, seats - 1);
        const auto every = std::chrono::nanoseconds(1'000'000'000 / std::max(1, o.rate));
        const auto start = std::chrono::steady_clock::now();
        const auto end =
            start +
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(o.seconds));
        asio::steady_timer pace(context);
        for (auto next = start; next < end; next += every) {
            pace.expires_at(next);
            co_await pace.async_wait(asio::as_tuple(use_awaitable));
            run(db.get(), flip, {o.schedule_id, std::to_string(position(rng)), holder});
            co_await versions.bump(o.schedule_id);
            ++made;
        }
        conn.close();
    };
    std::exception_ptr failed;
    asio::co_spawn(context, writer(), [&](std::exception_ptr e) { failed = e; });
    context.run();
    if (failed) {
        std::rethrow_exception(failed);
    }
    return made;
}

} // namespace tp::onsale
