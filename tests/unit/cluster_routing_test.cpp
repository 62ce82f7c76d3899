// What the Redis Cluster client decides without a server: the slot of each command the
// project sends, the slot map read from CLUSTER SLOTS, redirections, and the cluster URL.

#include "storage/redis/cluster_client.hpp"
#include "storage/redis/command_slot.hpp"
#include "storage/redis/key_slot.hpp"
#include "storage/redis/slot_map.hpp"

#include <gtest/gtest.h>

namespace tp::redis {
namespace {

using strings = std::vector<std::string>;

// --- command_slot ----------------------------------------------------------------------------

TEST(command_slot, ordinary_commands_go_by_their_first_argument) {
    for (const char* name :
         {"GET",
          "SET",
          "HMGET",
          "HGETALL",
          "HSET",
          "HINCRBY",
          "ZRANK",
          "ZCARD",
          "ZADD",
          "XADD",
          "XRANGE",
          "XREVRANGE",
          "EXPIRE",
          "INCR",
          "SADD",
          "SMEMBERS",
          "HGET",
          "get"}) {
        EXPECT_EQ(command_slot(strings{name, "foo", "x", "y"}), key_slot("foo")) << name;
    }
}

TEST(command_slot, multi_key_commands_need_one_slot) {
    EXPECT_EQ(command_slot(strings{"DEL", "{a}1", "{a}2"}), key_slot("a"));
    EXPECT_EQ(command_slot(strings{"EXISTS", "foo"}), key_slot("foo"));
    EXPECT_THROW(command_slot(strings{"DEL", "foo", "bar"}), error);
    EXPECT_EQ(command_slot(strings{"MSET", "{a}1", "v", "{a}2", "v"}), key_slot("a"));
}

TEST(command_slot, scripts_go_by_their_declared_keys) {
    EXPECT_EQ(command_slot(strings{"EVALSHA", "sha", "2", "{g}:a", "{g}:b", "arg", "foo"}), key_slot("g"));
    EXPECT_EQ(command_slot(strings{"EVAL", "return 1", "1", "foo", "bar"}), key_slot("foo"));
    EXPECT_EQ(command_slot(strings{"EVALSHA", "sha", "0", "arg"}), std::nullopt);
}

TEST(command_slot, a_cross_slot_script_is_refused_before_it_is_sent) {
    EXPECT_THROW(command_slot(strings{"EVALSHA", "sha", "2", "foo", "bar"}), error);
    EXPECT_THROW(command_slot(strings{"EVALSHA", "sha", "3", "foo"}), error); // more keys than arguments
    EXPECT_THROW(command_slot(strings{"EVALSHA", "sha", "x"}), error);
}

TEST(command_slot, xread_goes_by_its_streams) {
    EXPECT_EQ(command_slot(strings{"XREAD", "COUNT", "5", "STREAMS", "{s}1", "{s}2", "0", "0"}), key_slot("s"));
    EXPECT_THROW(command_slot(strings{"XREAD", "STREAMS", "foo", "bar", "0", "0"}), error);
    EXPECT_THROW(command_slot(strings{"XREAD", "COUNT", "5"}), error);
}

TEST(command_slot, keyless_commands_have_no_slot) {
    for (const auto& command :
         {strings{"TIME"}, strings{"PING"}, strings{"WAIT", "1", "100"}, strings{"SCRIPT", "FLUSH"}}) {
        EXPECT_EQ(command_slot(command), std::nullopt) << command[0];
    }
}

// Every command src/ and tools/ send through a client (grep for execute), in the shape they
// send it: a new one must be taught to command_slot.cpp before it can reach a cluster.
TEST(command_slot, knows_every_command_the_project_sends) {
    const std::vector<strings> sent{
        {"HMGET", "tp:token:t", "user", "gate"},
        {"ZRANK", "tp:gate:{g}:waiting", "t"},
        {"HGET", "tp:gate:{g}:state", "rate"},
        {"TIME"},
        {"EXISTS", "tp:soldout:s"},
        {"SMEMBERS", "tp:gates"},
        {"ZCARD", "tp:gate:{g}:active"},
        {"HSET", "tp:gate:{g}:settings", "capacity", "1"},
        {"SET", "tp:soldout:s", "1"},
        {"GET", "tp:seatmap:{s}:version"},
        {"XRANGE", "tp:seatmap:{s}:changes", "(1-0", "+", "COUNT", "64"},
        {"EVALSHA", "sha", "2", "tp:seatmap:{s}:version", "tp:seatmap:{s}:changes", "60"},
        {"EVAL", "source", "2", "tp:seatmap:{s}:version", "tp:seatmap:{s}:changes", "60"},
        {"EVALSHA", "sha", "0", "g"}};
    for (const auto& command : sent) {
        EXPECT_NO_THROW(command_slot(command)) << command[0];
    }
}

TEST(command_slot, an_unknown_command_is_an_error_not_a_guess) {
    EXPECT_THROW(command_slot(strings{"FLUSHALL"}), error);
    EXPECT_THROW(command_slot(strings{"KEYS", "*"}), error);
    EXPECT_THROW(command_slot(strings{}), error);
    EXPECT_THROW(command_slot(strings{"GET"}), error); // a keyed command without its key
}

// --- parse_cluster_slots ---------------------------------------------------------------------

reply integer(std::int64_t v) {
    reply r;
    r.type = reply::kind::integer;
    r.integer = v;
    return r;
}

reply text(std::string v) {
    reply r;
    r.type = reply::kind::string;
    r.text = std::move(v);
    return r;
}

reply array(std::vector<reply> elements) {
    reply r;
    r.type = reply::kind::array;
    r.elements = std::move(elements);
    return r;
}

reply node(std::string host, int port) {
    return array({text(std::move(host)), integer(port), text("id")});
}

TEST(parse_cluster_slots, reads_the_master_of_each_range) {
    const auto answer = array({
        array({integer(0), integer(5460), node("127.0.0.1", 7000), node("127.0.0.1", 7004)}),
        array({integer(5461), integer(10922), node("127.0.0.1", 7001)}),
        array({integer(10923), integer(16383), node("", 7002)}),
    });
    const auto ranges = parse_cluster_slots(answer, "10.0.0.9");
    ASSERT_TRUE(ranges);
    ASSERT_EQ(ranges->size(), 3u);
    EXPECT_EQ((*ranges)[0].first, 0);
    EXPECT_EQ((*ranges)[0].last, 5460);
    EXPECT_EQ((*ranges)[0].master.name(), "127.0.0.1:7000"); // the master, not its replica
    EXPECT_EQ((*ranges)[1].master.name(), "127.0.0.1:7001");
    EXPECT_EQ((*ranges)[2].master.name(), "10.0.0.9:7002"); // no host given: the one asked
}

TEST(parse_cluster_slots, refuses_other_shapes) {
    EXPECT_FALSE(parse_cluster_slots(text("ERR This instance has cluster support disabled"), "h"));
    EXPECT_FALSE(parse_cluster_slots(array({array({integer(0), integer(16384), node("h", 1)})}), "h"));
    EXPECT_FALSE(parse_cluster_slots(array({array({integer(10), integer(5), node("h", 1)})}), "h"));
    EXPECT_FALSE(parse_cluster_slots(array({array({integer(0), integer(5)})}), "h"));
    EXPECT_TRUE(parse_cluster_slots(array({}), "h")); // a cluster with no slots assigned yet
}

// --- parse_redirection -----------------------------------------------------------------------

TEST(parse_redirection, reads_moved_and_ask) {
    const auto moved = parse_redirection("MOVED 3999 127.0.0.1:6381");
    ASSERT_TRUE(moved);
    EXPECT_EQ(moved->type, redirection::kind::moved);
    EXPECT_EQ(moved->slot, 3999);
    EXPECT_EQ(moved->target.name(), "127.0.0.1:6381");
    const auto ask = parse_redirection("ASK 12182 [::1]:7002");
    ASSERT_TRUE(ask);
    EXPECT_EQ(ask->type, redirection::kind::ask);
    EXPECT_EQ(ask->target.host, "::1");
    EXPECT_EQ(ask->target.port, "7002");
    for (const char* other : {"ERR wrong", "MOVED x h:1", "MOVED 16384 h:1", "MOVED 1 h", "ASK 1", "TRYAGAIN"}) {
        EXPECT_FALSE(parse_redirection(other)) << other;
    }
}

// --- parse_cluster_url -----------------------------------------------------------------------

TEST(parse_cluster_url, reads_every_seed) {
    const auto seeds = parse_cluster_url("redis-cluster://10.0.0.1:7000,cache-b:7001,[::1]:7002");
    ASSERT_TRUE(seeds);
    ASSERT_EQ(seeds->size(), 3u);
    EXPECT_EQ((*seeds)[0].name(), "10.0.0.1:7000");
    EXPECT_EQ((*seeds)[1].name(), "cache-b:7001");
    EXPECT_EQ((*seeds)[2].host, "::1");
}

TEST(parse_cluster_url, refuses_malformed_urls) {
    for (const char* url :
         {"redis-cluster://",
          "redis-cluster://h",
          "redis-cluster://h:",
          "redis-cluster://h:0",
          "redis-cluster://h:70000",
          "redis-cluster://h:7000,",
          "redis-cluster://,h:7000",
          "redis-cluster://h:7000/0",
          "redis://h:7000",
          "redis-cluster://u@h:7000"}) {
        EXPECT_FALSE(parse_cluster_url(url)) << "accepted: '" << url << "'";
    }
}

} // namespace
} // namespace tp::redis
