#include "domain/identifiers.hpp"

#include <gtest/gtest.h>

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
