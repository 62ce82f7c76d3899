#pragma once
// The HTTP/1.1 transport: accepts connections on one event loop and runs one coroutine per
// connection (keep-alive, pipelined requests answered in order).
//
// Limits: header size (431), body size (413), a deadline for each request to arrive in full
// (a client too slow to send its request is closed) and for each response to leave. The handler gets a
// parsed request and returns the response; every transport refusal is answered in the
// project's error shape. One `server` per I/O thread; all bind the same port (SO_REUSEPORT)
// and the kernel spreads connections between them.
//
// A streamed response (Server-Sent Events) may stay open for as long as a fan waits in line,
// and an instance holds thousands: the connection is handed to a small coroutine of its own
// (run_stream), which writes the head and runs the body, so that the request's coroutine,
// with its parser, read buffer and response, is freed while the body runs
// (docs/stream-memory.md).

#include "http/event_stream.hpp"
#include "http/failure.hpp"
#include "http/message.hpp"
#include "http/request_reader.hpp"
#include "support/asio.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <optional>
#include <string>
#include <tuple>

namespace tp::http {

struct server_options {
    asio::ip::tcp::endpoint endpoint;
    std::size_t header_limit = std::size_t{8} * 1024;
    std::size_t body_limit = std::size_t{64} * 1024;
    std::chrono::seconds header_timeout{10};  // a request's head, from when it is awaited (so also keep-alive idling)
    std::chrono::seconds request_timeout{30}; // the rest of a request, once its head is in
    std::chrono::seconds write_timeout{30};
};

// Holds a request's parser to the server's header and body limits.
void limit_request(request_parser& parser, const server_options& options);

// What to answer when a request could not be read (`got_bytes`: some of it came); nullopt
// means close without a word.
std::optional<failure> refusal_for(const boost::system::error_code& ec, bool got_bytes);

struct connection_info {
    asio::ip::address remote;
};

using request_handler = std::function<awaitable<reply>(request&, const connection_info&)>;

class server {
public:
    server(asio::io_context& context, server_options options, request_handler handler);

    // Binds and listens; throws if the address is taken or invalid.
    void start();
    // Stops accepting, closes idle connections at once and busy ones after their response.
    void stop();

    std::size_t open_connections() const { return sessions_.size(); }
    // How often accepting paused because the process or the system ran out of descriptors.
    std::uint64_t accept_pauses() const { return accept_pauses_.load(std::memory_order_relaxed); }

private:
    struct session_state {
        asio::ip::tcp::socket* socket = nullptr;
        bool busy = false;
        event_stream* events = nullptr; // a streamed body runs on this connection
    };

    awaitable<void> accept_loop();
    awaitable<void> serve(asio::ip::tcp::socket socket);
    awaitable<void> run_stream(asio::ip::tcp::socket socket, std::string head, stream_body body);
    static awaitable<std::tuple<boost::system::error_code, std::size_t>>
    write_shared(boost::beast::tcp_stream& stream, response head, const std::string& body);

    asio::io_context& context_;
    server_options options_;
    request_handler handler_;
    asio::ip::tcp::acceptor acceptor_;
    std::list<session_state> sessions_;
    bool stopping_ = false;
    std::atomic<std::uint64_t> accept_pauses_{0};
};

} // namespace tp::http
