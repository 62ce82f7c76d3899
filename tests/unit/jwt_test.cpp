#include "security/base64url.hpp"
#include "security/jwt.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <thread>

using tp::domain::errc;
using tp::security::base64url_decode;
using tp::security::base64url_encode;
using tp::security::jwt_claims;
using tp::security::jwt_codec;

namespace {

const std::string secret = "a-test-secret-of-at-least-32-characters!";
const std::string user_id = "123e4567-e89b-12d3-a456-426614174000";
constexpr std::int64_t issued = 1'700'000'000;
constexpr std::int64_t expires = 1'700'003'600;

jwt_claims sample_claims() {
    return jwt_claims{user_id, issued, expires};
}

std::string hs256(const std::string& key, const std::string& input) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(
        EVP_sha256(),
        key.data(),
        static_cast<int>(key.size()),
        reinterpret_cast<const unsigned char*>(input.data()),
        input.size(),
        digest,
        &length
    );
    return std::string(reinterpret_cast<const char*>(digest), length);
}

// A token with any header and payload, correctly signed with `key`: what an attacker who
// knows the key (or a buggy issuer) could produce.
std::string
signed_token(const std::string& header_json, const std::string& payload_json, const std::string& key = secret) {
    const auto input = base64url_encode(header_json) + "." + base64url_encode(payload_json);
    return input + "." + base64url_encode(hs256(key, input));
}

const std::string hs256_header = R"({"alg":"HS256","typ":"JWT"})";

std::string payload(std::int64_t exp = expires) {
    return R"({"sub":")" + user_id + R"(","iat":)" + std::to_string(issued) + R"(,"exp":)" + std::to_string(exp) + "}";
}

void expect_error(const tp::domain::result<jwt_claims>& r, errc code) {
    ASSERT_FALSE(r) << "accepted";
    EXPECT_EQ(r.error().code, code);
}

} // namespace

TEST(jwt, a_signed_token_verifies_to_its_claims) {
    const jwt_codec codec(secret);
    const auto token = codec.sign(sample_claims());
    const auto r = codec.verify(token, issued);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->subject, user_id);
    EXPECT_EQ(r->issued_at, issued);
    EXPECT_EQ(r->expires_at, expires);
}

TEST(jwt, the_token_is_three_base64url_segments_with_an_hs256_header) {
    const auto token = jwt_codec(secret).sign(sample_claims());
    const auto first = token.find('.');
    const auto second = token.rfind('.');
    ASSERT_NE(first, std::string::npos);
    ASSERT_NE(first, second);
    EXPECT_EQ(base64url_decode(token.substr(0, first)), hs256_header);
    EXPECT_EQ(token.find_first_of("=+/"), std::string::npos);
}

TEST(jwt, is_accepted_until_the_second_before_exp) {
    const jwt_codec codec(secret);
    const auto token = codec.sign(sample_claims());
    EXPECT_TRUE(codec.verify(token, expires - 1));
}

TEST(jwt, is_expired_at_exp) {
    const jwt_codec codec(secret);
    expect_error(codec.verify(codec.sign(sample_claims()), expires), errc::token_expired);
}

