#include "domain/queue.hpp"

#include <gtest/gtest.h>

#include <limits>

using namespace tp::domain;

namespace {
constexpr const char* schedule = "123e4567-e89b-12d3-a456-426614174000";
} // namespace

TEST(queue_gates, are_named_per_step_and_schedule) {
    EXPECT_EQ(gate_name(flow_step::performances, ""), "performances");
    EXPECT_EQ(gate_name(flow_step::performance_seats, schedule), std::string("performance_seats:") + schedule);
    EXPECT_EQ(gate_name(flow_step::take_performance_seat, schedule), std::string("take_performance_seat:") + schedule);
}

TEST(queue_gates, accept_only_well_formed_names) {
    EXPECT_TRUE(is_gate_name("performances"));
    EXPECT_TRUE(is_gate_name(std::string("performance_seats:") + schedule));
    EXPECT_TRUE(is_gate_name(std::string("take_performance_seat:") + schedule));
    EXPECT_FALSE(is_gate_name("performance_seats:not-a-uuid"));
    EXPECT_FALSE(is_gate_name("performance_seats:123E4567-E89B-12D3-A456-426614174000")); // not canonical
    EXPECT_FALSE(is_gate_name("take_performance_seat:"));
    EXPECT_FALSE(is_gate_name("payments"));
    EXPECT_FALSE(is_gate_name(""));
}

TEST(queue_gates, know_their_schedule) {
    EXPECT_EQ(schedule_of_gate(std::string("performance_seats:") + schedule), schedule);
    EXPECT_EQ(schedule_of_gate("performances"), "");
}

TEST(queue_request_endpoint, maps_booking_paths_to_steps) {
    EXPECT_EQ(parse_request_endpoint("/reservation/performances")->step, flow_step::performances);
    EXPECT_EQ(parse_request_endpoint("/reservation/performaces")->step, flow_step::performances);
    const auto seats = parse_request_endpoint(std::string("/reservation/performance_seats/") + schedule);
    ASSERT_TRUE(seats);
    EXPECT_EQ(seats->step, flow_step::performance_seats);
    EXPECT_EQ(seats->schedule_id.str(), schedule);
    EXPECT_EQ(parse_request_endpoint("/reservation/take_performance_seat")->step, flow_step::take_performance_seat);
}

TEST(queue_request_endpoint, refuses_anything_else) {
    EXPECT_FALSE(parse_request_endpoint("/payment/cash"));
    EXPECT_FALSE(parse_request_endpoint("/reservation/performance_seats/42"));
    EXPECT_FALSE(parse_request_endpoint(""));
    EXPECT_FALSE(parse_request_endpoint("reservation/performances"));
}

TEST(queue_token_status, round_trips_through_text) {
    for (auto s : {token_status::waiting, token_status::active, token_status::sold_out, token_status::expired}) {
        EXPECT_EQ(parse_token_status(to_string(s)), s);
    }
    EXPECT_FALSE(parse_token_status("GONE"));
}

TEST(queue_token_status, an_admission_reads_as_expired_once_its_time_is_up) {
    using tp::domain::status_at;
    using tp::domain::token_status;
    EXPECT_EQ(status_at(token_status::active, 1000, 999), token_status::active);
    EXPECT_EQ(status_at(token_status::active, 1000, 1000), token_status::expired);
    EXPECT_EQ(status_at(token_status::active, std::nullopt, 0), token_status::expired);
    for (const auto other : {token_status::waiting, token_status::sold_out, token_status::expired}) {
        EXPECT_EQ(status_at(other, 1000, 5000), other);
        EXPECT_EQ(status_at(other, std::nullopt, 5000), other);
    }
}

TEST(queue_estimates, use_the_measured_rate_once_there_is_one) {
    EXPECT_EQ(estimated_wait_seconds(100, {.measured = 50.0, .configured = 10.0}), 2);
    EXPECT_EQ(estimated_wait_seconds(100, {.measured = 0.0, .configured = 10.0}), 10); // nothing measured yet
    EXPECT_EQ(estimated_wait_seconds(0, {.measured = 50.0, .configured = 10.0}), 0);   // admitted
    EXPECT_EQ(estimated_wait_seconds(1, {.measured = 0.0, .configured = 0.0}), 3600);  // paused: long, not infinite
}

TEST(queue_estimates, retry_after_grows_with_the_wait_within_bounds) {
    EXPECT_EQ(retry_after_seconds(0), 1);
    EXPECT_EQ(retry_after_seconds(10), 5);
    EXPECT_LE(retry_after_seconds(20), retry_after_seconds(40));
    EXPECT_EQ(retry_after_seconds(100000), 30);
}

TEST(queue_estimates, a_stream_rests_a_quarter_of_the_wait_within_bounds) {
    using std::chrono::milliseconds;
    EXPECT_EQ(stream_rest_after_rank(0), milliseconds(250)); // at the front: four events a second at most
    EXPECT_EQ(stream_rest_after_rank(1), milliseconds(250));
    EXPECT_EQ(stream_rest_after_rank(4), milliseconds(1000));
    EXPECT_EQ(stream_rest_after_rank(3600), milliseconds(5000)); // a paused gate: every few seconds
    EXPECT_EQ(stream_rest_after_rank(std::numeric_limits<std::int64_t>::max()), milliseconds(5000));
}
