// The multiplexed Redis connection against a real server: replies of every kind, pipelining
// of many coroutines on one socket, reconnecting after the server drops it, failing fast
// while Redis is unreachable, and the URL it is configured from.

#include "redis_harness.hpp"
#include "storage/redis/connection.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace tp::test {
namespace {

using namespace std::chrono_literals;
using redis::reply;

// --- parse_redis_url: no server needed --------------------------------------------------------

TEST(parse_redis_url, reads_host_port_and_database) {
    const auto options = redis::parse_redis_url("redis://10.1.2.3:6390/7");
    ASSERT_TRUE(options);
    EXPECT_EQ(options->host, "10.1.2.3");
    EXPECT_EQ(options->port, "6390");
    EXPECT_EQ(options->database, 7);
}

TEST(parse_redis_url, defaults_to_port_6379_and_database_0) {
    for (const char* url : {"redis://cache.internal", "redis://cache.internal/"}) {
        const auto options = redis::parse_redis_url(url);
        ASSERT_TRUE(options) << url;
        EXPECT_EQ(options->host, "cache.internal") << url;
        EXPECT_EQ(options->port, "6379") << url;
        EXPECT_EQ(options->database, 0) << url;
    }
}

TEST(parse_redis_url, refuses_malformed_urls) {
    for (const char* url :
         {"",
          "127.0.0.1:6379",
          "http://127.0.0.1:6379/0",
          "redis://",
          "redis:///3",
          "redis://h:6379/abc",
          "redis://h:6379/-1",
          "redis://h:6379/1x",
          "redis://h/1/2"}) {
        EXPECT_FALSE(redis::parse_redis_url(url)) << "accepted: '" << url << "'";
    }
}

// --- against the server -----------------------------------------------------------------------

class connection_test : public redis_suite {
protected:
    connection_test() : redis_suite(1) {}

