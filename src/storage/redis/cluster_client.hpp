#pragma once
// A Redis Cluster client on one event loop: one `connection` per master, each command sent
// to the master of its key's slot (command_slot), the slot map learnt with CLUSTER SLOTS.
//
// - A batch may span slots: it is split by master, each part pipelined on its connection,
//   the parts sent at once, and the replies given back in the batch's order. A keyless
//   command (TIME, WAIT) goes with the nearest keyed command of the batch (the one before
//   it, else after it), so TIME is read on the server of the data it is compared with and
//   WAIT follows its write.
// - MOVED: the slot is given to the named master, the map refreshed soon, the command sent
//   again there. ASK: ASKING + the command to the named node, map unchanged. TRYAGAIN: sent
//   again after a short pause. At most `max_redirections` of these per command.
// - CLUSTERDOWN, or a slot no known master serves: redis::error at once (a 503, no hang).
// - A node that fails or does not answer: its commands in flight fail with redis::error
//   (a write whose fate is unknown is never sent again) and the map is refreshed from any
//   node that answers, at most once per retry_interval, so the next commands follow a
//   replica promoted by failover.

#include "storage/redis/client.hpp"
#include "storage/redis/connection.hpp"
#include "storage/redis/slot_map.hpp"

#include <boost/asio/steady_timer.hpp>

#include <map>
#include <optional>

namespace tp::redis {

inline constexpr std::string_view cluster_url_scheme = "redis-cluster://";

// The seed nodes of redis-cluster://host:port[,host:port...] (port required); nullopt when
// malformed.
std::optional<std::vector<node_address>> parse_cluster_url(std::string_view url);

struct cluster_options {
    std::vector<node_address> seeds;
    connection_options node; // timeouts of each node's connection (host and port are set per node)
    int max_redirections = 5;
    std::chrono::milliseconds tryagain_pause{25};
    std::function<void(const std::string&)> on_topology_change;
};

class cluster_client final : public client {
public:
    cluster_client(const asio::any_io_executor& executor, cluster_options options);
    ~cluster_client() override;

    awaitable<std::vector<reply>> execute_all(std::vector<std::vector<std::string>> commands) override;

    // The slot map is known and every master's connection is up.
    bool connected() const override;

    // The sum of every node connection's session plus the number of changes of slot owners:
    // it moves when any of them does.
    std::uint64_t session() const override;

    void close() override;

    // The master serving `slot` now, as "host:port" (empty when unknown): for tests and logs.
    std::string master_of(std::uint16_t slot) const;

private:
    struct node {
        node_address address;
        std::unique_ptr<connection> conn;
    };
    struct part; // the commands of one batch bound for one node

    node& node_at(const node_address& address);
    // The node each command of the batch goes to; throws redis::error when a slot has no master.
    std::vector<node*> route(const std::vector<std::vector<std::string>>& commands);
    awaitable<std::vector<reply>> send_to(node& n, std::vector<std::vector<std::string>> commands);
    awaitable<void> send_parts(std::vector<part>& parts);
    awaitable<reply> follow(const std::vector<std::string>& command, reply answer);

    awaitable<void> ensure_map();
    awaitable<void> refresh();
    void refresh_soon();
    awaitable<void> refresh_later(std::shared_ptr<bool> alive);
    void apply(const std::vector<slot_range>& ranges);
    void set_owners(std::vector<node*> owners, std::string_view why);

    asio::any_io_executor executor_;
    cluster_options options_;
    std::map<std::string, std::unique_ptr<node>> nodes_; // by "host:port"; kept for the client's life
    std::vector<node*> owners_;                          // per slot; empty until the first map
    std::vector<node*> masters_;                         // the distinct owners
    std::uint64_t owner_changes_ = 0;
    bool refreshing_ = false;
    bool refresh_scheduled_ = false;
    std::chrono::steady_clock::time_point next_refresh_{};
    std::string last_refresh_failure_;
    std::vector<std::shared_ptr<asio::steady_timer>> refresh_waiters_;
    asio::steady_timer refresh_timer_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    bool closed_ = false;
};

} // namespace tp::redis
