#pragma once
// Where Redis Cluster keeps a key: CRC16 (XMODEM) of the key modulo 16384, where a key with a
// non-empty `{...}` hashes only what is inside the first such braces, so that related keys
// (one gate's, one seat list's) can share a slot and be used together by one script.

#include <cstdint>
#include <string_view>

namespace tp::redis {

inline constexpr std::uint16_t slot_count = 16384;

// The part of `key` that is hashed: the content of the first `{...}` if it is not empty,
// otherwise the whole key (exactly as Redis' keyHashSlot).
std::string_view hash_tag(std::string_view key);

std::uint16_t key_slot(std::string_view key);

} // namespace tp::redis