    // Runs `callers` coroutines at once, `make(i, mismatches)` giving the i-th; each counts
    // a wrong answer in `mismatches`. Expects all of them to finish, none to fail or mismatch.
    template <class Make> void expect_all_answered_right(int callers, Make make) {
        int mismatches = 0;
        std::vector<awaitable<void>> ops;
        for (int i = 0; i < callers; ++i) {
            ops.push_back(make(i, mismatches));
        }
        const auto report = run_all(ctx_, std::move(ops));
        EXPECT_EQ(report.finished, static_cast<std::size_t>(callers));
        EXPECT_TRUE(report.failures.empty()) << report.failures.front();
        EXPECT_EQ(mismatches, 0);
    }
};

// A port nothing listens on: bound once by us, then released.
std::string closed_port() {
    asio::io_context ctx;
    asio::ip::tcp::acceptor acceptor(ctx, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto port = acceptor.local_endpoint().port();
    acceptor.close();
    return std::to_string(port);
}

awaitable<reply> exec(redis::connection& conn, std::vector<std::string> command) {
    co_return co_await conn.execute(std::move(command));
}

TEST_F(connection_test, returns_every_kind_of_reply) {
    redis::connection conn(ctx_.get_executor(), options());
    run_coro(ctx_, [&]() -> awaitable<void> {
        std::vector<std::string> set{"SET", "greeting", "hello"};
        const auto ok = co_await conn.execute(std::move(set));
        EXPECT_EQ(ok.type, reply::kind::status);
        EXPECT_EQ(ok.text, "OK");

        std::vector<std::string> get{"GET", "greeting"};
        const auto value = co_await conn.execute(std::move(get));
        EXPECT_EQ(value.type, reply::kind::string);
        EXPECT_EQ(value.text, "hello");

        std::vector<std::string> missing{"GET", "no-such-key"};
        EXPECT_TRUE((co_await conn.execute(std::move(missing))).is_nil());

        std::vector<std::string> incr{"INCRBY", "counter", "41"};
        const auto number = co_await conn.execute(std::move(incr));
        EXPECT_EQ(number.type, reply::kind::integer);
        EXPECT_EQ(number.integer, 41);

        std::vector<std::string> push{"RPUSH", "list", "a", "b", "c"};
        co_await conn.execute(std::move(push));
        std::vector<std::string> range{"LRANGE", "list", "0", "-1"};
        const auto list = co_await conn.execute(std::move(range));
        EXPECT_EQ(list.type, reply::kind::array);
        CO_ASSERT_TRUE(list.elements.size() == 3u);
        EXPECT_EQ(list.elements[2].text, "c");

        // An error reply is an answer, not an exception.
        std::vector<std::string> wrong{"INCR", "greeting"};
        const auto refused = co_await conn.execute(std::move(wrong));
        EXPECT_TRUE(refused.is_error());
        EXPECT_NE(refused.text.find("not an integer"), std::string::npos) << refused.text;
    }());
    EXPECT_TRUE(conn.connected());
}

TEST_F(connection_test, is_binary_safe) {
    redis::connection conn(ctx_.get_executor(), options());
    const std::string awkward("line\r\nwith\0nul and $5\r\n*2 \xff", 26);
    const auto answer = run_coro(ctx_, [&]() -> awaitable<reply> {
        std::vector<std::string> set{"SET", awkward, awkward};
        co_await conn.execute(std::move(set));
        std::vector<std::string> get{"GET", awkward};
        co_return co_await conn.execute(std::move(get));
    }());
    EXPECT_EQ(answer.text, awkward);
    EXPECT_EQ(inspect().text({"GET", awkward}), awkward);
}

TEST_F(connection_test, uses_the_database_of_its_options) {
    redis::connection conn(ctx_.get_executor(), options());
    run_coro(ctx_, [&]() -> awaitable<void> {
        std::vector<std::string> set{"SET", "where", "here"};
        co_await conn.execute(std::move(set));
    }());
    // The inspector is on the suite's database: the key must be there.
    EXPECT_EQ(inspect().text({"GET", "where"}), "here");
}

// Every caller gets its own reply although all share one socket and are answered in order.
awaitable<void> set_and_read_back(redis::connection& conn, int i, std::string payload, int& mismatches) {
    const std::string key = "k" + std::to_string(i);
    std::vector<std::string> set{"SET", key, payload};
    const auto ok = co_await conn.execute(std::move(set));
    std::vector<std::string> incr{"INCR", "calls"};
    const auto counted = co_await conn.execute(std::move(incr));
    std::vector<std::string> get{"GET", key};
    const auto back = co_await conn.execute(std::move(get));
    if (ok.text != "OK" || counted.type != reply::kind::integer || back.text != payload) {
        ++mismatches;
    }
}

TEST_F(connection_test, pipelines_many_concurrent_coroutines_on_one_socket) {
    redis::connection conn(ctx_.get_executor(), options());
    constexpr int callers = 2000;
    expect_all_answered_right(callers, [&](int i, int& mismatches) {
        return set_and_read_back(conn, i, "value-" + std::to_string(i * 7919), mismatches);
    });
    // Read back: every command reached Redis exactly once.
    EXPECT_EQ(inspect().integer({"GET", "calls"}), callers);
    EXPECT_EQ(inspect().integer({"DBSIZE"}), callers + 1);
    // One socket for all of them: ours plus the inspector's.
    const auto clients = inspect().text({"CLIENT", "LIST", "TYPE", "normal"}).value_or("");
    EXPECT_EQ(std::count(clients.begin(), clients.end(), '\n'), 2) << clients;
}

// Batches from many coroutines at once: each caller gets exactly its own replies, in order,
// whatever batches of others are answered before and after it.
awaitable<void> batch_and_read_back(redis::connection& conn, int i, int& mismatches) {
    const std::string key = "b" + std::to_string(i);
    std::vector<std::vector<std::string>> batch{
        {"SET", key, std::to_string(i)}, {"INCR", key}, {"GET", "missing"}, {"INCRBY", key, "x"}, {"GET", key}};
    const auto answers = co_await conn.execute_all(std::move(batch));
    if (answers.size() != 5 || answers[0].text != "OK" || answers[1].integer != i + 1 || !answers[2].is_nil() ||
        !answers[3].is_error() || answers[4].text != std::to_string(i + 1)) {
        ++mismatches;
    }
}

TEST_F(connection_test, answers_batches_of_commands_in_order_per_caller) {
    redis::connection conn(ctx_.get_executor(), options());
    expect_all_answered_right(500, [&](int i, int& mismatches) { return batch_and_read_back(conn, i, mismatches); });
    EXPECT_EQ(inspect().text({"GET", "b499"}), "500");
    const auto empty = run_coro(ctx_, conn.execute_all({}));
    EXPECT_TRUE(empty.empty());
}

// Large commands from many coroutines at once: a write started while an earlier one is still
// being written must not interleave its bytes with it.
TEST_F(connection_test, keeps_large_pipelined_commands_intact) {
    redis::connection conn(ctx_.get_executor(), options());
    constexpr int callers = 48;
    expect_all_answered_right(callers, [&](int i, int& mismatches) {
        return set_and_read_back(conn, i, std::string(384 * 1024, static_cast<char>('a' + i % 26)), mismatches);
    });
    EXPECT_EQ(inspect().integer({"GET", "calls"}), callers);
    EXPECT_EQ(inspect().integer({"STRLEN", "k5"}), 384 * 1024);
}

TEST_F(connection_test, reconnects_after_the_server_closes_the_connection) {
    auto opts = options();
    opts.retry_interval = 50ms;
    redis::connection conn(ctx_.get_executor(), opts);
    std::vector<std::string> id_command{"CLIENT", "ID"};
    const auto first_id = run_coro(ctx_, exec(conn, id_command)).integer;
    run_coro(ctx_, exec(conn, {"SET", "survives", "yes"}));

    // The server drops every normal client but the inspector (SKIPME defaults to yes).
    EXPECT_GE(inspect().integer({"CLIENT", "KILL", "TYPE", "normal"}), 1);

    int failures = 0;
    std::optional<std::int64_t> second_id;
    const auto started = std::chrono::steady_clock::now();
    while (!second_id && std::chrono::steady_clock::now() - started < 5s) {
        try {
            second_id = run_coro(ctx_, exec(conn, id_command)).integer;
        } catch (const redis::error&) {
            ++failures; // the loss is noticed first, then a reconnect after retry_interval
            run_coro(ctx_, sleep_for(20ms));
        }
    }
    ASSERT_TRUE(second_id) << "never reconnected";
    EXPECT_NE(*second_id, first_id) << "the same server-side client: no reconnect happened";
    EXPECT_LE(failures, 10);
    // The new socket selected the configured database again.
    EXPECT_EQ(run_coro(ctx_, exec(conn, {"GET", "survives"})).text, "yes");
    EXPECT_TRUE(conn.connected());
}

TEST_F(connection_test, fails_commands_in_flight_when_the_server_closes_the_connection) {
    redis::connection conn(ctx_.get_executor(), options());
    run_coro(ctx_, exec(conn, {"PING"}));
    const auto started = std::chrono::steady_clock::now();
    bool failed = false;
    run_coro(ctx_, [&]() -> awaitable<void> {
        // A command Redis holds for 4 s, then the server drops us after 200 ms.
        auto kill_soon = [&]() -> awaitable<void> {
            co_await sleep_for(200ms);
            inspect().checked({"CLIENT", "KILL", "TYPE", "normal"});
        };
        auto killer = kill_soon();
        const auto executor = co_await asio::this_coro::executor;
        asio::co_spawn(executor, std::move(killer), asio::detached);
        try {
            std::vector<std::string> blpop{"BLPOP", "never-filled", "4"};
            co_await conn.execute(std::move(blpop));
        } catch (const redis::error&) {
            failed = true;
        }
    }());
    EXPECT_TRUE(failed) << "a command on a dropped connection must fail, not wait for an answer";
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST_F(connection_test, gives_up_on_a_command_not_answered_in_time_and_recovers) {
    auto opts = options();
    opts.timeout = 300ms;
    opts.retry_interval = 50ms;
    redis::connection conn(ctx_.get_executor(), opts);
    run_coro(ctx_, exec(conn, {"PING"}));
    const auto started = std::chrono::steady_clock::now();
    EXPECT_THROW(run_coro(ctx_, exec(conn, {"BLPOP", "never-filled", "3"})), redis::error);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
    // The late BLPOP answer (nil, after 3 s) must never be taken for another command's reply.
    run_coro(ctx_, sleep_for(100ms));
    EXPECT_EQ(run_coro(ctx_, exec(conn, {"SET", "after", "timeout"})).text, "OK");
    EXPECT_EQ(run_coro(ctx_, exec(conn, {"GET", "after"})).text, "timeout");
}

// What a PING on `conn` failed with ("" if it did not fail).
std::string failure_of(asio::io_context& ctx, redis::connection& conn) {
    try {
        run_coro(ctx, exec(conn, {"PING"}));
    } catch (const redis::error& e) {
        return e.what();
    }
    ADD_FAILURE() << "PING succeeded on a closed port";
    return "";
}

// Sends a PING and counts it in `refused` if the connection refused it.
awaitable<void> count_refused_ping(redis::connection& conn, int& refused) {
    try {
        std::vector<std::string> ping{"PING"};
        co_await conn.execute(std::move(ping));
    } catch (const redis::error&) {
        ++refused;
    }
}

TEST_F(connection_test, fails_fast_while_redis_is_unreachable) {
    auto opts = options();
    opts.port = closed_port();
    opts.timeout = 1500ms; // a hang shows as waiting for it; a refusal must not
    opts.retry_interval = 200ms;
    redis::connection conn(ctx_.get_executor(), opts);

    auto started = std::chrono::steady_clock::now();
    const auto why = failure_of(ctx_, conn);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 500ms)
        << "connection refused must fail at once, not wait out the timeout (it said: " << why << ")";
    EXPECT_EQ(why.find("timed out"), std::string::npos) << "a refused connection reported as a timeout: " << why;
    EXPECT_FALSE(conn.connected());

    // Within the retry interval: refused without even trying, and every concurrent caller too.
    started = std::chrono::steady_clock::now();
    int refused = 0;
    std::vector<awaitable<void>> ops;
    for (int i = 0; i < 50; ++i) {
        ops.push_back(count_refused_ping(conn, refused));
    }
    run_all(ctx_, std::move(ops));
    EXPECT_EQ(refused, 50);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);

    // After the interval it tries again (and is refused again, quickly).
    run_coro(ctx_, sleep_for(250ms));
    started = std::chrono::steady_clock::now();
    const auto again = failure_of(ctx_, conn);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 500ms)
        << "a retry against a closed port must fail at once (it said: " << again << ")";
}

