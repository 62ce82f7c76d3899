#pragma once
// The slot map of a Redis Cluster as CLUSTER SLOTS describes it: which master serves each
// range of slots. Only masters are kept: every command of this project goes to a master.

#include "storage/redis/reply.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tp::redis {

struct node_address {
    std::string host;
    std::string port;

    std::string name() const { return host + ":" + port; }
    friend bool operator==(const node_address&, const node_address&) = default;
};

struct slot_range {
    std::uint16_t first = 0;
    std::uint16_t last = 0; // inclusive, as Redis gives it
    node_address master;
};

// Parses a CLUSTER SLOTS reply. A master announced with an empty host (Redis does so when
// it does not know its own address) is on `asked_host`, the host the command went to.
// nullopt for a reply of another shape.
std::optional<std::vector<slot_range>> parse_cluster_slots(const reply& answer, std::string_view asked_host);

// A redirection error reply: "MOVED 3999 127.0.0.1:6381" or "ASK 3999 127.0.0.1:6381".
struct redirection {
    enum class kind { moved, ask };
    kind type = kind::moved;
    std::uint16_t slot = 0;
    node_address target;
};

// nullopt when `error_text` is not a well-formed MOVED or ASK.
std::optional<redirection> parse_redirection(std::string_view error_text);

} // namespace tp::redis
