#include "api/authentication.hpp"

#include <gtest/gtest.h>

using tp::api::authenticate_admin;
using tp::api::authenticate_user;
using tp::api::bearer_credential;
using tp::domain::errc;
using tp::security::jwt_claims;
using tp::security::jwt_codec;
using tp::security::token_verifier;

namespace {

const std::string secret = "a-test-secret-of-at-least-32-characters!";
const std::string admin_key = "an-admin-key-0123456789";

tp::http::request with_header(std::string_view name, std::string_view value) {
    tp::http::request req{tp::http::verb::get, "/payment/cash", 11};
    req.set(name, value);
    return req;
}

tp::http::request with_authorization(std::string_view value) {
    return with_header("Authorization", value);
}

} // namespace

TEST(bearer_credential, reads_the_credential_after_bearer) {
    EXPECT_EQ(bearer_credential(with_authorization("Bearer abc.def"), "Authorization"), "abc.def");
}

TEST(bearer_credential, the_scheme_is_case_insensitive_and_extra_spaces_are_skipped) {
    EXPECT_EQ(bearer_credential(with_authorization("bearer abc"), "Authorization"), "abc");
    EXPECT_EQ(bearer_credential(with_authorization("BEARER   abc"), "Authorization"), "abc");
}

TEST(bearer_credential, reads_any_named_header) {
    EXPECT_EQ(bearer_credential(with_header("Queue-Token", "Bearer 42"), "Queue-Token"), "42");
    EXPECT_EQ(bearer_credential(with_header("Queue-Token", "Bearer 42"), "Authorization"), std::nullopt);
}

TEST(bearer_credential, absent_or_other_schemes_give_nothing) {
    const tp::http::request none{tp::http::verb::get, "/", 11};
    EXPECT_EQ(bearer_credential(none, "Authorization"), std::nullopt);
    for (const char* value : {"", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "Bearerabc"}) {
        EXPECT_EQ(bearer_credential(with_authorization(value), "Authorization"), std::nullopt) << value;
    }
}

TEST(authenticate_user, a_valid_token_gives_its_user) {
    const jwt_codec jwt(secret);
    token_verifier tokens(jwt);
    const auto token = jwt.sign(jwt_claims{"user-1", 1000, 2000});
    const auto r = authenticate_user(with_authorization("Bearer " + token), tokens, 1500);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, "user-1");
}

TEST(authenticate_user, no_authorization_header_is_token_missing) {
    const tp::http::request req{tp::http::verb::get, "/payment/cash", 11};
    const jwt_codec jwt(secret);
    token_verifier tokens(jwt);
    const auto r = authenticate_user(req, tokens, 1500);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::token_missing);
}

TEST(authenticate_user, a_header_that_is_not_bearer_is_token_invalid) {
    const jwt_codec jwt(secret);
    token_verifier tokens(jwt);
    const auto token = jwt.sign(jwt_claims{"user-1", 1000, 2000});
    const std::vector<std::string> values{"Basic dXNlcjpwYXNz", token, "Bearer"};
    for (const auto& value : values) {
        const auto r = authenticate_user(with_authorization(value), tokens, 1500);
        ASSERT_FALSE(r) << value;
        EXPECT_EQ(r.error().code, errc::token_invalid) << value;
    }
}

TEST(authenticate_user, a_forged_or_expired_token_is_refused) {
    const jwt_codec jwt(secret);
    token_verifier tokens(jwt);
    const auto forged = jwt_codec("some-other-secret-of-32-characters!!").sign(jwt_claims{"user-1", 1000, 2000});
    const auto forged_r = authenticate_user(with_authorization("Bearer " + forged), tokens, 1500);
    ASSERT_FALSE(forged_r);
    EXPECT_EQ(forged_r.error().code, errc::token_invalid);

    const auto token = jwt.sign(jwt_claims{"user-1", 1000, 2000});
    const auto expired = authenticate_user(with_authorization("Bearer " + token), tokens, 2000);
    ASSERT_FALSE(expired);
    EXPECT_EQ(expired.error().code, errc::token_expired);
}

TEST(authenticate_user, a_blank_bearer_credential_is_token_invalid) {
    const jwt_codec jwt(secret);
    token_verifier tokens(jwt);
    const auto r = authenticate_user(with_authorization("Bearer    "), tokens, 1500);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::token_invalid);
}

TEST(authenticate_admin, the_right_key_is_accepted) {
    EXPECT_TRUE(authenticate_admin(with_authorization("Bearer " + admin_key), admin_key));
}

TEST(authenticate_admin, a_wrong_missing_or_partial_key_is_refused) {
    const tp::http::request none{tp::http::verb::post, "/admin/performances", 11};
    std::vector<tp::http::request> requests{
        none,
        with_authorization(admin_key),
        with_authorization("Bearer " + admin_key.substr(0, admin_key.size() - 1)),
        with_authorization("Bearer " + admin_key + "x"),
        with_authorization("Bearer " + std::string(admin_key.size(), 'x')),
        with_authorization("Bearer "),
    };
    for (const auto& req : requests) {
        const auto r = authenticate_admin(req, admin_key);
        ASSERT_FALSE(r) << req[boost::beast::http::field::authorization];
        EXPECT_EQ(r.error().code, errc::admin_key_invalid);
    }
}

TEST(authenticate_admin, an_unset_admin_key_refuses_everyone) {
    EXPECT_FALSE(authenticate_admin(with_authorization("Bearer "), ""));
    EXPECT_FALSE(authenticate_admin(with_authorization("Bearer x"), ""));
}
