#include "security/token_verifier.hpp"

namespace tp::security {

token_verifier::token_verifier(const jwt_codec& codec, std::size_t generation_size)
    : codec_(codec), generation_size_(generation_size == 0 ? 1 : generation_size) {}

domain::result<jwt_claims> token_verifier::verify(std::string_view token, std::int64_t now_seconds) {
    const jwt_claims* known = nullptr;
    if (const auto it = current_.find(token); it != current_.end()) {
        known = &it->second;
    } else if (const auto old = previous_.find(token); old != previous_.end()) {
        known = &current_.insert(previous_.extract(old)).position->second; // still in use: keep it
    }
    if (known != nullptr) {
        if (now_seconds >= known->expires_at) {
            return domain::make_error(domain::errc::token_expired);
        }
        return *known;
    }
    auto claims = codec_.verify(token, now_seconds);
    if (claims) {
        if (current_.size() >= generation_size_) {
            previous_ = std::move(current_);
            current_.clear();
        }
        current_.emplace(std::string(token), *claims);
    }
    return claims;
}

} // namespace tp::security
