#include "domain/queue.hpp"

#include "domain/identifiers.hpp"

#include <algorithm>
#include <cmath>

namespace tp::domain {
namespace {

constexpr std::string_view performances_gate = "performances";
constexpr std::string_view seats_prefix = "performance_seats:";
constexpr std::string_view take_prefix = "take_performance_seat:";

} // namespace

std::string gate_name(flow_step step, std::string_view schedule) {
    switch (step) {
    case flow_step::performances: return std::string(performances_gate);
    case flow_step::performance_seats: return std::string(seats_prefix) + std::string(schedule);
    case flow_step::take_performance_seat: return std::string(take_prefix) + std::string(schedule);
    case flow_step::none: break;
    }
    return {};
}

bool is_gate_name(std::string_view gate) {
    if (gate == performances_gate) {
        return true;
    }
    for (auto prefix : {seats_prefix, take_prefix}) {
        if (gate.starts_with(prefix)) {
            const auto id = gate.substr(prefix.size());
            const auto canonical = parse_uuid(id);
            return canonical && *canonical == id;
        }
    }
    return false;
}

std::string_view schedule_of_gate(std::string_view gate) {
    const auto colon = gate.find(':');
    return colon == std::string_view::npos ? std::string_view{} : gate.substr(colon + 1);
}

std::optional<requested_step> parse_request_endpoint(std::string_view endpoint) {
    const auto query = endpoint.find('?');
    endpoint = endpoint.substr(0, query);
    if (endpoint == "/reservation/performances" || endpoint == "/reservation/performaces") {
        return requested_step{flow_step::performances, {}};
    }
    constexpr std::string_view seats_path = "/reservation/performance_seats/";
    if (endpoint.starts_with(seats_path)) {
        auto id = parse_id<schedule_id>(endpoint.substr(seats_path.size()));
        if (id) {
            return requested_step{flow_step::performance_seats, std::move(*id)};
        }
        return std::nullopt;
    }
    if (endpoint == "/reservation/take_performance_seat") {
        return requested_step{flow_step::take_performance_seat, {}};
    }
    return std::nullopt;
}

std::string_view to_string(token_status status) {
    switch (status) {
    case token_status::pre_queue: return "PRE_QUEUE";
    case token_status::waiting: return "WAITING";
    case token_status::active: return "ACTIVE";
    case token_status::sold_out: return "SOLD_OUT";
    case token_status::expired: return "EXPIRED";
    }
    return "WAITING";
}

std::optional<token_status> parse_token_status(std::string_view text) {
    for (auto s :
         {token_status::pre_queue,
          token_status::waiting,
          token_status::active,
          token_status::sold_out,
          token_status::expired}) {
        if (text == to_string(s)) {
            return s;
        }
    }
    return std::nullopt;
}

token_status status_at(token_status stored, std::optional<epoch_ms> expires, epoch_ms now) {
    if (stored == token_status::active && (!expires || *expires <= now)) {
        return token_status::expired;
    }
    return stored;
}

std::int64_t estimated_wait_seconds(std::int64_t rank, admission_rates rates) {
    if (rank <= 0) {
        return 0;
    }
    const double rate = rates.measured > 0.01 ? rates.measured : rates.configured;
    if (rate <= 0) {
        return 3600; // the gate is paused: say "a long time", not infinity
    }
    return static_cast<std::int64_t>(std::ceil(static_cast<double>(rank) / rate));
}

std::int64_t retry_after_seconds(std::int64_t estimated_wait) {
    return std::clamp<std::int64_t>(estimated_wait / 2, 1, 30);
}

std::chrono::milliseconds stream_rest_after_rank(std::int64_t estimated_wait) {
    constexpr std::int64_t nearest_ms = 250;
    constexpr std::int64_t farthest_ms = 5000;
    const auto quarter_ms = std::min(estimated_wait, farthest_ms) * 1000 / 4;
    return std::chrono::milliseconds(std::clamp(quarter_ms, nearest_ms, farthest_ms));
}

} // namespace tp::domain
