#include "domain/seats.hpp"
#include "domain_printers.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace tp::domain;

namespace {

const std::string seat_a = "00000000-0000-4000-8000-00000000000a";
const std::string seat_b = "00000000-0000-4000-8000-00000000000b";
const std::string seat_c = "00000000-0000-4000-8000-00000000000c";
const std::string seat_d = "00000000-0000-4000-8000-00000000000d";
const std::string seat_e = "00000000-0000-4000-8000-00000000000e";
const std::string schedule_1 = "10000000-0000-4000-8000-000000000001";
const std::string schedule_2 = "20000000-0000-4000-8000-000000000002";

// The selection as text, to compare with the ids above.
result<std::vector<std::string>> select(std::vector<std::string> ids, int max = 4) {
    const auto selected = validate_seat_selection(ids, max);
    if (!selected) {
        return selected.error();
    }
    std::vector<std::string> out;
    for (const auto& id : *selected) {
        out.push_back(id.str());
    }
    return out;
}

seat_view free_seat(const std::string& id) {
    return seat_view{seat_id(id), schedule_id(schedule_1), seat_status::available, false, false, true, 50'000};
}

seat_view seat_held_by_other(const std::string& id) {
    return seat_view{seat_id(id), schedule_id(schedule_1), seat_status::temporary_reserved, false, false, true, 50'000};
}

// A take of `ids` refused by the guarded write, as the repository would describe it.
struct refused_take {
    refused_take(std::vector<std::string> i, std::vector<seat_view> s) : ids(std::move(i)), seats(std::move(s)) {}

    std::vector<std::string> ids;
    std::vector<seat_view> seats;
    int mine = 0;
    int available = 10;
    int max = 4;
    std::string required_schedule; // empty: any schedule

    error explain() const {
        std::vector<seat_id> requested;
        for (const auto& id : ids) {
            requested.emplace_back(id);
        }
        return explain_refused_take(take_context{requested, seats, mine, available, max, schedule_id(required_schedule)}
        );
    }
};

payment_context paying(seat_view seat, krw balance = 1'000'000) {
    return payment_context{std::move(seat), balance};
}

seat_view my_hold(const std::string& id, krw price = 50'000) {
    return seat_view{seat_id(id), schedule_id(schedule_1), seat_status::temporary_reserved, true, false, true, price};
}

} // namespace

// --- seat status -------------------------------------------------------------------------

TEST(seat_status, spells_and_parses_the_seed_names) {
    for (auto status : {seat_status::available, seat_status::temporary_reserved, seat_status::reserved}) {
        EXPECT_EQ(parse_seat_status(to_string(status)), status);
    }
    EXPECT_EQ(to_string(seat_status::temporary_reserved), "TEMPORARY_RESERVED");
    EXPECT_FALSE(parse_seat_status("available"));
    EXPECT_FALSE(parse_seat_status(""));
    EXPECT_FALSE(parse_seat_status("SOLD"));
}

// --- choosing seats ----------------------------------------------------------------------

TEST(seat_selection, accepts_one_seat) {
    const auto r = select({seat_a});
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, std::vector<std::string>{seat_a});
}

TEST(seat_selection, sorts_the_ids_so_concurrent_takes_lock_in_one_order) {
    const auto r = select({seat_c, seat_a, seat_b});
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, (std::vector<std::string>{seat_a, seat_b, seat_c}));
}

TEST(seat_selection, canonicalises_upper_case_ids) {
    std::string upper = seat_a;
    for (auto& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    const auto r = select({upper});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->front(), seat_a);
}

TEST(seat_selection, refuses_an_empty_selection) {
    const auto r = select({});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::bad_request);
}

TEST(seat_selection, refuses_an_id_that_is_not_a_uuid) {
    for (const char* bad : {"1", "", "not-a-uuid", "00000000-0000-4000-8000-00000000000"}) {
        const auto r = select({seat_a, bad});
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, errc::bad_request);
        EXPECT_NE(r.error().message.find("performance_seat_id"), std::string::npos);
    }
}

