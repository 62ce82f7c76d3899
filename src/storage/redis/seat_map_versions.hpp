#pragma once
// A version per schedule's seat list, in Redis, so every instance can tell at the cost of one
// GET whether its cached seat list may be stale (docs/seat-map.md). Every change of a seat
// moves its schedule's version after the change commits and before it is answered; a list
// reads the version before it reads seats, so equal versions mean "nothing answered since".
//
// The same script appends the change itself (the seats' new states and change counts) to a
// short log keyed by the new version, each entry naming the version before it. A reader that
// sends the version its cache holds gets the entries after it in the same batch, and when
// they chain from that version to the current one without a gap, it applies them instead of
// reading PostgreSQL.

#include "domain/identifiers.hpp"
#include "domain/seats.hpp"
#include "storage/redis/client.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tp::redis {

struct seat_map_version {
    std::string value;         // "" when no change was ever recorded (or its key expired)
    std::int64_t now_ms = 0;   // Redis's clock, read with the version
    std::uint64_t session = 0; // client::session() of the read
    // The changes from `since` (the version the reader asked from) to `value`, when the log
    // holds every one of them; nullopt when it does not (or nothing was asked).
    std::string since;
    std::optional<std::vector<domain::seat_state_change>> changes;
};

class seat_map_versions {
public:
    // Entries a reader gets at most in one read; a cache further behind reads PostgreSQL.
    static constexpr int max_changes_read = 64;

    explicit seat_map_versions(client& conn) : conn_(conn) {}

    // `since`: the version the reader's cache holds ("" for none: no log is read).
    awaitable<seat_map_version> read(const domain::schedule_id& schedule_id, const std::string& since = {});
    // Several schedules' reads in one round trip: `since[i]` for `schedule_ids[i]`.
    awaitable<std::vector<seat_map_version>>
    read_many(std::span<const domain::schedule_id> schedule_ids, std::span<const std::string> since);
    // The same read as commands to send in another batch, and its reading from their replies.
    static std::vector<std::vector<std::string>>
    read_commands(const domain::schedule_id& schedule_id, const std::string& since = {});
    seat_map_version read_from(std::span<const reply> replies, const std::string& since = {}) const;
    // Moves the version to a value it never had: max(version + 1, Redis's clock in µs), so
    // it keeps rising even if the key expired or a restart lost the last increments; logs
    // `changes` under it (none: a change readers must take from PostgreSQL).
    awaitable<void>
    bump(const domain::schedule_id& schedule_id, std::span<const domain::seat_state_change> changes = {});

private:
    client& conn_;
};

// The keys of a schedule's version and change log; their hash tag is the schedule id, the tag
// of the schedule's gates' keys on a Redis Cluster.
std::string seat_map_version_key(const domain::schedule_id& schedule_id);
std::string seat_map_changes_key(const domain::schedule_id& schedule_id);

// A log entry's text: "position status expiry count holder" per seat, seats separated by
// ';' (status A, T or R; expiry in epoch ms, "-" for none; holder a user id, "-" for none).
std::string encode_seat_changes(std::span<const domain::seat_state_change> changes);
std::optional<std::vector<domain::seat_state_change>> decode_seat_changes(std::string_view text);

} // namespace tp::redis
