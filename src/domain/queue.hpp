#pragma once
// The waiting queue's vocabulary (docs/waiting-queue.md): the three booking steps and their
// gates, the state of a queue token, and the hints a waiting fan gets. Pure; the queue's
// state lives in Redis (storage/redis/queue_store.cpp) and its atomic rules in the Lua
// scripts there.

#include "domain/identifiers.hpp"
#include "domain/timestamp.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tp::domain {

// The booking flow: each step sits behind its own gate.
enum class flow_step { none = 0, performances = 1, performance_seats = 2, take_performance_seat = 3 };

// Gate names: "performances", "performance_seats:{schedule}", "take_performance_seat:{schedule}".
std::string gate_name(flow_step step, std::string_view schedule);

// Accepts only well-formed names of the three kinds (schedule ids must be UUIDs).
bool is_gate_name(std::string_view gate);

// The schedule a gate belongs to ("" for the performances gate).
std::string_view schedule_of_gate(std::string_view gate);

// What POST /queue/queue's `request_endpoint` asks for: the step and, for step 2, the
// schedule in the path. nullopt for anything that is not a gated endpoint.
struct requested_step {
    flow_step step = flow_step::none;
    domain::schedule_id schedule_id;
};
std::optional<requested_step> parse_request_endpoint(std::string_view endpoint);

// pre_queue: before its performance's ticketing start, in the gate's pre-queue, without a
// place until the draw (docs/waiting-queue.md, "The fair start").
enum class token_status { pre_queue, waiting, active, sold_out, expired };

std::string_view to_string(token_status status);
std::optional<token_status> parse_token_status(std::string_view text);

struct queue_token {
    queue_token_id id;
    std::string user_id;
    std::string gate;
    std::string requested_endpoint;
    token_status status = token_status::waiting;
    std::optional<epoch_ms> issued_timestamp;
    std::optional<epoch_ms> active_timestamp;
    std::optional<epoch_ms> expire_timestamp;
    std::optional<std::int64_t> rank; // 0 = admitted, else 1-based place; none when gone
    double admission_rate = 0;        // measured admissions per second at this gate
    std::int64_t arrival = 0;         // place in the gate's arrival order (FIFO)
    std::optional<double> gate_rate;  // the operator's rate for this gate, if set
    std::optional<epoch_ms> opens_at; // a pre-queued token's draw: its performance's ticketing start
};

// How a stored token reads at `now` on the queue's clock: an admission whose time is up
// is expired even before the next tick sweeps it away.
token_status status_at(token_status stored, std::optional<epoch_ms> expires, epoch_ms now);

// A gate's admissions per second: as measured, and as the operator configured them.
struct admission_rates {
    double measured = 0;
    double configured = 0;
};

// Seconds until admission at the measured rate (or the configured one before any
// admission was measured); 0 once admitted.
std::int64_t estimated_wait_seconds(std::int64_t rank, admission_rates rates);

// The Retry-After hint of a waiting answer: grows with the wait, from 1 to 30 seconds.
std::int64_t retry_after_seconds(std::int64_t estimated_wait);

// How long an event stream rests after telling a fan their rank: a quarter of the estimated
// wait, from 250 ms (near the front) to 5 s (far back). Ten thousand fans told of every move
// four times a second cost more than the rest of an on-sale; a fan far back loses nothing
// by hearing every few seconds, and one whose turn comes sooner than a quarter of the
// estimate (the gate sped up fourfold) hears it at most one rest late.
std::chrono::milliseconds stream_rest_after_rank(std::int64_t estimated_wait);

} // namespace tp::domain
