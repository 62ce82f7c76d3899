#pragma once
// Ids are UUIDs. Parsing them here, before any query, turns a malformed id into a 400
// instead of a database error, and gives every id one canonical (lower-case) spelling.

#include <optional>
#include <string>
#include <string_view>

namespace tp::domain {

std::optional<std::string> parse_uuid(std::string_view text);

} // namespace tp::domain
