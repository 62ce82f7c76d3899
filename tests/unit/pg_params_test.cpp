#include "storage/pg/query.hpp"

#include <gtest/gtest.h>

using tp::pg::make_params;
using tp::pg::to_param;

// Parameters are bound, never spliced; these are the text forms libpq sends.

TEST(pg_params, scalars_travel_as_text_and_nullopt_as_null) {
    const std::optional<std::string> none;
    const std::optional<std::string> some = "x";
    const auto p = make_params(std::string("a"), "b", std::int64_t{-5}, 7, true, false, none, some);
    ASSERT_EQ(p.size(), 8u);
    EXPECT_EQ(p[0], "a");
    EXPECT_EQ(p[1], "b");
    EXPECT_EQ(p[2], "-5");
    EXPECT_EQ(p[3], "7");
    EXPECT_EQ(p[4], "true");
    EXPECT_EQ(p[5], "false");
    EXPECT_EQ(p[6], std::nullopt);
    EXPECT_EQ(p[7], "x");
}

TEST(pg_params, a_list_of_strings_is_a_quoted_array_literal) {
    EXPECT_EQ(to_param(std::vector<std::string>{}), "{}");
    EXPECT_EQ(to_param(std::vector<std::string>{"a", "b"}), R"({"a","b"})");
}

TEST(pg_params, quotes_and_backslashes_in_array_elements_are_escaped) {
    EXPECT_EQ(
        to_param(std::vector<std::string>{R"(say "hi")", R"(c:\x)", "a,b", "{}"}),
        R"({"say \"hi\"","c:\\x","a,b","{}"})"
    );
}

TEST(pg_params, a_list_of_integers_is_an_array_literal) {
    EXPECT_EQ(to_param(std::vector<std::int64_t>{}), "{}");
    EXPECT_EQ(to_param(std::vector<std::int64_t>{1, -2, 9'000'000'000}), "{1,-2,9000000000}");
}
