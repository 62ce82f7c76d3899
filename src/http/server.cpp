#include "http/server.hpp"

#include "http/error_reply.hpp"
#include "http/request_reader.hpp"
#include "support/log_throttle.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/write.hpp>

#include <spdlog/spdlog.h>

#include <sstream>

namespace tp::http {
namespace beast = boost::beast;

std::optional<failure> refusal_for(const boost::system::error_code& ec, bool got_bytes) {
    if (ec == beast_http::error::body_limit) {
        return failure::body_too_large;
    }
    if (ec == beast_http::error::header_limit) {
        return failure::headers_too_large;
    }
    if (ec == beast::error::timeout) {
        return std::nullopt; // the stream closed the socket when its timer expired: nothing can be said
    }
    if (ec == beast_http::error::end_of_stream || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted || ec == asio::error::eof) {
        return std::nullopt;
    }
    if (ec.category() == beast_http::make_error_code(beast_http::error::partial_message).category()) {
        return got_bytes ? std::optional(failure::malformed_request) : std::nullopt;
    }
    return std::nullopt;
}

namespace {

constexpr auto accept_retry_pause = std::chrono::milliseconds(50);

// A head's deadline is rounded up to the next quarter second, so the connections whose heads
// time out within one quarter are closed on one wake-up of the event loop: a thousand
// trickling connections a second would otherwise each wake it once more to be closed.
constexpr auto deadline_grain = std::chrono::milliseconds(250);

std::chrono::steady_clock::time_point coarse_deadline(std::chrono::steady_clock::duration timeout) {
    const auto at = std::chrono::steady_clock::now() + timeout;
    const auto past_grain = at.time_since_epoch() % deadline_grain;
    return past_grain == past_grain.zero() ? at : at + (deadline_grain - past_grain);
}

// The head of a streamed response, as it goes on the wire. A streamed body has no length:
// the head says so by closing the connection at its end.
std::string head_of_stream(const response& head) {
    beast_http::response<beast_http::empty_body> header{head.result(), head.version()};
    for (const auto& field : head) {
        header.set(field.name_string(), field.value());
    }
    header.keep_alive(false);
    std::ostringstream text;
    text << header.base();
    return std::move(text).str();
}

} // namespace

void limit_request(request_parser& parser, const server_options& options) {
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    parser.body_limit(options.body_limit);
}

server::server(asio::io_context& context, server_options options, request_handler handler)
    : context_(context), options_(std::move(options)), handler_(std::move(handler)), acceptor_(context) {}

void server::start() {
    acceptor_.open(options_.endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    const int enable = 1;
    if (::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &enable, sizeof enable) != 0) {
        throw std::runtime_error("cannot set SO_REUSEPORT on the listening socket");
    }
    acceptor_.bind(options_.endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    asio::co_spawn(context_, accept_loop(), asio::detached);
}

void server::stop() {
    stopping_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& session : sessions_) {
        if (session.events != nullptr) {
            session.events->alarm().cancel(); // a sleeping body wakes, sees `stopping` and ends its stream
        } else if (!session.busy) {
            session.socket->shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
            session.socket->cancel(ignored);
        }
    }
}

// Out of descriptors or kernel memory: the connection waits in the listen backlog until
// some are freed, and accepting again at once would fail again at once (a busy loop).
bool is_resource_shortage(const boost::system::error_code& ec) {
    return ec == asio::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system ||
           ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
}

awaitable<void> server::accept_loop() {
    static log_throttle throttle;
    asio::steady_timer pause(context_);
    while (!stopping_) {
        auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(use_awaitable));
        if (ec) {
            if (stopping_ || ec == asio::error::operation_aborted) {
                co_return;
            }
            log_throttled(
                throttle,
                spdlog::level::warn,
                "msg=\"accept failed\" error=\"{}\" open_connections={} suppressed={}",
                ec.message(),
                sessions_.size()
            );
            if (is_resource_shortage(ec)) {
                accept_pauses_.fetch_add(1, std::memory_order_relaxed);
                pause.expires_after(accept_retry_pause);
                co_await pause.async_wait(asio::as_tuple(use_awaitable));
            }
            continue;
        }
        socket.set_option(asio::ip::tcp::no_delay(true), ec);
        asio::co_spawn(context_, serve(std::move(socket)), asio::detached);
    }
}

