// The queue's scripts under concurrency: several threads, each with its own event loop and
// Redis connection (as ticketd runs), calling and ticking the same gates at the same moment.
//
// I4 (docs/api-contract.md, Invariants): a gate never has more active tokens than its
// capacity, and admits in FIFO order. Proven by reading Redis back (sampled ZCARD of the
// active set, and the activation times and arrival numbers kept in each token's record), not
// by trusting the answers. The checkers get a negative control each: fabricated violations
// they must report.

#include "queue_harness.hpp"
#include "queue_invariants.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace tp::test {
namespace {

using namespace std::chrono_literals;
using step = domain::flow_step;
using clock_type = std::chrono::steady_clock;

constexpr auto performances = "performances";
const std::string performances_endpoint = "/reservation/performances";

class queue_concurrency : public queue_suite {
protected:
    queue_concurrency() : queue_suite(5) {}
};

// What one thread of the test needs to share: one connection and store per thread.
struct loop_resources {
    loop_resources(
        asio::any_io_executor ex,
        const redis::connection_options& options,
        redis::gate_settings defaults,
        std::chrono::milliseconds ttl
    )
        : conn(ex, options), store(
                                 conn,
                                 {.defaults = defaults,
                                  .token_ttl = ttl,
                                  .record_retention = std::chrono::hours(24),
                                  .tick_spacing = std::chrono::milliseconds(1),
                                  .replicas_to_wait = 0,
                                  .replica_wait = {},
                                  .unreplicated = nullptr}
                             ) {}
    redis::connection conn;
    redis::queue_store store;
};
using shared_loop = std::shared_ptr<loop_resources>;

// --- I4 under concurrent calls and ticks -------------------------------------------------------

struct i4_run {
    redis::connection_options options;
    redis::gate_settings settings;
    std::chrono::milliseconds ttl;
    int users_per_thread = 0;
    clock_type::time_point deadline;
    std::atomic<int> unserved{0};
    std::atomic<int> requeued{0};
    std::mutex mutex;
    std::vector<std::int64_t> samples;
    std::vector<std::string> problems;