TEST(seat_selection, refuses_the_same_seat_twice) {
    const auto r = select({seat_a, seat_b, seat_a});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::bad_request);
}

TEST(seat_selection, refuses_the_same_seat_twice_in_different_case) {
    std::string upper = seat_a;
    upper[35] = 'A';
    const auto r = select({seat_a, upper});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::bad_request);
}

TEST(seat_selection, accepts_exactly_the_maximum) {
    EXPECT_TRUE(select({seat_a, seat_b, seat_c, seat_d}, 4));
    EXPECT_TRUE(select({seat_a}, 1));
}

TEST(seat_selection, refuses_more_than_the_maximum_as_seat_limit_reached) {
    const auto r = select({seat_a, seat_b, seat_c, seat_d, seat_e}, 4);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::seat_limit_reached);
    EXPECT_NE(r.error().message.find('4'), std::string::npos);
    const auto two = select({seat_a, seat_b}, 1);
    ASSERT_FALSE(two);
    EXPECT_EQ(two.error().code, errc::seat_limit_reached);
}

// --- why a take was refused --------------------------------------------------------------

TEST(refused_take, an_unknown_seat_is_seat_not_found_before_anything_else) {
    refused_take t{{seat_a, seat_b}, {free_seat(seat_a)}};
    t.available = 0;
    t.mine = 4;
    EXPECT_EQ(t.explain().code, errc::seat_not_found);
    refused_take none{{seat_a}, {}};
    EXPECT_EQ(none.explain().code, errc::seat_not_found);
}

TEST(refused_take, seats_of_two_schedules_in_one_take_are_a_bad_request) {
    auto other = free_seat(seat_b);
    other.schedule_id = schedule_id(schedule_2);
    refused_take t{{seat_a, seat_b}, {free_seat(seat_a), other}};
    EXPECT_EQ(t.explain().code, errc::bad_request);
}

TEST(refused_take, a_seat_outside_the_schedule_the_queue_admits_to_violates_the_queue_flow) {
    refused_take t{{seat_a}, {free_seat(seat_a)}};
    t.required_schedule = schedule_2;
    EXPECT_EQ(t.explain().code, errc::queue_flow_violated);
    t.required_schedule = schedule_1;
    EXPECT_NE(t.explain().code, errc::queue_flow_violated);
}

TEST(refused_take, before_ticketing_starts_is_ticketing_not_started) {
    auto early = free_seat(seat_a);
    early.ticketing_started = false;
    refused_take t{{seat_a}, {early}};
    t.available = 0; // even with nothing left: the first thing a fan should hear is "too early"
    EXPECT_EQ(t.explain().code, errc::ticketing_not_started);
}

TEST(refused_take, nothing_left_in_the_schedule_is_sold_out) {
    refused_take t{{seat_a}, {seat_held_by_other(seat_a)}};
    t.available = 0;
    t.mine = 4;
    EXPECT_EQ(t.explain().code, errc::sold_out);
}

TEST(refused_take, going_over_the_per_user_limit_is_seat_limit_reached) {
    refused_take t{{seat_a}, {free_seat(seat_a)}};
    t.mine = 4;
    t.max = 4;
    const auto e = t.explain();
    EXPECT_EQ(e.code, errc::seat_limit_reached);
    EXPECT_NE(e.message.find("you have 4"), std::string::npos) << e.message;
}

TEST(refused_take, the_limit_counts_the_seats_asked_for_now) {
    refused_take t{{seat_a, seat_b}, {free_seat(seat_a), free_seat(seat_b)}};
    t.mine = 3;
    t.max = 4;
    EXPECT_EQ(t.explain().code, errc::seat_limit_reached);
    t.mine = 2; // 2 + 2 == 4 fits: the refusal must come from somewhere else
    EXPECT_NE(t.explain().code, errc::seat_limit_reached);
}

TEST(refused_take, a_seat_held_by_another_user_is_seat_taken) {
    refused_take t{{seat_a}, {seat_held_by_other(seat_a)}};
    const auto e = t.explain();
    EXPECT_EQ(e.code, errc::seat_taken);
    EXPECT_EQ(e.message, "The seat is already taken.");
}

