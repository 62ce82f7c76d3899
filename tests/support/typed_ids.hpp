#pragma once
// Tests keep their ids as text (they go into SQL and Redis by hand as well); the code under
// test takes them typed (domain/identifiers.hpp). These convert at that boundary.

#include "domain/identifiers.hpp"

#include <string>
#include <vector>

namespace tp::test {

template <class Id> std::vector<Id> ids_of(const std::vector<std::string>& texts) {
    std::vector<Id> out;
    out.reserve(texts.size());
    for (const auto& text : texts) {
        out.emplace_back(text);
    }
    return out;
}

inline domain::user_id as_user(const std::string& text) {
    return domain::user_id(text);
}
inline domain::seat_id as_seat(const std::string& text) {
    return domain::seat_id(text);
}
inline domain::schedule_id as_schedule(const std::string& text) {
    return domain::schedule_id(text);
}
inline domain::queue_token_id as_token(const std::string& text) {
    return domain::queue_token_id(text);
}

} // namespace tp::test
