#include "domain/errc.hpp"

#include <stdexcept>

namespace tp::domain {

std::string_view default_message(errc code) {
    switch (code) {
    case errc::bad_request: return "The request is invalid.";
    case errc::malformed_json: return "The request body is not valid JSON.";
    case errc::unsupported_media_type: return "The request body must be application/json.";
    case errc::token_missing: return "An access token is required (Authorization: Bearer <token>).";
    case errc::token_invalid: return "The access token is invalid.";
    case errc::token_expired: return "The access token has expired; sign in again.";
    case errc::wrong_credentials: return "The e-mail address or password is wrong.";
    case errc::admin_key_invalid: return "A valid admin API key is required.";
    case errc::queue_flow_violated: return "The booking steps must be taken in order.";
    case errc::queue_token_missing: return "A queue token is required (Queue-Token: Bearer <id>).";
    case errc::queue_token_expired: return "The queue token has expired.";
    case errc::queue_token_not_yours: return "The queue token belongs to another user.";
    case errc::queue_token_exists: return "You already hold a live queue token.";
    case errc::queue_token_not_found: return "The queue token does not exist.";
    case errc::draw_not_found: return "This gate has no pre-queue, so no draw (or it was forgotten a day after).";
    case errc::ticketing_not_started: return "Ticketing for this performance has not started.";
    case errc::performance_not_found: return "The performance does not exist.";
    case errc::schedule_not_found: return "The performance schedule does not exist.";
    case errc::seat_not_found: return "The seat does not exist.";
    case errc::seat_taken: return "The seat is already taken.";
    case errc::sold_out: return "All seats of this schedule are sold out.";
    case errc::seat_limit_reached: return "You hold or bought the most seats allowed for this schedule.";
    case errc::seat_not_held: return "The seat is not held by you.";
    case errc::hold_expired: return "Your hold on this seat has expired.";
    case errc::seat_already_paid: return "The seat is already paid for.";
    case errc::insufficient_balance: return "The balance is not enough to pay for this seat.";
    case errc::balance_limit_reached: return "The charge would take the balance over its limit.";
    case errc::email_taken: return "The e-mail address is already registered.";
    case errc::idempotency_key_reused: return "The Idempotency-Key was already used with another request body.";
    }
    return "Unknown error.";
}

error make_error(errc code) {
    return error{code, std::string(default_message(code))};
}

error make_error(errc code, std::string message) {
    return error{code, std::move(message)};
}

void throw_exception_from_error(const error& e, const boost::source_location&) {
    throw std::logic_error("unexpected domain error: " + e.message);
}

} // namespace tp::domain
