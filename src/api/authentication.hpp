#pragma once
// Who is calling: the user behind an access token, or the operator behind the admin key.

#include "domain/errc.hpp"
#include "http/message.hpp"
#include "security/token_verifier.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace tp::api {

// The credential of "Bearer <credential>" in the named header; nullopt if absent or not Bearer.
std::optional<std::string_view> bearer_credential(const http::request& req, std::string_view header);

// The user id of a valid, unexpired access token.
domain::result<std::string>
authenticate_user(const http::request& req, security::token_verifier& tokens, std::int64_t now_seconds);

domain::result<void> authenticate_admin(const http::request& req, const std::string& admin_api_key);

} // namespace tp::api
