// Background work stops when asked, even when asked in the middle of a round: a wait begun
// after such a round would last a whole interval and keep the event loop (and a shutting
// down process) alive.

#include "app/periodic_task.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;

TEST(periodic_task, a_stop_during_a_round_ends_the_task_after_it) {
    tp::asio::io_context context(1);
    int rounds = 0;
    bool stop_now = false;
    tp::app::periodic_task task(context, "test", std::chrono::hours(1), [&]() -> tp::awaitable<void> {
        ++rounds;
        stop_now = true; // the stop arrives while this round is still running
        tp::asio::steady_timer busy(context, 20ms);
        co_await busy.async_wait(tp::asio::as_tuple(tp::use_awaitable));
    });
    task.start();
    tp::asio::steady_timer stopper(context, 5ms);
    stopper.async_wait([&](boost::system::error_code) {
        EXPECT_TRUE(stop_now);
        task.stop();
    });
    context.run_for(30s); // a bound, not a timing: the buggy task waits an hour
    EXPECT_TRUE(context.stopped()) << "the task still had work after being stopped";
    EXPECT_EQ(rounds, 1);
}

TEST(periodic_task, a_stop_between_rounds_cancels_the_wait) {
    tp::asio::io_context context(1);
    int rounds = 0;
    tp::app::periodic_task task(context, "test", std::chrono::hours(1), [&]() -> tp::awaitable<void> {
        ++rounds;
        co_return;
    });
    task.start();
    tp::asio::steady_timer stopper(context, 5ms);
    stopper.async_wait([&](boost::system::error_code) { task.stop(); });
    context.run_for(30s);
    EXPECT_TRUE(context.stopped());
    EXPECT_EQ(rounds, 1);
}

} // namespace
