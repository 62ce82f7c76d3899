#include "support/recent_map.hpp"

#include <gtest/gtest.h>

using tp::recent_map;

TEST(recent_map, finds_what_was_inserted_and_nothing_else) {
    recent_map<int> m(8);
    m.insert("a", 1);
    m.insert("b", 2);
    ASSERT_NE(m.find("a"), nullptr);
    EXPECT_EQ(*m.find("a"), 1);
    EXPECT_EQ(*m.find("b"), 2);
    EXPECT_EQ(m.find("c"), nullptr);
    EXPECT_EQ(m.find("ab"), nullptr);
    m.insert("a", 3);
    EXPECT_EQ(*m.find("a"), 3) << "a new value replaces the old one";
}

TEST(recent_map, keeps_at_most_two_generations_and_what_is_still_used) {
    recent_map<int> m(2);
    m.insert("a", 1);
    m.insert("b", 2);
    m.insert("c", 3); // {a, b} become the older generation
    EXPECT_NE(m.find("a"), nullptr) << "found in the older generation: moved to the current one";
    m.insert("d", 4); // current {c, a} full: {b, ...} dropped
    EXPECT_EQ(m.find("b"), nullptr);
    EXPECT_NE(m.find("a"), nullptr);
    EXPECT_NE(m.find("c"), nullptr);
    EXPECT_NE(m.find("d"), nullptr);
    for (int i = 0; i < 100; ++i) {
        m.insert("k" + std::to_string(i), i);
    }
    int remembered = 0;
    for (int i = 0; i < 100; ++i) {
        remembered += m.find("k" + std::to_string(i)) != nullptr ? 1 : 0;
    }
    EXPECT_LE(remembered, 4) << "bounded by two generations";
    EXPECT_NE(m.find("k99"), nullptr) << "the latest is always there";
}
