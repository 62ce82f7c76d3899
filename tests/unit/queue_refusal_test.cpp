// Every refusing verdict of the queue has its error, and the verdicts that let a call go on
// are never mistaken for one.

#include "api/queue_refusal.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace tp::api {
namespace {

using domain::errc;
using redis::queue_verdict;

TEST(QueueRefusal, EachRefusalHasItsCode) {
    EXPECT_EQ(queue_refusal(queue_verdict::expired, "").code, errc::queue_token_expired);
    EXPECT_EQ(queue_refusal(queue_verdict::exists, "").code, errc::queue_token_exists);
    EXPECT_EQ(queue_refusal(queue_verdict::not_found, "").code, errc::queue_token_not_found);
    EXPECT_EQ(queue_refusal(queue_verdict::not_yours, "").code, errc::queue_token_not_yours);
    EXPECT_EQ(queue_refusal(queue_verdict::sold_out, "").code, errc::sold_out);
    const auto flow = queue_refusal(queue_verdict::flow_violated, "Steps in order.");
    EXPECT_EQ(flow.code, errc::queue_flow_violated);
    EXPECT_EQ(flow.message, "Steps in order.");
}

TEST(QueueRefusal, AVerdictThatLetsTheCallGoOnIsNotARefusal) {
    for (const auto verdict :
         {queue_verdict::serve,
          queue_verdict::wait,
          queue_verdict::created,
          queue_verdict::existing,
          queue_verdict::ok}) {
        EXPECT_THROW(queue_refusal(verdict, ""), std::logic_error) << redis::to_string(verdict);
    }
}

} // namespace
} // namespace tp::api
