#pragma once
// Every domain error and every transport or server failure, for tests that must cover them
// all. The static_asserts fail when one is added without being listed here.

#include "domain/errc.hpp"
#include "http/failure.hpp"

#include <array>

namespace tp::test {

inline constexpr std::array all_errors{
    domain::errc::bad_request,
    domain::errc::malformed_json,
    domain::errc::unsupported_media_type,
    domain::errc::token_missing,
    domain::errc::token_invalid,
    domain::errc::token_expired,
    domain::errc::wrong_credentials,
    domain::errc::admin_key_invalid,
    domain::errc::queue_flow_violated,
    domain::errc::queue_token_missing,
    domain::errc::queue_token_expired,
    domain::errc::queue_token_not_yours,
    domain::errc::queue_token_exists,
    domain::errc::queue_token_not_found,
    domain::errc::draw_not_found,
    domain::errc::ticketing_not_started,
    domain::errc::performance_not_found,
    domain::errc::schedule_not_found,
    domain::errc::seat_not_found,
    domain::errc::seat_taken,
    domain::errc::sold_out,
    domain::errc::seat_limit_reached,
    domain::errc::seat_not_held,
    domain::errc::hold_expired,
    domain::errc::seat_already_paid,
    domain::errc::insufficient_balance,
    domain::errc::balance_limit_reached,
    domain::errc::email_taken,
    domain::errc::idempotency_key_reused,
};

static_assert(
    static_cast<std::size_t>(domain::errc::idempotency_key_reused) + 1 == all_errors.size(),
    "a domain::errc was added: list it in tests/unit/errc_list.hpp"
);

// Every failure of the transport and the server, likewise (internal is the last one).
inline constexpr std::array all_failures{
    http::failure::malformed_request,
    http::failure::malformed_target,
    http::failure::body_too_large,
    http::failure::headers_too_large,
    http::failure::route_not_found,
    http::failure::method_not_allowed,
    http::failure::database_unavailable,
    http::failure::queue_unavailable,
    http::failure::internal,
};

static_assert(
    static_cast<std::size_t>(http::failure::internal) + 1 == all_failures.size(),
    "an http::failure was added: list it in tests/unit/errc_list.hpp"
);

} // namespace tp::test
