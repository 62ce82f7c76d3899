#pragma once
// What an operator may create in one call: a stage, a performance and its schedules with
// their seats (docs/api-contract.md, Operator API). Validated here, written in one
// transaction by the repository.

#include "domain/errc.hpp"
#include "domain/timestamp.hpp"
#include "domain/wallet.hpp"

#include <string>
#include <vector>

namespace tp::domain {

struct new_seat {
    std::string seat_number;
    krw price = 0;
};

struct new_schedule {
    epoch_ms staging_date = 0;
    std::vector<new_seat> seats;
};

struct new_performance {
    std::string title;
    epoch_ms ticketing_start_date = 0;
    std::string stage_name;
    std::string stage_location;
    std::vector<new_schedule> schedules;
};

inline constexpr std::size_t max_schedules_per_performance = 100;
inline constexpr std::size_t max_seats_per_schedule = 20'000;

result<new_performance> validate_new_performance(new_performance performance);

} // namespace tp::domain
