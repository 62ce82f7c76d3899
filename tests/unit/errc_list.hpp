#pragma once
// Every domain error, for tests that must cover them all. The static_assert fails when an
// error is added to domain::errc without being listed here (internal is the last one).

#include "domain/errc.hpp"

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
    domain::errc::request_timeout,
    domain::errc::body_too_large,
    domain::errc::headers_too_large,
    domain::errc::route_not_found,
    domain::errc::method_not_allowed,
    domain::errc::database_unavailable,
    domain::errc::queue_unavailable,
    domain::errc::internal,
};

static_assert(
    static_cast<std::size_t>(domain::errc::internal) + 1 == all_errors.size(),
    "a domain::errc was added: list it in tests/unit/errc_list.hpp"
);

} // namespace tp::test
