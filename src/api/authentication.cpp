#include "api/authentication.hpp"

#include <boost/algorithm/string/predicate.hpp>

#include <openssl/crypto.h>

namespace tp::api {

using domain::errc;
using domain::make_error;

std::optional<std::string_view> bearer_credential(const http::request& req, std::string_view header) {
    const auto it = req.find(header);
    if (it == req.end()) {
        return std::nullopt;
    }
    std::string_view value = it->value();
    constexpr std::string_view scheme = "Bearer ";
    if (value.size() <= scheme.size() || !boost::algorithm::istarts_with(value, scheme)) {
        return std::nullopt;
    }
    value.remove_prefix(scheme.size());
    while (!value.empty() && value.front() == ' ') {
        value.remove_prefix(1);
    }
    return value;
}

domain::result<std::string>
authenticate_user(const http::request& req, security::token_verifier& tokens, std::int64_t now_seconds) {
    if (req.find(http::beast_http::field::authorization) == req.end()) {
        return make_error(errc::token_missing);
    }
    const auto token = bearer_credential(req, "Authorization");
    if (!token) {
        return make_error(errc::token_invalid, "The Authorization header must be 'Bearer <access token>'.");
    }
    auto claims = tokens.verify(*token, now_seconds);
    if (!claims) {
        return claims.error();
    }
    return std::move(claims->subject);
}

domain::result<void> authenticate_admin(const http::request& req, const std::string& admin_api_key) {
    const auto key = bearer_credential(req, "Authorization");
    // Constant-time comparison: the key must not leak through response timing.
    if (!key || admin_api_key.empty() || key->size() != admin_api_key.size() ||
        CRYPTO_memcmp(key->data(), admin_api_key.data(), admin_api_key.size()) != 0) {
        return make_error(errc::admin_key_invalid);
    }
    return {};
}

} // namespace tp::api
