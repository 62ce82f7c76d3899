#include "onsale/http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

#include <stdexcept>

namespace tp::onsale {

namespace {

using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
constexpr auto exchange_timeout = std::chrono::seconds(60);
constexpr std::size_t read_buffer_size = 64 * 1024;
// ticketd closes a keep-alive connection idle for HEADER_TIMEOUT_SECONDS (10 s by default);
// like a load balancer, the pool keeps its own idle limit below the server's, so a request
// is never sent on a connection the server is closing.
constexpr auto max_idle = std::chrono::seconds(5);

} // namespace

instance_address parse_base_url(const std::string& url) {
    const auto parsed = boost::urls::parse_uri(url);
    if (!parsed || parsed->scheme() != "http" || parsed->host().empty()) {
        throw std::invalid_argument("not an http://host:port URL: " + url);
    }
    return {std::string(parsed->host()), parsed->has_port() ? std::string(parsed->port()) : "80"};
}

http_client::http_client(
    asio::any_io_executor executor, std::vector<instance_address> instances, int connections_per_instance
)
    : executor_(std::move(executor)), per_instance_(connections_per_instance) {
    tcp::resolver resolver(executor_);
    for (auto& address : instances) {
        auto endpoints = resolver.resolve(address.host, address.port);
        auto& p = pools_.emplace_back();
        p.address = std::move(address);
        p.endpoints = std::move(endpoints);
    }
}

awaitable<connection_attempt> http_client::open(std::size_t instance) {
    auto stream = std::make_unique<boost::beast::tcp_stream>(executor_);
    auto [ec, endpoint] =
        co_await asio::async_connect(stream->socket(), pools_[instance].endpoints, asio::as_tuple(use_awaitable));
    if (ec) {
        co_return connection_attempt{nullptr, ec};
    }
    stream->socket().set_option(tcp::no_delay(true));
    co_return connection_attempt{std::move(stream), {}};
}

awaitable<connection_attempt> http_client::acquire(std::size_t instance) {
    auto& p = pools_[instance];
    while (p.waiters.empty() && !p.idle.empty()) {
        auto connection = std::move(p.idle.back());
        p.idle.pop_back();
        if (clock_type::now() - connection.since < max_idle) {
            co_return connection_attempt{std::move(connection.stream), {}};
        }
        --p.open; // idle too long: closed when it goes out of scope, its place reopened
    }
    const bool may_open = p.waiters.empty() && p.open < per_instance_;
    if (may_open) {
        ++p.open;
    } else {
        auto w = std::make_shared<waiter>(executor_);
        p.waiters.push_back(w);
        co_await w->timer.async_wait(asio::as_tuple(use_awaitable)); // woken by release()
        if (w->handed) {
            co_return connection_attempt{std::move(w->handed), {}};
        }
        // A connection broke: its place in the pool is ours (release() kept it counted).
    }
    auto attempt = co_await open(instance);
    if (!attempt.stream) {
        release(p, nullptr);
    }
    co_return attempt;
}

void http_client::release(pool& p, std::unique_ptr<boost::beast::tcp_stream> stream) {
    if (p.waiters.empty()) {
        if (stream) {
            p.idle.push_back({std::move(stream), clock_type::now()});
        } else {
            --p.open;
        }
        return;
    }
    // The longest waiter gets this connection, or this connection's place.
    const auto w = p.waiters.front();
    p.waiters.pop_front();
    w->handed = std::move(stream);
    w->timer.cancel();
}

awaitable<answer> http_client::send(std::size_t instance, const exchange& request) {
    instance %= pools_.size();
    auto& p = pools_[instance];
    answer out;
    const auto asked = clock_type::now();
    auto [stream, connect_error] = co_await acquire(instance);
    out.waited_for_connection = clock_type::now() - asked;
    if (!stream) {
        out.failure = "connect: " + connect_error.message();
        co_return out;
    }
    beast_http::request<beast_http::string_body> req{request.method, request.target, 11};
    req.set(beast_http::field::host, p.address.host);
    for (const auto& [name, value] : request.headers) {
        req.set(name, value);
    }
    if (!request.body.empty()) {
        req.set(beast_http::field::content_type, "application/json");
        req.body() = request.body;
    }
    req.prepare_payload();
    const auto started = clock_type::now();
    stream->expires_after(exchange_timeout);
    auto [write_ec, written] = co_await beast_http::async_write(*stream, req, asio::as_tuple(use_awaitable));
    if (write_ec) {
        out.failure = "write: " + write_ec.message();
        release(p, nullptr);
        co_return out;
    }
    // Room for large reads: Beast reads at most the buffer's free capacity per call, and a
    // seat list of hundreds of KB in 512-byte reads costs the generator more than the server.
    boost::beast::flat_buffer buffer;
    buffer.reserve(read_buffer_size);
    beast_http::response<beast_http::string_body> res;
    auto [read_ec, read] = co_await beast_http::async_read(*stream, buffer, res, asio::as_tuple(use_awaitable));
    out.latency = clock_type::now() - started;
    if (read_ec) {
        out.failure = "read: " + read_ec.message();
        release(p, nullptr);
        co_return out;
    }
    out.status = res.result_int();
    out.body = std::move(res.body());
    if (const auto it = res.find(beast_http::field::retry_after); it != res.end()) {
        out.retry_after = std::string(it->value());
    }
    release(p, res.keep_alive() ? std::move(stream) : nullptr);
    co_return out;
}

} // namespace tp::onsale
