// tick.lua through queue_store::tick: FIFO admission bounded by capacity and by a token
// bucket refilled with Redis time; expired admissions free their place without cycling back;
// 0 pauses a gate; "now serving" follows admissions.

#include "queue_harness.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace tp::test {
namespace {

using namespace std::chrono_literals;

class tick : public queue_suite {
protected:
    tick() : queue_suite(3) {}

    // `count` users u<first>.. each take a step-1 token, in this order; returns the ids.
    std::vector<std::string> line_up(int count, int first = 0) {
        std::vector<std::string> ids;
        for (int i = first; i < first + count; ++i) {
            const auto out = call("u" + std::to_string(i), step::performances);
            EXPECT_EQ(out.verdict, redis::queue_verdict::wait);
            ids.push_back(out.token ? out.token->id.str() : "");
        }
        return ids;
    }
};

TEST_F(tick, admits_in_arrival_order) {
    configure(performances, 3, 1000);
    const auto ids = line_up(10);
    EXPECT_EQ(admit_round(performances), 3);
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(status_of(ids[i]), i < 3 ? "ACTIVE" : "WAITING") << "user " << i;
    }
    // Whoever is admitted next is the next in line, never a later arrival.
    for (int round = 0; round < 7; ++round) {
        const auto front = ids[3 + round];
        EXPECT_EQ(leave("u" + std::to_string(round), ids[round]), redis::queue_verdict::ok);
        EXPECT_EQ(run_tick(performances), 1) << "round " << round;
        EXPECT_EQ(status_of(front), "ACTIVE") << "round " << round;
        for (int later = 4 + round; later < 10; ++later) {
            EXPECT_EQ(status_of(ids[later]), "WAITING") << "round " << round << ", user " << later;
        }
    }
}

TEST_F(tick, never_admits_more_than_capacity) {
    configure(performances, 4, 1000);
    line_up(20);
    for (int i = 0; i < 5; ++i) {
        admit_round(performances, 20ms);
        EXPECT_EQ(active_count(performances), 4);
        EXPECT_EQ(waiting_count(performances), 16);
    }
    const auto counts = tick_counts(performances);
    EXPECT_EQ(counts.admitted, 0);
    EXPECT_EQ(counts.active, 4);
    EXPECT_EQ(counts.waiting, 16);
    const auto snapshot = run_coro(ctx_, store().gate(performances));
    EXPECT_EQ(snapshot.settings.capacity, 4);
    EXPECT_EQ(snapshot.active, 4);
    EXPECT_EQ(snapshot.waiting, 16);
    EXPECT_EQ(snapshot.admitted_total, 4);
}

TEST_F(tick, uses_the_store_defaults_until_the_gate_is_configured) {
    use_store(redis::gate_settings{2, 1000});
    line_up(6);
    admit_round(performances);
    EXPECT_EQ(active_count(performances), 2);
    EXPECT_EQ(run_coro(ctx_, store().gate(performances)).settings.capacity, 2);
    configure(performances, 5, 1000);
    admit_round(performances);
    EXPECT_EQ(active_count(performances), 5);
    EXPECT_EQ(run_coro(ctx_, store().gate(performances)).settings.capacity, 5);
}

TEST_F(tick, admits_no_more_than_the_rate_allows) {
    configure(performances, 1000, 5);
    line_up(60);
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(run_tick(performances), 0) << "the bucket starts empty";
    pause(1200ms);
    // A bucket holds at most one second's worth, however long the gate was left alone.
    const auto burst = run_tick(performances);
    EXPECT_GE(burst, 4);
    EXPECT_LE(burst, 5);
    // Then admissions follow the rate: never more than rate * elapsed + one second's worth,
    // and never more than the rate within any one second (so none until the burst is a
    // second old).
    std::int64_t admitted = burst;
    for (int i = 0; i < 30; ++i) {
        pause(50ms);
        admitted += run_tick(performances);
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        EXPECT_LE(admitted, static_cast<std::int64_t>(5 * elapsed) + 5 + 1) << "after " << elapsed << " s";
    }
    EXPECT_GT(admitted, burst) << "the bucket refilled with time";
    EXPECT_EQ(active_count(performances), admitted);
    EXPECT_EQ(waiting_count(performances), 60 - admitted);
}

