#include "storage/redis/connection.hpp"

#include "storage/redis/reply_reader.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/write.hpp>
#include <boost/url/parse.hpp>

#include <charconv>

namespace tp::redis {
namespace {

// The RESP encoding of a command: an array of bulk strings.
void encode(const std::vector<std::string>& command, std::string& out) {
    char digits[24];
    const auto append_header = [&](char kind, std::size_t n) {
        out += kind;
        out.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
        out += "\r\n";
    };
    append_header('*', command.size());
    for (const auto& part : command) {
        append_header('$', part.size());
        out += part;
        out += "\r\n";
    }
}

// An upper bound of encode's output, so that a large batch is encoded into one allocation
// rather than one that doubles (and is copied) a dozen times.
std::size_t encoded_size(const std::vector<std::string>& command) {
    constexpr std::size_t header = 1 + 20 + 2; // kind, the longest count, CRLF
    std::size_t size = header;
    for (const auto& part : command) {
        size += header + part.size() + 2;
    }
    return size;
}

} // namespace

std::optional<connection_options> parse_redis_url(std::string_view url) {
    const auto parsed = boost::urls::parse_uri(url);
    if (!parsed || parsed->scheme() != "redis" || !parsed->has_authority() || parsed->host().empty()) {
        return std::nullopt;
    }
    connection_options options;
    options.host = std::string(parsed->host());
    if (parsed->has_port()) {
        options.port = std::string(parsed->port());
    }
    const auto path = parsed->path();
    if (!path.empty() && path != "/") {
        const std::string_view db(path.data() + 1, path.size() - 1);
        const auto [end, ec] = std::from_chars(db.data(), db.data() + db.size(), options.database);
        if (ec != std::errc{} || end != db.data() + db.size() || options.database < 0) {
            return std::nullopt;
        }
    }
    return options;
}

connection::connection(const asio::any_io_executor& executor, connection_options options)
    : executor_(executor), options_(std::move(options)), socket_(executor) {}

connection::~connection() {
    *alive_ = false;
    boost::system::error_code ignored;
    socket_.close(ignored);
}

void connection::close() {
    closed_ = true; // for good: no command may reconnect it (a loop that should end would not)
    reset("the Redis connection was closed");
}

void connection::reset(const std::string& why) {
    ++generation_;
    state_ = state::disconnected;
    writing_ = false; // the old write loop, if any, sees the new generation and leaves
    boost::system::error_code ignored;
    socket_.close(ignored);
    outbox_.clear();
    for (auto& p : in_flight_) {
        p->failure = why;
        p->timer.cancel();
    }
    in_flight_.clear();
    next_attempt_ = std::chrono::steady_clock::now() + options_.retry_interval;
}

awaitable<std::vector<reply>> connection::execute_all(std::vector<std::vector<std::string>> commands) {
    co_await ensure_connected();
    co_return co_await send(commands);
}

awaitable<std::vector<reply>> connection::send(const std::vector<std::vector<std::string>>& commands) {
    if (commands.empty()) {
        co_return std::vector<reply>{};
    }
    // All of the batch at once, with no suspension point before it is queued: the batch
    // reaches the socket contiguously (ASKING + command relies on it).
    std::size_t size = outbox_.size();
    for (const auto& command : commands) {
        size += encoded_size(command);
    }
    outbox_.reserve(size);
    for (const auto& command : commands) {
        encode(command, outbox_);
    }
    auto p = std::make_shared<pending>(executor_);
    p->expected = commands.size();
    p->answers.reserve(commands.size());
    p->timer.expires_after(options_.timeout);
    in_flight_.push_back(p);
    if (!writing_) {
        asio::co_spawn(executor_, write_loop(alive_, generation_), asio::detached);
    }
    co_await p->timer.async_wait(asio::as_tuple(use_awaitable));
    if (p->answers.size() == p->expected) {
        co_return std::move(p->answers);
    }
    if (p->failure.empty()) {
        reset("Redis did not answer in time");
        throw error("Redis did not answer in time");
    }
    throw error(p->failure);
}

awaitable<void> connection::ensure_connected() {
    if (closed_) {
        throw error("the Redis connection was closed");
    }
    if (state_ == state::connected) {
        co_return;
    }
    if (state_ == state::connecting) {
        auto p = std::make_shared<pending>(executor_);
        p->timer.expires_after(options_.timeout);
        waiting_for_connection_.push_back(p);
        co_await p->timer.async_wait(asio::as_tuple(use_awaitable));
        if (state_ == state::connected) {
            co_return;
        }
        throw error(p->failure.empty() ? "timed out connecting to Redis" : p->failure);
    }
    if (std::chrono::steady_clock::now() < next_attempt_) {
        throw error("Redis is unavailable; retrying shortly");
    }
    state_ = state::connecting;
    std::string failure;
    try {
        co_await connect();
    } catch (const std::exception& e) {
        failure = std::string("cannot connect to Redis: ") + e.what();
    }
    if (failure.empty() && closed_) { // closed while connecting: drop the new socket
        boost::system::error_code ignored;
        socket_.close(ignored);
        failure = "the Redis connection was closed";
    }
    if (failure.empty()) {
        asio::co_spawn(executor_, read_loop(alive_, generation_), asio::detached);
        // Still "connecting": nobody else's command may reach the server before SELECT has
        // been answered, or it would run in database 0.
        if (options_.database != 0) {
            const std::vector<std::vector<std::string>> select{{"SELECT", std::to_string(options_.database)}};
            try {
                auto answers = co_await send(select);
                const auto& selected = answers.front();
                if (selected.is_error()) {
                    failure = "Redis refused SELECT " + std::to_string(options_.database) + ": " + selected.text;
                }
            } catch (const error& e) {
                failure = e.what();
            }
        }
        if (failure.empty()) {
            state_ = state::connected;
        } else {
            reset(failure);
        }
    } else {
        state_ = state::disconnected;
        next_attempt_ = std::chrono::steady_clock::now() + options_.retry_interval;
    }
    for (auto& waiter : waiting_for_connection_) {
        waiter->failure = failure;
        waiter->timer.cancel();
    }
    waiting_for_connection_.clear();
    if (!failure.empty()) {
        throw error(failure);
    }
}

awaitable<void> connection::connect() {
    using namespace asio::experimental::awaitable_operators;
    asio::ip::tcp::resolver resolver(executor_);
    asio::steady_timer deadline(executor_);
    deadline.expires_after(options_.timeout);
    // as_tuple: a failed step must end the race at once. (Asio's || waits for the first
    // *success*, so a refused connection would otherwise sit out the whole deadline.)
    const auto token = asio::as_tuple(use_awaitable);
    auto resolving = resolver.async_resolve(options_.host, options_.port, token);
    auto resolve_expired = deadline.async_wait(token);
    const auto resolved = co_await (std::move(resolving) || std::move(resolve_expired));
    if (resolved.index() == 1) {
        throw error("timed out resolving the Redis host");
    }
    const auto& [resolve_ec, endpoints] = std::get<0>(resolved);
    if (resolve_ec) {
        throw error(resolve_ec.message());
    }
    socket_ = asio::ip::tcp::socket(executor_);
    auto connecting = asio::async_connect(socket_, endpoints, token);
    auto connect_expired = deadline.async_wait(token);
    const auto outcome = co_await (std::move(connecting) || std::move(connect_expired));
    if (outcome.index() == 1) {
        throw error("timed out");
    }
    if (const auto& connect_ec = std::get<0>(std::get<0>(outcome)); connect_ec) {
        throw error(connect_ec.message());
    }
    socket_.set_option(asio::ip::tcp::no_delay(true));
}

awaitable<void> connection::write_loop(std::shared_ptr<bool> alive, std::uint64_t generation) {
    writing_ = true;
    while (!outbox_.empty()) {
        std::string chunk;
        chunk.swap(outbox_);
        auto [ec, written] = co_await asio::async_write(socket_, asio::buffer(chunk), asio::as_tuple(use_awaitable));
        if (!*alive) {
            co_return;
        }
        if (generation != generation_) {
            co_return;
        }
        if (ec) {
            reset("writing to Redis failed: " + ec.message());
            co_return;
        }
    }
    writing_ = false;
}

awaitable<void> connection::read_loop(std::shared_ptr<bool> alive, std::uint64_t generation) {
    reply_reader reader;
    std::array<char, 16384> buffer{};
    for (;;) {
        auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buffer), asio::as_tuple(use_awaitable));
        if (!*alive || generation != generation_) {
            co_return;
        }
        if (ec) {
            reset("the Redis connection was lost: " + ec.message());
            co_return;
        }
        reader.feed(std::string_view(buffer.data(), n));
        for (;;) {
            auto answer = reader.next();
            if (reader.failed()) {
                reset("Redis sent a malformed reply");
                co_return;
            }
            if (!answer) {
                break;
            }
            if (in_flight_.empty()) {
                reset("Redis sent a reply nobody asked for");
                co_return;
            }
            const auto& p = in_flight_.front();
            p->answers.push_back(std::move(*answer));
            if (p->answers.size() == p->expected) {
                p->timer.cancel();
                in_flight_.pop_front();
            }
        }
    }
}

} // namespace tp::redis
