#include "storage/pg/event_repository.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <limits>

namespace tp::pg {
namespace {

// The last id any transaction has taken, committed or not (a sequence is outside MVCC).
constexpr query last_allocated{"events_last_allocated", R"sql(
    SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM sale_events_id_seq
)sql"};

// A new xid, in a statement after last_allocated: every transaction that took an id up to
// it had its xid before then, so a smaller one. (Not a snapshot's xmax: that is one past the
// last *completed* xid, and a running transaction may hold a greater one.) It costs one xid
// per horizon proven, and commits before the check below, which then sees an xmax above it.
constexpr query new_xid{"events_new_xid", R"sql(
    SELECT pg_current_xact_id()::text
)sql"};

// Whether every transaction with an xid below $1 has ended.
constexpr query ended_before{"events_ended_before", R"sql(
    SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1::text::xid8
)sql"};

constexpr query select_page{"events_page", R"sql(
    SELECT id, kind::text, (extract(epoch FROM occurred_at) * 1000)::bigint, user_id, schedule_id,
           seat_id, amount, (extract(epoch FROM hold_expires_at) * 1000)::bigint
    FROM sale_events WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3
)sql"};

constexpr query forget_old{"events_forget_old", R"sql(
    DELETE FROM sale_events WHERE id IN (
        SELECT id FROM sale_events
        WHERE occurred_at < now() - make_interval(hours => $1::int)
        LIMIT $2 FOR UPDATE SKIP LOCKED)
)sql"};

constexpr auto first_pause = std::chrono::milliseconds(1);
constexpr auto longest_pause = std::chrono::milliseconds(50);

} // namespace

awaitable<std::int64_t> event_repository::prove_horizon(std::chrono::milliseconds settle) {
    const auto allocated = (co_await pool_.execute(last_allocated, {})).int64(0, 0);
    if (allocated <= proven_) {
        co_return proven_;
    }
    const auto bound = (co_await pool_.execute(new_xid, {})).string(0, 0);
    const auto deadline = std::chrono::steady_clock::now() + settle;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (auto pause = first_pause;; pause = std::min(pause * 2, longest_pause)) {
        if ((co_await pool_.execute(ended_before, make_params(bound))).boolean(0, 0)) {
            break;
        }
        if (std::chrono::steady_clock::now() + pause > deadline) {
            co_return proven_; // a long transaction: what was proven before still holds
        }
        timer.expires_after(pause);
        co_await timer.async_wait(use_awaitable);
    }
    proven_ = std::max(proven_, allocated);
    co_return proven_;
}

awaitable<event_page> event_repository::page(std::int64_t after, int limit, std::chrono::milliseconds settle) {
    auto horizon = prove_ ? proven_ : std::numeric_limits<std::int64_t>::max();
    if (after >= horizon) {
        horizon = co_await prove_horizon(settle);
    }
    event_page out{.events = {}, .next_after = after};
    if (horizon <= after) {
        co_return out;
    }
    const auto r = co_await pool_.execute(select_page, make_params(after, horizon, static_cast<std::int64_t>(limit)));
    out.events.reserve(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row) {
        out.events.push_back(sale_event{
            .id = r.int64(row, 0),
            .kind = r.string(row, 1),
            .occurred_at = r.int64(row, 2),
            .user_id = r.optional_string(row, 3),
            .schedule_id = r.optional_string(row, 4),
            .seat_id = r.optional_string(row, 5),
            .amount = r.optional_int64(row, 6),
            .hold_expire_timestamp = r.optional_int64(row, 7)});
    }
    const bool full = std::cmp_equal(out.events.size(), limit);
    out.next_after = full || !prove_ ? (out.events.empty() ? after : out.events.back().id) : horizon;
    co_return out;
}

awaitable<std::int64_t> event_repository::forget_older_than(std::chrono::hours retention, int batch) {
    const auto r = co_await pool_.execute(
        forget_old, make_params(static_cast<std::int64_t>(retention.count()), static_cast<std::int64_t>(batch))
    );
    co_return r.affected();
}

} // namespace tp::pg
