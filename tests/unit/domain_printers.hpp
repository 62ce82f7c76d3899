#pragma once
// Lets GoogleTest compare and print domain errors and results (EXPECT_EQ on a result<T>).
// Test-only: found by argument-dependent lookup.

#include "domain/errc.hpp"
#include "domain/identifiers.hpp"

#include <ostream>

namespace tp::domain {

inline bool operator==(const error& a, const error& b) {
    return a.code == b.code && a.message == b.message;
}

inline std::ostream& operator<<(std::ostream& os, const error& e) {
    return os << "error{" << static_cast<int>(e.code) << ", \"" << e.message << "\"}";
}

// An id prints as its text.
template <class Tag> std::ostream& operator<<(std::ostream& os, const strong_id<Tag>& id) {
    return os << id.str();
}

} // namespace tp::domain
