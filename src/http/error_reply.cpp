#include "http/error_reply.hpp"

#include <boost/json.hpp>

#include <stdexcept>
#include <string>

namespace tp::http {

using domain::errc;

status status_of(errc code) {
    switch (code) {
    case errc::bad_request:
    case errc::malformed_json:
    case errc::queue_flow_violated:
    case errc::queue_token_missing: return status::bad_request;
    case errc::unsupported_media_type: return status::unsupported_media_type;
    case errc::token_missing:
    case errc::token_invalid:
    case errc::token_expired:
    case errc::wrong_credentials:
    case errc::admin_key_invalid: return status::unauthorized;
    case errc::queue_token_expired: return status::gone;
    case errc::queue_token_not_yours:
    case errc::ticketing_not_started:
    case errc::seat_not_held: return status::forbidden;
    case errc::queue_token_not_found:
    case errc::draw_not_found:
    case errc::performance_not_found:
    case errc::schedule_not_found:
    case errc::seat_not_found: return status::not_found;
    case errc::queue_token_exists:
    case errc::seat_taken:
    case errc::sold_out:
    case errc::seat_limit_reached:
    case errc::hold_expired:
    case errc::seat_already_paid:
    case errc::insufficient_balance:
    case errc::balance_limit_reached:
    case errc::email_taken: return status::conflict;
    case errc::idempotency_key_reused: return status::unprocessable_entity;
    }
    return status::internal_server_error;
}

std::string_view code_of(errc code) {
    switch (code) {
    case errc::bad_request: return "BAD_REQUEST";
    case errc::malformed_json: return "MALFORMED_JSON";
    case errc::unsupported_media_type: return "UNSUPPORTED_MEDIA_TYPE";
    case errc::token_missing: return "TOKEN_MISSING";
    case errc::token_invalid: return "TOKEN_INVALID";
    case errc::token_expired: return "TOKEN_EXPIRED";
    case errc::wrong_credentials: return "WRONG_CREDENTIALS";
    case errc::admin_key_invalid: return "ADMIN_KEY_INVALID";
    case errc::queue_flow_violated: return "QUEUE_FLOW_VIOLATED";
    case errc::queue_token_missing: return "QUEUE_TOKEN_MISSING";
    case errc::queue_token_expired: return "QUEUE_TOKEN_EXPIRED";
    case errc::queue_token_not_yours: return "QUEUE_TOKEN_NOT_YOURS";
    case errc::queue_token_exists: return "QUEUE_TOKEN_EXISTS";
    case errc::queue_token_not_found: return "QUEUE_TOKEN_NOT_FOUND";
    case errc::draw_not_found: return "DRAW_NOT_FOUND";
    case errc::ticketing_not_started: return "TICKETING_NOT_STARTED";
    case errc::performance_not_found: return "PERFORMANCE_NOT_FOUND";
    case errc::schedule_not_found: return "SCHEDULE_NOT_FOUND";
    case errc::seat_not_found: return "SEAT_NOT_FOUND";
    case errc::seat_taken: return "SEAT_TAKEN";
    case errc::sold_out: return "SOLD_OUT";
    case errc::seat_limit_reached: return "SEAT_LIMIT_REACHED";
    case errc::seat_not_held: return "SEAT_NOT_HELD";
    case errc::hold_expired: return "HOLD_EXPIRED";
    case errc::seat_already_paid: return "SEAT_ALREADY_PAID";
    case errc::insufficient_balance: return "INSUFFICIENT_BALANCE";
    case errc::balance_limit_reached: return "BALANCE_LIMIT_REACHED";
    case errc::email_taken: return "EMAIL_TAKEN";
    case errc::idempotency_key_reused: return "IDEMPOTENCY_KEY_REUSED";
    }
    return "INTERNAL_ERROR";
}

status status_of(failure f) {
    switch (f) {
    case failure::malformed_request:
    case failure::malformed_target: return status::bad_request;
    case failure::body_too_large: return status::payload_too_large;
    case failure::headers_too_large: return status::request_header_fields_too_large;
    case failure::route_not_found: return status::not_found;
    case failure::method_not_allowed: return status::method_not_allowed;
    case failure::database_unavailable:
    case failure::queue_unavailable: return status::service_unavailable;
    case failure::internal: return status::internal_server_error;
    }
    return status::internal_server_error;
}

std::string_view code_of(failure f) {
    switch (f) {
    case failure::malformed_request:
    case failure::malformed_target: return "BAD_REQUEST"; // the same code as any other invalid input
    case failure::body_too_large: return "BODY_TOO_LARGE";
    case failure::headers_too_large: return "HEADERS_TOO_LARGE";
    case failure::route_not_found: return "ROUTE_NOT_FOUND";
    case failure::method_not_allowed: return "METHOD_NOT_ALLOWED";
    case failure::database_unavailable: return "DATABASE_UNAVAILABLE";
    case failure::queue_unavailable: return "QUEUE_UNAVAILABLE";
    case failure::internal: return "INTERNAL_ERROR";
    }
    return "INTERNAL_ERROR";
}

std::string_view default_message(failure f) {
    switch (f) {
    case failure::malformed_request: return "The request is not valid HTTP.";
    case failure::malformed_target: return "The request target is not a valid path.";
    case failure::body_too_large: return "The request body is too large.";
    case failure::headers_too_large: return "The request headers are too large.";
    case failure::route_not_found: return "No such route.";
    case failure::method_not_allowed: return "The method is not allowed on this route.";
    case failure::database_unavailable: return "The database is unavailable; try again shortly.";
    case failure::queue_unavailable: return "The waiting queue is unavailable; try again shortly.";
    case failure::internal: return "Internal server error.";
    }
    return "Internal server error.";
}

void throw_exception_from_error(failure f, const boost::source_location&) {
    throw std::logic_error("unexpected failure: " + std::string(default_message(f)));
}

response json_response(status s, std::string body, unsigned version) {
    response res{s, version};
    res.set(beast_http::field::content_type, "application/json");
    res.body() = std::move(body);
    return res;
}

namespace {

response refusal_response(status s, std::string_view code, std::string_view message, unsigned version) {
    const boost::json::object body{
        {"message", message},
        {"error", std::string(beast_http::obsolete_reason(s))},
        {"statusCode", static_cast<int>(s)},
        {"code", code},
    };
    auto res = json_response(s, boost::json::serialize(body), version);
    if (s == status::service_unavailable) {
        res.set(beast_http::field::retry_after, "1"); // dependencies come back by themselves
    }
    return res;
}

} // namespace

response error_response(const domain::error& e, unsigned version) {
    return refusal_response(status_of(e.code), code_of(e.code), e.message, version);
}

response error_response(failure f, unsigned version) {
    return refusal_response(status_of(f), code_of(f), default_message(f), version);
}

} // namespace tp::http