// The body of a streamed response, on the connection handed over by serve(): the head, then
// the body. Its frame holds the connection and the event stream; the body's own frame what
// the body needs.
awaitable<void> server::run_stream(asio::ip::tcp::socket socket, std::string head, stream_body body) {
    event_stream events(socket, options_.write_timeout, stopping_);
    const auto registered = sessions_.insert(sessions_.end(), session_state{&socket, true, &events});
    if (co_await events.write(std::move(head))) {
        auto running = body(events);
        body = nullptr; // the body's frame has its own copies: the function and its captures can go
        co_await std::move(running);
    }
    boost::system::error_code ignored;
    socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    sessions_.erase(registered);
}

// The head and the shared body in one gather write; the body's bytes are not copied.
awaitable<std::tuple<boost::system::error_code, std::size_t>>
server::write_shared(boost::beast::tcp_stream& stream, response head, const std::string& body) {
    beast_http::response<beast_http::buffer_body> message{head.result(), head.version()};
    for (const auto& field : head) {
        message.set(field.name_string(), field.value());
    }
    message.content_length(body.size());
    message.body().data = const_cast<char*>(body.data()); // NOLINT: buffer_body is only read when writing
    message.body().size = body.size();
    message.body().more = false;
    co_return co_await beast_http::async_write(stream, message, asio::as_tuple(use_awaitable));
}

awaitable<void> server::serve(asio::ip::tcp::socket socket) {
    boost::system::error_code endpoint_ec;
    const connection_info info{socket.remote_endpoint(endpoint_ec).address()};
    beast::tcp_stream stream(std::move(socket));
    auto& state = sessions_.emplace_back(session_state{&stream.socket(), false});
    const auto registered = std::prev(sessions_.end());
    beast::flat_buffer buffer;
    receive_low_water low_water(stream.socket());
    bool handed_over = false; // to run_stream, with the connection

    for (;;) {
        request_parser parser;
        limit_request(parser, options_);
        // The head first, within the header timeout (a client trickling bytes, or an idle
        // keep-alive connection, is closed after it), then the body within the request timeout.
        stream.expires_at(coarse_deadline(options_.header_timeout));
        auto [read_ec, bytes] = co_await read_head(stream, buffer, parser, low_water, options_.header_limit);
        if (!read_ec && !parser.is_done()) {
            stream.expires_after(options_.request_timeout);
            read_ec = co_await read_body(stream, buffer, parser, low_water);
        }

        response res;
        stream_body body;
        shared_body shared;
        bool keep_alive = false;
        if (read_ec) {
            const auto refusal = refusal_for(read_ec, parser.got_some() || bytes > 0);
            if (!refusal) {
                break;
            }
            res = error_response(*refusal);
        } else {
            state.busy = true;
            auto& req = parser.get();
            try {
                auto answer = co_await handler_(req, info);
                res = std::move(answer.head);
                body = std::move(answer.body);
                shared = std::move(answer.shared);
            } catch (const std::exception& e) {
                static log_throttle throttle;
                log_throttled(
                    throttle,
                    spdlog::level::err,
                    "msg=\"unhandled error in a request handler\" error=\"{}\" suppressed={}",
                    e.what()
                );
                res = error_response(failure::internal, req.version());
            }
            keep_alive = req.keep_alive() && !stopping_;
            res.version(req.version());
        }
        if (body) {
            // On a coroutine of its own, which takes the connection: this frame, with the
            // parser and the read buffer, is freed when serve returns.
            auto head = head_of_stream(res);
            asio::co_spawn(
                context_, run_stream(stream.release_socket(), std::move(head), std::move(body)), asio::detached
            );
            handed_over = true;
            break;
        }
        res.keep_alive(keep_alive);
        res.prepare_payload();
        stream.expires_after(options_.write_timeout);
        std::tuple<boost::system::error_code, std::size_t> wrote; // (no ?: around co_await: GCC 12)
        if (shared) {
            wrote = co_await write_shared(stream, std::move(res), *shared);
        } else {
            wrote = co_await beast_http::async_write(stream, res, asio::as_tuple(use_awaitable));
        }
        const auto write_ec = std::get<0>(wrote);
        state.busy = false;
        // stop() may have come while this session was busy (it only closes idle ones): the
        // answer is out, and waiting for another request would outlive the grace period.
        if (write_ec || !keep_alive || stopping_) {
            break;
        }
    }
    if (!handed_over) {
        boost::system::error_code ignored;
        stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    }
    sessions_.erase(registered);
}

} // namespace tp::http
