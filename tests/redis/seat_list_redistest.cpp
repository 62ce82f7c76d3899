// What the seat list relies on in Redis: a version per schedule that only rises (even when
// its key is gone), read with Redis's clock; the log of changes that comes with it, used
// only when it chains without a gap; and the read-only check of an admitted token, which
// must agree with the gate script on every case it decides.

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

    const std::string schedule = redis::queue_keys::random_uuid();
    const domain::schedule_id the_schedule{schedule};

    redis::seat_map_version read(const std::string& since = {}) {
        redis::seat_map_versions versions(*conn_);
        return run_coro(ctx_, versions.read(the_schedule, since));
    }
    void bump(std::vector<domain::seat_state_change> changes = {}) {
        redis::seat_map_versions versions(*conn_);
        run_coro(ctx_, versions.bump(the_schedule, changes));
    }
    static domain::seat_state_change held(std::size_t position, std::int64_t count) {
        return {.position = position, .state = {domain::seat_status::temporary_reserved, 1'800'000'000'000, count, ""}};
    }
    static std::int64_t number(const std::string& text) {
        std::int64_t v = 0;
        std::from_chars(text.data(), text.data() + text.size(), v);
        return v;
    }
    redis::queue_store::active_check check(const std::string& user, const token_ref& token, const std::string& gate) {
        return run_coro(ctx_, store().check_active(domain::user_id(user), token.id(), gate));
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
    EXPECT_GT(inspect().integer({"TTL", redis::seat_map_version_key(the_schedule)}), 0); // never left behind

    // A restart that lost the key, or its expiry: the next version is still new.
    inspect().integer({"DEL", redis::seat_map_version_key(the_schedule)});
    bump();
    EXPECT_GT(number(read().value), number(second.value));

    // Far ahead of the clock (many bumps in one microsecond): still + 1.
    inspect().text({"SET", redis::seat_map_version_key(the_schedule), "99999999999999999"});
    bump();
    EXPECT_EQ(read().value, "100000000000000000");
}

TEST_F(seat_list_redis, a_reader_gets_the_logged_changes_after_its_version_when_they_chain) {
    bump({held(3, 1)});
    const auto v1 = read();
    EXPECT_FALSE(v1.changes) << "nothing asked";
    bump({held(7, 1), held(8, 1)});
    bump({{.position = 3, .state = {domain::seat_status::reserved, std::nullopt, 2, ""}}});

    const auto after_v1 = read(v1.value);
    EXPECT_EQ(after_v1.since, v1.value);
    ASSERT_TRUE(after_v1.changes);
    ASSERT_EQ(after_v1.changes->size(), 3u); // in the order of the bumps
    EXPECT_EQ((*after_v1.changes)[0].position, 7u);
    EXPECT_EQ((*after_v1.changes)[0].state.hold_expires, 1'800'000'000'000);
    EXPECT_EQ((*after_v1.changes)[1].position, 8u);
    EXPECT_EQ((*after_v1.changes)[2].position, 3u);
    EXPECT_EQ((*after_v1.changes)[2].state.status, domain::seat_status::reserved);
    EXPECT_FALSE((*after_v1.changes)[2].state.hold_expires);
    EXPECT_EQ((*after_v1.changes)[2].state.change_count, 2);

    const auto current = read(after_v1.value);
    ASSERT_TRUE(current.changes);
    EXPECT_TRUE(current.changes->empty()) << "already current";
    EXPECT_GT(inspect().integer({"TTL", redis::seat_map_changes_key(the_schedule)}), 0);
}

TEST_F(seat_list_redis, a_gap_in_the_log_sends_the_reader_to_postgresql) {
    bump({held(1, 1)});
    const auto v1 = read();
    bump(); // a change that did not say what changed
    bump({held(2, 1)});
    EXPECT_FALSE(read(v1.value).changes);

    const auto v3 = read();
    bump({held(4, 1)});
    inspect().integer({"DEL", redis::seat_map_changes_key(the_schedule)}); // the log lost (a restart)
    bump({held(4, 2)});
    EXPECT_FALSE(read(v3.value).changes);
    const auto v5 = read();
    bump({held(4, 3)}); // the log goes on from the version it was lost at
    EXPECT_TRUE(read(v5.value).changes);

    const auto v4 = read();
    inspect().integer({"DEL", redis::seat_map_version_key(the_schedule)}); // the version lost, the log kept
    bump({held(5, 1)});
    EXPECT_FALSE(read(v4.value).changes);

    EXPECT_FALSE(read("12345").changes) << "a version the log never had";
}

