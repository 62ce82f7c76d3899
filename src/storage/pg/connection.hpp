#pragma once
// One PostgreSQL connection driven by the event loop: libpq in non-blocking mode, waiting on
// its socket through Asio, so a query never blocks an I/O thread.
//
// Every operation is bounded by a deadline; when it passes the socket is cancelled and the
// connection marked broken (the pool then discards it, since its protocol state is unknown).
// Not thread-safe: a connection belongs to one io_context and one coroutine at a time.

#include "storage/pg/query.hpp"
#include "storage/pg/result.hpp"
#include "support/asio.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_set>

namespace tp::pg {

struct connection_options {
    std::string conninfo;
    std::chrono::milliseconds connect_timeout{3000};
    std::chrono::milliseconds query_timeout{10000};
};

class connection {
public:
    static awaitable<std::unique_ptr<connection>> open(const connection_options& options);

    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection();

    // Runs a named query, preparing it on first use. Throws pg::error on any failure.
    awaitable<result> execute(const query& q, params values);

    // A statement sent ahead of another in the same round trip, its result not needed.
    struct statement {
        const query* q;
        params values;
    };

    // Runs `ahead`, then `q`, in one round trip (libpq's pipeline mode); returns q's result.
    // PostgreSQL runs them in order, each with its own snapshot, exactly as if sent one by
    // one; the first failure among them is thrown (the statements after it do not run).
    awaitable<result> execute(std::span<const statement> ahead, const query& q, params values);

    // Runs SQL text with the simple protocol (several statements allowed, no parameters):
    // for migrations and transaction control only.
    awaitable<result> execute_script(const std::string& sql);

    // False once the connection failed or timed out; such a connection is never reused.
    bool usable() const { return !broken_ && PQstatus(conn_) == CONNECTION_OK; }
    // Also notices a server that closed the connection while it sat idle in the pool.
    bool still_alive();
    PGTransactionStatusType transaction_status() const { return PQtransactionStatus(conn_); }

private:
    connection(PGconn* conn, const asio::any_io_executor& executor, std::chrono::milliseconds query_timeout);

    awaitable<void> prepare(const query& q);
    bool send(const query& q, const params& values);
    awaitable<void> flush();
    awaitable<result> read_results();
    awaitable<void> read_sync();
    awaitable<void> wait(asio::posix::stream_descriptor::wait_type type);
    void arm_deadline();
    [[noreturn]] void fail(const std::string& what);

    // What the deadline timer may touch. Shared with its handler, which can still be queued
    // after the connection is gone or after the next deadline was armed (hence `generation`).
    struct watchdog {
        asio::posix::stream_descriptor* socket = nullptr;
        std::uint64_t generation = 0;
        bool fired = false;
    };

    PGconn* conn_;
    asio::posix::stream_descriptor socket_;
    asio::steady_timer deadline_;
    std::shared_ptr<watchdog> watchdog_;
    std::chrono::milliseconds query_timeout_;
    std::unordered_set<std::string> prepared_;
    bool broken_ = false;
};

} // namespace tp::pg
