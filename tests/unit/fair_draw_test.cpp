// The draw's rules (security/fair_draw.hpp) against values computed independently, by the
// published recipe, with Python's hashlib and hmac: the order a fan can recompute by hand is
// the order the server draws.

#include "security/fair_draw.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

using namespace tp::security;

namespace {

draw_seed counting_seed() { // bytes 0x00, 0x01, ... 0x1f
    draw_seed seed;
    for (std::size_t i = 0; i < seed.bytes.size(); ++i) {
        seed.bytes[i] = static_cast<std::uint8_t>(i);
    }
    return seed;
}

} // namespace

TEST(fair_draw, seed_and_commitment_are_lowercase_hex_of_the_bytes_and_their_sha256) {
    const auto seed = counting_seed();
    EXPECT_EQ(seed.hex(), "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    EXPECT_EQ(seed.commitment(), "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd");
    const auto parsed = parse_draw_seed(seed.hex());
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->bytes, seed.bytes);
}

TEST(fair_draw, a_seed_is_exactly_64_lowercase_hex_digits) {
    const std::string good(64, 'a');
    EXPECT_TRUE(parse_draw_seed(good));
    EXPECT_FALSE(parse_draw_seed(good.substr(1)));
    EXPECT_FALSE(parse_draw_seed(good + "a"));
    EXPECT_FALSE(parse_draw_seed(std::string(64, 'A')));
    EXPECT_FALSE(parse_draw_seed(std::string(63, 'a') + "g"));
}

TEST(fair_draw, fresh_seeds_differ) {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        seen.insert(new_draw_seed().hex());
    }
    EXPECT_EQ(seen.size(), 100U);
}

TEST(fair_draw, an_entrant_is_the_sha256_of_the_token_id) {
    EXPECT_EQ(entrant_of("s.0"), "9cd1849a919524dacf17cc792f210c704266b6f04737778462b4a4381067105e");
}

TEST(fair_draw, the_order_is_ascending_hmac_of_each_entrant_under_the_seed) {
    std::vector<std::string> entrants;
    for (int i = 0; i < 6; ++i) {
        entrants.push_back(entrant_of("s." + std::to_string(i)));
    }
    EXPECT_EQ(draw_order(counting_seed(), entrants), (std::vector<std::size_t>{4, 3, 1, 0, 2, 5}));
    EXPECT_TRUE(draw_order(counting_seed(), {}).empty());
}

TEST(fair_draw, another_seed_gives_another_order) {
    std::vector<std::string> entrants;
    for (int i = 0; i < 50; ++i) {
        entrants.push_back(entrant_of("s." + std::to_string(i)));
    }
    auto other = counting_seed();
    other.bytes[0] = 0xff;
    EXPECT_NE(draw_order(counting_seed(), entrants), draw_order(other, entrants));
}
