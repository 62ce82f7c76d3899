// One schedule's seat list kept ready to send: the operator's order, expiry judged at the
// answer's time, a change encoding only its own block, tags that follow the content.

#include "api/seat_map.hpp"
#include "gunzip.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <stdexcept>

namespace {

using tp::api::seat_map;
using tp::domain::seat_status;
using tp::test::gunzip;

constexpr tp::domain::epoch_ms now = 1'800'000'000'000;

std::vector<tp::pg::listed_seat> seats(std::size_t n) {
    std::vector<tp::pg::listed_seat> out;
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(tp::pg::listed_seat{
            "00000000-0000-4000-8000-" + std::string(12 - std::to_string(i).size(), '0') + std::to_string(i),
            "R" + std::to_string(n - i), // not sorted: the list keeps the given order
            1000 + static_cast<tp::domain::krw>(i),
            {}});
    }
    return out;
}

std::string status_of(const tp::api::seat_list_answer& a, std::size_t i) {
    return std::string(boost::json::parse(a.json()).as_array().at(i).as_object().at("reservation_status").as_string());
}

tp::pg::seat_change held_until(std::size_t position, tp::domain::epoch_ms expires) {
    tp::pg::seat_change change;
    change.position = position;
    change.state.status = seat_status::temporary_reserved;
    change.state.hold_expires = expires;
    return change;
}

TEST(seat_map, lists_every_seat_in_the_given_order_as_json_and_gzip) {
    for (const std::size_t n : {0, 1, 127, 128, 129, 1000}) {
        seat_map map(seats(n));
        const auto a = map.answer_at(now);
        const auto list = boost::json::parse(a->json()).as_array();
        ASSERT_EQ(list.size(), n);
        for (std::size_t i = 0; i < n; ++i) {
            const auto& s = list[i].as_object();
            EXPECT_EQ(s.at("seat_number").as_string(), "R" + std::to_string(n - i));
            EXPECT_EQ(s.at("price").as_int64(), 1000 + static_cast<std::int64_t>(i));
            EXPECT_EQ(s.at("reservation_status").as_string(), "AVAILABLE");
            EXPECT_EQ(s.size(), 4u); // id, seat_number, price, reservation_status
        }
        EXPECT_EQ(gunzip(a->gzip()), a->json()) << n << " seats";
        EXPECT_TRUE(a->etag.starts_with("W/\"")) << a->etag;
    }
}

TEST(seat_map, a_change_encodes_its_own_block_only_and_moves_the_tag) {
    seat_map map(seats(1000)); // 8 blocks
    const auto first = map.answer_at(now);
    const auto encoded = map.blocks_encoded();
    EXPECT_EQ(encoded, 8u);

    const tp::pg::seat_change sold{300, {seat_status::reserved, std::nullopt, 1, "a"}};
    ASSERT_TRUE(map.apply(std::span(&sold, 1)));
    const auto second = map.answer_at(now);
    EXPECT_EQ(map.blocks_encoded(), encoded + 1);
    EXPECT_NE(second->etag, first->etag);
    EXPECT_EQ(status_of(*second, 300), "RESERVED");
    EXPECT_EQ(gunzip(second->gzip()), second->json());

    // Nothing shown changed: the same answer, nothing encoded.
    EXPECT_EQ(map.answer_at(now + 1), second);
    EXPECT_EQ(map.blocks_encoded(), encoded + 1);
}

TEST(seat_map, the_same_seats_give_the_same_bytes_and_tag) {
    seat_map a(seats(300));
    seat_map b(seats(300));
    const auto change = held_until(5, now + 1000);
    a.answer_at(now);
    ASSERT_TRUE(a.apply(std::span(&change, 1)));
    ASSERT_TRUE(b.apply(std::span(&change, 1)));
    // Built along different paths (one answered before the change), alike after it.
    const auto from_a = a.answer_at(now);
    const auto from_b = b.answer_at(now);
    EXPECT_EQ(from_a->etag, from_b->etag);
    EXPECT_EQ(from_a->json(), from_b->json());
    EXPECT_EQ(from_a->gzip(), from_b->gzip());
}

TEST(seat_map, a_hold_shows_available_from_its_expiry_on) {
    seat_map map(seats(10));
    const auto hold = held_until(3, now + 5000);
    ASSERT_TRUE(map.apply(std::span(&hold, 1)));
    const auto held = map.answer_at(now);
    EXPECT_EQ(status_of(*held, 3), "TEMPORARY_RESERVED");
    EXPECT_EQ(map.next_expiry(), now + 5000);
    EXPECT_EQ(status_of(*map.answer_at(now + 4999), 3), "TEMPORARY_RESERVED");
    const auto expired = map.answer_at(now + 5000);
    EXPECT_EQ(status_of(*expired, 3), "AVAILABLE");
    EXPECT_NE(expired->etag, held->etag);
    EXPECT_EQ(map.next_expiry(), std::numeric_limits<tp::domain::epoch_ms>::max());
}

TEST(seat_map, a_change_of_an_unknown_seat_is_refused_whole) {
    seat_map map(seats(10));
    const tp::pg::seat_change changes[] = {held_until(2, now + 1000), held_until(10, now + 1000)};
    EXPECT_FALSE(map.apply(changes));
    EXPECT_EQ(status_of(*map.answer_at(now), 2), "AVAILABLE");
}

} // namespace

