// The queue's key names: every key of a gate carries the gate's tag, and a token's id names
// the tag of its record (docs/waiting-queue.md, Data structures).

#include "storage/redis/queue_keys.hpp"

#include <gtest/gtest.h>

namespace tp::redis::queue_keys {
namespace {

constexpr std::string_view schedule = "5f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b";
constexpr std::string_view uuid = "9b2f3c1e-5d4a-4e8b-a1c2-3d4e5f607182";

TEST(queue_keys, a_gate_is_tagged_with_its_name_or_its_schedule) {
    EXPECT_EQ(gate("performances", "waiting"), "tp:gate:{performances}:waiting");
    EXPECT_EQ(
        gate("performance_seats:" + std::string(schedule), "state"),
        "tp:gate:performance_seats:{" + std::string(schedule) + "}:state"
    );
    EXPECT_EQ(tag_of_gate("take_performance_seat:" + std::string(schedule)), schedule);
    EXPECT_EQ(tag_of_gate("performances"), "performances");
    EXPECT_EQ(sold_out(domain::schedule_id(std::string(schedule))), "tp:soldout:{" + std::string(schedule) + "}");
}

TEST(queue_keys, a_token_id_names_the_tag_of_its_record) {
    const auto id = new_token_id(schedule);
    ASSERT_EQ(tag_of_token(id), schedule);
    EXPECT_EQ(token(id), "tp:token:{" + std::string(schedule) + "}:" + id.substr(schedule.size() + 1));
    EXPECT_LE(id.size(), max_token_id_size);
    EXPECT_EQ(tag_of_token(new_token_id("performances")), "performances");
    EXPECT_NE(new_token_id("performances"), new_token_id("performances"));
}

TEST(queue_keys, anything_else_is_no_token) {
    for (const std::string& text :
         {std::string(uuid),                                     // a bare UUID (ids before tags)
          "performances." + std::string(uuid) + "x",             // not a UUID after the dot
          "seats." + std::string(uuid),                          // an unknown tag
          "{performances}." + std::string(uuid),                 // braces would change the slot
          std::string(schedule) + "." + std::string(uuid) + ".", // nothing after the last dot
          "PERFORMANCES." + std::string(uuid),
          std::string("performances.") + "9B2F3C1E-5D4A-4E8B-A1C2-3D4E5F607182", // not canonical
          std::string(),
          std::string(".")}) {
        EXPECT_FALSE(tag_of_token(text)) << text;
    }
}

TEST(queue_keys, user_keys_are_per_tag_and_one_latest) {
    const domain::user_id ann("ann");
    EXPECT_EQ(user_in_tag("performances", ann), "tp:user:{performances}:ann");
    EXPECT_EQ(user_latest(ann), "tp:user:ann");
}

} // namespace
} // namespace tp::redis::queue_keys
