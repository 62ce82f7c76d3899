#include "api/json_io.hpp"

#include <gtest/gtest.h>

using tp::api::body_reader;
using tp::api::parse_json_object;
using tp::domain::errc;
namespace json = boost::json;

namespace {

json::object object_of(std::string_view text) {
    return json::parse(text).as_object();
}

tp::http::request request_with(std::string body, std::string_view content_type = "application/json") {
    tp::http::request req{tp::http::verb::post, "/payment/cash", 11};
    if (!content_type.empty()) {
        req.set(boost::beast::http::field::content_type, content_type);
    }
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
}

std::optional<std::int64_t> read_integer(std::string_view body) {
    const auto object = object_of(body);
    body_reader in(object);
    const auto value = in.integer("amount");
    if (in.failed()) {
        EXPECT_EQ(in.error().code, errc::bad_request);
        EXPECT_NE(in.error().message.find("amount"), std::string::npos) << in.error().message;
        return std::nullopt;
    }
    return value;
}

} // namespace

// --- parse_json_object ---------------------------------------------------------------------

TEST(parse_json_object, accepts_a_json_object) {
    const auto r = parse_json_object(request_with(R"({"amount": 5000})"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->at("amount").as_int64(), 5000);
}

TEST(parse_json_object, accepts_json_with_a_charset_and_no_content_type) {
    EXPECT_TRUE(parse_json_object(request_with("{}", "application/json; charset=utf-8")));
    EXPECT_TRUE(parse_json_object(request_with("{}", "")));
}

TEST(parse_json_object, a_non_json_content_type_is_unsupported_media_type) {
    for (const char* type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}) {
        const auto r = parse_json_object(request_with(R"({"amount": 5000})", type));
        ASSERT_FALSE(r) << type;
        EXPECT_EQ(r.error().code, errc::unsupported_media_type) << type;
    }
}

TEST(parse_json_object, malformed_json_is_malformed_json) {
    for (const char* body : {"", "{", "{\"amount\": }", "{'amount': 1}", "{\"a\":1}}", "nul", "{\"a\":1,}"}) {
        const auto r = parse_json_object(request_with(body));
        ASSERT_FALSE(r) << body;
        EXPECT_EQ(r.error().code, errc::malformed_json) << body;
    }
}

TEST(parse_json_object, json_that_is_not_an_object_is_a_bad_request) {
    for (const char* body : {"[]", "5000", "\"x\"", "null", "true"}) {
        const auto r = parse_json_object(request_with(body));
        ASSERT_FALSE(r) << body;
        EXPECT_EQ(r.error().code, errc::bad_request) << body;
    }
}

// --- body_reader: integers -----------------------------------------------------------------

TEST(body_reader, an_integer_accepts_whole_numbers) {
    EXPECT_EQ(read_integer(R"({"amount": 5000})"), 5000);
    EXPECT_EQ(read_integer(R"({"amount": -3})"), -3);
    EXPECT_EQ(read_integer(R"({"amount": 0})"), 0);
}

TEST(body_reader, an_integer_accepts_a_whole_number_written_as_a_float) {
    EXPECT_EQ(read_integer(R"({"amount": 5000.0})"), 5000);
    EXPECT_EQ(read_integer(R"({"amount": 5e3})"), 5000);
}

TEST(body_reader, an_integer_refuses_fractions_strings_booleans_and_absurd_numbers) {
    for (const char* body :
         {R"({"amount": 5000.5})",
          R"({"amount": "5000"})",
          R"({"amount": true})",
          R"({"amount": 1e300})",
          R"({"amount": -1e300})",
          R"({"amount": [5000]})",
          R"({"amount": {"value": 5000}})",
          R"({"amount": 18446744073709551615})",
          R"({"amount": 1e16})"}) {
        EXPECT_FALSE(read_integer(body)) << body;
    }
}

TEST(body_reader, a_missing_or_null_integer_is_required) {
    for (const char* body : {R"({})", R"({"amount": null})"}) {
        const auto object = object_of(body);
        body_reader in(object);
        (void)in.integer("amount");
        ASSERT_TRUE(in.failed()) << body;
        EXPECT_EQ(in.error().message, "amount is required.");
    }
}

TEST(body_reader, an_optional_integer_may_be_missing_or_null) {
    const auto object = object_of(R"({"b": null})");
    body_reader in(object);
    EXPECT_FALSE(in.optional_integer("a"));
    EXPECT_FALSE(in.optional_integer("b"));
    EXPECT_FALSE(in.failed());
}

