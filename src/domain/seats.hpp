#pragma once
// Seat states, the rules for choosing seats, and the reasons a take or a payment is refused.
//
// The database decides availability, inside the guarded write (see docs/transactions.md).
// When that write refuses, the repository reads back each seat as a `seat_view` and the
// pure functions here turn that picture into the precise error the user sees.

#include "domain/errc.hpp"
#include "domain/identifiers.hpp"
#include "domain/timestamp.hpp"
#include "domain/wallet.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tp::domain {

enum class seat_status { available, temporary_reserved, reserved };

std::string_view to_string(seat_status status);
std::optional<seat_status> parse_seat_status(std::string_view text);

// A seat's state as stored; an expired hold is still TEMPORARY_RESERVED here (readers judge
// expiry when they answer). change_count orders two states of one seat: higher is newer.
struct stored_seat_state {
    seat_status status = seat_status::available;
    std::optional<epoch_ms> hold_expires;
    std::int64_t change_count = 0;
    std::string holder; // the user id of the hold or purchase; "" for none
};

// A seat's new state, named by its place in its schedule's seat list.
struct seat_state_change {
    std::size_t position = 0;
    stored_seat_state state;
};

struct hold_policy {
    int hold_ttl_seconds = 300;
    int max_seats_per_user = 4;
};

// Ids of the seats one take asks for: canonical UUIDs, no duplicates, sorted (so that
// concurrent takes lock rows in one order and cannot deadlock), at most `max` of them.
result<std::vector<seat_id>> validate_seat_selection(std::span<const std::string> ids, int max_seats_per_user);

// One seat as seen at a moment, with expired holds already counted as available.
struct seat_view {
    seat_id id;
    domain::schedule_id schedule_id;
    seat_status status = seat_status::available; // effective status: an expired hold is available
    bool held_by_me = false;                     // holder is the caller (hold or purchase)
    bool hold_expired = false;                   // a hold by anyone whose time has passed
    bool ticketing_started = false;
    krw price = 0;
};

struct take_context {
    std::span<const seat_id> requested_ids;
    std::span<const seat_view> seats;  // those of the requested ids that exist
    int my_live_seats_in_schedule = 0; // held (unexpired) or bought by the caller
    int available_in_schedule = 0;
    int max_seats_per_user = 4;
    schedule_id required_schedule_id; // empty: any schedule
};

// Why a take that the guarded write refused was refused. Checked in the order a user
// would want to hear it: wrong id, too early, nothing left, own limit, then this seat.
error explain_refused_take(const take_context& context);

struct payment_context {
    std::optional<seat_view> seat;
    krw balance = 0;
};

error explain_refused_payment(const payment_context& context);

} // namespace tp::domain
