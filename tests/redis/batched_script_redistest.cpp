// Calls of one script coalesced into batched runs (storage/redis/batched_script.hpp): each call
// gets its own answer, calls made together go in few runs, runs never mix groups, calls run
// in the order made, and a failed run fails exactly its own calls.

#include "redis_harness.hpp"
#include "storage/redis/batched_script.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tp::test {
namespace {

class batched_script_test : public redis_suite {
protected:
    batched_script_test() : redis_suite(7) {}
};

// Call i: INCR of its key, answered "<count>:<its argument>:<the shared argument>:<the run's
// first key>"; every run also counts itself. An argument "boom" fails the whole run before
// it writes anything else.
const redis::script echo(R"lua(
redis.call('INCR', 'runs')
for i = 1, #KEYS do
  if ARGV[i] == 'boom' then return redis.error_reply('boom') end
end
local out = {}
for i = 1, #KEYS do
  out[i] = redis.call('INCR', KEYS[i]) .. ':' .. ARGV[i] .. ':' .. ARGV[#ARGV] .. ':' .. KEYS[1]
end
return out
)lua");

struct outcome {
    std::string answer;
    std::string failure;
};

awaitable<void> call(redis::batched_script& s, std::string group, std::string key, std::string arg, outcome& out) {
    redis::batched_call c{.group = std::move(group), .key = std::move(key), .args = {std::move(arg)}};
    try {
        out.answer = (co_await s.call(std::move(c))).text; // (no braced list inside co_await: GCC 12)
    } catch (const redis::error& e) {
        out.failure = e.what();
    }
}

// Call i's group, key and argument.
struct call_spec {
    std::string group;
    std::string key;
    std::string arg;
};

// Makes `count` calls at once, call i as `spec(i)` says, and runs them to their end; each
// call's outcome, in the order made.
std::vector<outcome> calls_at_once(
    asio::io_context& ctx,
    redis::batched_script& s,
    std::size_t count,
    const std::function<call_spec(std::size_t)>& spec
) {
    std::vector<outcome> outcomes(count);
    std::vector<awaitable<void>> ops;
    for (std::size_t i = 0; i < count; ++i) {
        auto [group, key, arg] = spec(i);
        ops.push_back(call(s, std::move(group), std::move(key), std::move(arg), outcomes[i]));
    }
    const auto report = run_all(ctx, std::move(ops));
    EXPECT_TRUE(report.failures.empty()) << report.failures.front();
    return outcomes;
}

TEST_F(batched_script_test, calls_made_together_go_in_few_runs_each_answered_its_own) {
    redis::connection conn(ctx_.get_executor(), options());
    std::atomic<std::uint64_t> counted_calls{0};
    std::atomic<std::uint64_t> counted_runs{0};
    redis::batched_script s(conn, echo, 1, {"shared"}, {.calls = &counted_calls, .runs = &counted_runs});
    constexpr int calls = 300;
    const auto outcomes = calls_at_once(ctx_, s, calls, [](std::size_t i) {
        return call_spec{.group = "g", .key = "{g}:" + std::to_string(i), .arg = std::to_string(i)};
    });
    for (int i = 0; i < calls; ++i) {
        const auto& out = outcomes[static_cast<std::size_t>(i)];
        EXPECT_TRUE(out.failure.empty()) << out.failure;
        EXPECT_TRUE(out.answer.starts_with("1:" + std::to_string(i) + ":shared:")) << i << " answered " << out.answer;
    }
    const auto runs = inspect().integer({"GET", "runs"});
    const auto fewest = (calls + redis::batched_script::most_calls - 1) / redis::batched_script::most_calls;
    EXPECT_GE(runs, static_cast<std::int64_t>(fewest)) << "a run must not carry more than most_calls";
    EXPECT_LE(runs, static_cast<std::int64_t>(fewest) + 2) << "calls made at once must share runs";
    EXPECT_EQ(counted_calls.load(), static_cast<std::uint64_t>(calls));
    EXPECT_EQ(counted_runs.load(), static_cast<std::uint64_t>(runs)) << "the runs counted must be the runs Redis made";
}

TEST_F(batched_script_test, runs_never_mix_groups_and_keep_the_order_of_calls) {
    redis::connection conn(ctx_.get_executor(), options());
    redis::batched_script s(conn, echo, 1, {"shared"});
    const auto outcomes = calls_at_once(ctx_, s, 200, [](std::size_t i) {
        const std::string group = i % 2 == 0 ? "even" : "odd";
        return call_spec{.group = group, .key = "{" + group + "}:count", .arg = std::to_string(i)};
    });
    std::vector<int> even_counts;
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        const std::string group = i % 2 == 0 ? "even" : "odd";
        const auto& answer = outcomes[i].answer;
        EXPECT_TRUE(answer.ends_with(":{" + group + "}:count")) << "call " << i << " ran with " << answer;
        if (i % 2 == 0) {
            even_counts.push_back(std::stoi(answer.substr(0, answer.find(':'))));
        }
    }
    // One key per group, so a call's count is its place among its group's calls as Redis ran them.
    std::vector<int> in_order(even_counts.size());
    for (std::size_t k = 0; k < in_order.size(); ++k) {
        in_order[k] = static_cast<int>(k) + 1;
    }
    EXPECT_EQ(even_counts, in_order) << "calls of a group must run in the order they were made";
}

TEST_F(batched_script_test, a_failed_run_fails_its_own_calls_and_the_next_run_goes_on) {
    redis::connection conn(ctx_.get_executor(), options());
    redis::batched_script s(conn, echo, 1, {"shared"});
    const auto together = calls_at_once(ctx_, s, 10, [](std::size_t i) {
        return call_spec{.group = "g", .key = "{g}:" + std::to_string(i), .arg = i == 5 ? "boom" : "fine"};
    });
    for (const auto& out : together) {
        EXPECT_NE(out.failure.find("boom"), std::string::npos) << "answered " << out.answer;
    }
    EXPECT_FALSE(inspect().exists("{g}:0")) << "the failed run wrote nothing for its calls";

    outcome after;
    run_coro(ctx_, call(s, "g", "{g}:after", "fine", after));
    EXPECT_TRUE(after.failure.empty()) << after.failure;
    EXPECT_EQ(after.answer, "1:fine:shared:{g}:after");
}

TEST_F(batched_script_test, an_answer_of_the_wrong_length_fails_the_calls) {
    redis::connection conn(ctx_.get_executor(), options());
    const redis::script short_answer("return { 'only one' }");
    redis::batched_script s(conn, short_answer, 1, {});
    const auto outcomes =
        calls_at_once(ctx_, s, 3, [](std::size_t) { return call_spec{.group = "g", .key = "{g}:k", .arg = "x"}; });
    for (const auto& out : outcomes) {
        EXPECT_NE(out.failure.find("1 replies for 3 calls"), std::string::npos) << out.failure << out.answer;
    }
}

} // namespace
} // namespace tp::test
