#include "api/seat_map.hpp"

#include "api/json_io.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <limits>

namespace tp::api {
namespace {

using domain::seat_status;

seat_status shown_at(const pg::seat_state& s, domain::epoch_ms now_ms) {
    const bool expired = s.status == seat_status::temporary_reserved && s.hold_expires && *s.hold_expires <= now_ms;
    return expired ? seat_status::available : s.status;
}

void sha256(std::string_view data, unsigned char* out) {
    unsigned int length = 0;
    EVP_Digest(data.data(), data.size(), out, &length, EVP_sha256(), nullptr);
}

} // namespace

const http::deflated_piece& encoded_block::deflated() const {
    if (!deflated_) {
        deflated_ = http::deflate_piece(json);
    }
    return *deflated_;
}

std::size_t seat_list_answer::json_size() const {
    std::size_t size = 0;
    for (const auto& b : blocks) {
        size += b->json.size();
    }
    return size;
}

const std::string& seat_list_answer::json() const {
    if (json_.empty()) {
        json_.reserve(json_size());
        for (const auto& b : blocks) {
            json_ += b->json;
        }
    }
    return json_;
}

const std::string& seat_list_answer::gzip() const {
    if (gzip_.empty()) {
        std::vector<const http::deflated_piece*> pieces;
        pieces.reserve(blocks.size());
        for (const auto& b : blocks) {
            pieces.push_back(&b->deflated());
        }
        gzip_ = http::gzip_of(pieces);
    }
    return gzip_;
}

seat_map::seat_map(std::vector<pg::listed_seat> seats, domain::epoch_ms ticketing_starts)
    : ticketing_starts_(ticketing_starts) {
    seats_.reserve(seats.size());
    for (auto& s : seats) {
        seats_.push_back(seat{
            .id = std::move(s.id),
            .seat_number = std::move(s.seat_number),
            .price = s.price,
            .stored = s.state,
            .shown = s.state.status});
    }
    position_of_.reserve(seats_.size());
    for (std::size_t i = 0; i < seats_.size(); ++i) {
        position_of_.emplace(seats_[i].id, i);
    }
    blocks_.resize(std::max<std::size_t>(1, (seats_.size() + seats_per_block - 1) / seats_per_block));
}

bool seat_map::apply(std::span<const pg::seat_change> changes) {
    for (const auto& c : changes) {
        if (c.position >= seats_.size()) {
            return false;
        }
    }
    for (const auto& c : changes) {
        auto& stored = seats_[c.position].stored;
        if (c.state.change_count >= stored.change_count) { // an older state arriving late changes nothing
            stored = c.state;
            applied_since_answer_ = true;
        }
    }
    return true;
}

std::shared_ptr<const seat_list_answer> seat_map::answer_at(domain::epoch_ms now_ms) {
    if (answer_ && !applied_since_answer_ && now_ms < next_expiry_) {
        return answer_; // no state stored or shown has changed since (the scan below is per seat)
    }
    applied_since_answer_ = false;
    next_expiry_ = std::numeric_limits<domain::epoch_ms>::max();
    available_ = 0;
    for (std::size_t i = 0; i < seats_.size(); ++i) {
        auto& s = seats_[i];
        const auto shown = shown_at(s.stored, now_ms);
        available_ += shown == seat_status::available ? 1 : 0;
        if (shown != s.shown) {
            s.shown = shown;
            blocks_[i / seats_per_block].stale = true;
        }
        if (shown == seat_status::temporary_reserved && s.stored.hold_expires) {
            next_expiry_ = std::min(next_expiry_, *s.stored.hold_expires);
        }
    }
    bool changed = answer_ == nullptr;
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
        if (blocks_[b].stale) {
            encode(b);
            changed = true;
        }
    }
    if (!changed) {
        return answer_;
    }
    auto answer = std::make_shared<seat_list_answer>();
    answer->blocks.reserve(blocks_.size());
    std::string digests;
    for (const auto& b : blocks_) {
        answer->blocks.push_back(b.encoded);
        digests.append(reinterpret_cast<const char*>(b.digest.data()), b.digest.size());
    }
    std::array<unsigned char, 32> tag{};
    sha256(digests, tag.data());
    static constexpr char hex[] = "0123456789abcdef";
    answer->etag = "W/\"";
    for (std::size_t i = 0; i < 16; ++i) { // 128 bits: collisions are out of reach
        answer->etag += hex[tag[i] >> 4];
        answer->etag += hex[tag[i] & 0xF];
    }
    answer->etag += '"';
    answer_ = std::move(answer);
    return answer_;
}

