#include "api/request_readers.hpp"

#include <gtest/gtest.h>

using tp::domain::errc;
namespace api = tp::api;
namespace json = boost::json;

namespace {

json::object object_of(std::string_view text) {
    return json::parse(text).as_object();
}

} // namespace

TEST(request_readers, take_seat_reads_one_id_or_a_list_but_not_both) {
    const auto one = api::read_seat_choice(object_of(R"({"performance_seat_id": "a"})"));
    ASSERT_TRUE(one);
    EXPECT_FALSE(one->many);
    EXPECT_EQ(one->ids, std::vector<std::string>{"a"});
    const auto many = api::read_seat_choice(object_of(R"({"performance_seat_ids": ["a", "b"]})"));
    ASSERT_TRUE(many);
    EXPECT_TRUE(many->many);
    EXPECT_EQ(many->ids.size(), 2u);
    const auto both = api::read_seat_choice(object_of(R"({"performance_seat_id": "a", "performance_seat_ids": []})"));
    ASSERT_FALSE(both);
    EXPECT_EQ(both.error().message, "Give performance_seat_id or performance_seat_ids, not both.");
}

TEST(request_readers, a_gate_change_needs_a_setting_within_bounds) {
    EXPECT_TRUE(api::read_gate_change(object_of(R"({"rate": 0})")));
    EXPECT_FALSE(api::read_gate_change(object_of(R"({})")));
    const auto too_big = api::read_gate_change(object_of(R"({"capacity": 10000001})"));
    ASSERT_FALSE(too_big);
    EXPECT_EQ(too_big.error().message, "capacity must be a whole number from 0 to 10000000.");
}

TEST(request_readers, a_queue_entry_names_a_booking_endpoint) {
    const auto entry = api::read_queue_entry(object_of(R"({"request_endpoint": "/reservation/performances"})"));
    ASSERT_TRUE(entry);
    EXPECT_EQ(entry->requested.step, tp::domain::flow_step::performances);
    EXPECT_FALSE(api::read_queue_entry(object_of(R"({"request_endpoint": "/payment/cash"})")));
}

TEST(request_readers, a_payment_names_a_seat_by_uuid) {
    EXPECT_TRUE(api::read_payment(object_of(R"({"performance_seat_id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"})")));
    const auto bad = api::read_payment(object_of(R"({"performance_seat_id": "seat-1"})"));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, errc::bad_request);
}

// Found by fuzzing (tests/fuzz/corpus/fuzz_json_bodies/charge_amount_overflows_to_infinity.json):
// Boost.JSON reads a number beyond a double's range as infinity, or NaN (0e3000), without an
// error.
TEST(request_readers, a_charge_refuses_an_amount_beyond_a_double) {
    for (const char* body : {R"({"amount": 5985477e578705})", R"({"amount": -1e999})", R"({"amount": 0e3000})"}) {
        const auto amount = api::read_charge(object_of(body));
        ASSERT_FALSE(amount) << body;
        EXPECT_EQ(amount.error().message, "amount must be a whole number.") << body;
    }
}

TEST(request_readers, a_performance_generates_numbered_seats) {
    const auto performance = api::read_performance(object_of(R"({
        "title": "Swan Lake", "ticketing_start_date": "2030-01-10T10:00:00Z",
        "stage": {"name": "Main Hall", "location": "Seoul"},
        "schedules": [{"staging_date": "2030-01-31T19:00:00Z", "seat_count": 3, "price": 50000}]})"));
    ASSERT_TRUE(performance);
    ASSERT_EQ(performance->schedules.size(), 1u);
    ASSERT_EQ(performance->schedules[0].seats.size(), 3u);
    EXPECT_EQ(performance->schedules[0].seats[2].seat_number, "3");
}

TEST(request_readers, the_stream_token_comes_from_the_header_before_the_query) {
    tp::http::request req{tp::http::verb::get, "/queue/queue/stream?token=from-query", 11};
    EXPECT_EQ(api::stream_queue_token(req).str(), "from-query");
    req.set("Queue-Token", "Bearer from-header");
    EXPECT_EQ(api::stream_queue_token(req).str(), "from-header");
}

TEST(request_readers, an_idempotency_key_is_visible_ascii) {
    tp::http::request req{tp::http::verb::post, "/payment/cash", 11};
    const auto none = api::idempotency_key_of(req);
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
    req.set("Idempotency-Key", "key 1");
    EXPECT_FALSE(api::idempotency_key_of(req));
}
