#pragma once
// Runs the same step for many fans with a bounded number at once: the replay, the rush and
// the waiting streams all prepare or walk their fans this way.

#include "support/asio.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>

namespace tp::onsale {

// Runs `work(i)` for i in [0, count) on `workers` coroutines at once; returns the seconds taken.
template <class Work> awaitable<double> for_each_fan(int count, int workers, Work work) {
    using clock_type = std::chrono::steady_clock;
    const auto started = clock_type::now();
    int next = 0;
    int running = workers;
    asio::steady_timer done(co_await asio::this_coro::executor, clock_type::time_point::max());
    auto worker = [&]() -> awaitable<void> {
        while (next < count) {
            co_await work(next++);
        }
        if (--running == 0) {
            done.cancel();
        }
    };
    for (int w = 0; w < workers; ++w) {
        asio::co_spawn(co_await asio::this_coro::executor, worker(), asio::detached);
    }
    co_await done.async_wait(asio::as_tuple(use_awaitable));
    co_return std::chrono::duration<double>(clock_type::now() - started).count();
}

} // namespace tp::onsale
