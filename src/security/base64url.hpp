#pragma once
// Unpadded base64url (RFC 4648 §5), the encoding of JWT segments.

#include <optional>
#include <string>
#include <string_view>

namespace tp::security {

std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

} // namespace tp::security
