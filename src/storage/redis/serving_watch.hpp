#pragma once
// Coalesces the "now serving" number of each gate for the queue streams of one event loop:
// however many fans watch a gate from this loop, Redis is asked once per interval per gate,
// and each stream turns the number into its own rank (its arrival number minus it).

#include "storage/redis/queue_store.hpp"

#include <boost/asio/steady_timer.hpp>

#include <list>
#include <map>

namespace tp::redis {

class serving_watch {
public:
    serving_watch(asio::any_io_executor executor, queue_store& queue, std::chrono::milliseconds interval)
        : executor_(std::move(executor)), queue_(queue), interval_(interval) {}

    // The gate's now-serving number once it differs from `seen`, or `seen` after `patience`.
    awaitable<std::int64_t> wait_change(const std::string& gate, std::int64_t seen, std::chrono::milliseconds patience);

private:
    struct waiter {
        asio::steady_timer timer;
        std::int64_t seen;
        std::int64_t value;
    };
    struct gate_state {
        std::int64_t serving = -1;
        std::list<waiter*> waiters;
    };

    awaitable<void> poll();

    asio::any_io_executor executor_;
    queue_store& queue_;
    std::chrono::milliseconds interval_;
    std::map<std::string, gate_state> gates_;
    bool polling_ = false;
};

} // namespace tp::redis
