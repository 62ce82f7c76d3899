// The gated call's decision table (docs/waiting-queue.md, gate_call.lua), one token per user
// (enter.lua), leaving (leave.lua), token info (plain reads) and sold-out schedules, through
// queue_store against a real Redis. Each test reads the keys back instead of trusting the
// answers.

#include "domain/identifiers.hpp"
#include "queue_harness.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace tp::test {
namespace {

using namespace std::chrono_literals;
using domain::token_status;

class gate_call : public queue_suite {
protected:
    gate_call() : queue_suite(4) {}

    const std::string schedule = redis::queue_keys::random_uuid(); // any UUID names a schedule

    // Gives `user` an ACTIVE token on `gate` by the normal path; returns its id.
    std::string admitted_token(const std::string& user, step s, const std::string& gate, const std::string& from = "") {
        const auto out = call(user, s, schedule, from);
        EXPECT_EQ(out.verdict, redis::queue_verdict::wait) << user;
        if (!out.token) {
            ADD_FAILURE() << "no token for " << user;
            return "";
        }
        admit_round(gate);
        EXPECT_EQ(status_of(out.token->id.str()), "ACTIVE") << user;
        return out.token->id.str();
    }
};

TEST_F(gate_call, issues_a_waiting_token_on_step_one_without_one) {
    const auto first = call("ann", step::performances);
    EXPECT_EQ(first.verdict, redis::queue_verdict::wait);
    ASSERT_TRUE(first.token);
    // "<tag>.<uuid>": the id names the slot of its record.
    EXPECT_EQ(redis::queue_keys::tag_of_token(first.token->id.str()), "performances") << first.token->id.str();
    EXPECT_EQ(first.token->user_id, "ann");
    EXPECT_EQ(first.token->gate, "performances");
    EXPECT_EQ(first.token->status, token_status::waiting);
    ASSERT_TRUE(first.token->rank);
    EXPECT_EQ(*first.token->rank, 1);
    EXPECT_EQ(first.token->requested_endpoint, "/reservation/performances");
    EXPECT_TRUE(first.token->issued_timestamp);

    const auto second = call("bob", step::performances);
    ASSERT_TRUE(second.token);
    EXPECT_EQ(*second.token->rank, 2);
    EXPECT_GT(second.token->arrival, first.token->arrival);

    // Read back: the line, the user index and the record.
    EXPECT_EQ(held_by("ann"), first.token->id.str());
    EXPECT_TRUE(is_waiting(performances, first.token->id.str()));
    EXPECT_EQ(status_of(first.token->id.str()), "WAITING");
    EXPECT_EQ(token_record(first.token->id.str())["user"], "ann");
}

TEST_F(gate_call, a_fan_in_line_calling_without_a_token_gets_the_one_they_hold) {
    const auto first = call("ann", step::performances);
    const auto again = call("ann", step::performances);
    ASSERT_TRUE(first.token && again.token);
    EXPECT_EQ(again.verdict, redis::queue_verdict::wait);
    EXPECT_EQ(again.token->id.str(), first.token->id.str());
    EXPECT_EQ(waiting_count(performances), 1) << "a second call must not add a second token";
}

TEST_F(gate_call, serves_an_active_token_after_a_tick) {
    const auto id = admitted_token("ann", step::performances, performances);
    const auto out = call("ann", step::performances, "", id);
    EXPECT_EQ(out.verdict, redis::queue_verdict::serve);
    ASSERT_TRUE(out.token);
    EXPECT_EQ(out.token->status, token_status::active);
    EXPECT_EQ(*out.token->rank, 0);
    ASSERT_TRUE(out.token->active_timestamp && out.token->expire_timestamp);
    EXPECT_EQ(*out.token->expire_timestamp - *out.token->active_timestamp, 5 * 60 * 1000);
    // Shown or not, an active token serves its own gate.
    EXPECT_EQ(call("ann", step::performances).verdict, redis::queue_verdict::serve);
}

TEST_F(gate_call, refuses_later_steps_without_a_token) {
    EXPECT_EQ(call("ann", step::performance_seats, schedule).verdict, redis::queue_verdict::flow_violated);
    EXPECT_EQ(call("ann", step::take_performance_seat, schedule).verdict, redis::queue_verdict::flow_violated);
    EXPECT_FALSE(held_by("ann"));
    EXPECT_EQ(inspect().integer({"DBSIZE"}), 0) << "a refused call must leave nothing behind";
}

TEST_F(gate_call, refuses_step_two_with_a_step_one_token_still_waiting) {
    const auto waiting = call("ann", step::performances);
    ASSERT_TRUE(waiting.token);
    EXPECT_EQ(
        call("ann", step::performance_seats, schedule, waiting.token->id.str()).verdict,
        redis::queue_verdict::flow_violated
    );
    EXPECT_TRUE(is_waiting(performances, waiting.token->id.str())) << "the refused token keeps its place";
    EXPECT_EQ(held_by("ann"), waiting.token->id.str());
}

TEST_F(gate_call, hands_an_active_step_one_token_over_for_step_two) {
    const auto step_one = admitted_token("ann", step::performances, performances);
    const auto out = call("ann", step::performance_seats, schedule, step_one);
    EXPECT_EQ(out.verdict, redis::queue_verdict::wait);
    ASSERT_TRUE(out.token);
    EXPECT_NE(out.token->id.str(), step_one);
    EXPECT_EQ(out.token->gate, seats_gate(schedule));
    EXPECT_EQ(out.token->status, token_status::waiting);
    // The step-1 token is consumed: handed to the seat list, its place freed.
    EXPECT_EQ(status_of(step_one), "HANDED");
    EXPECT_FALSE(is_active(performances, step_one));
    EXPECT_EQ(held_by("ann"), out.token->id.str());
    EXPECT_TRUE(is_waiting(seats_gate(schedule), out.token->id.str()));
    // A consumed token is not consumed twice: shown again for the same seat list (a retry),
    // it answers the same step-2 token; for another, it is refused; anywhere else, it is gone.
    const auto again = call("ann", step::performance_seats, schedule, step_one);
    EXPECT_EQ(again.verdict, redis::queue_verdict::wait);
    ASSERT_TRUE(again.token);
    EXPECT_EQ(again.token->id, out.token->id);
    const auto another = redis::queue_keys::random_uuid();
    EXPECT_EQ(call("ann", step::performance_seats, another, step_one).verdict, redis::queue_verdict::flow_violated);
    EXPECT_EQ(waiting_count(seats_gate(another)), 0);
    EXPECT_EQ(call("ann", step::performances, "", step_one).verdict, redis::queue_verdict::not_found);
    EXPECT_EQ(info("ann", step_one).verdict, redis::queue_verdict::not_found);
}

TEST_F(gate_call, hands_an_active_step_two_token_over_for_step_three) {
    const auto step_one = admitted_token("ann", step::performances, performances);
    const auto step_two = admitted_token("ann", step::performance_seats, seats_gate(schedule), step_one);
    const auto out = call("ann", step::take_performance_seat, schedule, step_two);
    EXPECT_EQ(out.verdict, redis::queue_verdict::wait);
    ASSERT_TRUE(out.token);
    EXPECT_EQ(out.token->gate, take_gate(schedule));
    EXPECT_FALSE(inspect().exists(token_key(step_two)));
    EXPECT_EQ(active_count(seats_gate(schedule)), 0);
    admit_round(take_gate(schedule));
    EXPECT_EQ(
        call("ann", step::take_performance_seat, schedule, out.token->id.str()).verdict, redis::queue_verdict::serve
    );
}

TEST_F(gate_call, refuses_step_three_from_a_step_one_token) {
    const auto step_one = admitted_token("ann", step::performances, performances);
    EXPECT_EQ(
        call("ann", step::take_performance_seat, schedule, step_one).verdict, redis::queue_verdict::flow_violated
    );
    EXPECT_TRUE(is_active(performances, step_one));
}

TEST_F(gate_call, refuses_another_users_token) {
    const auto anns = admitted_token("ann", step::performances, performances);
    const auto out = call("bob", step::performances, "", anns);
    EXPECT_EQ(out.verdict, redis::queue_verdict::not_yours);
    EXPECT_FALSE(out.token) << "nothing about another user's token is revealed";
    EXPECT_EQ(call("bob", step::performance_seats, schedule, anns).verdict, redis::queue_verdict::not_yours);
    EXPECT_TRUE(is_active(performances, anns));
    EXPECT_FALSE(held_by("bob"));
    EXPECT_EQ(info("bob", anns).verdict, redis::queue_verdict::not_yours);
    EXPECT_EQ(leave("bob", anns), redis::queue_verdict::not_yours);
    EXPECT_TRUE(inspect().exists(token_key(anns)));
}

TEST_F(gate_call, answers_not_found_for_an_unknown_token) {
    const auto unknown = redis::queue_keys::new_token_id("performances");
    EXPECT_EQ(call("ann", step::performances, "", unknown).verdict, redis::queue_verdict::not_found);
    EXPECT_EQ(info("ann", unknown).verdict, redis::queue_verdict::not_found);
    EXPECT_EQ(leave("ann", unknown), redis::queue_verdict::not_found);
    EXPECT_FALSE(held_by("ann"));
}

TEST_F(gate_call, step_one_drops_a_later_steps_token_and_starts_at_the_back) {
    const auto step_one = admitted_token("ann", step::performances, performances);
    const auto step_two = call("ann", step::performance_seats, schedule, step_one);
    ASSERT_TRUE(step_two.token);
    call("bob", step::performances);
    call("cid", step::performances);

    const auto back = call("ann", step::performances, "", step_two.token->id.str());
    EXPECT_EQ(back.verdict, redis::queue_verdict::wait);
    ASSERT_TRUE(back.token);
    EXPECT_NE(back.token->id.str(), step_two.token->id.str());
    EXPECT_EQ(back.token->gate, "performances");
    EXPECT_EQ(*back.token->rank, 3) << "behind bob and cid";
    EXPECT_FALSE(inspect().exists(token_key(step_two.token->id.str())));
    EXPECT_FALSE(is_waiting(seats_gate(schedule), step_two.token->id.str()));
    EXPECT_EQ(held_by("ann"), back.token->id.str());
    // Still only one token: the user holds nothing on step 2 any more.
    EXPECT_EQ(waiting_count(seats_gate(schedule)), 0);
}

TEST_F(gate_call, step_one_without_a_token_drops_the_later_step_token_the_user_holds) {
    // The token is found by the user's latest token id, read beside the script (queue_store).
    const auto step_one = admitted_token("ann", step::performances, performances);
    const auto step_two = call("ann", step::performance_seats, schedule, step_one);
    ASSERT_TRUE(step_two.token);
    call("bob", step::performances);

    const auto back = call("ann", step::performances);
    EXPECT_EQ(back.verdict, redis::queue_verdict::wait);
    ASSERT_TRUE(back.token);
    EXPECT_EQ(back.token->gate, "performances");
    EXPECT_EQ(*back.token->rank, 2) << "behind bob";
    EXPECT_FALSE(inspect().exists(token_key(step_two.token->id.str())));
    EXPECT_EQ(waiting_count(seats_gate(schedule)), 0);
    EXPECT_EQ(held_by("ann"), back.token->id.str());
    // Another user's latest token is never dropped by this one's call.
    const auto bobs = call("bob", step::performances);
    ASSERT_TRUE(bobs.token);
    EXPECT_TRUE(is_waiting(performances, bobs.token->id.str()));
}

TEST_F(gate_call, requeues_an_expired_token_at_the_back_of_its_gate) {
    use_store(redis::gate_settings{1, 1000}, 200ms);
    const auto anns = admitted_token("ann", step::performances, performances);
    const auto bob = call("bob", step::performances);
    ASSERT_TRUE(bob.token);
    const auto arrival_before = std::stoll(token_record(anns)["seq"]);
    pause(300ms); // no tick: the token is still in the active set, but past its expiry

    const auto out = call("ann", step::performances, "", anns);
    EXPECT_EQ(out.verdict, redis::queue_verdict::wait);
    ASSERT_TRUE(out.token);
    EXPECT_EQ(out.token->id.str(), anns);
    EXPECT_EQ(*out.token->rank, 2) << "behind bob, who was waiting";
    EXPECT_GT(out.token->arrival, bob.token->arrival);
    EXPECT_GT(out.token->arrival, arrival_before);
    EXPECT_FALSE(is_active(performances, anns)) << "the expired place is freed";
    EXPECT_TRUE(is_waiting(performances, anns));
    EXPECT_EQ(status_of(anns), "WAITING");
    EXPECT_EQ(token_record(anns).count("active"), 0u);
    EXPECT_EQ(inspect().integer({"TTL", token_key(anns)}), -1) << "a waiting token must not vanish";
    // Bob is admitted next, not the re-queued fan.
    run_tick(performances);
    EXPECT_EQ(status_of(bob.token->id.str()), "ACTIVE");
    EXPECT_EQ(status_of(anns), "WAITING");
}

TEST_F(gate_call, requeues_a_token_the_tick_marked_expired) {
    use_store(redis::gate_settings{1, 1000}, 200ms);
    const auto anns = admitted_token("ann", step::performances, performances);
    pause(300ms);
    run_tick(performances);
    EXPECT_EQ(status_of(anns), "EXPIRED");
    const auto out = call("ann", step::performances, "", anns);
    EXPECT_EQ(out.verdict, redis::queue_verdict::wait);
    EXPECT_TRUE(is_waiting(performances, anns));
}

TEST_F(gate_call, an_expired_previous_step_token_cannot_be_handed_over) {
    use_store(redis::gate_settings{1, 1000}, 200ms);
    const auto anns = admitted_token("ann", step::performances, performances);
    pause(300ms);
    EXPECT_EQ(call("ann", step::performance_seats, schedule, anns).verdict, redis::queue_verdict::flow_violated);
    EXPECT_EQ(waiting_count(seats_gate(schedule)), 0);
}

TEST_F(gate_call, sold_out_schedule_answers_sold_out_and_stops_admission) {
    // ann waits on step 2 of the schedule, bob holds an active step-1 token, cid is served
    // on step 2 already.
    const auto cids_one = admitted_token("cid", step::performances, performances);
    const auto cids_two = admitted_token("cid", step::performance_seats, seats_gate(schedule), cids_one);
    configure(seats_gate(schedule), 1, 1000);
    const auto anns_one = admitted_token("ann", step::performances, performances);
    const auto anns_two = call("ann", step::performance_seats, schedule, anns_one);
    ASSERT_TRUE(anns_two.token);
    const auto bobs = admitted_token("bob", step::performances, performances);
    EXPECT_NE(now_serving(seats_gate(schedule)), std::numeric_limits<std::int64_t>::max());

    run_coro(ctx_, store().mark_sold_out(domain::schedule_id(schedule)));
    EXPECT_EQ(now_serving(seats_gate(schedule)), std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(now_serving(take_gate(schedule)), std::numeric_limits<std::int64_t>::max());
    EXPECT_NE(now_serving(performances), std::numeric_limits<std::int64_t>::max());

    const auto bobs_call = call("bob", step::performance_seats, schedule, bobs);
    EXPECT_EQ(bobs_call.verdict, redis::queue_verdict::sold_out);
    EXPECT_TRUE(inspect().exists(token_key(bobs))) << "bob keeps his step-1 token for another schedule";
    EXPECT_EQ(call("cid", step::take_performance_seat, schedule, cids_two).verdict, redis::queue_verdict::sold_out);

    // The next tick tells everyone still waiting, and admits no one.
    configure(seats_gate(schedule), 100, 1000);
    EXPECT_EQ(admit_round(seats_gate(schedule)), 0);
    EXPECT_EQ(status_of(anns_two.token->id.str()), "SOLD_OUT");
    EXPECT_EQ(waiting_count(seats_gate(schedule)), 0);
    EXPECT_EQ(info("ann", anns_two.token->id.str()).token->status, token_status::sold_out);
    const auto anns_call = call("ann", step::performance_seats, schedule, anns_two.token->id.str());
    EXPECT_EQ(anns_call.verdict, redis::queue_verdict::sold_out);
    ASSERT_TRUE(anns_call.token);
    EXPECT_EQ(anns_call.token->status, token_status::sold_out);
    // Other schedules and step 1 go on.
    EXPECT_EQ(call("dan", step::performances).verdict, redis::queue_verdict::wait);
}

TEST_F(gate_call, a_waiting_token_on_a_sold_out_gate_is_told_at_once) {
    const auto anns_one = admitted_token("ann", step::performances, performances);
    const auto anns_two = call("ann", step::performance_seats, schedule, anns_one);
    ASSERT_TRUE(anns_two.token);
    run_coro(ctx_, store().mark_sold_out(domain::schedule_id(schedule)));
    const auto out = call("ann", step::performance_seats, schedule, anns_two.token->id.str());
    EXPECT_EQ(out.verdict, redis::queue_verdict::sold_out);
    EXPECT_EQ(status_of(anns_two.token->id.str()), "SOLD_OUT");
    EXPECT_FALSE(is_waiting(seats_gate(schedule), anns_two.token->id.str()));
}

// --- enter (POST /queue/queue): one token per user --------------------------------------------

TEST_F(gate_call, enter_creates_one_token_per_user) {
    const auto created = enter("ann", step::performances);
    EXPECT_EQ(created.verdict, redis::queue_verdict::created);
    ASSERT_TRUE(created.token);
    const auto again = enter("ann", step::performances);
    EXPECT_EQ(again.verdict, redis::queue_verdict::existing);
    ASSERT_TRUE(again.token);
    EXPECT_EQ(again.token->id.str(), created.token->id.str());
    EXPECT_EQ(waiting_count(performances), 1);
}

TEST_F(gate_call, enter_refuses_a_second_token_for_another_step) {
    const auto step_one = admitted_token("ann", step::performances, performances);
    const auto step_two = call("ann", step::performance_seats, schedule, step_one);
    ASSERT_TRUE(step_two.token);
    const auto out = enter("ann", step::performances);
    EXPECT_EQ(out.verdict, redis::queue_verdict::exists);
    ASSERT_TRUE(out.token);
    EXPECT_EQ(out.token->id.str(), step_two.token->id.str());
    EXPECT_EQ(enter("ann", step::performance_seats, schedule).verdict, redis::queue_verdict::existing);
    EXPECT_EQ(
        enter("ann", step::performance_seats, redis::queue_keys::random_uuid()).verdict, redis::queue_verdict::exists
    );
    EXPECT_EQ(held_by("ann"), step_two.token->id.str());
    EXPECT_EQ(waiting_count(performances), 0);
}

TEST_F(gate_call, enter_refuses_later_steps_without_a_token) {
    EXPECT_EQ(enter("ann", step::performance_seats, schedule).verdict, redis::queue_verdict::flow_violated);
    EXPECT_FALSE(held_by("ann"));
}

TEST_F(gate_call, enter_replaces_an_expired_token) {
    use_store(redis::gate_settings{1, 1000}, 200ms);
    const auto old = admitted_token("ann", step::performances, performances);
    pause(300ms);
    const auto out = enter("ann", step::performances);
    EXPECT_EQ(out.verdict, redis::queue_verdict::created);
    ASSERT_TRUE(out.token);
    EXPECT_NE(out.token->id.str(), old);
    EXPECT_FALSE(inspect().exists(token_key(old)));
    EXPECT_FALSE(is_active(performances, old)) << "the expired token's place is freed";
}

// --- leave --------------------------------------------------------------------------------------

TEST_F(gate_call, leave_frees_the_place_at_once) {
    configure(performances, 1, 1000);
    const auto anns = admitted_token("ann", step::performances, performances);
    const auto bob = call("bob", step::performances);
    ASSERT_TRUE(bob.token);
    EXPECT_EQ(active_count(performances), 1);

    EXPECT_EQ(leave("ann", anns), redis::queue_verdict::ok);
    EXPECT_EQ(active_count(performances), 0) << "freed without waiting for a tick";
    EXPECT_FALSE(inspect().exists(token_key(anns)));
    EXPECT_FALSE(held_by("ann"));
    run_tick(performances);
    EXPECT_EQ(status_of(bob.token->id.str()), "ACTIVE");
}

TEST_F(gate_call, leave_without_a_token_id_drops_what_the_user_holds) {
    const auto waiting = call("ann", step::performances);
    ASSERT_TRUE(waiting.token);
    EXPECT_EQ(leave("ann", ""), redis::queue_verdict::ok);
    EXPECT_FALSE(is_waiting(performances, waiting.token->id.str()));
    EXPECT_FALSE(held_by("ann"));
    EXPECT_EQ(leave("ann", ""), redis::queue_verdict::ok) << "nothing held: nothing to do";
}

// --- token info ---------------------------------------------------------------------------------

TEST_F(gate_call, token_info_reports_the_state_of_a_token) {
    const auto waiting = call("ann", step::performances);
    ASSERT_TRUE(waiting.token);
    auto out = info("ann", waiting.token->id.str());
    EXPECT_EQ(out.verdict, redis::queue_verdict::ok);
    ASSERT_TRUE(out.token);
    EXPECT_EQ(out.token->status, token_status::waiting);
    EXPECT_EQ(*out.token->rank, 1);
    admit_round(performances);
    out = info("ann", waiting.token->id.str());
    EXPECT_EQ(out.token->status, token_status::active);
    EXPECT_EQ(*out.token->rank, 0);
    // The stream reads by id alone.
    EXPECT_EQ(info("", waiting.token->id.str()).verdict, redis::queue_verdict::ok);
}

TEST_F(gate_call, token_info_gives_the_place_in_line_arrival_and_the_gates_own_rate) {
    configure(performances, 1, 7);
    std::vector<std::string> ids;
    for (const auto* user : {"ann", "bob", "cid"}) {
        const auto waiting = call(user, step::performances);
        ASSERT_TRUE(waiting.token);
        ids.push_back(waiting.token->id.str());
    }
    const auto cid = info("cid", ids[2]);
    ASSERT_TRUE(cid.token);
    EXPECT_EQ(cid.token->rank, 3);
    EXPECT_EQ(cid.token->arrival, 3);
    EXPECT_EQ(cid.token->gate_rate, 7.0);
    EXPECT_EQ(cid.token->gate, performances);
    EXPECT_EQ(cid.token->user_id, "cid");
    EXPECT_TRUE(cid.token->issued_timestamp);
    EXPECT_EQ(leave("ann", ids[0]), redis::queue_verdict::ok);
    EXPECT_EQ(info("cid", ids[2]).token->rank, 2) << "the line moved up";
}

TEST_F(gate_call, token_info_reads_an_admission_past_its_time_as_expired_before_any_sweep) {
    use_store(redis::gate_settings{10, 1000}, 100ms);
    const auto waiting = call("ann", step::performances);
    ASSERT_TRUE(waiting.token);
    admit_round(performances);
    ASSERT_EQ(info("ann", waiting.token->id.str()).verdict, redis::queue_verdict::ok);
    pause(150ms);
    EXPECT_EQ(status_of(waiting.token->id.str()), "ACTIVE") << "no tick has swept it";
    EXPECT_EQ(info("ann", waiting.token->id.str()).verdict, redis::queue_verdict::expired);
}

} // namespace
} // namespace tp::test
