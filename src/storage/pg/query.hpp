#pragma once
// A named SQL statement. Each is a constant beside the repository that uses it, prepared
// once per connection the first time it runs; parameters are always bound, never spliced.

#include "domain/identifiers.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tp::pg {

struct query {
    const char* name;
    const char* sql;
};

// Parameters travel in text format; NULL is std::nullopt.
using params = std::vector<std::optional<std::string>>;

inline std::optional<std::string> to_param(std::string_view v) {
    return std::string(v);
}
inline std::optional<std::string> to_param(const std::string& v) {
    return v;
}
inline std::optional<std::string> to_param(const char* v) {
    return std::string(v);
}
inline std::optional<std::string> to_param(std::int64_t v) {
    return std::to_string(v);
}
inline std::optional<std::string> to_param(int v) {
    return std::to_string(v);
}
inline std::optional<std::string> to_param(bool v) {
    return v ? "true" : "false";
}
inline std::optional<std::string> to_param(std::nullopt_t) {
    return std::nullopt;
}
// An id travels as its text.
template <class Tag> std::optional<std::string> to_param(const domain::strong_id<Tag>& id) {
    return id.str();
}
template <class T> std::optional<std::string> to_param(const std::optional<T>& v) {
    return v ? to_param(*v) : std::nullopt;
}
// A PostgreSQL array literal ({"a","b"}), for `= ANY($1)` and `unnest($1::text[])`.
std::optional<std::string> to_param(const std::vector<std::string>& values);
std::optional<std::string> to_param(const std::vector<std::int64_t>& values);
template <class Tag> std::optional<std::string> to_param(const std::vector<domain::strong_id<Tag>>& ids) {
    std::vector<std::string> texts;
    texts.reserve(ids.size());
    for (const auto& id : ids) {
        texts.push_back(id.str());
    }
    return to_param(texts);
}

template <class... Args> params make_params(const Args&... args) {
    params out;
    out.reserve(sizeof...(Args));
    (out.push_back(to_param(args)), ...);
    return out;
}

} // namespace tp::pg
