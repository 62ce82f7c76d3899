#pragma once
// The one way to run background work: `round` every `interval` on one event loop until
// stopped. A round that throws is logged (at most every few seconds, since an outage would
// repeat it every round) and the next round runs as usual. Used for the hold sweeper and
// the queue's admission ticks, both safe to run on every instance at once.

#include "support/asio.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace tp::app {

class periodic_task {
public:
    periodic_task(
        asio::io_context& context,
        std::string name,
        std::chrono::milliseconds interval,
        std::function<awaitable<void>()> round
    );

    void start();
    void stop(); // thread-safe: posts to the task's loop

private:
    awaitable<void> run();

    asio::io_context& context_;
    std::string name_;
    std::chrono::milliseconds interval_;
    std::function<awaitable<void>()> round_;
    asio::steady_timer timer_;
    bool stopping_ = false;
    std::chrono::steady_clock::time_point last_warning_{};
};

} // namespace tp::app
