#pragma once
// What the Redis Cluster tests stand on: the throwaway cluster named by
// TEST_REDIS_CLUSTER_URL (scripts/test.sh starts one: 3 masters, 3 replicas), read and
// changed through blocking connections to each node, bypassing the client under test.
// Tests that change the cluster (migrate a slot, fail over) put it back as they found it:
// other suites use the same cluster.

#include "redis_harness.hpp"
#include "storage/redis/slot_map.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tp::test {

// TEST_REDIS_CLUSTER_URL, or nullopt when unset or empty.
std::optional<std::string> redis_cluster_url();

// One line of CLUSTER NODES.
struct cluster_node {
    std::string id;
    redis::node_address address;
    bool master = false;
    bool failed = false;                    // seen as failing (fail or fail?) by the node asked
    std::string master_id;                  // of a replica
    std::vector<std::pair<int, int>> slots; // ranges, inclusive
};

class cluster_inspector {
public:
    // Learns every node from the seeds, so that it can still ask the others when one is down.
    explicit cluster_inspector(std::vector<redis::node_address> seeds);

    // The nodes as the first seed that answers sees them (or `at`, when given).
    std::vector<cluster_node> nodes(const std::optional<redis::node_address>& at = std::nullopt);
    cluster_node master_of_slot(int slot);
    cluster_node replica_of(const cluster_node& master);
    std::vector<cluster_node> masters(); // in the order of their slots

    // A blocking connection to one node.
    redis_inspector at(const redis::node_address& address);

    // The pid of a node of this machine (INFO server).
    int pid_of(const redis::node_address& address);

    // Until every node that is up agrees that `id` is a master (or a replica) and the cluster is ok,
    // at most `limit`; false when it did not happen.
    bool wait_until_role(const std::string& id, bool master, std::chrono::seconds limit);
    bool wait_until_ok(std::chrono::seconds limit);
    // Until every node sees three masters serving slots, each with one replica, none failing,
    // and the cluster is ok: how the tests find it and leave it.
    bool wait_until_settled(std::chrono::seconds limit);

    // Makes the replica `n` master again (CLUSTER FAILOVER once it has synced with its master,
    // tried again if it did not take), as the tests that fail over leave the cluster; false
    // when it did not happen within `limit`.
    bool make_master(const cluster_node& n, std::chrono::seconds limit);

    // Moves `slot` (and its keys) from one master to another: SETSLOT IMPORTING/MIGRATING,
    // MIGRATE, SETSLOT NODE on every master.
    void migrate_slot(int slot, const cluster_node& from, const cluster_node& to);

private:
    std::vector<redis::node_address> seeds_;
};

// Keys whose slots the three masters serve, one per master, named `prefix` + a number.
std::vector<std::string> keys_on_each_master(cluster_inspector& cluster, const std::string& prefix);

} // namespace tp::test