TEST_F(connection_test, concurrent_callers_during_a_refused_connect_all_fail_fast) {
    auto opts = options();
    opts.port = closed_port();
    opts.timeout = 1500ms;
    redis::connection conn(ctx_.get_executor(), opts);
    int refused = 0;
    std::vector<awaitable<void>> ops;
    for (int i = 0; i < 20; ++i) {
        ops.push_back(count_refused_ping(conn, refused));
    }
    const auto started = std::chrono::steady_clock::now();
    const auto report = run_all(ctx_, std::move(ops), 10s);
    EXPECT_EQ(report.finished, 20u);
    EXPECT_EQ(refused, 20);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 500ms)
        << "callers waiting on a refused connect must fail at once";
}

TEST_F(connection_test, refuses_a_database_the_server_does_not_have) {
    auto opts = options();
    opts.database = 999;
    redis::connection conn(ctx_.get_executor(), opts);
    try {
        run_coro(ctx_, exec(conn, {"PING"}));
        ADD_FAILURE() << "a connection to database 999 was accepted";
    } catch (const redis::error& e) {
        EXPECT_NE(std::string(e.what()).find("SELECT"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(conn.connected());
}

TEST_F(connection_test, close_lets_the_event_loop_finish) {
    auto conn = std::make_unique<redis::connection>(ctx_.get_executor(), options());
    run_coro(ctx_, exec(*conn, {"PING"}));
    conn->close();
    EXPECT_FALSE(conn->connected());
    // Nothing of the connection keeps the event loop alive after close().
    const auto started = std::chrono::steady_clock::now();
    ctx_.restart();
    ctx_.run_for(3s);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s) << "the read loop outlived close()";
}

// A command after close() (a background round still running at shutdown) must fail, not
// reconnect: a new connection's reader would keep the event loop alive for ever.
TEST_F(connection_test, a_closed_connection_never_reconnects) {
    auto conn = std::make_unique<redis::connection>(ctx_.get_executor(), options());
    run_coro(ctx_, exec(*conn, {"PING"}));
    conn->close();
    std::this_thread::sleep_for(300ms); // past the reconnect interval
    EXPECT_THROW(run_coro(ctx_, exec(*conn, {"PING"})), redis::error);
    EXPECT_FALSE(conn->connected());
    const auto started = std::chrono::steady_clock::now();
    ctx_.restart();
    ctx_.run_for(3s);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s) << "something of the closed connection is still running";
}

} // namespace
} // namespace tp::test
