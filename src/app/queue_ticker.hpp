#pragma once
// Drives admission: every QUEUE_TICK_MS, one atomic tick script per gate in use. Every
// instance runs one; ticks from several instances at the same moment are harmless (the
// script's allowance follows Redis's clock, not the number of callers).

#include "storage/redis/queue_store.hpp"
#include "support/metrics.hpp"

#include <boost/asio/steady_timer.hpp>

namespace tp::app {

class queue_ticker {
public:
    queue_ticker(
        asio::io_context& context, redis::queue_store& queue, metrics& stats, std::chrono::milliseconds interval
    );

    void start();
    void stop(); // thread-safe

private:
    awaitable<void> run();

    asio::io_context& context_;
    redis::queue_store& queue_;
    metrics& stats_;
    std::chrono::milliseconds interval_;
    asio::steady_timer timer_;
    bool stopping_ = false;
    std::chrono::steady_clock::time_point last_warning_{};
};

} // namespace tp::app
