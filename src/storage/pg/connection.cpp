#include "storage/pg/connection.hpp"

#include "storage/pg/error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>

#include <cerrno>
#include <sys/socket.h>

namespace tp::pg {
namespace {

using wait_type = asio::posix::stream_descriptor::wait_type;

// SQLSTATE classes that mean "the server is not there for us right now".
bool means_unavailable(const std::string& sqlstate) {
    return sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03" ||
           sqlstate == "53300";
}

std::string field(const PGresult* r, int code) {
    const char* value = PQresultErrorField(r, code);
    return value == nullptr ? std::string{} : std::string(value);
}

} // namespace

connection::connection(PGconn* conn, const asio::any_io_executor& executor, std::chrono::milliseconds query_timeout)
    : conn_(conn), socket_(executor, PQsocket(conn)), deadline_(executor), watchdog_(std::make_shared<watchdog>()),
      query_timeout_(query_timeout) {
    watchdog_->socket = &socket_;
}

connection::~connection() {
    // The descriptor belongs to libpq: let Asio forget it before libpq closes it.
    watchdog_->socket = nullptr;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
    socket_.release();
    PQfinish(conn_);
}

awaitable<std::unique_ptr<connection>> connection::open(const connection_options& options) {
    auto executor = co_await asio::this_coro::executor;
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectStart(options.conninfo.c_str()), &PQfinish);
    if (!conn || PQstatus(conn.get()) == CONNECTION_BAD) {
        throw error(
            error::kind::unavailable,
            "cannot connect to PostgreSQL: " + std::string(conn ? PQerrorMessage(conn.get()) : "out of memory")
        );
    }
    // One deadline for the whole handshake, however many round trips it takes.
    const auto give_up_at = std::chrono::steady_clock::now() + options.connect_timeout;
    for (auto status = PGRES_POLLING_WRITING; status != PGRES_POLLING_OK;) {
        if (status == PGRES_POLLING_FAILED) {
            throw error(
                error::kind::unavailable, "cannot connect to PostgreSQL: " + std::string(PQerrorMessage(conn.get()))
            );
        }
        // libpq may switch sockets between polls (another address, SSL retry): wrap afresh.
        asio::posix::stream_descriptor socket(executor, PQsocket(conn.get()));
        asio::steady_timer deadline(executor, give_up_at);
        const auto type = status == PGRES_POLLING_READING ? wait_type::wait_read : wait_type::wait_write;
        using namespace asio::experimental::awaitable_operators;
        // as_tuple: a failed wait ends the race at once (|| waits for the first success).
        auto ready = socket.async_wait(type, asio::as_tuple(use_awaitable));
        auto expired = deadline.async_wait(asio::as_tuple(use_awaitable));
        const auto outcome = co_await (std::move(ready) || std::move(expired));
        socket.release();
        if (outcome.index() == 1) {
            throw error(error::kind::unavailable, "timed out connecting to PostgreSQL");
        }
        status = PQconnectPoll(conn.get());
    }
    // Server notices (e.g. "relation already exists, skipping") are not errors; keep them
    // off stderr.
    PQsetNoticeProcessor(
        conn.get(), [](void*, const char*) {}, nullptr
    );
    if (PQsetnonblocking(conn.get(), 1) != 0) {
        throw error(error::kind::unavailable, "cannot make the PostgreSQL connection non-blocking");
    }
    std::unique_ptr<connection> ready(new connection(conn.release(), executor, options.query_timeout));
    // The server enforces the deadline too, so a runaway statement stops using resources
    // even after we gave up on it.
    const auto timeout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(options.query_timeout).count();
    // Generic plans: every statement here finds rows by key, so one plan fits all parameters,
    // and re-planning per call (PostgreSQL kept custom plans for the take's uuid[] parameter)
    // cost more than the statement itself: holds ran at 2.3k/s instead of 5.1k/s in the rush.
    // No JIT: compiling a query costs tens of milliseconds, and the estimates of tables not
    // analysed yet (a new catalog) made the performances list look big enough to compile on
    // every call, which stalled an on-sale replay.
    // READ COMMITTED whatever the server's default: the transactions' correctness argument
    // (docs/transactions.md) is made for it.
    co_await ready->execute_script(
        "SET statement_timeout = " + std::to_string(timeout_ms) +
        "; SET plan_cache_mode = force_generic_plan; SET jit = off"
        "; SET default_transaction_isolation = 'read committed'"
    );
    co_return ready;
}

