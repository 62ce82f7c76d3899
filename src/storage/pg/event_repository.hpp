#pragma once
// The sale events (the outbox the triggers of migration 0008 fill), read in id order so that
// a consumer following from the start sees every committed event exactly once, although
// transactions commit out of id order (docs/sale-events.md).

#include "domain/identifiers.hpp"
#include "domain/timestamp.hpp"
#include "storage/pg/pool.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tp::pg {

struct sale_event {
    std::int64_t id = 0;
    std::string kind; // hold, release, sale, charge, payment
    domain::epoch_ms occurred_at = 0;
    std::optional<std::string> user_id;
    std::optional<std::string> schedule_id;
    std::optional<std::string> seat_id;
    std::optional<std::int64_t> amount;
    std::optional<domain::epoch_ms> hold_expire_timestamp;
};

struct event_page {
    std::vector<sale_event> events; // ascending ids, all above the `after` asked for
    // Where the next page starts: the last event's id, or, when the page is not full, the
    // horizon itself (every id up to it is committed or never will be, so gaps below it are
    // ids of rolled-back transactions and are skipped for good).
    std::int64_t next_after = 0;
};

class event_repository {
public:
    // `prove` false is a fault for the tests' negative control: pages serve every id visible.
    explicit event_repository(pool& p, bool prove = true) : pool_(p), prove_(prove) {}

    // Up to `limit` events with ids above `after`, none above the proven horizon. Waits up to
    // `settle` for transactions in flight to end; past it, serves up to the last horizon proven.
    awaitable<event_page> page(std::int64_t after, int limit, std::chrono::milliseconds settle);

    // The horizon: every id up to it is committed or never will be (a consumer that starts
    // after it misses nothing that commits later).
    awaitable<std::int64_t> horizon(std::chrono::milliseconds settle) { return prove_horizon(settle); }

    // Deletes up to `batch` events older than `retention`; returns how many.
    awaitable<std::int64_t> forget_older_than(std::chrono::hours retention, int batch);

private:
    awaitable<std::int64_t> prove_horizon(std::chrono::milliseconds settle);

    pool& pool_;
    bool prove_ = true;
    std::int64_t proven_ = 0; // every id up to here is committed or never will be (this pool's thread)
};

} // namespace tp::pg
