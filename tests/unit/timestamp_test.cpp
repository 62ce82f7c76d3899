#include "domain/timestamp.hpp"

#include <gtest/gtest.h>

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

TEST(timestamp, accepts_minutes_only_and_a_space_separator) {
    EXPECT_EQ(parse_iso8601("2024-05-01T10:00Z"), parse_iso8601("2024-05-01T10:00:00.000Z"));
    EXPECT_EQ(parse_iso8601("2024-05-01 10:00:00Z"), parse_iso8601("2024-05-01T10:00:00Z"));
}

TEST(timestamp, negative_offsets_move_the_instant_later) {
    EXPECT_EQ(parse_iso8601("2024-05-01T05:30:00-04:30"), parse_iso8601("2024-05-01T10:00:00Z"));
}

TEST(timestamp, refuses_loose_spellings) {
    EXPECT_FALSE(parse_iso8601("2024-05-01T10:00:00"));       // no zone
    EXPECT_FALSE(parse_iso8601("2024-5-01T10:00:00Z"));       // one-digit month
    EXPECT_FALSE(parse_iso8601("2024-05-01T10:00:00.1Z"));    // not three fraction digits
    EXPECT_FALSE(parse_iso8601("2024-05-01T10:00:00+0900"));  // offset without colon
    EXPECT_FALSE(parse_iso8601("2024-05-01T10:00:00+24:00")); // impossible offset
    EXPECT_FALSE(parse_iso8601("2024-05-01T10:60:00Z"));
    EXPECT_FALSE(parse_iso8601("2024-05-01T10:00:60Z"));
    EXPECT_FALSE(parse_iso8601("2024-13-01T10:00:00Z"));
    EXPECT_FALSE(parse_iso8601("2024-00-10T10:00:00Z"));
    EXPECT_FALSE(parse_iso8601("2023-02-29T10:00:00Z"));
    EXPECT_FALSE(parse_iso8601("2024-05-01t10:00:00z"));
}

TEST(timestamp, knows_leap_days) {
    EXPECT_TRUE(parse_iso8601("2024-02-29T00:00:00Z"));
    EXPECT_EQ(*parse_iso8601("2024-03-01T00:00:00Z") - *parse_iso8601("2024-02-28T00:00:00Z"), 2 * 86'400'000);
}

TEST(timestamp, the_epoch_is_zero) {
    EXPECT_EQ(parse_iso8601("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(format_iso8601(0), "1970-01-01T00:00:00.000Z");
}

TEST(timestamp, formatting_then_parsing_gives_the_same_instant) {
    for (const tp::domain::epoch_ms instant :
         {tp::domain::epoch_ms{0},
          tp::domain::epoch_ms{1},
          tp::domain::epoch_ms{999},
          tp::domain::epoch_ms{1'714'557'600'123},
          tp::domain::epoch_ms{4'102'444'799'999}}) {
        EXPECT_EQ(parse_iso8601(format_iso8601(instant)), instant) << instant;
    }
}

TEST(timestamp, formats_instants_before_the_epoch) {
    EXPECT_EQ(format_iso8601(-1), "1969-12-31T23:59:59.999Z");
    EXPECT_EQ(parse_iso8601(format_iso8601(-1)), -1);
}