namespace {

// How far from a hold's expiry a state is trusted to still hold: covers the skew between
// Redis's clock (now_ms) and PostgreSQL's (which stamps and judges expiry).
constexpr domain::epoch_ms expiry_margin_ms = 2000;

enum class certainly { free, taken, unknown };

certainly judge(const pg::seat_state& s, domain::epoch_ms now_ms) {
    if (s.status == seat_status::reserved) {
        return certainly::taken;
    }
    if (s.status == seat_status::available) {
        return certainly::free;
    }
    if (!s.hold_expires) {
        return certainly::unknown;
    }
    if (*s.hold_expires > now_ms + expiry_margin_ms) {
        return certainly::taken;
    }
    return *s.hold_expires <= now_ms - expiry_margin_ms ? certainly::free : certainly::unknown;
}

} // namespace

std::optional<domain::error> seat_map::refusal_of_take(
    const domain::user_id& user,
    std::span<const domain::seat_id> seat_ids,
    int max_seats_per_user,
    const domain::schedule_id& schedule_id,
    domain::epoch_ms now_ms
) const {
    if (now_ms < ticketing_starts_ + expiry_margin_ms) {
        return std::nullopt; // too early, or too close to the start to tell
    }
    std::vector<domain::seat_view> views;
    bool refused = false;
    for (const auto& id : seat_ids) {
        const auto found = position_of_.find(id.str());
        if (found == position_of_.end()) {
            return std::nullopt; // another schedule's seat, or none: the database explains
        }
        const auto& s = seats_[found->second];
        const auto verdict = judge(s.stored, now_ms);
        if (verdict == certainly::unknown) {
            return std::nullopt;
        }
        refused = refused || verdict == certainly::taken;
        views.push_back(domain::seat_view{
            .id = id,
            .schedule_id = schedule_id,
            .status = verdict == certainly::taken ? s.stored.status : seat_status::available,
            .held_by_me = verdict == certainly::taken && s.stored.holder == user.str(),
            .hold_expired = false,
            .ticketing_started = true,
            .price = s.price});
    }
    int mine = 0;
    int available = 0;
    bool unknown = false;
    for (const auto& s : seats_) {
        const auto verdict = judge(s.stored, now_ms);
        if (verdict == certainly::unknown) {
            if (s.stored.holder == user.str()) {
                return std::nullopt; // the fan's own count is in doubt
            }
            unknown = true;
        }
        mine += verdict == certainly::taken && s.stored.holder == user.str() ? 1 : 0;
        available += verdict == certainly::free ? 1 : 0;
    }
    if (available == 0 && unknown) {
        return std::nullopt; // sold out or not, a hold's expiry decides
    }
    refused = refused || mine + static_cast<int>(seat_ids.size()) > max_seats_per_user;
    if (!refused) {
        return std::nullopt;
    }
    return domain::explain_refused_take(domain::take_context{
        .requested_ids = seat_ids,
        .seats = views,
        .my_live_seats_in_schedule = mine,
        .available_in_schedule = available,
        .max_seats_per_user = max_seats_per_user,
        .required_schedule_id = schedule_id});
}

// Block b holds seats [b * seats_per_block, ...); its text carries the separators and the
// brackets, so the blocks concatenate into the whole JSON array.
void seat_map::encode(std::size_t index) {
    auto& b = blocks_[index];
    const auto first = index * seats_per_block;
    const auto last = std::min(seats_.size(), first + seats_per_block);
    std::string json;
    json.reserve((last - first) * 100 + 2);
    json += index == 0 ? '[' : ',';
    for (auto i = first; i < last; ++i) {
        const auto& s = seats_[i];
        if (i > first) {
            json += ',';
        }
        json += R"({"id":)";
        append_json_string(json, s.id);
        json += R"(,"seat_number":)";
        append_json_string(json, s.seat_number);
        json += R"(,"price":)";
        json += std::to_string(s.price);
        json += R"(,"reservation_status":")";
        json += to_string(s.shown);
        json += R"("})";
    }
    if (index + 1 == blocks_.size()) {
        json += ']';
    }
    sha256(json, b.digest.data());
    auto encoded = std::make_shared<encoded_block>();
    encoded->json = std::move(json);
    b.encoded = std::move(encoded);
    b.stale = false;
    ++blocks_encoded_;
}

} // namespace tp::api
