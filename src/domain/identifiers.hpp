#pragma once
// Ids are UUIDs. Parsing them here, before any query, turns a malformed id into a 400
// instead of a database error, and gives every id one canonical (lower-case) spelling.
//
// The ids that travel together (a fan's, a seat's, a schedule's, a queue token's) each have
// their own type, so that a call with two of them swapped does not compile. An id is still
// its text: the wire format, the keys in Redis and the parameters in SQL are unchanged.

#include <compare>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace tp::domain {

std::optional<std::string> parse_uuid(std::string_view text);

// An id of the kind named by `Tag`. Made only explicitly (from text the caller vouches for,
// or by parse_id); empty where an interface says so ("none", "any").
template <class Tag> class strong_id {
public:
    strong_id() = default;
    explicit strong_id(std::string text) : text_(std::move(text)) {}

    const std::string& str() const noexcept { return text_; }
    bool empty() const noexcept { return text_.empty(); }

    friend bool operator==(const strong_id&, const strong_id&) = default;
    // Spelled out: clang-tidy 14 misreads a defaulted <=> as comparing with a null pointer.
    friend std::strong_ordering operator<=>(const strong_id& a, const strong_id& b) { return a.text_ <=> b.text_; }

private:
    std::string text_;
};

struct user_id_tag {};
struct seat_id_tag {};
struct schedule_id_tag {};
struct queue_token_id_tag {};

using user_id = strong_id<user_id_tag>;
using seat_id = strong_id<seat_id_tag>;         // performance_seat_id
using schedule_id = strong_id<schedule_id_tag>; // performance_staging_date_id
using queue_token_id = strong_id<queue_token_id_tag>;

// The id in its canonical spelling; nullopt when `text` is not a UUID.
template <class Id> std::optional<Id> parse_id(std::string_view text) {
    auto canonical = parse_uuid(text);
    if (!canonical) {
        return std::nullopt;
    }
    return Id(std::move(*canonical));
}

} // namespace tp::domain

// So an id can key an unordered_map as its text did.
template <class Tag> struct std::hash<tp::domain::strong_id<Tag>> {
    std::size_t operator()(const tp::domain::strong_id<Tag>& id) const noexcept {
        return std::hash<std::string>{}(id.str());
    }
};
