#pragma once
// Which slot of a Redis Cluster a command must run on, read from the command's own
// arguments. Only the commands this project sends are known: an unknown one is refused
// (redis::error) rather than guessed, since a guess would send it to the wrong node.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tp::redis {

// The slot of the command's keys; nullopt for a command that touches no key (TIME, PING,
// WAIT, SCRIPT..., or a script with no KEYS). Throws redis::error for an unknown command,
// a command missing its key, or keys in different slots (they could not run together).
std::optional<std::uint16_t> command_slot(const std::vector<std::string>& command);

} // namespace tp::redis
