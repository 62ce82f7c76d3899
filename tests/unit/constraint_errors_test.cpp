#include "storage/pg/constraint_errors.hpp"

#include <gtest/gtest.h>

using tp::domain::errc;
using tp::pg::as_domain_error;
using tp::pg::error;
using tp::pg::is_retryable;

namespace {

error violation(std::string sqlstate, std::string constraint) {
    return error(
        error::kind::query,
        "PostgreSQL: violation",
        {.sqlstate = std::move(sqlstate), .constraint = std::move(constraint)}
    );
}

} // namespace

TEST(constraint_errors, each_business_constraint_becomes_its_domain_error) {
    const std::pair<const char*, errc> cases[] = {
        {"users_email_unique", errc::email_taken},
        {"users_balance_not_negative", errc::insufficient_balance},
        {"users_balance_ceiling", errc::balance_limit_reached},
        {"ledger_entries_one_payment_per_seat", errc::seat_already_paid},
        {"performance_seats_number_unique", errc::bad_request},
    };
    for (const auto& [constraint, code] : cases) {
        const auto mapped = as_domain_error(violation("23505", constraint));
        ASSERT_TRUE(mapped) << constraint;
        EXPECT_EQ(mapped->code, code) << constraint;
    }
}

TEST(constraint_errors, malformed_or_out_of_range_values_are_bad_requests) {
    for (const char* sqlstate : {"22P02", "22003", "22008"}) {
        const auto mapped = as_domain_error(violation(sqlstate, ""));
        ASSERT_TRUE(mapped) << sqlstate;
        EXPECT_EQ(mapped->code, errc::bad_request);
    }
}

TEST(constraint_errors, anything_else_stays_an_infrastructure_failure) {
    EXPECT_FALSE(as_domain_error(violation("23514", "performance_seats_state_coherent")));
    EXPECT_FALSE(as_domain_error(violation("23505", "some_other_index")));
    EXPECT_FALSE(as_domain_error(violation("42601", "")));
    EXPECT_FALSE(as_domain_error(error(error::kind::unavailable, "connection refused")));
    EXPECT_FALSE(as_domain_error(error(error::kind::timeout, "too slow", {.sqlstate = "57014", .constraint = ""})));
}

TEST(constraint_errors, deadlocks_and_serialization_failures_are_retryable) {
    EXPECT_TRUE(is_retryable(violation("40P01", "")));
    EXPECT_TRUE(is_retryable(violation("40001", "")));
    EXPECT_FALSE(is_retryable(violation("23505", "users_email_unique")));
    EXPECT_FALSE(is_retryable(error(error::kind::unavailable, "down")));
}
