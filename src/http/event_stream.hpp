#pragma once
// A response whose body is written over time (Server-Sent Events): the handler returns the
// head, and a `stream_body` that the server runs afterwards with an `event_stream` to write
// to. The connection closes when the body function returns (the end of the body).
//
// Thousands of such bodies sit idle at once (fans waiting in line), so an idle stream holds
// little (docs/stream-memory.md): the bare socket (an event is sent at once when it fits;
// the rest gets its deadline from a Beast stream made for that write only), and one timer
// for all the body's pauses (`sleep_until`), which others may cut short by cancelling it
// (`alarm()`), and which the server cuts short when it stops. A pause is the timer's own
// wait, not a coroutine of its own.

#include "http/message.hpp"
#include "support/asio.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <tuple>

namespace tp::http {

class event_stream {
public:
    event_stream(asio::ip::tcp::socket& socket, std::chrono::seconds write_timeout, const bool& stopping);

    // False once the client is gone or the write timed out; the body should return then.
    awaitable<bool> write(std::string data);

    // True once the server is shutting down; long-lived bodies should return promptly.
    bool stopping() const { return stopping_; }

    // Waits until `when`, or until the alarm is cancelled (woken early), or at once if the
    // server is stopping. The result tells which (operation_aborted: woken early).
    awaitable<std::tuple<boost::system::error_code>> sleep_until(std::chrono::steady_clock::time_point when) {
        alarm_.expires_at(stopping_ ? std::chrono::steady_clock::time_point::min() : when);
        return alarm_.async_wait(asio::as_tuple(use_awaitable));
    }

    // The timer sleep_until waits on: cancelling it wakes the body (the server does when it
    // stops; a body may hand it to whatever brings it news).
    asio::steady_timer& alarm() { return alarm_; }

private:
    asio::ip::tcp::socket& socket_;
    std::chrono::seconds write_timeout_;
    const bool& stopping_;
    asio::steady_timer alarm_;
};

using stream_body = std::function<awaitable<void>(event_stream&)>;

// What a request handler gives back to the server: a response, and for a streamed
// response, the function that writes its body, or for a shared one, that body.
struct reply {
    response head;
    stream_body body;
    shared_body shared;
};

} // namespace tp::http
