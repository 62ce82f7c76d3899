#pragma once
// The names of the waiting queue's keys, by the same rules as the scripts' prelude
// (src/storage/redis/scripts/prelude.lua). Every key of a gate carries its gate's tag in
// braces: the gate's name for the performances gate, the schedule for a schedule's two
// gates. A Redis Cluster hashes only the tag, so one gate's keys, the tokens it issued and
// its schedule's sold-out mark share a slot, and a script about one gate runs on one master
// (docs/waiting-queue.md).

#include "domain/identifiers.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tp::redis::queue_keys {

// "performances", or the schedule of a schedule's gate.
std::string_view tag_of_gate(std::string_view gate);

// One part of a gate: waiting, active, state, recent, settings.
std::string gate(std::string_view gate, std::string_view part);

// A token's id is "<tag>.<uuid>": the id names the slot of its record. nullopt for an id of
// any other form (no key is made from it, and the token is simply not found).
std::optional<std::string_view> tag_of_token(std::string_view token_id);
// The longest id there is: a schedule's tag, a dot, a UUID. Longer text is no token.
inline constexpr std::size_t max_token_id_size = 36 + 1 + 36;
// The token's record; only for an id tag_of_token accepts.
std::string token(std::string_view token_id);

// The token the user holds in one tag (kept by the scripts, atomically with the line).
std::string user_in_tag(std::string_view tag, const domain::user_id& user);
// The user's latest token id, whatever its tag: a hint for calls that show no token.
std::string user_latest(const domain::user_id& user);

std::string sold_out(const domain::schedule_id& schedule);
inline constexpr std::string_view gates_in_use = "tp:gates";

// A UUID v4 from the system's CSPRNG.
std::string random_uuid();
// A fresh, unguessable token id of `tag`.
std::string new_token_id(std::string_view tag);

} // namespace tp::redis::queue_keys
