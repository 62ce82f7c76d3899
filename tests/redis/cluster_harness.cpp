#include "cluster_harness.hpp"

#include "storage/redis/key_slot.hpp"

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace tp::test {
namespace {

redis::connection_options options_of(const redis::node_address& address) {
    redis::connection_options options;
    options.host = address.host;
    options.port = address.port;
    options.database = 0; // the only one a cluster has
    return options;
}

cluster_node parse_node_line(const std::string& line) {
    std::istringstream in(line);
    std::string address;
    std::string flags;
    std::string master_id;
    std::string ignored;
    cluster_node out;
    in >> out.id >> address >> flags >> master_id >> ignored >> ignored >> ignored >> ignored;
    const auto at = address.find('@');
    const auto host_port = address.substr(0, at);
    const auto colon = host_port.rfind(':');
    out.address = redis::node_address{host_port.substr(0, colon), host_port.substr(colon + 1)};
    out.master = flags.find("master") != std::string::npos;
    out.failed = flags.find("fail") != std::string::npos;
    out.master_id = master_id == "-" ? std::string() : master_id;
    std::string range;
    while (in >> range) {
        if (range.starts_with('[')) {
            continue; // a slot being migrated or imported
        }
        const auto dash = range.find('-');
        const int first = std::stoi(range.substr(0, dash));
        const int last = dash == std::string::npos ? first : std::stoi(range.substr(dash + 1));
        out.slots.emplace_back(first, last);
    }
    return out;
}

} // namespace

std::optional<std::string> redis_cluster_url() {
    const char* url = std::getenv("TEST_REDIS_CLUSTER_URL");
    if (url == nullptr || *url == '\0') {
        return std::nullopt;
    }
    return std::string(url);
}

cluster_inspector::cluster_inspector(std::vector<redis::node_address> seeds) : seeds_(std::move(seeds)) {
    for (const auto& n : nodes()) {
        if (std::ranges::find(seeds_, n.address) == seeds_.end()) {
            seeds_.push_back(n.address);
        }
    }
}

int cluster_inspector::pid_of(const redis::node_address& address) {
    const auto info = at(address).text({"INFO", "server"}).value_or("");
    const auto found = info.find("process_id:");
    if (found == std::string::npos) {
        throw std::runtime_error("INFO server without process_id");
    }
    return std::stoi(info.substr(found + 11));
}

redis_inspector cluster_inspector::at(const redis::node_address& address) {
    return redis_inspector(options_of(address));
}

std::vector<cluster_node> cluster_inspector::nodes(const std::optional<redis::node_address>& at_node) {
    std::vector<redis::node_address> candidates = seeds_;
    if (at_node) {
        candidates = {*at_node};
    }
    for (const auto& seed : candidates) {
        try {
            auto text = at(seed).text({"CLUSTER", "NODES"});
            std::vector<cluster_node> out;
            std::istringstream lines(text.value_or(""));
            std::string line;
            while (std::getline(lines, line)) {
                if (!line.empty()) {
                    out.push_back(parse_node_line(line));
                }
            }
            return out;
        } catch (const std::exception&) {
            if (at_node) {
                throw;
            }
        }
    }
    throw std::runtime_error("no node of the test cluster answered CLUSTER NODES");
}

std::vector<cluster_node> cluster_inspector::masters() {
    std::vector<cluster_node> out;
    for (auto& n : nodes()) {
        if (n.master && !n.slots.empty()) {
            out.push_back(std::move(n));
        }
    }
    // By their slots (CLUSTER NODES lists in no fixed order), so that a test can name "the
    // first master" and mean the same node as another test.
    std::ranges::sort(out, {}, [](const cluster_node& n) { return n.slots.front().first; });
    return out;
}

cluster_node cluster_inspector::master_of_slot(int slot) {
    for (auto& n : masters()) {
        for (const auto& [first, last] : n.slots) {
            if (slot >= first && slot <= last) {
                return n;
            }
        }
    }
    throw std::runtime_error("no master serves slot " + std::to_string(slot));
}

cluster_node cluster_inspector::replica_of(const cluster_node& master) {
    for (auto& n : nodes()) {
        if (!n.master && n.master_id == master.id) {
            return n;
        }
    }
    throw std::runtime_error("master " + master.address.name() + " has no replica");
}

bool cluster_inspector::wait_until_ok(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        bool ok = true;
        try {
            for (const auto& n : nodes()) {
                if (n.failed) {
                    continue;
                }
                const auto info = at(n.address).text({"CLUSTER", "INFO"}).value_or("");
                ok = ok && info.find("cluster_state:ok") != std::string::npos;
            }
        } catch (const std::exception&) {
            ok = false;
        }
        if (ok) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

bool cluster_inspector::wait_until_role(const std::string& id, bool master, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        bool agreed = true;
        try {
            for (const auto& seen_by : nodes()) {
                if (seen_by.failed) {
                    continue;
                }
                for (const auto& n : nodes(seen_by.address)) {
                    if (n.id == id) {
                        agreed = agreed && n.master == master;
                    }
                }
            }
        } catch (const std::exception&) {
            agreed = false;
        }
        if (agreed && wait_until_ok(std::chrono::seconds(1))) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

bool cluster_inspector::wait_until_settled(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    const auto settled_in = [](const std::vector<cluster_node>& view) {
        int masters = 0;
        int replicas = 0;
        for (const auto& n : view) {
            if (n.failed || (n.master && n.slots.empty())) {
                return false;
            }
            masters += n.master ? 1 : 0;
            replicas += n.master ? 0 : 1;
        }
        return masters == 3 && replicas == 3;
    };
    while (std::chrono::steady_clock::now() < deadline) {
        bool settled = true;
        try {
            for (const auto& seen_by : nodes()) {
                settled = settled && settled_in(nodes(seen_by.address));
            }
        } catch (const std::exception&) {
            settled = false;
        }
        if (settled && wait_until_ok(std::chrono::seconds(1))) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

bool cluster_inspector::make_master(const cluster_node& n, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        try {
            const auto role = at(n.address).checked({"ROLE"});
            if (!role.elements.empty() && role.elements[0].text == "master") {
                return wait_until_settled(std::chrono::seconds(10)); // the old master a replica again
            }
            // A manual failover needs a replica in sync: it is dropped silently otherwise.
            const auto info = at(n.address).text({"INFO", "replication"}).value_or("");
            if (info.find("master_link_status:up") != std::string::npos &&
                info.find("master_sync_in_progress:0") != std::string::npos) {
                at(n.address).checked({"CLUSTER", "FAILOVER"});
                if (wait_until_role(n.id, true, std::chrono::seconds(5))) {
                    return wait_until_settled(std::chrono::seconds(10));
                }
            }
        } catch (const std::exception&) { // restarting, or not yet a replica
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
}

void cluster_inspector::migrate_slot(int slot, const cluster_node& from, const cluster_node& to) {
    const auto s = std::to_string(slot);
    at(to.address).checked({"CLUSTER", "SETSLOT", s, "IMPORTING", from.id});
    at(from.address).checked({"CLUSTER", "SETSLOT", s, "MIGRATING", to.id});
    auto source = at(from.address);
    for (;;) {
        const auto keys = source.strings({"CLUSTER", "GETKEYSINSLOT", s, "100"});
        if (keys.empty()) {
            break;
        }
        std::vector<std::string> migrate{"MIGRATE", to.address.host, to.address.port, "", "0", "5000", "KEYS"};
        migrate.insert(migrate.end(), keys.begin(), keys.end());
        source.checked(migrate);
    }
    // The new owner first, then the old one (Redis' recommended order), then the others.
    at(to.address).checked({"CLUSTER", "SETSLOT", s, "NODE", to.id});
    at(from.address).checked({"CLUSTER", "SETSLOT", s, "NODE", to.id});
    for (const auto& m : masters()) {
        if (m.id != to.id && m.id != from.id) {
            at(m.address).checked({"CLUSTER", "SETSLOT", s, "NODE", to.id});
        }
    }
}

std::vector<std::string> keys_on_each_master(cluster_inspector& cluster, const std::string& prefix) {
    const auto masters = cluster.masters();
    std::vector<std::string> out(masters.size());
    for (int i = 0; std::ranges::any_of(out, &std::string::empty); ++i) {
        const auto key = prefix + std::to_string(i);
        const int slot = redis::key_slot(key);
        for (std::size_t m = 0; m < masters.size(); ++m) {
            for (const auto& [first, last] : masters[m].slots) {
                if (slot >= first && slot <= last && out[m].empty()) {
                    out[m] = key;
                }
            }
        }
    }
    return out;
}

} // namespace tp::test
