#include "errc_list.hpp"
#include "http/error_reply.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <map>
#include <set>

using tp::domain::errc;
using tp::http::code_of;
using tp::http::error_response;
using tp::http::status;
using tp::http::status_of;

namespace {

bool is_upper_snake(std::string_view code) {
    if (code.empty() || code.front() == '_' || code.back() == '_') {
        return false;
    }
    for (char c : code) {
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
            return false;
        }
    }
    return code.find("__") == std::string_view::npos;
}

} // namespace

TEST(error_reply, every_error_has_a_distinct_upper_snake_code) {
    std::set<std::string_view> seen;
    for (const auto code : tp::test::all_errors) {
        const auto name = code_of(code);
        EXPECT_TRUE(is_upper_snake(name)) << name;
        EXPECT_TRUE(seen.insert(name).second) << "code used twice: " << name;
    }
}

TEST(error_reply, every_error_maps_to_a_4xx_or_5xx_status) {
    for (const auto code : tp::test::all_errors) {
        const auto s = static_cast<int>(status_of(code));
        EXPECT_GE(s, 400) << code_of(code);
        EXPECT_LT(s, 600) << code_of(code);
    }
}

TEST(error_reply, statuses_are_the_specs) {
    const std::map<errc, status> expected{
        {errc::bad_request, status::bad_request},
        {errc::malformed_json, status::bad_request},
        {errc::unsupported_media_type, status::unsupported_media_type},
        {errc::token_missing, status::unauthorized},
        {errc::token_invalid, status::unauthorized},
        {errc::token_expired, status::unauthorized},
        {errc::wrong_credentials, status::unauthorized},
        {errc::admin_key_invalid, status::unauthorized},
        {errc::queue_flow_violated, status::bad_request},
        {errc::queue_token_missing, status::bad_request},
        {errc::queue_token_expired, status::gone},
        {errc::queue_token_not_yours, status::forbidden},
        {errc::queue_token_exists, status::conflict},
        {errc::queue_token_not_found, status::not_found},
        {errc::draw_not_found, status::not_found},
        {errc::ticketing_not_started, status::forbidden},
        {errc::performance_not_found, status::not_found},
        {errc::schedule_not_found, status::not_found},
        {errc::seat_not_found, status::not_found},
        {errc::seat_taken, status::conflict},
        {errc::sold_out, status::conflict},
        {errc::seat_limit_reached, status::conflict},
        {errc::seat_not_held, status::forbidden},
        {errc::hold_expired, status::conflict},
        {errc::seat_already_paid, status::conflict},
        {errc::insufficient_balance, status::conflict},
        {errc::balance_limit_reached, status::conflict},
        {errc::email_taken, status::conflict},
        {errc::idempotency_key_reused, status::unprocessable_entity},
    };
    ASSERT_EQ(expected.size(), tp::test::all_errors.size());
    for (const auto& [code, s] : expected) {
        EXPECT_EQ(status_of(code), s) << code_of(code);
    }
}

TEST(error_reply, failure_statuses_are_the_specs) {
    using tp::http::failure;
    const std::map<failure, status> expected{
        {failure::malformed_request, status::bad_request},
        {failure::malformed_target, status::bad_request},
        {failure::body_too_large, status::payload_too_large},
        {failure::headers_too_large, status::request_header_fields_too_large},
        {failure::route_not_found, status::not_found},
        {failure::method_not_allowed, status::method_not_allowed},
        {failure::database_unavailable, status::service_unavailable},
        {failure::queue_unavailable, status::service_unavailable},
        {failure::internal, status::internal_server_error},
    };
    ASSERT_EQ(expected.size(), tp::test::all_failures.size());
    for (const auto& [f, s] : expected) {
        EXPECT_EQ(status_of(f), s) << code_of(f);
    }
}

TEST(error_reply, every_failure_answers_in_the_one_error_shape_with_its_sentence) {
    for (const auto f : tp::test::all_failures) {
        const auto res = error_response(f);
        EXPECT_EQ(res.result(), status_of(f));
        const auto body = boost::json::parse(res.body()).as_object();
        EXPECT_EQ(body.size(), 4u) << res.body();
        EXPECT_EQ(body.at("message").as_string(), tp::http::default_message(f));
        EXPECT_FALSE(tp::http::default_message(f).empty());
        EXPECT_EQ(body.at("statusCode").as_int64(), static_cast<int>(status_of(f)));
        EXPECT_EQ(body.at("code").as_string(), code_of(f));
        EXPECT_EQ(
            res.count(boost::beast::http::field::retry_after), status_of(f) == status::service_unavailable ? 1u : 0u
        );
    }
}

TEST(error_reply, sold_out_is_named_as_the_spec_names_it) {
    EXPECT_EQ(code_of(errc::sold_out), "SOLD_OUT");
    EXPECT_EQ(code_of(errc::idempotency_key_reused), "IDEMPOTENCY_KEY_REUSED");
}

TEST(error_reply, every_error_answers_in_the_one_error_shape) {
    for (const auto code : tp::test::all_errors) {
        const auto e = tp::domain::make_error(code);
        const auto res = error_response(e);
        EXPECT_EQ(res.result(), status_of(code));
        EXPECT_EQ(res[boost::beast::http::field::content_type], "application/json");
        const auto body = boost::json::parse(res.body()).as_object();
        EXPECT_EQ(body.size(), 4u) << res.body();
        EXPECT_EQ(body.at("message").as_string(), e.message);
        EXPECT_EQ(body.at("error").as_string(), boost::beast::http::obsolete_reason(status_of(code)));
        EXPECT_EQ(body.at("statusCode").as_int64(), static_cast<int>(status_of(code)));
        EXPECT_EQ(body.at("code").as_string(), code_of(code));
    }
}

TEST(error_reply, the_message_is_the_errors_own_sentence_escaped_as_json) {
    const auto res = error_response(tp::domain::make_error(errc::bad_request, "amount \"x\" must be\na number."));
    const auto body = boost::json::parse(res.body()).as_object();
    EXPECT_EQ(body.at("message").as_string(), "amount \"x\" must be\na number.");
    EXPECT_EQ(body.at("error").as_string(), "Bad Request");
    EXPECT_EQ(body.at("statusCode").as_int64(), 400);
    EXPECT_EQ(body.at("code").as_string(), "BAD_REQUEST");
}

TEST(error_reply, keeps_the_http_version_of_the_request) {
    EXPECT_EQ(error_response(tp::domain::make_error(errc::sold_out), 10).version(), 10);
    EXPECT_EQ(error_response(tp::domain::make_error(errc::sold_out)).version(), 11);
    EXPECT_EQ(error_response(tp::http::failure::internal, 10).version(), 10);
}
