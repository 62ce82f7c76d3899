#include "http/router.hpp"

#include <boost/url/parse.hpp>

#include <stdexcept>

namespace tp::http {

const std::string& path_params::at(std::string_view name) const {
    for (const auto& [key, value] : items_) {
        if (key == name) {
            return value;
        }
    }
    throw std::out_of_range("no path parameter named " + std::string(name));
}

path_pattern::path_pattern(std::string_view pattern) : text_(pattern) {
    if (pattern == "/") {
        return; // the root has no segments, as split_path("/") has none
    }
    std::size_t start = 1;
    while (start <= pattern.size()) {
        const auto end = pattern.find('/', start);
        const auto length = (end == std::string_view::npos ? pattern.size() : end) - start;
        segments_.push_back(pattern.substr(start, length));
        if (end == std::string_view::npos) {
            break;
        }
        start = end + 1;
    }
}

bool path_pattern::matches(const std::vector<std::string>& segments, path_params* captures) const {
    if (segments.size() != segments_.size()) {
        return false;
    }
    for (std::size_t i = 0; i < segments_.size(); ++i) {
        const auto& want = segments_[i];
        if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
            if (segments[i].empty()) {
                return false;
            }
            captures->add(want.substr(1, want.size() - 2), segments[i]);
        } else if (want != segments[i]) {
            return false;
        }
    }
    return true;
}

result<std::vector<std::string>> split_path(std::string_view target) {
    auto url = boost::urls::parse_origin_form(target);
    if (!url) {
        return failure::malformed_target;
    }
    std::vector<std::string> out;
    for (auto segment : url->segments()) {
        out.push_back(std::string(segment));
    }
    return out;
}

} // namespace tp::http
