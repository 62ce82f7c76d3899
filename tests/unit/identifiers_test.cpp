#include "domain/identifiers.hpp"
#include "domain_printers.hpp"

#include <gtest/gtest.h>

#include <string>
#include <type_traits>
#include <unordered_map>

using tp::domain::parse_uuid;

TEST(parse_uuid, accepts_a_canonical_uuid) {
    EXPECT_EQ(parse_uuid("123e4567-e89b-12d3-a456-426614174000"), "123e4567-e89b-12d3-a456-426614174000");
}

TEST(parse_uuid, lowercases_so_each_id_has_one_spelling) {
    EXPECT_EQ(parse_uuid("123E4567-E89B-12D3-A456-426614174ABC"), "123e4567-e89b-12d3-a456-426614174abc");
}

TEST(parse_uuid, refuses_wrong_length_missing_dashes_and_non_hex) {
    for (const char* text :
         {"",
          "123e4567",
          "123e4567-e89b-12d3-a456-42661417400",
          "123e4567-e89b-12d3-a456-4266141740000",
          "123e4567e89b12d3a456426614174000",
          "{123e4567-e89b-12d3-a456-426614174000}",
          "123e4567-e89b-12d3-a456_426614174000",
          "123e4567-e89b-12d3-a456-42661417400g",
          "123e4567-e89b-12d3-a4560426614174000",
          " 23e4567-e89b-12d3-a456-426614174000",
          "1' OR '1'='1--------------------------"}) {
        EXPECT_FALSE(parse_uuid(text)) << text;
    }
}

TEST(parse_uuid, refuses_a_dash_where_a_hex_digit_belongs) {
    EXPECT_FALSE(parse_uuid("-23e4567-e89b-12d3-a456-426614174000"));
    EXPECT_FALSE(parse_uuid("123e4567--89b-12d3-a456-426614174000"));
}

// --- typed ids ---------------------------------------------------------------------------

using tp::domain::parse_id;
using tp::domain::schedule_id;
using tp::domain::seat_id;
using tp::domain::user_id;

TEST(parse_id, gives_the_canonical_spelling_in_the_ids_own_type) {
    const auto id = parse_id<seat_id>("123E4567-E89B-12D3-A456-426614174ABC");
    ASSERT_TRUE(id);
    EXPECT_EQ(id->str(), "123e4567-e89b-12d3-a456-426614174abc");
    EXPECT_FALSE(parse_id<seat_id>("not-a-uuid"));
}

TEST(strong_id, compares_and_orders_as_its_text) {
    const seat_id a("00000000-0000-4000-8000-00000000000a");
    const seat_id b("00000000-0000-4000-8000-00000000000b");
    EXPECT_EQ(a, seat_id(a.str()));
    EXPECT_NE(a, b);
    EXPECT_LT(a, b);
    EXPECT_TRUE(seat_id().empty());
}

TEST(strong_id, keys_an_unordered_map) {
    std::unordered_map<schedule_id, int> counts;
    counts[schedule_id("s1")] = 1;
    counts[schedule_id("s2")] = 2;
    EXPECT_EQ(counts.at(schedule_id("s1")), 1);
    EXPECT_EQ(counts.size(), 2u);
}

// The point of the types: ids of different kinds do not convert into each other, nor from text.
static_assert(!std::is_convertible_v<seat_id, user_id>);
static_assert(!std::is_convertible_v<user_id, schedule_id>);
static_assert(!std::is_convertible_v<std::string, seat_id>);
static_assert(!std::is_constructible_v<seat_id, schedule_id>);
