// Redis Cluster key slots: CRC16 (XMODEM) mod 16384 and the {hash tag} rules, checked
// against the values Redis itself gives (CLUSTER KEYSLOT) and the examples of its docs.

#include "storage/redis/key_slot.hpp"

#include <gtest/gtest.h>

namespace tp::redis {
namespace {

TEST(key_slot, matches_the_values_redis_gives) {
    EXPECT_EQ(key_slot("123456789"), 12739); // the CRC16/XMODEM check value 0x31C3
    EXPECT_EQ(key_slot("foo"), 12182);
    EXPECT_EQ(key_slot("bar"), 5061);
    EXPECT_EQ(key_slot("hello"), 866);
    EXPECT_EQ(key_slot(""), 0);
}

TEST(key_slot, keys_with_one_hash_tag_share_a_slot) {
    EXPECT_EQ(key_slot("{user1000}.following"), key_slot("{user1000}.followers"));
    EXPECT_EQ(key_slot("{user1000}.following"), key_slot("user1000"));
    EXPECT_EQ(key_slot("tp:gate:{g1}:waiting"), key_slot("tp:gate:{g1}:state"));
}

TEST(key_slot, only_the_first_non_empty_braces_count) {
    EXPECT_EQ(hash_tag("foo{}{bar}"), "foo{}{bar}"); // empty first braces: the whole key
    EXPECT_EQ(key_slot("foo{}{bar}"), 8363);
    EXPECT_EQ(hash_tag("foo{{bar}}zap"), "{bar"); // from the first { to the first } after it
    EXPECT_EQ(key_slot("foo{{bar}}zap"), key_slot("{bar"));
    EXPECT_EQ(hash_tag("foo{bar}{zap}"), "bar");
    EXPECT_EQ(hash_tag("foo{bar"), "foo{bar"); // no closing brace
    EXPECT_EQ(hash_tag("foo}bar{"), "foo}bar{");
}

} // namespace
} // namespace tp::redis