    void problem(std::string what) {
        std::lock_guard lock(mutex);
        problems.push_back(std::move(what));
    }
};

// A fan: arrives after `delay`, takes a step-1 token, polls with it until served, then stops
// (the admission runs out and the tick frees the place).
awaitable<void>
fan(shared_loop loop, i4_run& run, std::string user, clock_type::duration delay, clock_type::duration poll) {
    co_await sleep_for(delay);
    const domain::user_id fan_id(user);
    const domain::schedule_id no_schedule;
    const domain::queue_token_id no_token;
    auto out = co_await loop->store.gate_call(fan_id, step::performances, no_schedule, no_token, performances_endpoint);
    if (out.verdict != redis::queue_verdict::wait || !out.token) {
        run.problem(user + ": first call answered " + std::string(redis::to_string(out.verdict)));
        co_return;
    }
    const auto id = out.token->id;
    auto arrival = out.token->arrival;
    while (clock_type::now() < run.deadline) {
        co_await sleep_for(poll);
        out = co_await loop->store.gate_call(fan_id, step::performances, no_schedule, id, performances_endpoint);
        if (out.verdict == redis::queue_verdict::serve) {
            --run.unserved;
            co_return;
        }
        if (out.verdict != redis::queue_verdict::wait || !out.token || out.token->id != id) {
            run.problem(user + ": polling answered " + std::string(redis::to_string(out.verdict)));
            co_return;
        }
        if (out.token->arrival != arrival) {
            ++run.requeued; // polled after its admission ran out: legitimately back of the line
            arrival = out.token->arrival;
        }
    }
    run.problem(user + " was never served");
}

awaitable<void> ticker(shared_loop loop, i4_run& run, clock_type::duration every) {
    while (run.unserved > 0 && clock_type::now() < run.deadline) {
        co_await loop->store.tick(performances);
        co_await sleep_for(every);
    }
}

awaitable<void> sampler(shared_loop loop, i4_run& run) {
    std::vector<std::int64_t> mine;
    while (run.unserved > 0 && clock_type::now() < run.deadline) {
        std::vector<std::string> zcard{"ZCARD", active_key(performances)};
        const auto r = co_await loop->conn.execute(std::move(zcard));
        mine.push_back(r.integer);
        co_await sleep_for(1ms);
    }
    std::lock_guard lock(run.mutex);
    run.samples.insert(run.samples.end(), mine.begin(), mine.end());
}

awaitable<void> i4_thread(i4_run& run, int thread) {
    const auto executor = co_await asio::this_coro::executor;
    auto loop = std::make_shared<loop_resources>(executor, run.options, run.settings, run.ttl);
    std::vector<awaitable<void>> ops;
    for (int i = 0; i < run.users_per_thread; ++i) {
        const int n = thread * run.users_per_thread + i;
        const auto delay = std::chrono::milliseconds((n * 37) % 400);
        const auto poll = std::chrono::milliseconds(20 + (n % 7) * 3);
        ops.push_back(fan(loop, run, "fan-" + std::to_string(n), delay, poll));
    }
    ops.push_back(ticker(loop, run, std::chrono::milliseconds(4 + thread)));
    ops.push_back(sampler(loop, run));
    const auto failures = co_await join_all(std::move(ops), 30s);
    for (const auto& f : failures) {
        run.problem("thread " + std::to_string(thread) + ": " + f);
    }
}

TEST_F(queue_concurrency, capacity_and_fifo_hold_under_concurrent_calls_and_ticks) {
    constexpr int threads = 3;
    constexpr std::int64_t capacity = 16;
    i4_run run;
    run.options = options();
    run.settings = redis::gate_settings{capacity, 400};
    run.ttl = 150ms;
    run.users_per_thread = 80;
    run.unserved = threads * run.users_per_thread;
    run.deadline = clock_type::now() + 20s;

    const auto failures = run_on_threads(
        threads, [&run](int t) { return i4_thread(run, t); }, 40s
    );
    EXPECT_TRUE(failures.empty()) << failures.front();
    for (std::size_t i = 0; i < run.problems.size() && i < 10; ++i) {
        ADD_FAILURE() << run.problems[i];
    }
    EXPECT_EQ(run.unserved, 0) << "every fan must be served in the end";

    // Capacity, sampled while it ran.
    ASSERT_GT(run.samples.size(), 100u);
    EXPECT_EQ(capacity_violations(run.samples, capacity), std::vector<std::string>{});
    const auto most = *std::max_element(run.samples.begin(), run.samples.end());
    EXPECT_GT(most, 0) << "nothing was ever active: the test proved nothing";

    // Capacity and FIFO, from the records every admission left.
    const auto log = read_admissions(inspect(), performances);
    EXPECT_EQ(log.size(), static_cast<std::size_t>(threads * run.users_per_thread));
    EXPECT_EQ(fifo_violations(log), std::vector<std::string>{});
    EXPECT_EQ(overlap_violations(log, capacity), std::vector<std::string>{});
    RecordProperty("max_active_sampled", std::to_string(most));
    RecordProperty("requeued", std::to_string(run.requeued.load()));
}

// --- negative controls: each I4 checker reports a violation made on purpose ----------------

TEST(i4_checkers, capacity_checker_reports_an_over_capacity_sample) {
    EXPECT_TRUE(capacity_violations({0, 3, 8, 8, 2}, 8).empty());
    const auto found = capacity_violations({0, 3, 8, 9, 2}, 8);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_NE(found[0].find("9 active"), std::string::npos) << found[0];
}

TEST(i4_checkers, fifo_checker_reports_a_later_arrival_admitted_first) {
    // Ties within one tick are fine; arrival 4 admitted a tick before arrival 3 is not.
    std::vector<admission> fair{{"a", 100, 200, 1}, {"b", 100, 200, 2}, {"c", 101, 201, 3}, {"d", 102, 202, 4}};
    EXPECT_TRUE(fifo_violations(fair).empty());
    std::vector<admission> unfair{{"a", 100, 200, 1}, {"b", 100, 200, 2}, {"d", 101, 201, 4}, {"c", 102, 202, 3}};
    const auto found = fifo_violations(unfair);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_NE(found[0].find("arrival 3"), std::string::npos) << found[0];
}

TEST(i4_checkers, overlap_checker_reports_too_many_unexpired_admissions) {
    // Capacity 2: a place freed at 200 may be taken at 200.
    std::vector<admission> fair{{"a", 100, 200, 1}, {"b", 150, 250, 2}, {"c", 200, 300, 3}};
    EXPECT_TRUE(overlap_violations(fair, 2).empty());
    std::vector<admission> crowded{{"a", 100, 200, 1}, {"b", 150, 250, 2}, {"c", 199, 300, 3}};
    EXPECT_EQ(overlap_violations(crowded, 2).size(), 1u);
}

// The reader too: records written straight into Redis, bypassing the scripts.
TEST_F(queue_concurrency, checkers_catch_violations_written_straight_into_redis) {
    const auto write = [&](const std::string& id, std::int64_t active, std::int64_t seq) {
        inspect().checked(
            {"HSET",
             token_key(id),
             "user",
             "u-" + id,
             "gate",
             performances,
             "status",
             "ACTIVE",
             "seq",
             std::to_string(seq),
             "active",
             std::to_string(active),
             "expire",
             std::to_string(active + 1000)}
        );
        inspect().checked({"ZADD", active_key(performances), std::to_string(active + 1000), id});
    };
    write("t1", 1000, 1);
    write("t2", 1000, 2);
    EXPECT_TRUE(fifo_violations(read_admissions(inspect(), performances)).empty());
    EXPECT_TRUE(overlap_violations(read_admissions(inspect(), performances), 2).empty());
    write("t4", 1010, 4); // arrival 4 let in before arrival 3, and a third place taken
    write("t3", 1020, 3);
    const auto log = read_admissions(inspect(), performances);
    EXPECT_EQ(log.size(), 4u);
    EXPECT_FALSE(fifo_violations(log).empty());
    EXPECT_FALSE(overlap_violations(log, 2).empty());
    const std::vector<std::int64_t> sample{inspect().integer({"ZCARD", active_key(performances)})};
    EXPECT_FALSE(capacity_violations(sample, 2).empty());
}

// --- the same gate ticked on several connections at once ----------------------------------

struct tick_run {
    redis::connection_options options;
    redis::gate_settings settings;
    clock_type::time_point until;
    std::atomic<std::int64_t> admitted{0};
    std::atomic<std::int64_t> ticks{0};
    std::atomic<std::int64_t> most_active{0};
};

awaitable<void> tick_hard(tick_run& run) {
    const auto executor = co_await asio::this_coro::executor;
    loop_resources loop(executor, run.options, run.settings, std::chrono::minutes(5));
    while (clock_type::now() < run.until) {
        const auto result = co_await loop.store.tick(performances);
        run.admitted += result.admitted;
        ++run.ticks;
        std::vector<std::string> zcard{"ZCARD", active_key(performances)};
        const auto active = std::max(result.active, (co_await loop.conn.execute(std::move(zcard))).integer);
        auto seen = run.most_active.load();
        while (active > seen && !run.most_active.compare_exchange_weak(seen, active)) {
        }
    }
}

TEST_F(queue_concurrency, ticks_on_several_connections_at_once_admit_no_more_than_one_would) {
    configure(performances, 1000, 40);
    for (int i = 0; i < 150; ++i) {
        call("fan-" + std::to_string(i), step::performances);
    }
    tick_run run;
    run.options = options();
    run.settings = redis::gate_settings{1000, 40};
    run_tick(performances); // starts the bucket's clock, empty
    const auto started = clock_type::now();
    run.until = started + 700ms;
    const auto failures = run_on_threads(3, [&run](int) { return tick_hard(run); });
    EXPECT_TRUE(failures.empty()) << failures.front();
    const double elapsed = std::chrono::duration<double>(clock_type::now() - started).count();

    EXPECT_GT(run.ticks, 30) << "the threads did not tick concurrently enough to prove anything";
    EXPECT_LE(run.admitted, static_cast<std::int64_t>(40 * elapsed) + 1)
        << run.ticks << " ticks in " << elapsed << " s: the allowance grew with the number of callers";
    EXPECT_GE(run.admitted, 5);
    // Read back: what the ticks said they admitted is what Redis holds, in arrival order.
    EXPECT_EQ(active_count(performances), run.admitted);
    EXPECT_EQ(run_coro(ctx_, store().gate(performances)).admitted_total, run.admitted);
    const auto log = read_admissions(inspect(), performances);
    std::set<std::int64_t> arrivals;
    for (const auto& a : log) {
        arrivals.insert(a.arrival);
    }
    EXPECT_EQ(static_cast<std::int64_t>(arrivals.size()), run.admitted);
    EXPECT_EQ(arrivals.empty() ? 0 : *arrivals.rbegin(), run.admitted) << "the first arrivals, none skipped";
    EXPECT_TRUE(fifo_violations(log).empty());
}

TEST_F(queue_concurrency, ticks_on_several_connections_at_once_never_exceed_capacity) {
    configure(performances, 5, 100000);
    for (int i = 0; i < 60; ++i) {
        call("fan-" + std::to_string(i), step::performances);
    }
    run_tick(performances);
    pause(5ms);
    tick_run run;
    run.options = options();
    run.settings = redis::gate_settings{5, 100000};
    run.until = clock_type::now() + 300ms;
    const auto failures = run_on_threads(3, [&run](int) { return tick_hard(run); });
    EXPECT_TRUE(failures.empty()) << failures.front();
    EXPECT_LE(run.most_active, 5);
    EXPECT_EQ(active_count(performances), 5);
}

// --- one user, several connections at the same moment ------------------------------------

struct same_user_run {
    redis::connection_options options;
    int users = 0;
    std::mutex mutex;
    std::map<std::string, std::multiset<std::string>> answers; // user -> outcome/token seen
    std::map<std::string, std::string> step_one;               // user -> active step-1 token
    std::string schedule;
    bool hand_over = false;
};

awaitable<void> same_user_call(shared_loop loop, same_user_run& run, std::string user) {
    redis::queue_outcome out;
    const domain::user_id fan_id(user);
    if (run.hand_over) {
        const domain::queue_token_id token(run.step_one.at(user));
        const domain::schedule_id schedule(run.schedule);
        out = co_await loop->store.gate_call(
            fan_id, step::performance_seats, schedule, token, "/reservation/performance_seats/" + run.schedule
        );
    } else {
        const domain::schedule_id no_schedule;
        const domain::queue_token_id no_token;
        out = co_await loop->store.gate_call(fan_id, step::performances, no_schedule, no_token, performances_endpoint);
    }
    std::lock_guard lock(run.mutex);
    run.answers[user].insert(std::string(redis::to_string(out.verdict)) + ":" + (out.token ? out.token->id.str() : ""));
}

awaitable<void> same_user_thread(same_user_run& run) {
    const auto executor = co_await asio::this_coro::executor;
    auto loop = std::make_shared<loop_resources>(
        executor, run.options, redis::gate_settings{1000, 1000}, std::chrono::minutes(5)
    );
    std::vector<awaitable<void>> ops;
    for (int i = 0; i < run.users; ++i) {
        ops.push_back(same_user_call(loop, run, "fan-" + std::to_string(i)));
    }
    const auto failures = co_await join_all(std::move(ops));
    if (!failures.empty()) {
        throw std::runtime_error(failures.front());
    }
}

TEST_F(queue_concurrency, a_user_calling_on_several_connections_at_once_gets_one_token) {
    same_user_run run;
    run.options = options();
    run.users = 60;
    const auto failures = run_on_threads(3, [&run](int) { return same_user_thread(run); });
    EXPECT_TRUE(failures.empty()) << failures.front();
    EXPECT_EQ(waiting_count(performances), run.users);
    EXPECT_EQ(inspect().strings({"KEYS", "tp:token:*"}).size(), static_cast<std::size_t>(run.users));
    for (const auto& [user, seen] : run.answers) {
        EXPECT_EQ(seen.size(), 3u) << user;
        EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 1u)
            << user << " was given different tokens: " << *seen.begin() << " / " << *seen.rbegin();
        EXPECT_EQ("wait:" + held_by(user).value_or("none"), *seen.begin()) << user;
    }
}

