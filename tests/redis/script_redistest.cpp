// Lua scripts by EVALSHA, sent in full with EVAL only when Redis answers NOSCRIPT.

#include "redis_harness.hpp"
#include "storage/redis/script.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tp::test {
namespace {

using namespace std::chrono_literals;

class script_test : public redis_suite {
protected:
    script_test() : redis_suite(2) {}

    // How often Redis ran `command` since the last CONFIG RESETSTAT.
    std::int64_t calls_of(const std::string& command) {
        const auto stats = inspect().text({"INFO", "commandstats"}).value_or("");
        const auto at = stats.find("cmdstat_" + command + ":calls=");
        if (at == std::string::npos) {
            return 0;
        }
        return std::stoll(stats.substr(at + command.size() + 15));
    }
};

awaitable<redis::reply> run(redis::connection& conn, const redis::script& s, std::vector<std::string> args) {
    co_return co_await redis::run_script(conn, s, std::move(args));
}

TEST_F(script_test, hash_is_the_one_redis_computes) {
    const redis::script s("return 'sha check'");
    EXPECT_EQ(inspect().text({"SCRIPT", "LOAD", s.source()}), s.sha1());
}

TEST_F(script_test, sends_the_source_once_then_runs_by_evalsha) {
    redis::connection conn(ctx_.get_executor(), options());
    const redis::script s("redis.call('INCR', 'runs') return ARGV[1] .. '+' .. ARGV[2]");
    inspect().checked({"SCRIPT", "FLUSH"});
    inspect().checked({"CONFIG", "RESETSTAT"});

    EXPECT_EQ(run_coro(ctx_, run(conn, s, {"a", "b"})).text, "a+b");
    EXPECT_EQ(calls_of("eval"), 1) << "the first run must fall back to EVAL";
    EXPECT_EQ(inspect().strings({"SCRIPT", "EXISTS", s.sha1()}).size(), 1u);
    EXPECT_EQ(inspect().command({"SCRIPT", "EXISTS", s.sha1()}).elements.at(0).integer, 1);

    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(run_coro(ctx_, run(conn, s, {"x", std::to_string(i)})).text, "x+" + std::to_string(i));
    }
    EXPECT_EQ(calls_of("eval"), 1) << "the source must not travel again once cached";
    EXPECT_EQ(calls_of("evalsha"), 6);
    EXPECT_EQ(inspect().integer({"GET", "runs"}), 6) << "each run must execute exactly once";
}

TEST_F(script_test, still_works_after_script_flush) {
    redis::connection conn(ctx_.get_executor(), options());
    const redis::script s("return redis.call('INCR', KEYS[1] or 'flushed')");
    EXPECT_EQ(run_coro(ctx_, run(conn, s, {})).integer, 1);
    inspect().checked({"SCRIPT", "FLUSH"});
    EXPECT_EQ(inspect().command({"SCRIPT", "EXISTS", s.sha1()}).elements.at(0).integer, 0);
    EXPECT_EQ(run_coro(ctx_, run(conn, s, {})).integer, 2);
    EXPECT_EQ(inspect().command({"SCRIPT", "EXISTS", s.sha1()}).elements.at(0).integer, 1);
    EXPECT_EQ(inspect().integer({"GET", "flushed"}), 2) << "a NOSCRIPT retry must not run the script twice";
}

TEST_F(script_test, many_concurrent_first_runs_each_run_once) {
    redis::connection conn(ctx_.get_executor(), options());
    const redis::script s("return redis.call('INCR', 'concurrent')");
    inspect().checked({"SCRIPT", "FLUSH"});
    int wrong = 0;
    std::vector<awaitable<void>> ops;
    for (int i = 0; i < 200; ++i) {
        ops.push_back([](redis::connection& c, const redis::script& sc, int& w) -> awaitable<void> {
            std::vector<std::string> none;
            const auto r = co_await redis::run_script(c, sc, std::move(none));
            if (r.type != redis::reply::kind::integer) {
                ++w;
            }
        }(conn, s, wrong));
    }
    const auto report = run_all(ctx_, std::move(ops));
    EXPECT_TRUE(report.failures.empty()) << report.failures.front();
    EXPECT_EQ(wrong, 0);
    EXPECT_EQ(inspect().integer({"GET", "concurrent"}), 200);
}

TEST_F(script_test, passes_arguments_byte_for_byte) {
    redis::connection conn(ctx_.get_executor(), options());
    const redis::script s("return ARGV[1]");
    const std::string awkward("spaces, 'quotes', \r\n and \0 nul", 31);
    EXPECT_EQ(run_coro(ctx_, run(conn, s, {awkward})).text, awkward);
}

TEST_F(script_test, throws_when_the_script_fails) {
    redis::connection conn(ctx_.get_executor(), options());
    const redis::script raises("return redis.error_reply('boom: refused')");
    try {
        run_coro(ctx_, run(conn, raises, {}));
        ADD_FAILURE() << "an error reply was not thrown";
    } catch (const redis::error& e) {
        EXPECT_NE(std::string(e.what()).find("boom: refused"), std::string::npos) << e.what();
    }
    inspect().checked({"SET", "text", "not a number"});
    const redis::script wrong_type("return redis.call('INCR', 'text')");
    EXPECT_THROW(run_coro(ctx_, run(conn, wrong_type, {})), redis::error);
    const redis::script broken("this is not lua");
    EXPECT_THROW(run_coro(ctx_, run(conn, broken, {})), redis::error);
    // The connection is still usable afterwards.
    const redis::script fine("return 7");
    EXPECT_EQ(run_coro(ctx_, run(conn, fine, {})).integer, 7);
}

} // namespace
} // namespace tp::test
