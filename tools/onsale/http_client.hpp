#pragma once
// The on-sale replay's HTTP client: a bounded pool of keep-alive connections per ticketd
// instance, shared by all virtual fans, the way a load balancer keeps upstream connections.
// A fan's request waits for a free connection of its instance, is sent, and its answer read;
// the latency measured is that of the exchange on the wire (write to last byte read).

#include "support/asio.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tp::onsale {

namespace beast_http = boost::beast::http;

struct instance_address {
    std::string host;
    std::string port;
};

// "http://host:port" → address; throws std::invalid_argument when malformed.
instance_address parse_base_url(const std::string& url);

struct exchange {
    beast_http::verb method = beast_http::verb::get;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body; // sent as application/json when not empty
};

struct answer {
    unsigned status = 0; // 0: the exchange failed on the wire (see `failure`)
    std::string body;
    std::string retry_after;
    std::chrono::duration<double, std::milli> latency{};               // on the wire
    std::chrono::duration<double, std::milli> waited_for_connection{}; // before it, in the pool
    std::string failure;
};

struct connection_attempt {
    std::unique_ptr<boost::beast::tcp_stream> stream;
    boost::system::error_code error; // why there is no stream
};

class http_client {
public:
    http_client(asio::any_io_executor executor, std::vector<instance_address> instances, int connections_per_instance);

    awaitable<answer> send(std::size_t instance, const exchange& request);

    // Opens a connection of its own, outside the pool (for a long-lived event stream).
    awaitable<connection_attempt> open(std::size_t instance);

    std::size_t instances() const { return pools_.size(); }
    const instance_address& address(std::size_t instance) const { return pools_[instance].address; }

private:
    // A request waiting for a connection. Connections are handed to waiters in arrival order
    // (never taken by a newcomer first), so no fan starves while others come and go.
    struct waiter {
        explicit waiter(asio::any_io_executor ex) : timer(ex, std::chrono::steady_clock::time_point::max()) {}
        asio::steady_timer timer;
        std::unique_ptr<boost::beast::tcp_stream> handed; // else: open one in a broken one's place
    };

    struct idle_connection {
        std::unique_ptr<boost::beast::tcp_stream> stream;
        std::chrono::steady_clock::time_point since;
    };

    struct pool {
        instance_address address;
        asio::ip::tcp::resolver::results_type endpoints;
        std::vector<idle_connection> idle; // the most recently used last
        int open = 0;
        std::deque<std::shared_ptr<waiter>> waiters;
    };

    awaitable<connection_attempt> acquire(std::size_t instance);
    void release(pool& p, std::unique_ptr<boost::beast::tcp_stream> stream);

    asio::any_io_executor executor_;
    int per_instance_;
    std::deque<pool> pools_; // a deque: pools hold move-only members and never move
};

} // namespace tp::onsale
