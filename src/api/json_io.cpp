#include "api/json_io.hpp"

#include "http/error_reply.hpp"

#include <boost/algorithm/string/predicate.hpp>

#include <cmath>

namespace tp::api {
namespace {

using domain::errc;
using domain::make_error;

const json::object empty_object;
const json::array empty_array;

} // namespace

domain::result<json::object> parse_json_object(const http::request& req) {
    // The media type is what comes before any parameter (";charset=utf-8"), in any case.
    std::string_view type = req[http::beast_http::field::content_type];
    type = type.substr(0, type.find(';'));
    while (!type.empty() && type.back() == ' ') {
        type.remove_suffix(1);
    }
    if (!type.empty() && !boost::algorithm::iequals(type, "application/json")) {
        return make_error(errc::unsupported_media_type);
    }
    boost::system::error_code ec;
    auto value = json::parse(req.body(), ec);
    if (ec) {
        return make_error(errc::malformed_json);
    }
    if (!value.is_object()) {
        return make_error(errc::bad_request, "The request body must be a JSON object.");
    }
    return std::move(value.as_object());
}

void body_reader::fail(std::string_view field, std::string_view expected) {
    if (!error_) {
        error_ = make_error(errc::bad_request, std::string(field) + " must be " + std::string(expected) + ".");
    }
}

bool body_reader::has(std::string_view field) const {
    const auto* value = body_.if_contains(field);
    return value != nullptr && !value->is_null();
}

const json::value* body_reader::find(std::string_view field, bool required) {
    const auto* value = body_.if_contains(field);
    if (value == nullptr || value->is_null()) {
        if (required && !error_) {
            error_ = make_error(errc::bad_request, std::string(field) + " is required.");
        }
        return nullptr;
    }
    return value;
}

std::string body_reader::string(std::string_view field) {
    return optional_string(field, true).value_or(std::string{});
}

std::optional<std::string> body_reader::optional_string(std::string_view field) {
    return optional_string(field, false);
}

std::optional<std::string> body_reader::optional_string(std::string_view field, bool required) {
    const auto* value = find(field, required);
    if (value == nullptr) {
        return std::nullopt;
    }
    if (!value->is_string()) {
        fail(field, "a string");
        return std::nullopt;
    }
    return std::string(value->as_string());
}

std::int64_t body_reader::integer(std::string_view field) {
    return optional_integer(field, true).value_or(0);
}

std::optional<std::int64_t> body_reader::optional_integer(std::string_view field) {
    return optional_integer(field, false);
}

std::optional<std::int64_t> body_reader::optional_integer(std::string_view field, bool required) {
    const auto* value = find(field, required);
    if (value == nullptr) {
        return std::nullopt;
    }
    if (value->is_int64()) {
        return value->as_int64();
    }
    // 5000.0 is a whole number written as a float; 5000.5, 1e300 and "5000" are refused.
    if (value->is_double()) {
        const double d = value->as_double();
        if (std::isfinite(d) && d == std::trunc(d) && std::abs(d) < 9e15) {
            return static_cast<std::int64_t>(d);
        }
    }
    fail(field, "a whole number");
    return std::nullopt;
}

std::vector<std::string> body_reader::string_list(std::string_view field) {
    std::vector<std::string> out;
    for (const auto& item : array(field)) {
        if (!item.is_string()) {
            fail(field, "a list of strings");
            return {};
        }
        out.emplace_back(item.as_string());
    }
    return out;
}

const json::object& body_reader::object(std::string_view field) {
    const auto* value = find(field, true);
    if (value == nullptr) {
        return empty_object;
    }
    if (!value->is_object()) {
        fail(field, "an object");
        return empty_object;
    }
    return value->as_object();
}

const json::array& body_reader::array(std::string_view field) {
    const auto* value = find(field, true);
    if (value == nullptr) {
        return empty_array;
    }
    if (!value->is_array()) {
        fail(field, "a list");
        return empty_array;
    }
    return value->as_array();
}

void append_json_string(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (u < 0x20) {
                out += "\\u00";
                out += hex[u >> 4];
                out += hex[u & 0x0F];
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

http::response json_answer(http::status status, const json::object& body) {
    return http::json_response(status, json::serialize(body));
}

http::response json_answer(http::status status, const json::array& body) {
    return http::json_response(status, json::serialize(body));
}

} // namespace tp::api
