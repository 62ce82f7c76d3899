#pragma once
// A response whose body is written over time (Server-Sent Events): the handler returns the
// head, and a `stream_body` that the server runs afterwards with an `event_stream` to write
// to. The connection closes when the body function returns (the end of the body).

#include "http/message.hpp"
#include "support/asio.hpp"

#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace tp::http {

class event_stream {
public:
    event_stream(boost::beast::tcp_stream& stream, std::chrono::seconds write_timeout, const bool& stopping)
        : stream_(stream), write_timeout_(write_timeout), stopping_(stopping) {}

    // False once the client is gone or the write timed out; the body should return then.
    awaitable<bool> write(std::string data);

    // True once the server is shutting down; long-lived bodies should return promptly.
    bool stopping() const { return stopping_; }

private:
    boost::beast::tcp_stream& stream_;
    std::chrono::seconds write_timeout_;
    const bool& stopping_;
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