TEST_F(seat_list_redis, the_seat_change_text_reads_back_and_refuses_garbage) {
    auto mine = held(0, 5);
    mine.state.holder = "5f0c2a44-08b1-4c52-9d59-6d2b1f4b5c11";
    const std::vector<domain::seat_state_change> changes{
        mine, {.position = 4999, .state = {domain::seat_status::available, std::nullopt, 6, ""}}};
    const auto text = redis::encode_seat_changes(changes);
    const auto back = redis::decode_seat_changes(text);
    ASSERT_TRUE(back);
    ASSERT_EQ(back->size(), 2u);
    EXPECT_EQ((*back)[0].position, 0u);
    EXPECT_EQ((*back)[0].state.change_count, 5);
    EXPECT_EQ((*back)[0].state.holder, mine.state.holder);
    EXPECT_EQ((*back)[1].state.holder, "");
    EXPECT_EQ((*back)[1].position, 4999u);
    EXPECT_EQ((*back)[1].state.status, domain::seat_status::available);
    for (const auto* bad :
         {"1 X - 1 -", "1 A - -", "1 A 5 1", "a A - 1 -", "1 A - 1 - 9", "1 A - 1 -;;", "1 A - 1 ", "1 A - 1"}) {
        EXPECT_FALSE(redis::decode_seat_changes(bad)) << bad;
    }
}

TEST_F(seat_list_redis, a_read_names_its_connection_session_which_a_reset_moves) {
    const auto first = read();
    EXPECT_EQ(read().session, first.session); // one connection, one session
    // Redis drops the connection (as in a restart): the next command fails and resets it.
    const auto id = run_coro(ctx_, conn_->execute({"CLIENT", "ID"})).integer;
    inspect().integer({"CLIENT", "KILL", "ID", std::to_string(id)});
    redis::seat_map_versions versions(*conn_);
    EXPECT_THROW(run_coro(ctx_, versions.read(the_schedule)), redis::error);
    pause(300ms); // the connection's retry interval
    EXPECT_NE(read().session, first.session);
}

TEST_F(seat_list_redis, the_read_only_check_serves_exactly_the_admitted_token) {
    const auto gate = seats_gate(schedule);
    // ann: admitted to step 1, then to step 2 of the schedule.
    const auto step1 = call("ann", step::performances);
    ASSERT_TRUE(step1.token);
    admit_round(performances);
    EXPECT_TRUE(check("ann", step1.token->id.str(), performances).token);
    const auto step2 = call("ann", step::performance_seats, schedule, step1.token->id.str());
    ASSERT_TRUE(step2.token);
    EXPECT_FALSE(check("ann", step2.token->id.str(), gate).token) << "served while still waiting";
    admit_round(gate);

    const auto served = check("ann", step2.token->id.str(), gate);
    ASSERT_TRUE(served.token);
    EXPECT_EQ(served.token->gate, gate);
    EXPECT_EQ(served.token->status, domain::token_status::active);
    EXPECT_EQ(
        call("ann", step::performance_seats, schedule, step2.token->id.str()).verdict, redis::queue_verdict::serve
    ); // the script agrees

    EXPECT_FALSE(check("bob", step2.token->id.str(), gate).token) << "another user's token";
    EXPECT_FALSE(check("ann", step2.token->id.str(), seats_gate(redis::queue_keys::random_uuid())).token)
        << "another gate";
    EXPECT_FALSE(check("ann", redis::queue_keys::new_token_id("performances"), gate).token) << "an unknown token";
    EXPECT_FALSE(check("ann", step1.token->id.str(), performances).token) << "a consumed token";

    inspect().integer({"HSET", token_key(step2.token->id.str()), "expire", "1"});
    EXPECT_FALSE(check("ann", step2.token->id.str(), gate).token) << "an expired token";
    inspect().integer({"HSET", token_key(step2.token->id.str()), "expire", "99999999999999"});
    ASSERT_TRUE(check("ann", step2.token->id.str(), gate).token);
    run_coro(ctx_, store().mark_sold_out(the_schedule));
    EXPECT_FALSE(check("ann", step2.token->id.str(), gate).token) << "a sold-out schedule";
}

TEST_F(seat_list_redis, the_check_returns_the_replies_of_what_it_carried) {
    bump();
    const auto r = run_coro(
        ctx_,
        store().check_active(
            domain::user_id("ann"),
            domain::queue_token_id(redis::queue_keys::new_token_id("performances")),
            performances,
            redis::seat_map_versions::read_commands(the_schedule)
        )
    );
    EXPECT_FALSE(r.token);
    redis::seat_map_versions versions(*conn_);
    EXPECT_EQ(versions.read_from(r.also).value, read().value);
}

} // namespace
} // namespace tp::test
