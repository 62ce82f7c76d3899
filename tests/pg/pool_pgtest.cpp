// The per-event-loop connection pool: bounded waiting, no deadlock, and connections that
// come back in a bad state are cleaned or discarded, never handed out as they are.

#include "storage/pg/error.hpp"
#include "storage/pg/pool.hpp"
#include "support/servers_required.hpp"
#include "test_database.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <thread>

namespace tp::test {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr pg::query select_sleep{"pool_test_sleep", "SELECT pg_sleep(0.005), $1::int"};
constexpr pg::query select_pid{"pool_test_pid", "SELECT pg_backend_pid()"};
constexpr pg::query select_syntax_error{"pool_test_syntax_error", "SELEC 1"};
constexpr pg::query select_slow{"pool_test_slow", "SELECT pg_sleep(5)"};

class pool_test : public pg_suite {};

TEST_F(pool_test, fifty_coroutines_share_two_connections_without_deadlock) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 2, 20s));
    int answered = 0;
    std::size_t most_open = 0;
    // The closure outlives every coroutine made from it (they refer to it for captures).
    auto one = [&pool, &answered, &most_open](int n) -> awaitable<void> {
        const auto r = co_await pool.execute(select_sleep, pg::make_params(n));
        EXPECT_EQ(r.int64(0, 1), n);
        ++answered;
        most_open = std::max(most_open, pool.open_connections());
    };
    std::vector<awaitable<void>> ops;
    for (int i = 0; i < 50; ++i) {
        ops.push_back(one(i));
    }
    const auto report = run_all(ctx, std::move(ops));
    EXPECT_EQ(report.finished, 50u);
    EXPECT_TRUE(report.failures.empty()) << report.failures.front();
    EXPECT_EQ(answered, 50);
    EXPECT_LE(most_open, 2u);
    EXPECT_EQ(pool.waiting(), 0u);
    EXPECT_EQ(pool.idle_connections(), pool.open_connections());
}

TEST_F(pool_test, acquire_gives_up_after_the_timeout_when_every_connection_is_leased) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1, 300ms));
    auto op = [&pool]() -> awaitable<void> {
        auto held = co_await pool.acquire();
        const auto started = clock_type::now();
        std::optional<pg::error::kind> kind;
        try {
            auto second = co_await pool.acquire();
            ADD_FAILURE() << "a second connection was handed out beyond max_size";
        } catch (const pg::error& e) {
            kind = e.what_kind();
        }
        const auto waited = clock_type::now() - started;
        CO_ASSERT_TRUE(kind);
        EXPECT_EQ(*kind, pg::error::kind::unavailable);
        EXPECT_GE(waited, 250ms);
        EXPECT_LT(waited, 5s);
        EXPECT_EQ(pool.waiting(), 0u) << "a timed-out waiter stayed in the queue";
    };
    run_coro(ctx, op(), 30s);
}

TEST_F(pool_test, a_waiter_gets_the_connection_as_soon_as_it_is_returned) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1, 10s));
    std::vector<std::string> order;
    auto holder = [&]() -> awaitable<void> {
        auto conn = co_await pool.acquire();
        order.push_back("holder has it");
        asio::steady_timer pause(ctx, 200ms);
        co_await pause.async_wait(use_awaitable);
        order.push_back("holder returns it");
    };
    auto waiter = [&]() -> awaitable<void> {
        const auto r = co_await pool.execute(select_pid, {});
        EXPECT_EQ(r.rows(), 1);
        order.push_back("waiter served");
    };
    std::vector<awaitable<void>> ops;
    ops.push_back(holder());
    ops.push_back(waiter());
    const auto report = run_all(ctx, std::move(ops), 30s);
    EXPECT_TRUE(report.failures.empty()) << report.failures.front();
    EXPECT_EQ(order, (std::vector<std::string>{"holder has it", "holder returns it", "waiter served"}));
    EXPECT_EQ(pool.open_connections(), 1u);
}

