// What the seat list relies on in Redis: a version per schedule that only rises (even when
// its key is gone), read with Redis's clock; and the read-only check of an admitted token,
// which must agree with the gate script on every case it decides.

#include "queue_harness.hpp"
#include "storage/redis/seat_map_versions.hpp"

#include <gtest/gtest.h>

#include <charconv>

namespace tp::test {
namespace {

using namespace std::chrono_literals;

class seat_list_redis : public queue_suite {
protected:
    seat_list_redis() : queue_suite(6) {}

    const std::string schedule = redis::new_token_id();

    redis::seat_map_version read() {
        redis::seat_map_versions versions(*conn_);
        return run_coro(ctx_, versions.read(schedule));
    }
    void bump() {
        redis::seat_map_versions versions(*conn_);
        run_coro(ctx_, versions.bump(schedule));
    }
    static std::int64_t number(const std::string& text) {
        std::int64_t v = 0;
        std::from_chars(text.data(), text.data() + text.size(), v);
        return v;
    }
    redis::queue_store::active_check check(const std::string& user, const std::string& token, const std::string& gate) {
        return run_coro(ctx_, store().check_active(user, token, gate));
    }
};

TEST_F(seat_list_redis, a_version_rises_with_every_bump_even_past_a_lost_key) {
    const auto none = read();
    EXPECT_EQ(none.value, "");
    EXPECT_GT(none.now_ms, 1'700'000'000'000);

    bump();
    const auto first = read();
    ASSERT_FALSE(first.value.empty());
    bump();
    const auto second = read();
    EXPECT_GT(number(second.value), number(first.value));
    EXPECT_GT(inspect().integer({"TTL", redis::seat_map_version_key(schedule)}), 0); // never left behind

    // A restart that lost the key, or its expiry: the next version is still new.
    inspect().integer({"DEL", redis::seat_map_version_key(schedule)});
    bump();
    EXPECT_GT(number(read().value), number(second.value));

    // Far ahead of the clock (many bumps in one microsecond): still + 1.
    inspect().text({"SET", redis::seat_map_version_key(schedule), "99999999999999999"});
    bump();
    EXPECT_EQ(read().value, "100000000000000000");
}

TEST_F(seat_list_redis, a_read_names_its_connection_session_which_a_reset_moves) {
    const auto first = read();
    EXPECT_EQ(read().session, first.session); // one connection, one session
    // Redis drops the connection (as in a restart): the next command fails and resets it.
    const auto id = run_coro(ctx_, conn_->execute({"CLIENT", "ID"})).integer;
    inspect().integer({"CLIENT", "KILL", "ID", std::to_string(id)});
    redis::seat_map_versions versions(*conn_);
    EXPECT_THROW(run_coro(ctx_, versions.read(schedule)), redis::error);
    pause(300ms); // the connection's retry interval
    EXPECT_NE(read().session, first.session);
}

TEST_F(seat_list_redis, the_read_only_check_serves_exactly_the_admitted_token) {
    const auto gate = seats_gate(schedule);
    // ann: admitted to step 1, then to step 2 of the schedule.
    const auto step1 = call("ann", step::performances);
    ASSERT_TRUE(step1.token);
    admit_round(performances);
    EXPECT_TRUE(check("ann", step1.token->id, performances).token);
    const auto step2 = call("ann", step::performance_seats, schedule, step1.token->id);
    ASSERT_TRUE(step2.token);
    EXPECT_FALSE(check("ann", step2.token->id, gate).token) << "served while still waiting";
    admit_round(gate);

    const auto served = check("ann", step2.token->id, gate);
    ASSERT_TRUE(served.token);
    EXPECT_EQ(served.token->gate, gate);
    EXPECT_EQ(served.token->status, domain::token_status::active);
    EXPECT_EQ(call("ann", step::performance_seats, schedule, step2.token->id).outcome, "serve"); // the script agrees

    EXPECT_FALSE(check("bob", step2.token->id, gate).token) << "another user's token";
    EXPECT_FALSE(check("ann", step2.token->id, seats_gate(redis::new_token_id())).token) << "another gate";
    EXPECT_FALSE(check("ann", redis::new_token_id(), gate).token) << "an unknown token";
    EXPECT_FALSE(check("ann", step1.token->id, performances).token) << "a consumed token";

    inspect().integer({"HSET", token_key(step2.token->id), "expire", "1"});
    EXPECT_FALSE(check("ann", step2.token->id, gate).token) << "an expired token";
    inspect().integer({"HSET", token_key(step2.token->id), "expire", "99999999999999"});
    ASSERT_TRUE(check("ann", step2.token->id, gate).token);
    run_coro(ctx_, store().mark_sold_out(schedule));
    EXPECT_FALSE(check("ann", step2.token->id, gate).token) << "a sold-out schedule";
}

TEST_F(seat_list_redis, the_check_returns_the_replies_of_what_it_carried) {
    bump();
    const auto r = run_coro(
        ctx_,
        store().check_active(
            "ann", redis::new_token_id(), performances, redis::seat_map_versions::read_commands(schedule)
        )
    );
    EXPECT_FALSE(r.token);
    redis::seat_map_versions versions(*conn_);
    EXPECT_EQ(versions.read_from(r.also).value, read().value);
}

} // namespace
} // namespace tp::test
