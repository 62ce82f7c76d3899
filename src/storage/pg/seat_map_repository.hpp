#pragma once
// The seat list of a schedule, read whole once and then as changes (docs/seat-map.md). A read
// answers with a watermark: the xmin of the snapshot it ran in. Every transaction below it had
// ended when the read ran, so `changes_since(watermark)` finds every seat whose state the read
// did not see, however the writers' commits were ordered.

#include "domain/identifiers.hpp"
#include "domain/seats.hpp"
#include "domain/timestamp.hpp"
#include "storage/pg/pool.hpp"

#include <optional>
#include <vector>

namespace tp::pg {

using seat_state = domain::stored_seat_state;
using seat_change = domain::seat_state_change;

struct listed_seat {
    std::string id;
    std::string seat_number;
    domain::krw price = 0;
    seat_state state;
};

struct seat_list_read {
    std::vector<listed_seat> seats; // in the operator's order (position 0, 1, ...)
    std::string watermark;          // xid8 as text; "" when the schedule has no seats
    domain::epoch_ms ticketing_starts = 0;
};

struct seat_changes_read {
    std::vector<seat_change> changes;
    std::string watermark;
};

class seat_map_repository {
public:
    explicit seat_map_repository(pool& p) : pool_(p) {}

    // schedule_not_found for an unknown schedule.
    awaitable<domain::result<seat_list_read>> read_all(const domain::schedule_id& schedule_id);
    // Seats changed by transactions at or above `watermark` (some may be unchanged: a
    // reader applies them all, which is harmless).
    awaitable<seat_changes_read> read_changes(const domain::schedule_id& schedule_id, const std::string& watermark);

private:
    pool& pool_;
};

} // namespace tp::pg
