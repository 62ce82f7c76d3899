#include "security/token_verifier.hpp"

#include <gtest/gtest.h>

using tp::domain::errc;
using tp::security::jwt_claims;
using tp::security::jwt_codec;
using tp::security::token_verifier;

namespace {

const jwt_codec codec("a-test-secret-of-at-least-32-characters!");

std::string token_of(const std::string& user, std::int64_t expires_at = 2000) {
    return codec.sign(jwt_claims{user, 1000, expires_at});
}

void expect_error(const tp::domain::result<jwt_claims>& r, errc code) {
    ASSERT_FALSE(r) << "accepted";
    EXPECT_EQ(r.error().code, code);
}

} // namespace

TEST(token_verifier, a_token_verifies_to_its_claims_every_time) {
    token_verifier tokens(codec);
    const auto token = token_of("user-1");
    for (int i = 0; i < 3; ++i) {
        const auto r = tokens.verify(token, 1500);
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(r->subject, "user-1");
        EXPECT_EQ(r->expires_at, 2000);
    }
}

TEST(token_verifier, a_remembered_token_still_expires) {
    token_verifier tokens(codec);
    const auto token = token_of("user-1");
    ASSERT_TRUE(tokens.verify(token, 1500));
    expect_error(tokens.verify(token, 2000), errc::token_expired);
}

TEST(token_verifier, a_token_that_differs_from_a_remembered_one_is_checked_afresh) {
    token_verifier tokens(codec);
    const auto token = token_of("user-1");
    ASSERT_TRUE(tokens.verify(token, 1500));
    auto altered = token;
    altered[altered.size() / 2] = altered[altered.size() / 2] == 'A' ? 'B' : 'A';
    expect_error(tokens.verify(altered, 1500), errc::token_invalid);
    expect_error(tokens.verify(token + "x", 1500), errc::token_invalid);
    expect_error(tokens.verify(token.substr(0, token.size() - 1), 1500), errc::token_invalid);
}

TEST(token_verifier, refusals_are_not_remembered_as_successes) {
    token_verifier tokens(codec);
    const auto forged = jwt_codec("some-other-secret-of-32-characters!!").sign(jwt_claims{"user-1", 1000, 2000});
    expect_error(tokens.verify(forged, 1500), errc::token_invalid);
    expect_error(tokens.verify(forged, 1500), errc::token_invalid);
}

TEST(token_verifier, stays_right_when_more_tokens_come_than_it_keeps) {
    token_verifier tokens(codec, 2); // at most two generations of two tokens
    std::vector<std::string> issued;
    for (int i = 0; i < 10; ++i) {
        issued.push_back(token_of("user-" + std::to_string(i), 2000 + i));
    }
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 10; ++i) {
            const auto r = tokens.verify(issued[static_cast<std::size_t>(i)], 1500);
            ASSERT_TRUE(r) << i;
            EXPECT_EQ(r->subject, "user-" + std::to_string(i));
            EXPECT_EQ(r->expires_at, 2000 + i);
        }
    }
    expect_error(tokens.verify(issued[9], 2009), errc::token_expired);
}