TEST(jwt, is_expired_after_exp) {
    const jwt_codec codec(secret);
    expect_error(codec.verify(codec.sign(sample_claims()), expires + 86'400), errc::token_expired);
}

TEST(jwt, a_token_signed_with_another_secret_is_invalid) {
    const auto token = jwt_codec("another-secret-also-32-characters-long").sign(sample_claims());
    expect_error(jwt_codec(secret).verify(token, issued), errc::token_invalid);
}

TEST(jwt, a_tampered_payload_is_invalid) {
    const jwt_codec codec(secret);
    const auto token = codec.sign(sample_claims());
    const auto first = token.find('.');
    const auto second = token.rfind('.');
    const auto forged_payload =
        base64url_encode(R"({"sub":"00000000-0000-0000-0000-000000000000","iat":1700000000,"exp":1700003600})");
    const auto forged = token.substr(0, first + 1) + forged_payload + token.substr(second);
    expect_error(codec.verify(forged, issued), errc::token_invalid);
}

TEST(jwt, a_tampered_signature_is_invalid) {
    const jwt_codec codec(secret);
    auto token = codec.sign(sample_claims());
    token.back() = token.back() == 'A' ? 'B' : 'A';
    expect_error(codec.verify(token, issued), errc::token_invalid);
    const auto unsigned_token = token.substr(0, token.rfind('.') + 1);
    expect_error(codec.verify(unsigned_token, issued), errc::token_invalid);
}

TEST(jwt, a_token_of_another_algorithm_is_invalid_even_when_the_mac_matches) {
    expect_error(
        jwt_codec(secret).verify(signed_token(R"({"alg":"HS512","typ":"JWT"})", payload()), issued), errc::token_invalid
    );
    expect_error(jwt_codec(secret).verify(signed_token(R"({"typ":"JWT"})", payload()), issued), errc::token_invalid);
}

TEST(jwt, an_alg_none_token_is_invalid) {
    const auto token = base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." + base64url_encode(payload()) + ".";
    expect_error(jwt_codec(secret).verify(token, issued), errc::token_invalid);
}

TEST(jwt, a_correctly_signed_token_with_our_header_passes_the_forgery_helper) {
    // Control for the tests above: the helper signs the way the codec does.
    EXPECT_TRUE(jwt_codec(secret).verify(signed_token(hs256_header, payload()), issued));
}

TEST(jwt, claims_of_the_wrong_type_or_missing_are_invalid) {
    const jwt_codec codec(secret);
    for (const char* claims_json : {
             R"({"iat":1700000000,"exp":1700003600})",
             R"({"sub":42,"iat":1700000000,"exp":1700003600})",
             R"({"sub":"u","exp":1700003600})",
             R"({"sub":"u","iat":1700000000})",
             R"({"sub":"u","iat":1700000000,"exp":"1700003600"})",
             R"({"sub":"u","iat":1700000000,"exp":1.7e9})",
             R"({"sub":"u","iat":1700000000,"exp":1e300})",
             R"(["sub"])",
             R"(not json)",
         }) {
        expect_error(codec.verify(signed_token(hs256_header, claims_json), issued), errc::token_invalid);
    }
}

TEST(jwt, garbage_is_invalid) {
    const jwt_codec codec(secret);
    for (const char* token : {"", ".", "..", "abc", "a.b", "a.b.c", "a.b.c.d", "!!!.@@@.###", "Bearer x.y.z"}) {
        expect_error(codec.verify(token, issued), errc::token_invalid);
    }
}

TEST(jwt, an_absurdly_long_token_is_invalid) {
    const jwt_codec codec(secret);
    const auto token =
        signed_token(hs256_header, R"({"sub":")" + std::string(5000, 'x') + R"(","iat":1700000000,"exp":1700003600})");
    expect_error(codec.verify(token, issued), errc::token_invalid);
}

// Each thread keeps one keyed HMAC context and re-keys it when another codec asks.
TEST(jwt, codecs_used_in_turn_on_one_thread_each_keep_their_own_secret) {
    const jwt_codec ours(secret);
    const jwt_codec theirs("another-secret-also-32-characters-long");
    for (int round = 0; round < 3; ++round) {
        const auto mine = ours.sign(sample_claims());
        const auto other = theirs.sign(sample_claims());
        EXPECT_TRUE(ours.verify(mine, issued));
        expect_error(ours.verify(other, issued), errc::token_invalid);
        EXPECT_TRUE(theirs.verify(other, issued));
        expect_error(theirs.verify(mine, issued), errc::token_invalid);
        EXPECT_EQ(mine, signed_token(hs256_header, payload())) << "the same bytes as a one-shot HMAC gives";
    }
}

TEST(jwt, a_token_signed_on_one_thread_verifies_on_another) {
    const jwt_codec codec(secret);
    const auto token = codec.sign(sample_claims());
    bool verified = false;
    std::thread([&] { verified = static_cast<bool>(codec.verify(token, issued)); }).join();
    EXPECT_TRUE(verified);
}

TEST(jwt, an_empty_secret_still_signs_and_verifies) {
    const jwt_codec codec("");
    const auto token = codec.sign(sample_claims());
    EXPECT_EQ(token, signed_token(hs256_header, payload(), "")) << "HMAC with an empty key";
    EXPECT_TRUE(codec.verify(token, issued));
    expect_error(jwt_codec(secret).verify(token, issued), errc::token_invalid);
}
