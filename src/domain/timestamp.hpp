#pragma once
// Instants are milliseconds since the Unix epoch inside the program, and ISO 8601 in UTC
// ("2024-05-01T19:00:00.000Z", as the seed API shows them) at its edges.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tp::domain {

using epoch_ms = std::int64_t;

// Accepts YYYY-MM-DDTHH:MM[:SS[.fff]] followed by Z or ±HH:MM; nothing looser.
std::optional<epoch_ms> parse_iso8601(std::string_view text);

std::string format_iso8601(epoch_ms instant);

} // namespace tp::domain