TEST(body_reader, an_optional_integer_of_the_wrong_type_fails) {
    const auto object = object_of(R"({"a": "1"})");
    body_reader in(object);
    EXPECT_FALSE(in.optional_integer("a"));
    ASSERT_TRUE(in.failed());
    EXPECT_EQ(in.error().message, "a must be a whole number.");
}

// --- body_reader: strings, lists, objects --------------------------------------------------

TEST(body_reader, reads_strings_and_names_a_wrong_type) {
    const auto object = object_of(R"({"email_address": "fan@example.com", "name": 5})");
    body_reader in(object);
    EXPECT_EQ(in.string("email_address"), "fan@example.com");
    EXPECT_FALSE(in.failed());
    EXPECT_FALSE(in.optional_string("name"));
    ASSERT_TRUE(in.failed());
    EXPECT_EQ(in.error().code, errc::bad_request);
    EXPECT_EQ(in.error().message, "name must be a string.");
}

TEST(body_reader, a_missing_required_string_is_named) {
    const auto object = object_of(R"({})");
    body_reader in(object);
    EXPECT_EQ(in.string("password"), "");
    ASSERT_TRUE(in.failed());
    EXPECT_EQ(in.error().message, "password is required.");
}

TEST(body_reader, the_first_error_wins) {
    const auto object = object_of(R"({"amount": "x", "name": 5})");
    body_reader in(object);
    (void)in.string("email_address");
    (void)in.integer("amount");
    (void)in.optional_string("name");
    ASSERT_TRUE(in.failed());
    EXPECT_EQ(in.error().message, "email_address is required.");

    body_reader second(object);
    (void)second.integer("amount");
    (void)second.string("email_address");
    EXPECT_EQ(second.error().message, "amount must be a whole number.");
}

TEST(body_reader, reads_a_list_of_strings) {
    const auto object = object_of(R"({"performance_seat_ids": ["a", "b"]})");
    body_reader in(object);
    EXPECT_EQ(in.string_list("performance_seat_ids"), (std::vector<std::string>{"a", "b"}));
    EXPECT_FALSE(in.failed());
}

TEST(body_reader, a_list_with_a_non_string_fails) {
    const auto object = object_of(R"({"performance_seat_ids": ["a", 2]})");
    body_reader in(object);
    EXPECT_TRUE(in.string_list("performance_seat_ids").empty());
    ASSERT_TRUE(in.failed());
    EXPECT_EQ(in.error().message, "performance_seat_ids must be a list of strings.");
}

TEST(body_reader, a_list_that_is_not_a_list_fails) {
    const auto object = object_of(R"({"performance_seat_ids": "a"})");
    body_reader in(object);
    EXPECT_TRUE(in.string_list("performance_seat_ids").empty());
    ASSERT_TRUE(in.failed());
    EXPECT_EQ(in.error().message, "performance_seat_ids must be a list.");
}

TEST(body_reader, reads_nested_objects_and_refuses_other_types) {
    const auto object = object_of(R"({"stage": {"name": "Hall"}, "schedules": 3})");
    body_reader in(object);
    EXPECT_EQ(in.object("stage").at("name").as_string(), "Hall");
    EXPECT_FALSE(in.failed());
    EXPECT_TRUE(in.array("schedules").empty());
    ASSERT_TRUE(in.failed());
    EXPECT_EQ(in.error().message, "schedules must be a list.");

    body_reader other(object);
    EXPECT_TRUE(other.object("schedules").empty());
    EXPECT_EQ(other.error().message, "schedules must be an object.");
}

TEST(body_reader, has_is_false_for_missing_and_null) {
    const auto object = object_of(R"({"a": 1, "b": null})");
    const body_reader in(object);
    EXPECT_TRUE(in.has("a"));
    EXPECT_FALSE(in.has("b"));
    EXPECT_FALSE(in.has("c"));
}

TEST(json_answer, serialises_the_body_with_the_status) {
    const auto res = tp::api::json_answer(tp::http::status::created, json::object{{"balance", 5000}});
    EXPECT_EQ(res.result(), tp::http::status::created);
    EXPECT_EQ(res[boost::beast::http::field::content_type], "application/json");
    EXPECT_EQ(json::parse(res.body()), (json::object{{"balance", 5000}}));
}
