#pragma once
// Access-token verification that remembers the tokens it has verified. A fan waiting in line
// presents the same token every second or so, and checking an HMAC and parsing two JSON
// segments costs more than the rest of a queue poll; a remembered token is matched on its
// exact bytes, so nothing but a token this codec verified can ever be accepted from memory.
// Expiry is still checked on every call.
//
// One per I/O thread (not thread-safe). Memory is bounded: two generations of at most
// `generation_size` tokens each; when the current one fills, the older one is dropped.

#include "security/jwt.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tp::security {

class token_verifier {
public:
    explicit token_verifier(const jwt_codec& codec, std::size_t generation_size = 16384);

    // As jwt_codec::verify.
    domain::result<jwt_claims> verify(std::string_view token, std::int64_t now_seconds);

private:
    struct text_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
    };
    using memory = std::unordered_map<std::string, jwt_claims, text_hash, std::equal_to<>>;

    const jwt_codec& codec_;
    std::size_t generation_size_;
    memory current_;
    memory previous_;
};

} // namespace tp::security