namespace {

// Changes of one seat reach a cache in any order (a sweeper's release logged after the take
// that followed it): the state with the higher change count wins either way.
TEST(seat_map, an_older_state_arriving_late_changes_nothing) {
    seat_map map(seats(10));
    const tp::pg::seat_change taken{4, {seat_status::temporary_reserved, now + 60'000, 7, "a"}};
    const tp::pg::seat_change released{4, {seat_status::available, std::nullopt, 6, ""}};
    ASSERT_TRUE(map.apply(std::span(&taken, 1)));
    ASSERT_TRUE(map.apply(std::span(&released, 1)));
    EXPECT_EQ(status_of(*map.answer_at(now), 4), "TEMPORARY_RESERVED");

    const tp::pg::seat_change sold{4, {seat_status::reserved, std::nullopt, 8, "a"}};
    ASSERT_TRUE(map.apply(std::span(&sold, 1)));
    EXPECT_EQ(status_of(*map.answer_at(now), 4), "RESERVED");
}

} // namespace

namespace {

// A take refused from a current map gets the answer the database would give, and only when
// the states prove it; anything close to a hold's expiry is left to the database.
class take_refusal : public ::testing::Test {
protected:
    static constexpr int limit = 2;
    const std::string me = "aaaaaaaa-0000-4000-8000-000000000001";
    const std::string other = "bbbbbbbb-0000-4000-8000-000000000002";
    const std::string schedule = "cccccccc-0000-4000-8000-000000000003";
    std::vector<tp::pg::listed_seat> listed = seats(6);
    seat_map map{seats(6), now - 60'000};

    std::string id(std::size_t i) const { return listed[i].id; }
    void
    set(std::size_t position, seat_status status, std::optional<tp::domain::epoch_ms> expires, const std::string& who) {
        const tp::pg::seat_change change{position, {status, expires, ++count_, who}};
        ASSERT_TRUE(map.apply(std::span(&change, 1)));
    }
    std::optional<tp::domain::error> refusal(const std::vector<std::string>& ids, tp::domain::epoch_ms at = now) const {
        std::vector<tp::domain::seat_id> seat_ids;
        for (const auto& id : ids) {
            seat_ids.emplace_back(id);
        }
        return map.refusal_of_take(tp::domain::user_id(me), seat_ids, limit, tp::domain::schedule_id(schedule), at);
    }

private:
    std::int64_t count_ = 0;
};

TEST_F(take_refusal, a_seat_sold_or_held_by_another_is_taken) {
    set(1, seat_status::reserved, std::nullopt, other);
    set(2, seat_status::temporary_reserved, now + 60'000, other);
    for (std::size_t i : {1u, 2u}) {
        const auto refused = refusal({id(i)});
        ASSERT_TRUE(refused) << i;
        EXPECT_EQ(refused->code, tp::domain::errc::seat_taken);
        EXPECT_EQ(refused->message, "The seat is already taken.");
    }
    EXPECT_FALSE(refusal({id(0)})) << "a free seat is for the database to give";
}

TEST_F(take_refusal, the_fans_own_seat_and_limit_come_as_the_database_says) {
    set(1, seat_status::temporary_reserved, now + 60'000, me);
    const auto mine = refusal({id(1)});
    ASSERT_TRUE(mine);
    EXPECT_EQ(mine->code, tp::domain::errc::seat_taken);
    EXPECT_EQ(mine->message, "You already hold or bought this seat.");
    EXPECT_FALSE(refusal({id(2)})) << "one held, one more allowed";

    set(3, seat_status::reserved, std::nullopt, me);
    const auto over = refusal({id(2)});
    ASSERT_TRUE(over);
    EXPECT_EQ(over->code, tp::domain::errc::seat_limit_reached);
}

TEST_F(take_refusal, nothing_left_is_sold_out) {
    for (std::size_t i = 0; i < 6; ++i) {
        set(i, seat_status::reserved, std::nullopt, other);
    }
    const auto refused = refusal({id(4)});
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->code, tp::domain::errc::sold_out);
}

TEST_F(take_refusal, near_an_expiry_before_the_start_or_for_an_unknown_seat_the_database_decides) {
    set(1, seat_status::temporary_reserved, now + 1'000, other);
    EXPECT_FALSE(refusal({id(1)})) << "a hold about to run out";
    set(2, seat_status::temporary_reserved, now - 1'000, other);
    EXPECT_FALSE(refusal({id(2)})) << "a hold just run out";
    set(3, seat_status::temporary_reserved, now - 60'000, other);
    EXPECT_FALSE(refusal({id(3)})) << "a hold long run out is free";
    set(4, seat_status::temporary_reserved, now + 60'000, other);
    EXPECT_FALSE(refusal({"dddddddd-0000-4000-8000-000000000004"})) << "not a seat of this map";
    EXPECT_FALSE(refusal({id(4)}, now - 60'000)) << "ticketing has not started";
    EXPECT_TRUE(refusal({id(4)}));
}

} // namespace
