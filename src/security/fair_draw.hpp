#pragma once
// The auditable draw of a gate's pre-queue (docs/waiting-queue.md, "The fair start"). The
// seed is chosen when the pre-queue opens and only its SHA-256 (the commitment) is published;
// after the draw the seed and the entrants are published, so anyone can check both that the
// seed is the one committed to and that the order follows from it:
//   entrant(token id) = hex(SHA-256(token id as UTF-8))
//   order             = entrants ascending by HMAC-SHA256(key = the 32 seed bytes,
//                                                         message = the entrant's hex text)
// tools/verify_draw.py checks a published draw by the same rules.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tp::security {

struct draw_seed {
    std::array<std::uint8_t, 32> bytes{};

    std::string hex() const;
    // hex(SHA-256(bytes)): what is published before the draw.
    std::string commitment() const;
};

// 32 bytes from the system's CSPRNG.
draw_seed new_draw_seed();
// nullopt unless exactly 64 lowercase hex digits.
std::optional<draw_seed> parse_draw_seed(std::string_view hex);

// What the draw publishes for a token: hex(SHA-256(token id)); the id itself stays private.
std::string entrant_of(std::string_view token_id);

// The drawn order of `entrants` (each as entrant_of gives it): indexes into `entrants`, first
// place first. Equal keys (never seen with SHA-256) fall back to the entrants' text.
std::vector<std::size_t> draw_order(const draw_seed& seed, const std::vector<std::string>& entrants);

} // namespace tp::security
