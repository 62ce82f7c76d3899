#pragma once
// One multiplexed Redis connection on an event loop. Any number of coroutines of that loop
// may send commands at once: they are written back to back (pipelined) and the replies,
// which Redis sends in order, are matched to their callers in order. hiredis is only the
// reply parser (redisReader); Asio owns the socket.
//
// Failures: a command that cannot be sent or is not answered within the timeout fails with
// redis::error, and the connection is reset (all commands in flight fail with it, since the
// order of replies can no longer be trusted). The next command reconnects, at most once per
// `retry_interval`, so a Redis outage costs a fast 503 rather than a pile-up.
//
// A batch (execute_all) goes on the wire in one piece, nobody else's command in between: the
// cluster client relies on it to send ASKING right before the command it applies to.

#include "storage/redis/client.hpp"
#include "support/asio.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tp::redis {

struct connection_options {
    std::string host = "127.0.0.1";
    std::string port = "6379";
    int database = 0;
    std::chrono::milliseconds timeout{2000};
    std::chrono::milliseconds retry_interval{250};
};

// Parses redis://host:port[/db]; nullopt when malformed.
std::optional<connection_options> parse_redis_url(std::string_view url);

class connection final : public client {
public:
    connection(const asio::any_io_executor& executor, connection_options options);
    ~connection() override;

    // Sends the commands back to back, contiguously, and returns their replies in order.
    awaitable<std::vector<reply>> execute_all(std::vector<std::vector<std::string>> commands) override;

    bool connected() const override { return state_ == state::connected; }

    // Moves whenever the connection is reset. Replies of one session come from one life of
    // the server; across sessions Redis may have restarted and lost its last writes.
    std::uint64_t session() const override { return generation_; }

    // Closes the socket (failing commands in flight) for good, so the event loop can finish:
    // later commands fail at once instead of reconnecting.
    void close() override;

private:
    enum class state { disconnected, connecting, connected };

    struct pending {
        explicit pending(const asio::any_io_executor& ex) : timer(ex) {}
        asio::steady_timer timer;
        std::size_t expected = 1; // replies, one per command of the batch
        std::vector<reply> answers;
        std::string failure;
    };

    awaitable<void> ensure_connected();
    // On the current socket, whatever the state.
    awaitable<std::vector<reply>> send(const std::vector<std::vector<std::string>>& commands);
    awaitable<void> connect();
    // Both loops stop when the connection is destroyed (`alive`) or reset (`generation`).
    awaitable<void> write_loop(std::shared_ptr<bool> alive, std::uint64_t generation);
    awaitable<void> read_loop(std::shared_ptr<bool> alive, std::uint64_t generation);
    void reset(const std::string& why);

    asio::any_io_executor executor_;
    connection_options options_;
    asio::ip::tcp::socket socket_;
    state state_ = state::disconnected;
    std::chrono::steady_clock::time_point next_attempt_{};
    std::string outbox_;
    bool writing_ = false;
    std::deque<std::shared_ptr<pending>> in_flight_;
    std::deque<std::shared_ptr<pending>> waiting_for_connection_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::uint64_t generation_ = 0;
    bool closed_ = false;
};

} // namespace tp::redis
