#pragma once
// Periodically turns expired holds back into available seats, in batches. Correctness never
// depends on it (every read and write treats an expired hold as available already); it
// keeps the stored state tidy for operators and other readers. Safe on every instance at
// once: batches skip rows another sweeper has locked.

#include "storage/pg/seat_repository.hpp"
#include "support/metrics.hpp"

#include <boost/asio/steady_timer.hpp>

namespace tp::app {

class hold_sweeper {
public:
    hold_sweeper(
        asio::io_context& context, pg::seat_repository& seats, metrics& stats, std::chrono::milliseconds interval
    );

    void start();
    void stop(); // thread-safe: posts to the sweeper's loop

private:
    awaitable<void> run();

    asio::io_context& context_;
    pg::seat_repository& seats_;
    metrics& stats_;
    std::chrono::milliseconds interval_;
    asio::steady_timer timer_;
    bool stopping_ = false;
};

} // namespace tp::app