TEST_F(queue_concurrency, an_active_token_is_handed_over_once_whatever_the_number_of_callers) {
    configure(performances, 1000, 1000);
    same_user_run run;
    run.options = options();
    run.users = 40;
    run.schedule = redis::queue_keys::random_uuid();
    for (int i = 0; i < run.users; ++i) {
        const auto user = "fan-" + std::to_string(i);
        const auto out = call(user, step::performances);
        ASSERT_TRUE(out.token);
        run.step_one[user] = out.token->id.str();
    }
    admit_round(performances, 60ms);
    ASSERT_EQ(active_count(performances), run.users);
    run.hand_over = true;
    const auto failures = run_on_threads(3, [&run](int) { return same_user_thread(run); });
    EXPECT_TRUE(failures.empty()) << failures.front();

    EXPECT_EQ(active_count(performances), 0);
    EXPECT_EQ(waiting_count(seats_gate(run.schedule)), run.users) << "one step-2 token per user, no more";
    int live_records = 0;
    for (const auto& key : inspect().strings({"KEYS", "tp:token:*"})) {
        live_records += inspect().hash(key)["status"] != "HANDED" ? 1 : 0; // HANDED: a consumed step-1 token
    }
    EXPECT_EQ(live_records, run.users);
    for (const auto& [user, seen] : run.answers) {
        // Callers that came while the hand-over was under way are shown its step-2 token; those
        // after it, that the step-1 token is gone.
        std::set<std::string> waits;
        for (const auto& s : seen) {
            if (s.starts_with("wait:")) {
                waits.insert(s);
                EXPECT_EQ(s, "wait:" + held_by(user).value_or("none")) << user;
            } else {
                EXPECT_EQ(s, "not_found:") << user << ": the consumed token is gone for the others";
            }
        }
        EXPECT_EQ(waits.size(), 1u) << user << ": one step-2 token, whoever was told of it";
    }
}

} // namespace
} // namespace tp::test
