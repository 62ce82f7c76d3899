// The Redis Cluster client against a real cluster (TEST_REDIS_CLUSTER_URL: 3 masters, 3
// replicas, from scripts/test.sh): keys reach the master of their slot, a batch spanning
// masters keeps its order, a migrated slot is followed (MOVED), a slot being migrated is
// served (ASK), a cross-slot script is refused before it is sent, and a failover is followed
// without restarting the client. Each test puts the cluster back as it found it.

#include "cluster_harness.hpp"
#include "storage/redis/client.hpp"
#include "storage/redis/cluster_client.hpp"
#include "storage/redis/key_slot.hpp"
#include "support/servers_required.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <set>

namespace tp::test {
namespace {

using namespace std::chrono_literals;
using redis::reply;
using batch = std::vector<std::vector<std::string>>;

class cluster_client_test : public ::testing::Test {
protected:
    void SetUp() override {
        const auto url = redis_cluster_url();
        if (!url) {
            TP_SKIP_OR_FAIL_WITHOUT_SERVER("TEST_REDIS_CLUSTER_URL is not set: these tests need a throwaway Redis "
                                           "Cluster (scripts/test.sh starts one: redis-cluster://127.0.0.1:PORT)");
        }
        const auto seeds = redis::parse_cluster_url(*url);
        ASSERT_TRUE(seeds) << "TEST_REDIS_CLUSTER_URL is not a redis-cluster:// URL: " << *url;
        cluster_ = std::make_unique<cluster_inspector>(*seeds);
        ASSERT_TRUE(cluster_->wait_until_settled(20s)) << "the test cluster is not ok (3 masters, 3 replicas)";
        original_masters_ = cluster_->masters();
        ASSERT_EQ(original_masters_.size(), 3u);
        redis::cluster_options options;
        options.seeds = *seeds;
        options.node.timeout = 2s;
        options.node.retry_interval = 100ms;
        options.on_topology_change = [this](const std::string& what) {
            topology_changes_.push_back(what);
        };
        client_ = std::make_unique<redis::cluster_client>(ctx_.get_executor(), std::move(options));
    }

    void TearDown() override {
        if (!cluster_) {
            return;
        }
        if (client_) {
            client_->close();
            ctx_.restart();
            ctx_.run_for(100ms);
        }
        for (const auto& m : original_masters_) { // a test that failed half-way through a failover
            EXPECT_TRUE(cluster_->make_master(m, 30s)) << m.address.name() << " is no longer a master";
        }
        for (const auto& key : keys_) { // every key a test made, wherever it is now
            try {
                const auto owner = cluster_->master_of_slot(redis::key_slot(key));
                cluster_->at(owner.address).command({"DEL", key});
            } catch (const std::exception& e) {
                ADD_FAILURE() << "cannot delete " << key << ": " << e.what();
            }
        }
    }

    // A key of this test, deleted at the end.
    std::string track(std::string key) {
        keys_.push_back(key);
        return key;
    }
    std::vector<std::string> keys_on_masters(const std::string& name) {
        auto keys = keys_on_each_master(*cluster_, "tp:test:cluster:" + name + ":");
        for (const auto& k : keys) {
            track(k);
        }
        return keys;
    }

    std::vector<reply> run(batch commands) { return run_coro(ctx_, client_->execute_all(std::move(commands)), 20s); }
    reply run_one(std::vector<std::string> command) {
        return run_coro(ctx_, client_->execute(std::move(command)), 20s);
    }

    // What the master serving `key` holds, read on that master.
    std::optional<std::string> on_its_master(const std::string& key) {
        const auto owner = cluster_->master_of_slot(redis::key_slot(key));
        return cluster_->at(owner.address).text({"GET", key});
    }

