#pragma once
// A Redis reply in the project's own type: hiredis only parses the protocol, and builds
// each reply in this type as it does (reply_reader.cpp).

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace tp::redis {

struct reply {
    enum class kind { nil, integer, string, status, error, array };

    kind type = kind::nil;
    std::int64_t integer = 0;
    std::string text; // string, status or error
    std::vector<reply> elements;

    bool is_nil() const { return type == kind::nil; }
    bool is_error() const { return type == kind::error; }
};

// The one exception type of the Redis adapter: Redis cannot be reached, did not answer in
// time, or answered a command with an error (a bug). Answered 503 at the request boundary.
class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace tp::redis