TEST_F(pool_test, a_lease_returned_inside_a_transaction_is_rolled_back_before_reuse) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1, 10s));
    auto op = [&pool]() -> awaitable<void> {
        std::int64_t first_pid = 0;
        {
            auto conn = co_await pool.acquire();
            first_pid = (co_await conn->execute(select_pid, {})).int64(0, 0);
            co_await conn->execute_script("BEGIN");
            co_await conn->execute_script("INSERT INTO stages (name, location) VALUES ('uncommitted', 'x')");
            EXPECT_EQ(conn->transaction_status(), PQTRANS_INTRANS);
        } // returned mid-transaction
        auto next = co_await pool.acquire();
        EXPECT_EQ(next->transaction_status(), PQTRANS_IDLE);
        EXPECT_EQ((co_await next->execute(select_pid, {})).int64(0, 0), first_pid)
            << "the connection should have been cleaned and reused, not replaced";
        const auto seen = co_await next->execute_script("SELECT count(*) FROM stages WHERE name = 'uncommitted'");
        EXPECT_EQ(seen.int64(0, 0), 0);
    };
    run_coro(ctx, op(), 30s);
    EXPECT_EQ(inspect().number("SELECT count(*) FROM stages WHERE name = 'uncommitted'"), 0);
}

TEST_F(pool_test, a_lease_returned_inside_a_failed_transaction_is_rolled_back_before_reuse) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1, 10s));
    auto op = [&pool]() -> awaitable<void> {
        {
            auto conn = co_await pool.acquire();
            co_await conn->execute_script("BEGIN");
            bool failed = false;
            try {
                co_await conn->execute_script("SELECT 1/0");
            } catch (const pg::error& e) {
                failed = e.what_kind() == pg::error::kind::query && e.sqlstate() == "22012";
            }
            EXPECT_TRUE(failed);
            EXPECT_EQ(conn->transaction_status(), PQTRANS_INERROR);
        }
        auto next = co_await pool.acquire();
        EXPECT_EQ(next->transaction_status(), PQTRANS_IDLE);
        const auto r = co_await next->execute_script("SELECT 42");
        EXPECT_EQ(r.int64(0, 0), 42);
    };
    run_coro(ctx, op(), 30s);
}

TEST_F(pool_test, a_query_error_leaves_the_connection_usable) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1, 10s));
    auto op = [&pool]() -> awaitable<void> {
        std::optional<pg::error> failure;
        try {
            co_await pool.execute(select_syntax_error, {});
        } catch (const pg::error& e) {
            failure = e;
        }
        CO_ASSERT_TRUE(failure);
        EXPECT_EQ(failure->what_kind(), pg::error::kind::query);
        EXPECT_EQ(failure->sqlstate(), "42601");
        const auto r = co_await pool.execute(select_sleep, pg::make_params(7));
        EXPECT_EQ(r.int64(0, 1), 7);
    };
    run_coro(ctx, op(), 30s);
    EXPECT_EQ(pool.open_connections(), 1u);
}

TEST_F(pool_test, a_broken_connection_is_discarded_and_replaced) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1, 10s));
    auto op = [&pool]() -> awaitable<void> {
        std::int64_t killed_pid = 0;
        {
            auto conn = co_await pool.acquire();
            killed_pid = (co_await conn->execute(select_pid, {})).int64(0, 0);
            bool unavailable = false;
            try {
                co_await conn->execute_script("SELECT pg_terminate_backend(pg_backend_pid())");
            } catch (const pg::error& e) {
                unavailable = e.what_kind() == pg::error::kind::unavailable;
            }
            EXPECT_TRUE(unavailable);
            EXPECT_FALSE(conn->usable());
        }
        EXPECT_EQ(pool.open_connections(), 0u);
        const auto r = co_await pool.execute(select_pid, {});
        EXPECT_NE(r.int64(0, 0), killed_pid);
    };
    run_coro(ctx, op(), 30s);
}