    asio::io_context ctx_;
    std::unique_ptr<cluster_inspector> cluster_;
    std::unique_ptr<redis::cluster_client> client_;
    std::vector<std::string> topology_changes_;
    std::vector<std::string> keys_;
    std::vector<cluster_node> original_masters_;
};

// The port the server that answered INFO listens on.
std::string port_of(const reply& info) {
    const auto at = info.text.find("tcp_port:");
    return at == std::string::npos ? std::string() : info.text.substr(at + 9, info.text.find('\r', at) - at - 9);
}

TEST_F(cluster_client_test, sends_each_key_to_the_master_of_its_slot) {
    const auto keys = keys_on_masters("route");
    std::set<std::string> masters;
    for (const auto& key : keys) {
        const auto owner = cluster_->master_of_slot(redis::key_slot(key));
        masters.insert(owner.id);
        // Our slot is the one Redis computes.
        EXPECT_EQ(cluster_->at(owner.address).integer({"CLUSTER", "KEYSLOT", key}), redis::key_slot(key));
        const auto set = run_one({"SET", key, "v-" + key});
        EXPECT_EQ(set.text, "OK") << set.text;
        EXPECT_EQ(on_its_master(key), "v-" + key) << "the key is not on the master of its slot";
        EXPECT_EQ(client_->master_of(redis::key_slot(key)), owner.address.name());
    }
    EXPECT_EQ(masters.size(), 3u) << "the keys should have landed on three different masters";
    EXPECT_TRUE(client_->connected());
    ASSERT_EQ(topology_changes_.size(), 1u); // the map, learnt once
}

TEST_F(cluster_client_test, a_batch_spanning_masters_keeps_its_order) {
    const auto keys = keys_on_masters("batch");
    batch commands;
    for (int round = 0; round < 10; ++round) {
        for (const auto& key : keys) {
            commands.push_back({"INCR", key});
        }
    }
    commands.push_back({"GET", keys[2]});
    commands.push_back({"GET", keys[0]});
    const auto replies = run(commands);
    ASSERT_EQ(replies.size(), commands.size());
    for (std::size_t i = 0; i < 30; ++i) {
        EXPECT_EQ(replies[i].integer, static_cast<std::int64_t>(i / 3 + 1)) << "reply " << i;
    }
    EXPECT_EQ(replies[30].text, "10");
    EXPECT_EQ(replies[31].text, "10");
}

TEST_F(cluster_client_test, a_keyless_command_goes_with_the_nearest_keyed_one) {
    const auto keys = keys_on_masters("keyless");
    const auto port = [&](const std::string& key) {
        return cluster_->master_of_slot(redis::key_slot(key)).address.port;
    };
    // After a keyed command: its master. Before any: the first keyed command's master.
    const auto replies = run(batch{
        {"INFO", "server"},
        {"GET", keys[1]},
        {"TIME"},
        {"GET", keys[2]},
        {"INFO", "server"},
        {"GET", keys[0]},
        {"INFO", "server"}});
    EXPECT_EQ(port_of(replies[0]), port(keys[1]));
    EXPECT_EQ(replies[2].elements.size(), 2u);
    EXPECT_EQ(port_of(replies[4]), port(keys[2]));
    EXPECT_EQ(port_of(replies[6]), port(keys[0]));
    // A batch with no key goes to some master.
    const auto alone = run(batch{{"INFO", "server"}, {"PING"}});
    EXPECT_FALSE(port_of(alone[0]).empty());
    EXPECT_EQ(alone[1].text, "PONG");
}

TEST_F(cluster_client_test, a_cross_slot_script_is_refused_without_being_sent) {
    const auto keys = keys_on_masters("cross");
    const auto evals = [&] {
        std::int64_t calls = 0;
        for (const auto& m : cluster_->masters()) {
            const auto info = cluster_->at(m.address).text({"INFO", "commandstats"}).value_or("");
            const auto at = info.find("cmdstat_eval:calls=");
            calls += at == std::string::npos ? 0 : std::stoll(info.substr(at + 19));
        }
        return calls;
    };
    const auto before = evals();
    EXPECT_THROW(run_one({"EVAL", "return 1", "2", keys[0], keys[1]}), redis::error);
    EXPECT_THROW(run_one({"FLUSHALL"}), redis::error); // not a command the client knows: refused too
    EXPECT_EQ(evals(), before) << "a refused script reached a server";
    // One slot by hash tag is fine, and the client is still usable.
    const auto ok = run_one({"EVAL", "return #KEYS", "2", "{" + keys[0] + "}a", "{" + keys[0] + "}b"});
    EXPECT_EQ(ok.integer, 2);
}

TEST_F(cluster_client_test, follows_moved_after_a_slot_is_migrated) {
    const auto key = keys_on_masters("moved")[0];
    const int slot = redis::key_slot(key);
    EXPECT_EQ(run_one({"SET", key, "before"}).text, "OK");
    const auto from = cluster_->master_of_slot(slot);
    const auto to = cluster_->masters()[from.id == cluster_->masters()[0].id ? 1 : 0];
    const auto session = client_->session();

    cluster_->migrate_slot(slot, from, to);
    const auto got = run_one({"GET", key}); // sent to the old master, which answers MOVED
    EXPECT_EQ(got.text, "before");
    EXPECT_EQ(client_->master_of(slot), to.address.name());
    EXPECT_NE(client_->session(), session) << "a slot changed masters: Redis may have lost writes";
    EXPECT_EQ(run_one({"SET", key, "after"}).text, "OK");
    EXPECT_EQ(cluster_->at(to.address).text({"GET", key}), "after");

    cluster_->migrate_slot(slot, to, from); // as it was
    EXPECT_EQ(run_one({"GET", key}).text, "after");
    EXPECT_EQ(client_->master_of(slot), from.address.name());
}

TEST_F(cluster_client_test, follows_ask_while_a_slot_is_being_migrated) {
    const auto key = keys_on_masters("ask")[0];
    const int slot = redis::key_slot(key);
    const auto s = std::to_string(slot);
    EXPECT_EQ(run_one({"SET", key, "moving"}).text, "OK");
    const auto from = cluster_->master_of_slot(slot);
    const auto to = cluster_->masters()[from.id == cluster_->masters()[0].id ? 1 : 0];
    cluster_->at(to.address).checked({"CLUSTER", "SETSLOT", s, "IMPORTING", from.id});
    cluster_->at(from.address).checked({"CLUSTER", "SETSLOT", s, "MIGRATING", to.id});
    cluster_->at(from.address).checked({"MIGRATE", to.address.host, to.address.port, "", "0", "5000", "KEYS", key});

    const auto got = run_one({"GET", key}); // the old master answers ASK: the key has left
    EXPECT_EQ(got.text, "moving");
    EXPECT_EQ(run_one({"SET", key, "moved"}).text, "OK");
    EXPECT_EQ(client_->master_of(slot), from.address.name()) << "ASK must not change the map";

    // As it was: the slot stable on its master (which then takes the key back: a migrating
    // node would answer the key's RESTORE with ASK), the key back there, the import ended.
    cluster_->at(from.address).checked({"CLUSTER", "SETSLOT", s, "STABLE"});
    cluster_->at(to.address).checked({"MIGRATE", from.address.host, from.address.port, "", "0", "5000", "KEYS", key});
    cluster_->at(to.address).checked({"CLUSTER", "SETSLOT", s, "STABLE"});
    EXPECT_EQ(cluster_->at(from.address).text({"GET", key}), "moved");
}

TEST_F(cluster_client_test, follows_a_manual_failover_without_a_restart) {
    const auto key = keys_on_masters("failover")[0];
    const int slot = redis::key_slot(key);
    EXPECT_EQ(run_one({"SET", key, "1"}).text, "OK");
    const auto master = cluster_->master_of_slot(slot);
    const auto replica = cluster_->replica_of(master);
    const auto session = client_->session();

    cluster_->at(replica.address).checked({"CLUSTER", "FAILOVER"});
    ASSERT_TRUE(cluster_->wait_until_role(replica.id, true, 15s)) << "the replica was not promoted";
    EXPECT_EQ(run_one({"INCR", key}).integer, 2); // the old master, now a replica, answers MOVED
    EXPECT_EQ(client_->master_of(slot), replica.address.name());
    EXPECT_NE(client_->session(), session);
    EXPECT_EQ(cluster_->at(replica.address).text({"GET", key}), "2");

    ASSERT_TRUE(cluster_->make_master(master, 20s)) << "the old master did not take over again"; // as it was
    EXPECT_EQ(run_one({"INCR", key}).integer, 3);
    EXPECT_EQ(client_->master_of(slot), master.address.name());
}

// kill -9 of a master: its commands fail (at once, never hang), and once its replica has
// taken over the client finds it by itself. The killed node is restarted on its files (it
// rejoins as a replica) and made master again.
TEST_F(cluster_client_test, follows_a_master_killed_by_the_system) {
    const char* dir = std::getenv("TEST_REDIS_CLUSTER_DIR");
    if (dir == nullptr || *dir == '\0') {
        TP_SKIP_OR_FAIL_WITHOUT_SERVER("TEST_REDIS_CLUSTER_DIR is not set: this test restarts the node it kills");
    }
    // Not the master the manual failover test moves (the first): a replica that took part in
    // an election less than 4 node timeouts ago reuses that election's outcome (Redis 7.0),
    // "wins" at once with its old epoch, and is ignored by the other masters, so nobody would
    // serve the slot until the killed node came back.
    const auto key = keys_on_masters("killed").back();
    const int slot = redis::key_slot(key);
    const auto master = cluster_->master_of_slot(slot);
    const auto replica = cluster_->replica_of(master);
    // WAIT goes with the write before it, to that write's master: the replica has it.
    const auto written = run(batch{{"SET", key, "kept"}, {"WAIT", "1", "2000"}});
    ASSERT_EQ(written[1].integer, 1) << "the write did not reach the replica";
    const auto session = client_->session();

    ASSERT_EQ(::kill(cluster_->pid_of(master.address), SIGKILL), 0);
    int failures = 0;
    std::optional<std::string> value;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!value && std::chrono::steady_clock::now() < deadline) {
        const auto started = std::chrono::steady_clock::now();
        try {
            value = run_one({"GET", key}).text;
        } catch (const redis::error&) {
            ++failures;
            EXPECT_LT(std::chrono::steady_clock::now() - started, 3s) << "a command waited longer than its timeout";
            // The event loop runs between tries, as a server's always does: the client's slot
            // map refresh, scheduled by the failure, runs in the background (with the loop
            // stopped, a refused command fails faster than the refresh's pacing, and the
            // client would never get to look for the new master).
            ctx_.restart();
            ctx_.run_for(100ms);
        }
    }
    EXPECT_EQ(value, "kept") << "the promoted replica was not found within 20 s";
    EXPECT_GT(failures, 0);
    EXPECT_EQ(client_->master_of(slot), replica.address.name());
    EXPECT_NE(client_->session(), session);

