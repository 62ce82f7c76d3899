#include "http/router.hpp"

#include <gtest/gtest.h>

using tp::http::failure;
using tp::http::router;
using tp::http::split_path;
using tp::http::verb;

namespace {

router<std::string> make_table() {
    router<std::string> r;
    r.add(verb::post, "/auth/signIn", "sign_in");
    r.add(verb::get, "/queue/queue", "queue_status");
    r.add(verb::post, "/queue/queue", "queue_enter");
    r.add(verb::get, "/reservation/performance_seats/{performance_staging_date_id}", "seats");
    r.add(verb::get, "/a/{x}/b/{y}", "two_params");
    return r;
}

} // namespace

TEST(router, finds_the_route_for_method_and_path) {
    const auto table = make_table();
    const auto m = table.find(verb::post, "/auth/signIn");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->found->route, "sign_in");
}

TEST(router, one_path_can_have_several_methods) {
    const auto table = make_table();
    EXPECT_EQ(table.find(verb::get, "/queue/queue")->found->route, "queue_status");
    EXPECT_EQ(table.find(verb::post, "/queue/queue")->found->route, "queue_enter");
}

TEST(router, an_unknown_path_is_route_not_found) {
    const auto table = make_table();
    for (const char* path :
         {"/nope",
          "/auth",
          "/auth/signin",
          "/auth/signIn/extra",
          "/queue/queue/",
          "/reservation/performance_seats",
          "/reservation/performance_seats/"}) {
        const auto m = table.find(verb::get, path);
        ASSERT_FALSE(m) << path;
        EXPECT_EQ(m.error(), failure::route_not_found) << path;
    }
}

TEST(router, a_known_path_with_another_method_is_method_not_allowed) {
    const auto table = make_table();
    const auto m = table.find(verb::get, "/auth/signIn");
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error(), failure::method_not_allowed);
    const auto d = table.find(verb::delete_, "/reservation/performance_seats/abc");
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error(), failure::method_not_allowed);
}

TEST(router, captures_a_path_parameter) {
    const auto table = make_table();
    const auto m = table.find(verb::get, "/reservation/performance_seats/123e4567-e89b-12d3-a456-426614174000");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->found->route, "seats");
    EXPECT_EQ(m->params.at("performance_staging_date_id"), "123e4567-e89b-12d3-a456-426614174000");
}

TEST(router, captures_several_parameters) {
    const auto table = make_table();
    const auto m = table.find(verb::get, "/a/1/b/2");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->params.at("x"), "1");
    EXPECT_EQ(m->params.at("y"), "2");
    EXPECT_THROW((void)m->params.at("z"), std::out_of_range);
}

TEST(router, percent_decodes_captured_parameters) {
    const auto table = make_table();
    const auto m = table.find(verb::get, "/reservation/performance_seats/a%20b%2Fc");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->params.at("performance_staging_date_id"), "a b/c");
}

TEST(router, percent_decodes_literal_segments_before_comparing) {
    const auto table = make_table();
    const auto m = table.find(verb::post, "/auth/sign%49n");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->found->route, "sign_in");
}

TEST(router, ignores_the_query_string) {
    const auto table = make_table();
    const auto m = table.find(verb::get, "/reservation/performance_seats/abc?x=1&y=2");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->params.at("performance_staging_date_id"), "abc");
}

TEST(router, an_empty_parameter_does_not_match) {
    const auto table = make_table();
    const auto m = table.find(verb::get, "/a//b/2");
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error(), failure::route_not_found);
}

TEST(router, matches_the_root_path) {
    router<std::string> table;
    table.add(verb::get, "/", "root");
    const auto m = table.find(verb::get, "/");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->found->route, "root");
}

TEST(router, a_target_that_is_not_a_path_is_a_bad_request) {
    const auto table = make_table();
    for (const char* target : {"", "auth/signIn", "http://example.com/auth/signIn", "/a b", "/%zz"}) {
        const auto m = table.find(verb::get, target);
        ASSERT_FALSE(m) << target;
        EXPECT_EQ(m.error(), failure::malformed_target) << target;
    }
}

TEST(split_path, decodes_each_segment) {
    const auto segments = split_path("/a/b%3Ac?x");
    ASSERT_TRUE(segments);
    EXPECT_EQ(*segments, (std::vector<std::string>{"a", "b:c"}));
}

TEST(router, lists_its_entries_in_insertion_order) {
    const auto table = make_table();
    ASSERT_EQ(table.entries().size(), 5u);
    EXPECT_EQ(table.entries().front().pattern.text(), "/auth/signIn");
}
