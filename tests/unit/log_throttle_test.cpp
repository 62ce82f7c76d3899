// A repeated condition is logged at most once per interval, and the line says how many
// were dropped in between.

#include "support/log_throttle.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace tp {
namespace {

using namespace std::chrono_literals;

TEST(LogThrottle, OneLinePerIntervalWithTheDroppedCount) {
    log_throttle throttle(1s);
    const log_throttle::clock::time_point start{10s};
    ASSERT_EQ(throttle.admit(start), 0u);
    for (int i = 0; i < 1000; ++i) {
        EXPECT_FALSE(throttle.admit(start + 999ms)) << i;
    }
    EXPECT_EQ(throttle.admit(start + 1s), 1000u);
    EXPECT_FALSE(throttle.admit(start + 1500ms));
    EXPECT_EQ(throttle.admit(start + 5s), 1u);
}

TEST(LogThrottle, ThreadsRacingAtOneInstantWriteOneLine) {
    log_throttle throttle(1s);
    const log_throttle::clock::time_point now{10s};
    std::atomic<int> written{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 10000; ++i) {
                if (throttle.admit(now)) {
                    written.fetch_add(1);
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(written.load(), 1);
    EXPECT_EQ(throttle.admit(now + 1s), 39999u);
}

} // namespace
} // namespace tp