TEST_F(pool_test, a_connection_killed_while_idle_is_not_handed_out) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1, 10s));
    const auto pid = run_coro(ctx, pool.execute(select_pid, {})).int64(0, 0);
    ASSERT_EQ(pool.idle_connections(), 1u);
    inspect().sql("SELECT pg_terminate_backend($1::int)", {std::to_string(pid)});
    // Let the server finish closing it.
    for (int i = 0;
         i < 50 &&
         inspect().number("SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int", {std::to_string(pid)}) > 0;
         ++i) {
        std::this_thread::sleep_for(20ms);
    }
    const auto r = run_coro(ctx, pool.execute(select_pid, {}));
    EXPECT_NE(r.int64(0, 0), pid);
}

TEST_F(pool_test, a_statement_past_its_deadline_is_a_timeout_and_its_connection_is_dropped) {
    asio::io_context ctx;
    auto options = pool_options_for(url(), 1, 10s);
    options.connection.query_timeout = 300ms;
    pg::pool pool(ctx.get_executor(), options);
    auto op = [&pool]() -> awaitable<void> {
        const auto started = clock_type::now();
        std::optional<pg::error::kind> kind;
        try {
            co_await pool.execute(select_slow, {});
        } catch (const pg::error& e) {
            kind = e.what_kind();
        }
        CO_ASSERT_TRUE(kind);
        EXPECT_EQ(*kind, pg::error::kind::timeout);
        EXPECT_LT(clock_type::now() - started, 3s);
        // The pool still works afterwards.
        const auto r = co_await pool.execute(select_sleep, pg::make_params(3));
        EXPECT_EQ(r.int64(0, 1), 3);
    };
    run_coro(ctx, op(), 30s);
}

// What a query on `pool` failed with (nullopt if it did not fail).
std::optional<pg::error::kind> failure_kind(asio::io_context& ctx, pg::pool& pool) {
    try {
        run_coro(ctx, pool.execute(select_pid, {}), 30s);
    } catch (const pg::error& e) {
        return e.what_kind();
    }
    return std::nullopt;
}

} // namespace

// Not a pg_suite: needs no database, only a port where nothing listens.
TEST(pool_unreachable, a_server_that_is_not_there_is_unavailable_not_a_hang) {
    const auto maintenance = maintenance_url();
    if (!maintenance) {
        TP_SKIP_OR_FAIL_WITHOUT_SERVER("TEST_DATABASE_URL is not set");
    }
    asio::io_context ctx;
    // Port 1 on loopback: refused at once.
    auto options = pool_options_for("postgresql://postgres@127.0.0.1:1/postgres", 2, 2s);
    options.connection.connect_timeout = 2s;
    pg::pool pool(ctx.get_executor(), options);
    const auto started = clock_type::now();
    const auto kind = failure_kind(ctx, pool);
    ASSERT_TRUE(kind);
    EXPECT_EQ(*kind, pg::error::kind::unavailable);
    EXPECT_LT(clock_type::now() - started, 5s);
    EXPECT_EQ(pool.open_connections(), 0u) << "a failed connect must not use up a slot";
}

TEST(pool_unreachable, a_server_that_never_answers_times_out_at_the_connect_deadline) {
    if (!maintenance_url()) {
        TP_SKIP_OR_FAIL_WITHOUT_SERVER("TEST_DATABASE_URL is not set");
    }
    // A listening socket that never speaks: the TCP handshake succeeds, the startup
    // exchange never finishes.
    asio::io_context ctx;
    asio::ip::tcp::acceptor silent(ctx, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto port = silent.local_endpoint().port();
    auto options = pool_options_for("postgresql://postgres@127.0.0.1:" + std::to_string(port) + "/postgres", 1, 5s);
    options.connection.connect_timeout = 500ms;
    pg::pool pool(ctx.get_executor(), options);
    const auto started = clock_type::now();
    const auto kind = failure_kind(ctx, pool);
    ASSERT_TRUE(kind);
    EXPECT_EQ(*kind, pg::error::kind::unavailable);
    EXPECT_GE(clock_type::now() - started, 400ms);
    EXPECT_LT(clock_type::now() - started, 5s);
}

} // namespace tp::test
