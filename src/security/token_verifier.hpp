#pragma once
// Access-token verification that remembers the tokens it has verified. A fan waiting in line
// presents the same token every second or so, and checking an HMAC and parsing two JSON
// segments costs more than the rest of a queue poll; a remembered token is matched on its
// exact bytes, so nothing but a token this codec verified can ever be accepted from memory.
// Expiry is still checked on every call. One per I/O thread (not thread-safe).

#include "security/jwt.hpp"
#include "support/recent_map.hpp"

#include <cstddef>
#include <string_view>

namespace tp::security {

class token_verifier {
public:
    explicit token_verifier(const jwt_codec& codec, std::size_t generation_size = 16384);

    // As jwt_codec::verify.
    domain::result<jwt_claims> verify(std::string_view token, std::int64_t now_seconds);

private:
    const jwt_codec& codec_;
    recent_map<jwt_claims> verified_;
};

} // namespace tp::security
