#pragma once
// Matches a method and a path against a table of routes. A pattern is literal segments and
// `{name}` captures ("/reservation/performance_seats/{performance_staging_date_id}").
// Unknown paths are route_not_found and known paths with another method method_not_allowed,
// so 404 and 405 come from the table itself. `Route` is whatever the caller attaches.

#include "http/failure.hpp"
#include "http/message.hpp"

#include <boost/url/parse.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tp::http {

class path_params {
public:
    void add(std::string_view name, std::string value) { items_.emplace_back(name, std::move(value)); }
    // The captured value; the route table guarantees the name exists for the matched route.
    const std::string& at(std::string_view name) const;

private:
    std::vector<std::pair<std::string_view, std::string>> items_;
};

class path_pattern {
public:
    explicit path_pattern(std::string_view pattern);
    // Segments are percent-decoded before they are compared or captured.
    bool matches(const std::vector<std::string>& segments, path_params* captures) const;
    std::string_view text() const { return text_; }

private:
    std::string_view text_;
    std::vector<std::string_view> segments_;
};

// The decoded segments of a request target's path ("/a/b%3Ac?x" -> {"a", "b:c"}).
result<std::vector<std::string>> split_path(std::string_view target);

template <class Route> class router {
public:
    struct entry {
        verb method = verb::unknown;
        path_pattern pattern;
        Route route;
    };

    struct match {
        const entry* found;
        path_params params;
    };

    void add(verb method, std::string_view pattern, Route route) {
        entries_.push_back(entry{method, path_pattern(pattern), std::move(route)});
    }

    result<match> find(verb method, std::string_view target) const {
        auto segments = split_path(target);
        if (!segments) {
            return segments.error();
        }
        bool path_known = false;
        for (const auto& e : entries_) {
            path_params params;
            if (!e.pattern.matches(*segments, &params)) {
                continue;
            }
            if (e.method == method) {
                return match{&e, std::move(params)};
            }
            path_known = true;
        }
        return path_known ? failure::method_not_allowed : failure::route_not_found;
    }

    const std::vector<entry>& entries() const { return entries_; }

private:
    std::vector<entry> entries_;
};

} // namespace tp::http