void connection::fail(const std::string& what) {
    broken_ = true;
    if (watchdog_->fired) {
        throw error(error::kind::timeout, "PostgreSQL did not answer in time (" + what + ")");
    }
    throw error(error::kind::unavailable, what + ": " + PQerrorMessage(conn_));
}

void connection::arm_deadline() {
    const auto generation = ++watchdog_->generation;
    watchdog_->fired = false;
    deadline_.expires_after(query_timeout_);
    deadline_.async_wait([dog = watchdog_, generation](boost::system::error_code ec) {
        if (!ec && dog->socket != nullptr && dog->generation == generation) {
            dog->fired = true;
            dog->socket->cancel();
        }
    });
}

awaitable<void> connection::wait(wait_type type) {
    auto [ec] = co_await socket_.async_wait(type, asio::as_tuple(use_awaitable));
    if (ec) {
        fail(watchdog_->fired ? "waiting for PostgreSQL" : "waiting for PostgreSQL was cancelled");
    }
}

awaitable<void> connection::flush() {
    for (;;) {
        const int pending = PQflush(conn_);
        if (pending == 0) {
            co_return;
        }
        if (pending < 0) {
            fail("sending to PostgreSQL failed");
        }
        co_await wait(wait_type::wait_write);
    }
}

awaitable<result> connection::read_results() {
    result outcome;
    bool have_error = false;
    for (;;) {
        while (PQisBusy(conn_) != 0) {
            co_await wait(wait_type::wait_read);
            if (PQconsumeInput(conn_) == 0) {
                fail("reading from PostgreSQL failed");
            }
        }
        PGresult* raw = PQgetResult(conn_);
        if (raw == nullptr) {
            break;
        }
        result next(raw);
        const auto status = PQresultStatus(raw);
        const bool is_error = status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE;
        // Keep the first error, else the last result (a script's final statement).
        if (!have_error) {
            outcome = std::move(next);
            have_error = is_error;
        }
    }
    ++watchdog_->generation; // disarm: a late expiry must not cancel the next query
    deadline_.cancel();
    if (outcome.get() == nullptr) {
        fail("PostgreSQL returned no result");
    }
    if (have_error) {
        const auto sqlstate = field(outcome.get(), PG_DIAG_SQLSTATE);
        const auto message = field(outcome.get(), PG_DIAG_MESSAGE_PRIMARY);
        if (means_unavailable(sqlstate) || PQstatus(conn_) != CONNECTION_OK) {
            broken_ = true;
            throw error(error::kind::unavailable, "PostgreSQL: " + message, {.sqlstate = sqlstate, .constraint = {}});
        }
        if (sqlstate == "57014") {
            throw error(error::kind::timeout, "PostgreSQL: " + message, {.sqlstate = sqlstate, .constraint = {}});
        }
        throw error(
            error::kind::query,
            "PostgreSQL: " + message,
            {.sqlstate = sqlstate, .constraint = field(outcome.get(), PG_DIAG_CONSTRAINT_NAME)}
        );
    }
    co_return outcome;
}

// Named statements are prepared once per connection; an unnamed one (transaction control) is
// sent as it is each time.
awaitable<void> connection::prepare(const query& q) {
    if (*q.name == '\0' || prepared_.contains(q.name)) {
        co_return;
    }
    arm_deadline();
    if (PQsendPrepare(conn_, q.name, q.sql, 0, nullptr) == 0) {
        fail("cannot send a statement to PostgreSQL");
    }
    co_await flush();
    co_await read_results();
    prepared_.insert(q.name);
}

