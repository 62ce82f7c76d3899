// A database error that reaches the request boundary is answered 503 when trying again will
// do, and 500 when it is a bug.

#include "api/dispatcher.hpp"

#include <gtest/gtest.h>

namespace tp::api {
namespace {

using http::failure;

pg::error server_error(const std::string& sqlstate) {
    return pg::error(pg::error::kind::query, "ERROR", pg::error::server_detail{.sqlstate = sqlstate, .constraint = ""});
}

TEST(DatabaseFailure, UnreachableOrSlowIsUnavailable) {
    EXPECT_EQ(failure_of(pg::error(pg::error::kind::unavailable, "connection lost")), failure::database_unavailable);
    EXPECT_EQ(failure_of(pg::error(pg::error::kind::timeout, "statement timeout")), failure::database_unavailable);
}

TEST(DatabaseFailure, ADeadlockOrSerializationFailureIsUnavailable) {
    EXPECT_EQ(failure_of(server_error("40P01")), failure::database_unavailable);
    EXPECT_EQ(failure_of(server_error("40001")), failure::database_unavailable);
}

TEST(DatabaseFailure, AnyOtherServerErrorIsABug) {
    EXPECT_EQ(failure_of(server_error("42P01")), failure::internal); // undefined table
    EXPECT_EQ(failure_of(server_error("23505")), failure::internal); // a unique violation no rule expected
}

} // namespace
} // namespace tp::api
