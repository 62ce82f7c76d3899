#pragma once
// One schedule's seat list, kept ready to send (docs/seat-map.md). The list is cut into blocks
// of consecutive seats; each block keeps its JSON text, that text compressed on its own and
// its digest. A change of seats encodes again only the blocks it touched, and the answer is
// assembled from the blocks: a change costs per change, not per seat.

#include "domain/identifiers.hpp"
#include "domain/seats.hpp"
#include "domain/timestamp.hpp"
#include "http/compression.hpp"
#include "storage/pg/seat_map_repository.hpp"

#include <array>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tp::api {

// A block of the list as encoded once: its JSON text, and that text compressed the first
// time a client asks for gzip (shared by every answer made of this block).
struct encoded_block {
    std::string json;
    const http::deflated_piece& deflated() const;

private:
    mutable std::optional<http::deflated_piece> deflated_;
};

// The seat list as sent: the same bytes and tag on every instance for the same seats at the
// same time. Shared by the requests of one thread only.
struct seat_list_answer {
    std::string etag; // weak (W/"..."): one tag for the identity and the gzip forms
    std::vector<std::shared_ptr<const encoded_block>> blocks;

    // Both forms are put together from the blocks when first asked for: a list that changes
    // often would otherwise be assembled, and compressed, for nobody.
    const std::string& json() const;
    const std::string& gzip() const;
    std::size_t json_size() const;

private:
    mutable std::string json_;
    mutable std::string gzip_;
};

class seat_map {
public:
    static constexpr std::size_t seats_per_block = 128;

    // `ticketing_starts`: when the schedule's performance opens for takes.
    explicit seat_map(std::vector<pg::listed_seat> seats, domain::epoch_ms ticketing_starts = 0);
    seat_map(const seat_map&) = delete; // position_of_ views its own strings
    seat_map& operator=(const seat_map&) = delete;

    // Stores the seats' new states, unless the map has a newer one (a higher change count);
    // false when a change names a seat this map does not have (the caller then reads the
    // whole list again).
    bool apply(std::span<const pg::seat_change> changes);

    // The list as fans see it at `now_ms` (a hold shows AVAILABLE from its expiry on). Blocks
    // whose shown states changed since the last answer are encoded again; while nothing shown
    // changed, the same answer object comes back.
    std::shared_ptr<const seat_list_answer> answer_at(domain::epoch_ms now_ms);

    // Why a take of `seat_ids` (validated: canonical, sorted) by `user` would be refused at
    // `now_ms`, when these states prove that it would be, with the error the database would
    // give (domain::explain_refused_take, the same order of checks); nullopt when the take
    // may succeed or a state is too close to a hold's expiry to tell. Only for a map that is
    // current (every take answered before was applied): then a seat it shows sold, or held
    // well past now, is still so, and the fan has at least the seats it shows them holding.
    std::optional<domain::error> refusal_of_take(
        const domain::user_id& user,
        std::span<const domain::seat_id> seat_ids,
        int max_seats_per_user,
        const domain::schedule_id& schedule_id,
        domain::epoch_ms now_ms
    ) const;

    // When the last answer changes by itself: the first hold expiry after its time.
    domain::epoch_ms next_expiry() const { return next_expiry_; }
    std::size_t size() const { return seats_.size(); }
    // Seats shown AVAILABLE in the last answer.
    std::size_t available() const { return available_; }
    // Blocks encoded since the map was made (the cost of its changes).
    std::uint64_t blocks_encoded() const { return blocks_encoded_; }

private:
    struct seat {
        std::string id;
        std::string seat_number;
        domain::krw price = 0;
        pg::seat_state stored;
        domain::seat_status shown = domain::seat_status::available;
    };
    struct block {
        std::shared_ptr<const encoded_block> encoded; // immutable: answers keep the ones they were made of
        std::array<unsigned char, 32> digest{};
        bool stale = true;
    };

    void encode(std::size_t index);

    std::vector<seat> seats_;
    std::unordered_map<std::string_view, std::size_t> position_of_; // views of seats_[i].id
    domain::epoch_ms ticketing_starts_ = 0;
    std::vector<block> blocks_;
    std::shared_ptr<const seat_list_answer> answer_;
    domain::epoch_ms next_expiry_ = 0;
    bool applied_since_answer_ = true;
    std::size_t available_ = 0;
    std::uint64_t blocks_encoded_ = 0;
};

} // namespace tp::api