TEST(refused_take, a_sold_seat_is_seat_taken) {
    auto sold = seat_held_by_other(seat_a);
    sold.status = seat_status::reserved;
    refused_take t{{seat_a}, {sold}};
    EXPECT_EQ(t.explain().code, errc::seat_taken);
}

TEST(refused_take, one_taken_seat_among_several_refuses_the_take) {
    refused_take t{{seat_a, seat_b}, {free_seat(seat_a), seat_held_by_other(seat_b)}};
    EXPECT_EQ(t.explain().code, errc::seat_taken);
}

TEST(refused_take, a_seat_i_already_hold_is_seat_taken_and_says_so) {
    auto mine = my_hold(seat_a);
    refused_take t{{seat_a}, {mine}};
    t.mine = 1;
    const auto e = t.explain();
    EXPECT_EQ(e.code, errc::seat_taken);
    EXPECT_NE(e.message.find("You already"), std::string::npos) << e.message;
}

TEST(refused_take, seats_that_look_free_again_ask_to_retry) {
    refused_take t{{seat_a}, {free_seat(seat_a)}};
    const auto e = t.explain();
    EXPECT_EQ(e.code, errc::seat_taken);
    EXPECT_NE(e.message.find("try again"), std::string::npos) << e.message;
}

// --- why a payment was refused -----------------------------------------------------------

TEST(refused_payment, an_unknown_seat_is_seat_not_found) {
    EXPECT_EQ(explain_refused_payment(payment_context{std::nullopt, 0}).code, errc::seat_not_found);
}

TEST(refused_payment, a_seat_i_bought_already_is_seat_already_paid) {
    auto bought = my_hold(seat_a);
    bought.status = seat_status::reserved;
    EXPECT_EQ(explain_refused_payment(paying(bought)).code, errc::seat_already_paid);
}

TEST(refused_payment, a_seat_someone_else_bought_is_seat_not_held) {
    auto sold = seat_held_by_other(seat_a);
    sold.status = seat_status::reserved;
    EXPECT_EQ(explain_refused_payment(paying(sold)).code, errc::seat_not_held);
}

TEST(refused_payment, my_expired_hold_is_hold_expired) {
    auto expired = my_hold(seat_a);
    expired.status = seat_status::available; // an expired hold counts as available
    expired.hold_expired = true;
    EXPECT_EQ(explain_refused_payment(paying(expired)).code, errc::hold_expired);
}

TEST(refused_payment, someone_elses_expired_hold_is_seat_not_held) {
    auto expired = seat_held_by_other(seat_a);
    expired.status = seat_status::available;
    expired.hold_expired = true;
    EXPECT_EQ(explain_refused_payment(paying(expired)).code, errc::seat_not_held);
}

TEST(refused_payment, a_seat_held_by_another_user_is_seat_not_held) {
    EXPECT_EQ(explain_refused_payment(paying(seat_held_by_other(seat_a))).code, errc::seat_not_held);
}

TEST(refused_payment, a_seat_nobody_holds_is_seat_not_held) {
    EXPECT_EQ(explain_refused_payment(paying(free_seat(seat_a))).code, errc::seat_not_held);
}

TEST(refused_payment, my_live_hold_with_too_little_money_is_insufficient_balance) {
    EXPECT_EQ(explain_refused_payment(paying(my_hold(seat_a, 50'000), 49'999)).code, errc::insufficient_balance);
}

TEST(refused_payment, my_live_hold_with_enough_money_means_the_hold_changed) {
    const auto e = explain_refused_payment(paying(my_hold(seat_a, 50'000), 50'000));
    EXPECT_EQ(e.code, errc::seat_not_held);
    EXPECT_NE(e.message.find("try again"), std::string::npos) << e.message;
}

TEST(hold_policy, defaults_are_five_minutes_and_four_seats) {
    const hold_policy policy;
    EXPECT_EQ(policy.hold_ttl_seconds, 300);
    EXPECT_EQ(policy.max_seats_per_user, 4);
}
