#pragma once
// HS256 JSON Web Tokens for access tokens: {"sub": user id, "iat", "exp"} in seconds.
// The current time is a parameter, so expiry is testable without waiting.

#include "domain/errc.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace tp::security {

struct jwt_claims {
    std::string subject;
    std::int64_t issued_at = 0;
    std::int64_t expires_at = 0;
};

class jwt_codec {
public:
    explicit jwt_codec(std::string secret);

    std::string sign(const jwt_claims& claims) const;

    // token_invalid for anything malformed, of another algorithm or badly signed;
    // token_expired once `now_seconds` has reached "exp".
    domain::result<jwt_claims> verify(std::string_view token, std::int64_t now_seconds) const;

private:
    std::string mac(std::string_view signing_input) const;

    std::string secret_;
    std::uint64_t id_; // tells apart the codecs whose keyed HMAC a thread keeps
};

} // namespace tp::security
