#pragma once
// Holding seats and listing a fan's seats. A take is one guarded UPDATE inside a short
// transaction that first locks the fan's row (so one fan's concurrent takes count their
// seats one after another); see docs/transactions.md for why each step is there.

#include "domain/seats.hpp"
#include "domain/timestamp.hpp"
#include "storage/pg/pool.hpp"

#include <vector>

namespace tp::pg {

struct held_seat {
    domain::seat_id id;
    std::string seat_number;
    domain::krw price = 0;
    domain::epoch_ms hold_expire_timestamp = 0;
    domain::schedule_id schedule_id;
    std::size_t position = 0;      // in the schedule's seat list
    std::int64_t change_count = 0; // the seat's, after this take
};

struct my_seat {
    std::string performance_id;
    std::string title;
    domain::epoch_ms ticketing_start_date = 0;
    std::string stage_name;
    std::string stage_location;
    std::string schedule_id;
    domain::epoch_ms staging_date = 0;
    std::string seat_id;
    std::string seat_number;
    domain::krw price = 0;
    domain::seat_status status = domain::seat_status::temporary_reserved;
    std::optional<domain::epoch_ms> hold_expire_timestamp;
};

class seat_repository {
public:
    explicit seat_repository(pool& p) : pool_(p) {}

    // All of `seat_ids` (validated, sorted) or none. `schedule_id`, when not empty, is the
    // only schedule the seats may belong to (the one the caller's queue token admits to).
    awaitable<domain::result<std::vector<held_seat>>> take(
        const domain::user_id& user_id,
        const std::vector<domain::seat_id>& seat_ids,
        const domain::hold_policy& policy,
        const domain::schedule_id& schedule_id
    );

    // Live holds and purchases, ordered by performance, schedule and seat.
    awaitable<std::vector<my_seat>> list_mine(const domain::user_id& user_id);

    // Turns up to `batch` expired holds back into AVAILABLE rows; returns how many.
    // Safe on every instance at once (SKIP LOCKED); correctness never depends on it.
    awaitable<std::int64_t> release_expired_holds(int batch);

private:
    awaitable<domain::error> explain_refusal(
        const domain::user_id& user_id,
        const std::vector<domain::seat_id>& seat_ids,
        const domain::hold_policy& policy,
        const domain::schedule_id& schedule_id
    );

    pool& pool_;
};

} // namespace tp::pg
