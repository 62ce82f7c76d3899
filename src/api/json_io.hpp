#pragma once
// Reading request bodies and writing answers. Reading refuses with a precise 400 (naming the
// field) instead of guessing: wrong types, missing fields, fractions where whole numbers
// are due. A `body_reader` remembers the first problem, so handlers read every field and
// check once:
//
//     body_reader in(*body);
//     auto email = in.string("email_address");
//     auto name = in.optional_string("name");
//     if (in.failed()) { co_return http::error_response(in.error()); }

#include "domain/errc.hpp"
#include "http/message.hpp"

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace tp::api {

namespace json = boost::json;

domain::result<json::object> parse_json_object(const http::request& req);

class body_reader {
public:
    explicit body_reader(const json::object& body) : body_(body) {}

    std::string string(std::string_view field);
    std::optional<std::string> optional_string(std::string_view field);
    std::int64_t integer(std::string_view field);
    std::optional<std::int64_t> optional_integer(std::string_view field);
    std::vector<std::string> string_list(std::string_view field);
    const json::object& object(std::string_view field);
    const json::array& array(std::string_view field);
    bool has(std::string_view field) const;

    bool failed() const { return error_.has_value(); }
    const domain::error& error() const { return *error_; }

private:
    const json::value* find(std::string_view field, bool required);
    std::optional<std::string> optional_string(std::string_view field, bool required);
    std::optional<std::int64_t> optional_integer(std::string_view field, bool required);
    void fail(std::string_view field, std::string_view expected);

    const json::object& body_;
    std::optional<domain::error> error_;
};

// Appends `text` as a JSON string literal (quoted and escaped) to `out`.
void append_json_string(std::string& out, std::string_view text);

// Serialised straight from the object or array (no conversion to a json::value, which would
// copy the whole tree: a seat list is thousands of nodes).
http::response json_answer(http::status status, const json::object& body);
http::response json_answer(http::status status, const json::array& body);

} // namespace tp::api
