// The queue scripts' words are parsed once; a word no verdict has is an error, never a guess.

#include "storage/redis/queue_store.hpp"

#include <gtest/gtest.h>

namespace tp::redis {
namespace {

TEST(QueueVerdict, EveryVerdictReadsBackFromItsWord) {
    for (const auto verdict :
         {queue_verdict::serve,
          queue_verdict::wait,
          queue_verdict::created,
          queue_verdict::existing,
          queue_verdict::ok,
          queue_verdict::expired,
          queue_verdict::exists,
          queue_verdict::not_found,
          queue_verdict::not_yours,
          queue_verdict::flow_violated,
          queue_verdict::sold_out}) {
        EXPECT_EQ(parse_verdict(to_string(verdict)), verdict) << to_string(verdict);
    }
}

TEST(QueueVerdict, AMisspelledWordIsAnError) {
    EXPECT_THROW(parse_verdict("not_your"), error);
    EXPECT_THROW(parse_verdict("Serve"), error);
    EXPECT_THROW(parse_verdict(""), error);
}

} // namespace
} // namespace tp::redis