    // As it was: the old master back on its files, as a replica, then master again.
    const auto restart = "redis-server " + std::string(dir) + "/" + master.address.port + "/redis.conf";
    ASSERT_EQ(std::system(restart.c_str()), 0);
    ASSERT_TRUE(cluster_->wait_until_role(master.id, false, 20s)) << "the restarted node did not rejoin";
    ASSERT_TRUE(cluster_->make_master(master, 20s)) << "the old master did not take over again";
    EXPECT_EQ(run_one({"GET", key}).text, "kept");
}

TEST_F(cluster_client_test, many_callers_at_once_get_their_own_answers) {
    const auto keys = keys_on_masters("callers");
    int mismatches = 0;
    std::vector<awaitable<void>> ops;
    for (int i = 0; i < 60; ++i) {
        auto op = [](redis::client& c, std::string key, std::string field, int& bad) -> awaitable<void> {
            std::vector<std::vector<std::string>> commands{{"HSET", key, field, field}, {"TIME"}, {"HGET", key, field}};
            const auto replies = co_await c.execute_all(std::move(commands));
            bad += replies[2].text == field ? 0 : 1;
        };
        ops.push_back(op(*client_, keys[static_cast<std::size_t>(i) % 3], "f" + std::to_string(i), mismatches));
    }
    const auto report = run_all(ctx_, std::move(ops), 20s);
    EXPECT_EQ(report.finished, 60u);
    EXPECT_TRUE(report.failures.empty()) << report.failures.front();
    EXPECT_EQ(mismatches, 0);
}

TEST_F(cluster_client_test, close_lets_the_event_loop_finish) {
    const auto keys = keys_on_masters("close");
    const auto replies = run(batch{{"GET", keys[0]}, {"GET", keys[1]}, {"GET", keys[2]}});
    EXPECT_EQ(replies.size(), 3u);
    client_->close();
    ctx_.restart();
    ctx_.run_for(5s);
    EXPECT_TRUE(ctx_.stopped()) << "something of the closed client is still running";
    EXPECT_THROW(run_one({"GET", keys[0]}), redis::error);
}

TEST_F(cluster_client_test, make_client_reads_the_cluster_url) {
    auto made = redis::make_client(ctx_.get_executor(), *redis_cluster_url(), redis::client_options{});
    const auto key = track("tp:test:cluster:made");
    EXPECT_EQ(run_coro(ctx_, made->execute({"SET", key, "x"}), 20s).text, "OK");
    EXPECT_EQ(on_its_master(key), "x");
    made->close();
    EXPECT_THROW(redis::make_client(ctx_.get_executor(), "redis-cluster://nohost", {}), redis::error);
}

} // namespace
} // namespace tp::test
