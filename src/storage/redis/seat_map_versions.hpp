#pragma once
// A version per schedule's seat list, in Redis, so every instance can tell at the cost of one
// GET whether its cached seat list may be stale (docs/seat-map.md). Every change of a seat
// moves its schedule's version after the change commits and before it is answered; a list
// reads the version before it reads seats, so equal versions mean "nothing answered since".

#include "storage/redis/connection.hpp"

#include <cstdint>
#include <span>
#include <string>

namespace tp::redis {

struct seat_map_version {
    std::string value;         // "" when no change was ever recorded (or its key expired)
    std::int64_t now_ms = 0;   // Redis's clock, read with the version
    std::uint64_t session = 0; // connection::session() of the read
};

class seat_map_versions {
public:
    explicit seat_map_versions(connection& conn) : conn_(conn) {}

    awaitable<seat_map_version> read(const std::string& schedule_id);
    // The same read as commands to send in another batch, and its reading from their replies.
    static std::vector<std::vector<std::string>> read_commands(const std::string& schedule_id);
    seat_map_version read_from(std::span<const reply> replies) const;
    // Moves the version to a value it never had: max(version + 1, Redis's clock in µs), so
    // it keeps rising even if the key expired or a restart lost the last increments.
    awaitable<void> bump(const std::string& schedule_id);

private:
    connection& conn_;
};

// The key of a schedule's version; its hash tag is the schedule id, the tag of the schedule's
// gates' keys on a Redis Cluster.
std::string seat_map_version_key(const std::string& schedule_id);

} // namespace tp::redis
