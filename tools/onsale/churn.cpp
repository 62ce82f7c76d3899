#include "onsale/churn.hpp"

#include "onsale/blocking_pg.hpp"
#include "storage/redis/connection.hpp"
#include "storage/redis/seat_map_versions.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <random>

namespace tp::onsale {
namespace {

// Flips one unsold seat between AVAILABLE and held by the churn's own fan, as a take and a
// release do (changed_xid and change_count included), and logs its new state with the
// version bump as they do.
constexpr const char* flip = R"sql(
    UPDATE performance_seats
    SET reservation_status = CASE WHEN reservation_status = 'AVAILABLE'
                                  THEN 'TEMPORARY_RESERVED'::seat_status ELSE 'AVAILABLE' END,
        holder_id = CASE WHEN reservation_status = 'AVAILABLE' THEN $3::uuid END,
        hold_expires_at = CASE WHEN reservation_status = 'AVAILABLE' THEN now() + interval '5 minutes' END,
        changed_xid = pg_current_xact_id(), change_count = change_count + 1
    WHERE staging_date_id = $1 AND position = $2::int AND reservation_status <> 'RESERVED'
    RETURNING reservation_status::text, (extract(epoch FROM hold_expires_at) * 1000)::bigint, change_count,
              holder_id::text
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
        const domain::schedule_id schedule(o.schedule_id);
        for (auto next = start; next < end; next += every) {
            pace.expires_at(next);
            co_await pace.async_wait(asio::as_tuple(use_awaitable));
            const auto at = position(rng);
            const auto flipped = run(db.get(), flip, {o.schedule_id, std::to_string(at), holder});
            std::vector<domain::seat_state_change> changes;
            if (PQntuples(flipped.get()) == 1) {
                const auto* r = flipped.get();
                changes.push_back(
                    {.position = static_cast<std::size_t>(at),
                     .state =
                         {.status =
                              domain::parse_seat_status(PQgetvalue(r, 0, 0)).value_or(domain::seat_status::reserved),
                          .hold_expires =
                              PQgetisnull(r, 0, 1) != 0 ? std::nullopt : std::optional(std::stoll(PQgetvalue(r, 0, 1))),
                          .change_count = std::stoll(PQgetvalue(r, 0, 2)),
                          .holder = PQgetisnull(r, 0, 3) != 0 ? std::string{} : std::string(PQgetvalue(r, 0, 3))}}
                );
            }
            if (changes.empty()) {
                continue; // a sold seat: nothing changed
            }
            co_await versions.bump(schedule, changes);
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
