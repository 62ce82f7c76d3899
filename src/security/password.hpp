#pragma once
// Argon2id password hashes (libsodium). Hashing is deliberately slow and memory-hard, so
// callers run it off the I/O threads (see api/auth_handlers.cpp).

#include <string>
#include <string_view>

namespace tp::security {

// OWASP's recommended Argon2id setting: 19 MiB, 2 passes, 1 lane.
std::string hash_password(std::string_view password);

bool verify_password(std::string_view password, const std::string& stored_hash);

// Call once at start-up; libsodium needs it before any other function.
void init_crypto();

} // namespace tp::security
