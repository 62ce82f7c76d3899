#pragma once
// What the Redis users (queue_store, seat_map_versions, serving_watch, run_script) talk to:
// one Redis server (`connection`) or a Redis Cluster (`cluster_client`), chosen by REDIS_URL.
// Both run on one event loop and fail with redis::error; neither is thread-safe.

#include "storage/redis/reply.hpp"
#include "support/asio.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tp::redis {

class client {
public:
    client() = default;
    client(const client&) = delete;
    client& operator=(const client&) = delete;
    virtual ~client() = default;

    // Sends one command (e.g. {"GET", "key"}) and returns its reply; an error reply is
    // returned as a reply of kind error, not thrown.
    awaitable<reply> execute(std::vector<std::string> command);

    // Sends several commands and returns their replies in the batch's order: one wait for the
    // whole batch. (Not a transaction: other callers' commands may run in between.)
    virtual awaitable<std::vector<reply>> execute_all(std::vector<std::vector<std::string>> commands) = 0;

    virtual bool connected() const = 0;

    // Moves whenever Redis may have lost writes since the last value: a connection was reset,
    // or (on a cluster) a slot changed masters. Replies of one session come from one life of
    // the data they read.
    virtual std::uint64_t session() const = 0;

    // Fails the commands in flight and refuses new ones, for good, so the event loop can finish.
    virtual void close() = 0;
};

struct client_options {
    std::chrono::milliseconds timeout{2000};
    std::chrono::milliseconds retry_interval{250};
    // Cluster only: called once per change of the slot map's masters (failover, resharding).
    std::function<void(const std::string&)> on_topology_change;
};

// Empty when `url` is redis://host:port[/db] or redis-cluster://host:port[,host:port...];
// otherwise what is wrong with it, for the operator.
std::string client_url_problem(std::string_view url);

// A client for `url` on `executor`; throws redis::error when the url is malformed.
std::unique_ptr<client>
make_client(const asio::any_io_executor& executor, std::string_view url, client_options options);

} // namespace tp::redis
