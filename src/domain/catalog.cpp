#include "domain/catalog.hpp"

#include <unordered_set>

namespace tp::domain {
namespace {

bool is_text(const std::string& s, std::size_t max) {
    return !s.empty() && s.size() <= max;
}

} // namespace

result<new_performance> validate_new_performance(new_performance p) {
    if (!is_text(p.title, 200)) {
        return make_error(errc::bad_request, "title must be 1 to 200 characters long.");
    }
    if (!is_text(p.stage_name, 200) || !is_text(p.stage_location, 200)) {
        return make_error(errc::bad_request, "stage.name and stage.location must be 1 to 200 characters long.");
    }
    if (p.schedules.empty() || p.schedules.size() > max_schedules_per_performance) {
        return make_error(errc::bad_request, "schedules must list 1 to 100 schedules.");
    }
    for (const auto& schedule : p.schedules) {
        if (schedule.seats.empty() || schedule.seats.size() > max_seats_per_schedule) {
            return make_error(errc::bad_request, "Each schedule must have 1 to 20000 seats.");
        }
        std::unordered_set<std::string_view> numbers;
        for (const auto& seat : schedule.seats) {
            if (!is_text(seat.seat_number, 20)) {
                return make_error(errc::bad_request, "seat_number must be 1 to 20 characters long.");
            }
            if (seat.price <= 0 || seat.price > max_seat_price) {
                return make_error(errc::bad_request, "price must be a whole number of KRW from 1 to 10000000.");
            }
            if (!numbers.insert(seat.seat_number).second) {
                return make_error(
                    errc::bad_request, "seat_number " + seat.seat_number + " appears twice in one schedule."
                );
            }
        }
    }
    return p;
}

} // namespace tp::domain
