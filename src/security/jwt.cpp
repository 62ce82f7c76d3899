#include "security/jwt.hpp"

#include "security/base64url.hpp"

#include <boost/json.hpp>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <atomic>
#include <memory>
#include <stdexcept>

namespace tp::security {
namespace {

namespace json = boost::json;
using domain::errc;
using domain::make_error;

// The header is fixed: {"alg":"HS256","typ":"JWT"}, base64url-encoded (tests/unit/jwt_test.cpp
// checks the spelling).
constexpr std::string_view header_segment = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

std::atomic<std::uint64_t> next_codec_id{1};

// An HMAC-SHA256 context keyed with one codec's secret. OpenSSL's one-shot HMAC() looks the
// algorithm up and keys a new context on every call (~1.3 µs, most of verifying a token no
// thread has seen yet, which is every fan joining a line); a keyed context started again
// with the same key costs ~0.3 µs. Contexts are not thread-safe: one per thread, rebuilt
// when the thread signs or verifies for another codec.
struct keyed_hmac {
    std::uint64_t codec = 0;
    std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> context{nullptr, &EVP_MAC_CTX_free};
};

EVP_MAC_CTX* hmac_keyed_for(std::uint64_t codec, const std::string& secret) {
    thread_local keyed_hmac keyed;
    if (keyed.codec == codec) {
        if (EVP_MAC_init(keyed.context.get(), nullptr, 0, nullptr) != 1) {
            throw std::runtime_error("HMAC-SHA256 could not be restarted");
        }
        return keyed.context.get();
    }
    static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr); // for the process's life
    keyed.codec = 0;
    keyed.context.reset(hmac != nullptr ? EVP_MAC_CTX_new(hmac) : nullptr);
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
    // A non-null key pointer even for an empty secret: a null one would mean "keep the old key".
    static const unsigned char no_key = 0;
    const auto* key = secret.empty() ? &no_key : reinterpret_cast<const unsigned char*>(secret.data());
    if (!keyed.context || EVP_MAC_init(keyed.context.get(), key, secret.size(), params) != 1) {
        throw std::runtime_error("HMAC-SHA256 is not available");
    }
    keyed.codec = codec;
    return keyed.context.get();
}

} // namespace

jwt_codec::jwt_codec(std::string secret) : secret_(std::move(secret)), id_(next_codec_id.fetch_add(1)) {}

std::string jwt_codec::mac(std::string_view signing_input) const {
    auto* context = hmac_keyed_for(id_, secret_);
    unsigned char digest[EVP_MAX_MD_SIZE];
    std::size_t length = 0;
    if (EVP_MAC_update(context, reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) !=
            1 ||
        EVP_MAC_final(context, digest, &length, sizeof digest) != 1) {
        throw std::runtime_error("HMAC-SHA256 failed");
    }
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
    // Both segments are small: their values live in a buffer on the stack, not the heap.
    unsigned char scratch[2048];
    json::monotonic_resource memory(scratch, sizeof scratch);
    boost::system::error_code ec;
    const auto header_json = json::parse(*header, ec, &memory);
    if (ec || !header_json.is_object() || header_json.as_object().if_contains("alg") == nullptr ||
        header_json.as_object().at("alg") != "HS256") {
        return make_error(errc::token_invalid);
    }
    const auto claims_json = json::parse(*payload, ec, &memory);
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
