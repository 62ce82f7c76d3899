#include "security/jwt.hpp"

#include "security/base64url.hpp"

#include <boost/json.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace tp::security {
namespace {

namespace json = boost::json;
using domain::errc;
using domain::make_error;

// The header is fixed: {"alg":"HS256","typ":"JWT"}, base64url-encoded (tests/unit/jwt_test.cpp
// checks the spelling).
constexpr std::string_view header_segment = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

} // namespace

jwt_codec::jwt_codec(std::string secret) : secret_(std::move(secret)) {}

std::string jwt_codec::mac(std::string_view signing_input) const {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(
        EVP_sha256(),
        secret_.data(),
        static_cast<int>(secret_.size()),
        reinterpret_cast<const unsigned char*>(signing_input.data()),
        signing_input.size(),
        digest,
        &length
    );
    return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string jwt_codec::sign(const jwt_claims& claims) const {
    const json::object payload{{"sub", claims.subject}, {"iat", claims.issued_at}, {"exp", claims.expires_at}};
    std::string token = std::string(header_segment) + '.' + base64url_encode(json::serialize(payload));
    const auto signature = base64url_encode(mac(token));
    token += '.';
    token += signature;
    return token;
}

domain::result<jwt_claims> jwt_codec::verify(std::string_view token, std::int64_t now_seconds) const {
    const auto first = token.find('.');
    const auto second = token.rfind('.');
    if (first == std::string_view::npos || first == second || token.size() > 4096) {
        return make_error(errc::token_invalid);
    }
    const auto signing_input = token.substr(0, second);
    const auto signature = base64url_decode(token.substr(second + 1));
    const auto expected = mac(signing_input);
    if (!signature || signature->size() != expected.size() ||
        CRYPTO_memcmp(signature->data(), expected.data(), expected.size()) != 0) {
        return make_error(errc::token_invalid);
    }
    // The signature matched, so header and payload are ours; still check both strictly.
    const auto header = base64url_decode(token.substr(0, first));
    const auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
    if (!header || !payload) {
        return make_error(errc::token_invalid);
    }
    boost::system::error_code ec;
    const auto header_json = json::parse(*header, ec);
    if (ec || !header_json.is_object() || header_json.as_object().if_contains("alg") == nullptr ||
        header_json.as_object().at("alg") != "HS256") {
        return make_error(errc::token_invalid);
    }
    const auto claims_json = json::parse(*payload, ec);
    if (ec || !claims_json.is_object()) {
        return make_error(errc::token_invalid);
    }
    const auto& object = claims_json.as_object();
    const auto* sub = object.if_contains("sub");
    const auto* iat = object.if_contains("iat");
    const auto* exp = object.if_contains("exp");
    if (sub == nullptr || !sub->is_string() || iat == nullptr || !iat->is_int64() || exp == nullptr ||
        !exp->is_int64()) {
        return make_error(errc::token_invalid);
    }
    jwt_claims claims{
        .subject = std::string(sub->as_string()), .issued_at = iat->as_int64(), .expires_at = exp->as_int64()};
    if (now_seconds >= claims.expires_at) {
        return make_error(errc::token_expired);
    }
    return claims;
}

} // namespace tp::security
