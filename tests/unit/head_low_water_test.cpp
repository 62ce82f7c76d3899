// The receive low-water mark of a head being read: the fewest bytes that could still end a
// head must never be more than a valid head (or the header limit) needs, or the server would
// sit on a complete request until the header timeout.

#include "http/request_reader.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tp::http {
namespace {

constexpr std::size_t limit = 8192;

TEST(HeadLowWater, NothingYetWaitsForTheShortestHead) {
    EXPECT_EQ(fewest_bytes_to_end_head(0, "", limit), 16u);
    EXPECT_EQ(fewest_bytes_to_end_head(1, "G", limit), 15u);
    EXPECT_EQ(fewest_bytes_to_end_head(10, "T /", limit), 6u);
}

TEST(HeadLowWater, APartlyArrivedEndCountsTowardsIt) {
    EXPECT_EQ(fewest_bytes_to_end_head(40, "abc", limit), 4u);
    EXPECT_EQ(fewest_bytes_to_end_head(40, "bc\r", limit), 3u);
    EXPECT_EQ(fewest_bytes_to_end_head(40, "c\r\n", limit), 2u);
    EXPECT_EQ(fewest_bytes_to_end_head(40, "\r\n\r", limit), 1u);
    EXPECT_EQ(fewest_bytes_to_end_head(40, "\n\r\n", limit), 2u); // "\r\n" begins the end again
    EXPECT_EQ(fewest_bytes_to_end_head(40, "\r\r\r", limit), 3u);
}

TEST(HeadLowWater, TheLargerOfTheTwoBoundsHolds) {
    EXPECT_EQ(fewest_bytes_to_end_head(14, "1\r\n", limit), 2u);
    EXPECT_EQ(fewest_bytes_to_end_head(15, "\r\n\r", limit), 1u);
    EXPECT_EQ(fewest_bytes_to_end_head(12, "1\r\n", limit), 4u);
}

TEST(HeadLowWater, TheHeaderLimitIsReachedWithoutWaitingPastIt) {
    EXPECT_EQ(fewest_bytes_to_end_head(limit - 2, "abc", limit), 2u);
    EXPECT_EQ(fewest_bytes_to_end_head(limit - 1, "abc", limit), 1u);
    EXPECT_EQ(fewest_bytes_to_end_head(limit, "abc", limit), 4u); // the parser has refused it already
    EXPECT_EQ(fewest_bytes_to_end_head(3, "GET", 10), 7u);
}

// Every prefix of a real head, cut anywhere: the bytes still to come are never fewer than
// the mark, so a head arriving in any pieces is read as soon as it is whole.
TEST(HeadLowWater, NeverAsksForMoreThanTheRestOfAValidHead) {
    for (const std::string head :
         {"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", "A * HTTP/1.1\r\n\r\n", "GET / HTTP/1.0\r\n\r\n"}) {
        for (std::size_t cut = 0; cut < head.size(); ++cut) {
            const auto tail = head.substr(cut < 3 ? 0 : cut - 3, cut < 3 ? cut : 3);
            EXPECT_LE(fewest_bytes_to_end_head(cut, tail, limit), head.size() - cut) << head << " cut at " << cut;
            EXPECT_GE(fewest_bytes_to_end_head(cut, tail, limit), 1u);
        }
    }
}

} // namespace
} // namespace tp::http