bool connection::send(const query& q, const params& values) {
    std::vector<const char*> raw(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        raw[i] = values[i] ? values[i]->c_str() : nullptr;
    }
    const auto count = static_cast<int>(raw.size());
    if (*q.name == '\0') {
        return PQsendQueryParams(conn_, q.sql, count, nullptr, raw.data(), nullptr, nullptr, 0) != 0;
    }
    return PQsendQueryPrepared(conn_, q.name, count, raw.data(), nullptr, nullptr, 0) != 0;
}

awaitable<result> connection::execute(const query& q, params values) {
    if (!usable()) {
        fail("the PostgreSQL connection is closed");
    }
    co_await prepare(q);
    arm_deadline();
    if (!send(q, values)) {
        fail("cannot send a query to PostgreSQL");
    }
    co_await flush();
    co_return co_await read_results();
}

awaitable<result> connection::execute(std::span<const statement> ahead, const query& q, params values) {
    if (ahead.empty()) {
        co_return co_await execute(q, std::move(values));
    }
    if (!usable()) {
        fail("the PostgreSQL connection is closed");
    }
    for (const auto& s : ahead) {
        co_await prepare(*s.q);
    }
    co_await prepare(q);
    arm_deadline();
    bool sent = PQenterPipelineMode(conn_) != 0;
    for (const auto& s : ahead) {
        sent = sent && send(*s.q, s.values);
    }
    if (!(sent && send(q, values) && PQpipelineSync(conn_) != 0)) {
        fail("cannot send a pipeline to PostgreSQL");
    }
    co_await flush();
    // Every statement's results are read (a failed one's, then "aborted" for the rest), then
    // the sync, so the connection leaves pipeline mode in order whatever happened.
    std::exception_ptr failed;
    result last;
    for (std::size_t i = 0; i <= ahead.size(); ++i) {
        try {
            arm_deadline();
            auto r = co_await read_results();
            if (i == ahead.size()) {
                last = std::move(r);
            }
        } catch (const error&) {
            if (broken_) {
                throw; // the connection itself failed: nothing more to read
            }
            if (!failed) {
                failed = std::current_exception();
            }
        }
    }
    arm_deadline();
    co_await read_sync();
    if (PQexitPipelineMode(conn_) == 0) {
        fail("cannot leave pipeline mode");
    }
    if (failed) {
        std::rethrow_exception(failed);
    }
    co_return last;
}

awaitable<void> connection::read_sync() {
    for (;;) {
        while (PQisBusy(conn_) != 0) {
            co_await wait(wait_type::wait_read);
            if (PQconsumeInput(conn_) == 0) {
                fail("reading from PostgreSQL failed");
            }
        }
        const result r(PQgetResult(conn_));
        if (r.get() != nullptr && PQresultStatus(r.get()) == PGRES_PIPELINE_SYNC) {
            break;
        }
    }
    ++watchdog_->generation; // disarm
    deadline_.cancel();
}

awaitable<result> connection::execute_script(const std::string& sql) {
    if (!usable()) {
        fail("the PostgreSQL connection is closed");
    }
    arm_deadline();
    if (PQsendQuery(conn_, sql.c_str()) == 0) {
        fail("cannot send a query to PostgreSQL");
    }
    co_await flush();
    co_return co_await read_results();
}

bool connection::still_alive() {
    if (!usable()) {
        return false;
    }
    // An idle connection has nothing to read. End of file means the server closed it; data
    // means it said something unasked, in practice "terminating connection" before closing.
    // Either way it is not to be used. (A peek: nothing is taken from libpq's stream.)
    char byte = 0;
    const auto peeked = ::recv(PQsocket(conn_), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

} // namespace tp::pg
