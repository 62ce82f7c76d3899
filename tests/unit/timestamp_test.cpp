#include <gtest/gtest.h>

#include "domain/timestamp.hpp"

using tp::domain::format_iso8601;
using tp::domain::parse_iso8601;

TEST(timestamp, parses_utc_and_offsets_to_the_same_instant) {
    EXPECT_EQ(parse_iso8601("2024-05-01T10:00:00Z"), parse_iso8601("2024-05-01T19:00:00+09:00"));
    EXPECT_EQ(parse_iso8601("1970-01-01T00:00:00.001Z"), 1);
}

TEST(timestamp, refuses_impossible_dates_and_trailing_text) {
    EXPECT_FALSE(parse_iso8601("2024-02-30T00:00:00Z"));
    EXPECT_FALSE(parse_iso8601("2024-05-01T24:00:00Z"));
    EXPECT_FALSE(parse_iso8601("2024-05-01T10:00:00Zjunk"));
    EXPECT_FALSE(parse_iso8601("2024-05-01"));
    EXPECT_FALSE(parse_iso8601(""));
}

TEST(timestamp, formats_as_the_seed_shows_dates) {
    EXPECT_EQ(format_iso8601(*parse_iso8601("2024-04-15T00:00:00Z")), "2024-04-15T00:00:00.000Z");
    EXPECT_EQ(format_iso8601(1714557600123), "2024-05-01T10:00:00.123Z");
}
