#include "storage/redis/reply_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using tp::redis::reply;
using tp::redis::reply_reader;

namespace {

std::vector<reply> replies_of(reply_reader& reader) {
    std::vector<reply> out;
    while (auto answer = reader.next()) {
        out.push_back(std::move(*answer));
    }
    return out;
}

} // namespace

TEST(reply_reader, reads_pipelined_replies_as_they_arrive) {
    reply_reader reader;
    reader.feed("+OK\r\n:42\r\n$5\r\nhel");
    auto first = replies_of(reader);
    ASSERT_EQ(first.size(), 2u);
    EXPECT_EQ(first[0].type, reply::kind::status);
    EXPECT_EQ(first[0].text, "OK");
    EXPECT_EQ(first[1].integer, 42);
    reader.feed("lo\r\n*2\r\n$-1\r\n-ERR no\r\n");
    auto rest = replies_of(reader);
    ASSERT_EQ(rest.size(), 2u);
    EXPECT_EQ(rest[0].type, reply::kind::string);
    EXPECT_EQ(rest[0].text, "hello");
    ASSERT_EQ(rest[1].type, reply::kind::array);
    ASSERT_EQ(rest[1].elements.size(), 2u);
    EXPECT_TRUE(rest[1].elements[0].is_nil());
    EXPECT_TRUE(rest[1].elements[1].is_error());
    EXPECT_FALSE(reader.failed());
}

TEST(reply_reader, a_stream_that_is_not_resp_fails_for_good) {
    reply_reader reader;
    reader.feed("+OK\r\n?what\r\n");
    ASSERT_TRUE(reader.next());
    EXPECT_FALSE(reader.next());
    EXPECT_TRUE(reader.failed());
    reader.feed("+OK\r\n");
    EXPECT_FALSE(reader.next());
}

// Found by fuzzing (tests/fuzz/corpus/fuzz_redis_reply/array_header_claims_368547758_elements.resp):
// hiredis allocated the element pointers an array header claims before any element came,
// 2.9 GB for this one line.
TEST(reply_reader, refuses_an_array_header_beyond_the_bound_without_allocating_it) {
    for (const char* header : {"*368547758\r\n", "*2147483647\r\n", "*1048577\r\n"}) {
        reply_reader reader;
        reader.feed(header);
        EXPECT_FALSE(reader.next()) << header;
        EXPECT_TRUE(reader.failed()) << header;
    }
}

TEST(reply_reader, an_array_at_the_bound_waits_for_its_elements) {
    reply_reader reader;
    reader.feed("*1048576\r\n:1\r\n");
    EXPECT_FALSE(reader.next());
    EXPECT_FALSE(reader.failed());
}
