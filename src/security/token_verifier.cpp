#include "security/token_verifier.hpp"

namespace tp::security {

token_verifier::token_verifier(const jwt_codec& codec, std::size_t generation_size)
    : codec_(codec), verified_(generation_size) {}

domain::result<jwt_claims> token_verifier::verify(std::string_view token, std::int64_t now_seconds) {
    if (const auto* known = verified_.find(token)) {
        if (now_seconds >= known->expires_at) {
            return domain::make_error(domain::errc::token_expired);
        }
        return *known;
    }
    auto claims = codec_.verify(token, now_seconds);
    if (claims) {
        verified_.insert(token, *claims);
    }
    return claims;
}

} // namespace tp::security
