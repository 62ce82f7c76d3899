#include "domain/seats.hpp"

#include "domain/identifiers.hpp"

#include <algorithm>

namespace tp::domain {

std::string_view to_string(seat_status status) {
    switch (status) {
    case seat_status::available: return "AVAILABLE";
    case seat_status::temporary_reserved: return "TEMPORARY_RESERVED";
    case seat_status::reserved: return "RESERVED";
    }
    return "AVAILABLE";
}

std::optional<seat_status> parse_seat_status(std::string_view text) {
    for (auto status : {seat_status::available, seat_status::temporary_reserved, seat_status::reserved}) {
        if (text == to_string(status)) {
            return status;
        }
    }
    return std::nullopt;
}

result<std::vector<seat_id>> validate_seat_selection(std::span<const std::string> ids, int max_seats_per_user) {
    if (ids.empty()) {
        return make_error(errc::bad_request, "Choose at least one seat.");
    }
    if (std::cmp_greater(ids.size(), max_seats_per_user)) {
        return make_error(
            errc::seat_limit_reached,
            "At most " + std::to_string(max_seats_per_user) + " seats can be taken per schedule."
        );
    }
    std::vector<seat_id> out;
    out.reserve(ids.size());
    for (const auto& id : ids) {
        auto canonical = parse_id<seat_id>(id);
        if (!canonical) {
            return make_error(errc::bad_request, "performance_seat_id must be a UUID.");
        }
        out.push_back(std::move(*canonical));
    }
    std::sort(out.begin(), out.end());
    if (std::adjacent_find(out.begin(), out.end()) != out.end()) {
        return make_error(errc::bad_request, "The same seat is listed twice.");
    }
    return out;
}

error explain_refused_take(const take_context& c) {
    if (c.seats.size() < c.requested_ids.size()) {
        return make_error(errc::seat_not_found);
    }
    const auto& first_schedule = c.seats.front().schedule_id;
    for (const auto& seat : c.seats) {
        if (seat.schedule_id != first_schedule) {
            return make_error(errc::bad_request, "All seats of one take must belong to one schedule.");
        }
    }
    if (!c.required_schedule_id.empty() && first_schedule != c.required_schedule_id) {
        return make_error(
            errc::queue_flow_violated, "The seat belongs to another schedule than the one your queue token admits to."
        );
    }
    if (!c.seats.front().ticketing_started) {
        return make_error(errc::ticketing_not_started);
    }
    if (c.available_in_schedule == 0) {
        return make_error(errc::sold_out);
    }
    const int wanted = static_cast<int>(c.requested_ids.size());
    if (c.my_live_seats_in_schedule + wanted > c.max_seats_per_user) {
        return make_error(
            errc::seat_limit_reached,
            "You may hold or buy at most " + std::to_string(c.max_seats_per_user) +
                " seats of this schedule; you have " + std::to_string(c.my_live_seats_in_schedule) + "."
        );
    }
    for (const auto& seat : c.seats) {
        if (seat.status != seat_status::available) {
            return make_error(
                errc::seat_taken,
                seat.held_by_me ? "You already hold or bought this seat." : "The seat is already taken."
            );
        }
    }
    // Every seat looks free now: it was taken and released between the write and this read.
    return make_error(errc::seat_taken, "The seat was taken by someone else; try again.");
}

error explain_refused_payment(const payment_context& c) {
    if (!c.seat) {
        return make_error(errc::seat_not_found);
    }
    const auto& seat = *c.seat;
    if (seat.status == seat_status::reserved) {
        return seat.held_by_me ? make_error(errc::seat_already_paid) : make_error(errc::seat_not_held);
    }
    if (seat.held_by_me && seat.hold_expired) {
        return make_error(errc::hold_expired);
    }
    if (seat.status == seat_status::temporary_reserved && seat.held_by_me) {
        if (c.balance < seat.price) {
            return make_error(errc::insufficient_balance);
        }
        return make_error(errc::seat_not_held, "The hold changed while paying; try again.");
    }
    return make_error(errc::seat_not_held, "The seat is not held by you; take it first.");
}

} // namespace tp::domain
