#pragma once
// Coalesces the "now serving" number of each gate for the queue streams of one event loop:
// however many fans watch a gate from this loop, Redis is asked once per interval per gate,
// and each stream turns the number into its own rank (its arrival number minus it).
//
// A stream subscribes once, for its whole life, and while it listens the watch holds it in
// the gate's list of listeners, to cancel its timer when the number moves on. A
// subscription is a few words inside the stream's own frame: a stream waiting for news holds
// no coroutine, timer or list node of the watch's, and a tick visits only the streams that
// listen, not every stream of the gate (thousands wait at once: docs/stream-memory.md).

#include "storage/redis/queue_store.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>

#include <map>

namespace tp::redis {

class serving_watch {
    struct gate_state;

public:
    serving_watch(asio::any_io_executor executor, queue_store& queue, std::chrono::milliseconds interval)
        : executor_(std::move(executor)), queue_(queue), interval_(interval) {}

    // One stream's interest in one gate. Not copyable or movable: the watch refers to it.
    class subscription
        : public boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
    public:
        subscription(serving_watch& watch, const std::string& gate, asio::steady_timer& alarm);
        subscription(const subscription&) = delete;
        subscription& operator=(const subscription&) = delete;
        ~subscription() { --gate_.subscriptions; } // leaves the listeners by itself (auto_unlink)

        // The gate's latest now-serving number as the watch read it (-1 before the first read;
        // std::int64_t's max once the schedule is sold out).
        std::int64_t latest() const { return gate_.serving; }

        // Until stop_listening, or until the watch has cancelled the alarm once: cancel it as
        // soon as the number read differs from `seen`.
        void listen(std::int64_t seen);
        void stop_listening() { unlink(); }

    private:
        friend class serving_watch;
        gate_state& gate_;
        asio::steady_timer& alarm_;
        std::int64_t seen_ = -1;
    };

private:
    using listeners =
        boost::intrusive::list<subscription, boost::intrusive::constant_time_size<false>>; // (auto_unlink needs it)
    struct gate_state {
        std::int64_t serving = -1;
        std::size_t subscriptions = 0;
        listeners listening;
    };

    awaitable<void> poll();

    asio::any_io_executor executor_;
    queue_store& queue_;
    std::chrono::milliseconds interval_;
    std::map<std::string, gate_state> gates_; // a map: its entries stay put while subscriptions point at them
    bool polling_ = false;
};

} // namespace tp::redis