TEST_F(tick, ticking_more_often_admits_no_more) {
    configure(performances, 1000, 10);
    line_up(40);
    run_tick(performances);
    const auto started = std::chrono::steady_clock::now();
    std::int64_t admitted = 0;
    while (std::chrono::steady_clock::now() - started < 500ms) {
        admitted += run_tick(performances); // hundreds of ticks, back to back
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    EXPECT_LE(admitted, static_cast<std::int64_t>(10 * elapsed) + 1);
    EXPECT_GE(admitted, 2);
}

TEST_F(tick, expired_admissions_free_their_place_and_are_not_requeued) {
    use_store(redis::gate_settings{2, 1000}, 200ms);
    const auto ids = line_up(4);
    EXPECT_EQ(admit_round(performances), 2);
    EXPECT_EQ(status_of(ids[0]), "ACTIVE");
    EXPECT_EQ(status_of(ids[1]), "ACTIVE");
    pause(300ms);
    // One tick both frees the expired places and fills them from the line.
    EXPECT_EQ(run_tick(performances), 2);
    for (int i : {0, 1}) {
        EXPECT_EQ(status_of(ids[i]), "EXPIRED") << i;
        EXPECT_FALSE(is_active(performances, ids[i])) << i;
        EXPECT_FALSE(is_waiting(performances, ids[i])) << "an abandoned token must not cycle back: " << i;
        EXPECT_EQ(info("u" + std::to_string(i), ids[i]).verdict, redis::queue_verdict::expired) << i;
    }
    EXPECT_EQ(status_of(ids[2]), "ACTIVE");
    EXPECT_EQ(status_of(ids[3]), "ACTIVE");
    EXPECT_EQ(active_count(performances), 2);
    EXPECT_EQ(waiting_count(performances), 0);
    // The record stays for a late caller, with a bounded lifetime.
    EXPECT_GT(inspect().integer({"TTL", token_key(ids[0])}), 0);
}

TEST_F(tick, capacity_zero_pauses_the_gate) {
    configure(performances, 0, 1000);
    line_up(3);
    EXPECT_EQ(admit_round(performances, 50ms), 0);
    EXPECT_EQ(active_count(performances), 0);
    configure(performances, 2, 1000);
    EXPECT_EQ(admit_round(performances), 2) << "raising the capacity resumes admission";
}

TEST_F(tick, rate_zero_pauses_the_gate) {
    configure(performances, 10, 0);
    line_up(3);
    EXPECT_EQ(admit_round(performances, 50ms), 0);
    EXPECT_EQ(active_count(performances), 0);
}

// A gate that ran at full rate has a full bucket saved up; pausing it with rate 0 must stop
// admission at once, not after one more fan.
TEST_F(tick, rate_zero_pauses_a_gate_that_had_allowance_saved) {
    configure(performances, 10, 100);
    run_tick(performances);
    pause(100ms);
    run_tick(performances); // nobody waiting: the allowance is kept, up to one second's worth
    configure(performances, 10, 0);
    line_up(3);
    EXPECT_EQ(admit_round(performances, 50ms), 0) << "rate 0 let a saved-up admission through";
    EXPECT_EQ(active_count(performances), 0);
}

TEST_F(tick, forgets_a_gate_with_nobody_left) {
    const auto ids = line_up(2);
    EXPECT_EQ(run_coro(ctx_, store().gates_in_use()), std::vector<std::string>{performances});
    EXPECT_EQ(leave("u0", ids[0]), redis::queue_verdict::ok);
    EXPECT_EQ(leave("u1", ids[1]), redis::queue_verdict::ok);
    run_tick(performances);
    EXPECT_TRUE(run_coro(ctx_, store().gates_in_use()).empty());
}

TEST_F(tick, now_serving_follows_admissions) {
    configure(performances, 3, 1000);
    const auto ids = line_up(5);
    EXPECT_EQ(now_serving(performances), 0);
    admit_round(performances);
    const auto third = std::stoll(token_record(ids[2])["seq"]);
    EXPECT_EQ(now_serving(performances), third);
    EXPECT_EQ(leave("u0", ids[0]), redis::queue_verdict::ok);
    run_tick(performances);
    EXPECT_EQ(now_serving(performances), std::stoll(token_record(ids[3])["seq"]));
    // A waiting fan's rank is its arrival number minus now serving.
    const auto last = call("u4", step::performances, "", ids[4]);
    ASSERT_TRUE(last.token);
    EXPECT_EQ(*last.token->rank, last.token->arrival - now_serving(performances));
}

// A drawn fan who left between the ticketing start and the draw is a place with no record
// (draw.lua): the tick passes over it, admits no one in its stead, and writes no record.
TEST_F(tick, skips_a_place_whose_token_has_no_record) {
    configure(performances, 3, 1000);
    const auto ids = line_up(3);
    inspect().checked({"DEL", token_key(ids[1])});
    admit_round(performances);
    EXPECT_EQ(status_of(ids[0]), "ACTIVE");
    EXPECT_EQ(status_of(ids[2]), "ACTIVE");
    EXPECT_FALSE(is_active(performances, ids[1]));
    EXPECT_FALSE(is_waiting(performances, ids[1]));
    EXPECT_FALSE(inspect().exists(token_key(ids[1])));
    EXPECT_EQ(active_count(performances), 2);
}

TEST_F(tick, a_gate_ticked_within_the_spacing_is_left_to_the_next_round) {
    use_store(redis::gate_settings{100, 1000}, std::chrono::minutes(5), std::chrono::hours(24), 300ms);
    line_up(10);
    run_tick(performances); // the bucket starts empty: this round only starts the clock
    pause(100ms);
    EXPECT_EQ(run_tick(performances), 0) << "another instance ticked this gate 100 ms ago";
    const auto skipped = tick_counts(performances);
    EXPECT_EQ(skipped.admitted, 0);
    EXPECT_EQ(skipped.waiting, 10) << "a skipped round still reports the line";
    pause(300ms);
    EXPECT_GT(run_tick(performances), 0) << "past the spacing, a whole round admits what the rate saved up";
}

} // namespace
} // namespace tp::test
