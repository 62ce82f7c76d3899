#pragma once
// The catalog: stages, performances, schedules and their seats, as operators create them
// and fans browse them. Availability is computed in SQL with the database clock: a hold
// whose time has passed counts as available here, whether or not the sweeper ran.

#include "domain/catalog.hpp"
#include "domain/identifiers.hpp"
#include "domain/seats.hpp"
#include "storage/pg/pool.hpp"

#include <optional>
#include <unordered_map>
#include <vector>

namespace tp::pg {

struct created_schedule {
    std::string id;
    domain::epoch_ms staging_date = 0;
    std::vector<std::string> seat_ids;
};

struct created_performance {
    std::string id;
    std::string stage_id;
    std::vector<created_schedule> schedules;
};

struct schedule_summary {
    std::string id;
    domain::epoch_ms staging_date = 0;
    std::optional<std::int64_t> reserveable_seats_count; // nullopt: counted elsewhere
};

struct performance_summary {
    std::string id;
    std::string title;
    domain::epoch_ms ticketing_start_date = 0;
    std::string stage_name;
    std::string stage_location;
    std::vector<schedule_summary> schedules;
};

// One schedule's sale as the operator console shows it; a hold past its time counts as
// available.
struct schedule_sales {
    std::string performance_id;
    std::string title;
    std::string schedule_id;
    domain::epoch_ms staging_date = 0;
    std::int64_t available = 0;
    std::int64_t held = 0;
    std::int64_t sold = 0;
    domain::krw revenue = 0;
};

class catalog_repository {
public:
    explicit catalog_repository(pool& p) : pool_(p) {}

    awaitable<created_performance> create(const domain::new_performance& performance);
    // Seats are counted for every schedule but those of `counted_elsewhere` (canonical ids).
    awaitable<std::vector<performance_summary>>
    list_performances(const std::vector<domain::schedule_id>& counted_elsewhere = {});
    // The ticketing start of the schedule's performance; nullopt for no such schedule.
    // Answered from memory once known: schedules are never deleted, nor their start moved.
    awaitable<std::optional<domain::epoch_ms>> schedule_opening(const domain::schedule_id& schedule_id);

    // Every schedule's sale, by ticketing start, performance and date.
    awaitable<std::vector<schedule_sales>> sales();

private:
    pool& pool_;
    std::unordered_map<domain::schedule_id, domain::epoch_ms> known_openings_;
};

} // namespace tp::pg
