#pragma once
// The PostgreSQL and Redis suites need real servers. Run by hand without one, they are
// skipped; under scripts/test.sh (TEST_REQUIRE_SERVERS=1) a missing server URL fails them,
// since a suite that skips every test would otherwise pass without checking anything.

#include <gtest/gtest.h>

#include <cstdlib>
#include <string_view>

namespace tp::test {

inline bool servers_required() {
    const char* value = std::getenv("TEST_REQUIRE_SERVERS");
    return value != nullptr && std::string_view(value) == "1";
}

} // namespace tp::test

// Skips the test, or fails it under scripts/test.sh; either way the test returns here.
#define TP_SKIP_OR_FAIL_WITHOUT_SERVER(message)                                                                        \
    do {                                                                                                               \
        if (::tp::test::servers_required()) {                                                                          \
            GTEST_FAIL() << message << " (TEST_REQUIRE_SERVERS=1: a missing server is a failure)";                     \
        }                                                                                                              \
        GTEST_SKIP() << message;                                                                                       \
    } while (false)
