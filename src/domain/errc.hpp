#pragma once
// Every expected outcome the rules can refuse a call with. These are values, not exceptions:
// functions return `domain::result<T>`. Infrastructure failures (a database down, a bug)
// are exceptions instead, caught once at the request boundary, and answered with the
// transport's own codes (http::failure), as are requests that cannot be read or routed.
//
// The HTTP status and machine code of each lives in exactly one switch
// (http/error_reply.cpp); adding an entry here without mapping it fails to compile.

#include <boost/system/result.hpp>

#include <string>
#include <string_view>

namespace tp::domain {

enum class errc {
    // Malformed or invalid input.
    bad_request,
    malformed_json,
    unsupported_media_type,
    // Identity.
    token_missing,
    token_invalid,
    token_expired,
    wrong_credentials,
    admin_key_invalid,
    // The waiting queue.
    queue_flow_violated,
    queue_token_missing,
    queue_token_expired,
    queue_token_not_yours,
    queue_token_exists,
    queue_token_not_found,
    draw_not_found,
    // Catalog and seats.
    ticketing_not_started,
    performance_not_found,
    schedule_not_found,
    seat_not_found,
    seat_taken,
    sold_out,
    seat_limit_reached,
    seat_not_held,
    hold_expired,
    seat_already_paid,
    // Money.
    insufficient_balance,
    balance_limit_reached,
    // Accounts and retries.
    email_taken,
    idempotency_key_reused,
};

// What went wrong, for the caller: a code plus a sentence that may name the offending field.
struct error {
    errc code = errc::bad_request;
    std::string message;
};

error make_error(errc code);
error make_error(errc code, std::string message);

// The default sentence for a code, used when the caller has nothing more precise to say.
std::string_view default_message(errc code);

template <class T> using result = boost::system::result<T, error>;

// Lets `result<T>::value()` throw when a caller insists on a value that is an error.
[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location& loc);

} // namespace tp::domain
