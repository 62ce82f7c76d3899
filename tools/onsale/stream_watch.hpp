#pragma once
// One waiting fan's event stream as the streams figure reads it (onsale streams): when its
// first rank event came, and which event came first after a given moment (the gate opening)
// and when it was read, on this machine's wall clock, so that it can be compared with the
// admission times Redis writes into the events (its TIME is the same clock on this machine).

#include "onsale/http_client.hpp"

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>
#include <string>

namespace tp::onsale {

// What every watch of a run shares (one event loop: no locks).
struct stream_board {
    double watching_from_ms = 0; // Unix ms from which events count as "after"; 0: not yet
    bool closing = false;        // the run is closing the streams: a broken read is no failure
    int running = 0;             // watches still reading
};

struct stream_watch {
    explicit stream_watch(asio::any_io_executor executor)
        : started(std::move(executor), std::chrono::steady_clock::time_point::max()) {}

    std::string token;
    asio::steady_timer started; // cancelled once the first rank event came, or the stream failed
    std::unique_ptr<boost::beast::tcp_stream> connection;
    bool ranked = false;                        // its first rank event came
    bool ended = false;                         // admitted or sold out: the server closed it, as it should
    std::string failure;                        // why it broke off or never started; empty if it did not
    std::string next_event;                     // the first event read after board.watching_from_ms
    double next_event_ms = 0;                   // when it was read (Unix ms)
    std::optional<std::int64_t> admitted_at_ms; // the admitted event's active_timestamp (Redis, Unix ms)
    double admitted_event_ms = 0;               // when the admitted event was read (Unix ms)
};

// This machine's wall clock in Unix milliseconds.
double unix_now_ms();

// Opens `w.token`'s stream on the client's only instance and reads it until it ends, fails
// or is closed by the run.
awaitable<void> watch_stream(http_client& client, stream_watch& w, stream_board& board);

} // namespace tp::onsale
