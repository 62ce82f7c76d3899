#pragma once
// The waiting queue's state in Redis. Every rule that must hold across instances (one token
// per user and gate, FIFO, capacity, the step hand-over) is one atomic Lua script
// (scripts/*.lua) run in one gate's slot; this class names them, converts their answers, and
// does the few steps that cross slots (the hand-over from the performances gate to a
// schedule's). Reading a token changes nothing and is plain commands. See
// docs/waiting-queue.md.

#include "domain/queue.hpp"
#include "storage/redis/batched_script.hpp"
#include "storage/redis/client.hpp"
#include "storage/redis/script.hpp"
#include "support/recent_map.hpp"

#include <atomic>
#include <string_view>
#include <vector>

namespace tp::redis {

// Every answer the queue can give about a call, parsed once from the scripts' words
// (scripts/*.lua) so that a misspelled word fails loudly instead of meaning something else.
enum class queue_verdict {
    serve,         // gate_call: the token is active at this gate; serve the call (token set)
    wait,          // gate_call: in line (token set)
    created,       // enter: a new token (token set)
    existing,      // enter: the user's token for this step (token set)
    ok,            // token_info, leave: done (token set by token_info)
    expired,       // token_info: the token expired (token set)
    exists,        // enter: the user holds a live token for another step
    not_found,     // no such token
    not_yours,     // the token is another user's
    flow_violated, // this step needs an active token of the previous one
    sold_out,      // the step's schedule is sold out
};

// The scripts' words; an unknown word throws redis::error (answered 503, like any broken answer).
queue_verdict parse_verdict(std::string_view word);
std::string_view to_string(queue_verdict verdict);

// What the queue decided, with the token it is about when the verdict carries one.
struct queue_outcome {
    queue_verdict verdict = queue_verdict::not_found;
    std::optional<domain::queue_token> token;
    bool joined = false; // this call put the token in its line (a new token, or an expired one re-queued)
};

struct gate_settings {
    std::int64_t capacity = 0;
    std::int64_t rate = 0;
};

struct gate_snapshot {
    std::string gate;
    gate_settings settings;
    std::int64_t active = 0;
    std::int64_t waiting = 0;
    std::int64_t admitted_total = 0;
    double measured_rate = 0;
    double admissions_per_second = 0; // over the last 10 whole seconds
};

// For a call to a schedule's gate that may come before its performance's ticketing start:
// that start, and the terms of the gate's draw should this call open its pre-queue (a fresh
// seed and its commitment; only the first entry's are kept). docs/waiting-queue.md, "The fair
// start".
struct pre_queue_terms {
    domain::epoch_ms opens_at = 0;
    std::string seed;       // 64 hex digits
    std::string commitment; // hex SHA-256 of the seed's bytes
};

// A gate's pre-queue as the draw reads it, frozen from the ticketing start on.
struct pre_queue_snapshot {
    std::string seed;
    std::vector<std::string> token_ids; // by reserved arrival number, ascending
};

// One place of a draw: the token and its entrant (SHA-256 of its id). The k-th place (from 1)
// is arrival number k in the line.
struct drawn_place {
    std::string token_id;
    std::string entrant;
};

// What GET /queue/draws/{gate} shows: the commitment from the first pre-queue entry on; the
// seed and the entrants in drawn order only once drawn.
struct published_draw {
    domain::epoch_ms opens_at = 0;
    std::string commitment;
    std::optional<domain::epoch_ms> drawn_at;
    std::string seed;                  // empty until drawn
    std::vector<std::string> entrants; // empty until drawn
};

struct queue_options {
    gate_settings defaults;                   // a gate's capacity and rate unless an operator set them
    std::chrono::milliseconds token_ttl{};    // an admission's validity
    std::chrono::seconds record_retention{};  // how long an ended token's record is kept (docs/waiting-queue.md)
    std::chrono::milliseconds tick_spacing{}; // a gate ticked this recently (by any instance) is not ticked again
    // Abandonment: a waiting token with no call, poll or stream for `idle_waiting` leaves the
    // line; an admitted one with no gated call for `idle_active` frees its place.
    std::chrono::milliseconds idle_waiting{60'000};
    std::chrono::milliseconds idle_active{120'000};
    // A join or an admission is answered once this many replicas have it (WAIT), so a
    // failover does not lose it; 0 asks none (a standalone Redis). Past `replica_wait`, the
    // fan is answered anyway and `unreplicated` counts it.
    int replicas_to_wait = 0;
    std::chrono::milliseconds replica_wait{100};
    std::atomic<std::uint64_t>* unreplicated = nullptr;
    batch_counters gate_calls{}; // gated calls and the gate_call.lua runs that carried them
};

class queue_store {
public:
    queue_store(client& conn, queue_options options);

    // `schedule` empty for the performances step; `presented_token` empty when none was sent.
    awaitable<queue_outcome> gate_call(
        const domain::user_id& user,
        domain::flow_step step,
        const domain::schedule_id& schedule,
        const domain::queue_token_id& presented_token,
        const std::string& endpoint,
        const std::optional<pre_queue_terms>& terms = std::nullopt
    );
    // The common case of a gated call, decided without a script: the presented token is active
    // at `gate` (and the gate's schedule, if any, is not sold out). Read-only, so plain
    // pipelined commands suffice; `also` are sent in the same batch and their replies
    // returned. nullopt token: not served as it is, and gate_call decides.
    struct active_check {
        std::optional<domain::queue_token> token;
        std::vector<reply> also;
    };
    awaitable<active_check> check_active(
        const domain::user_id& user,
        const domain::queue_token_id& token_id,
        const std::string& gate,
        std::vector<std::vector<std::string>> also = {}
    );

    awaitable<queue_outcome> enter(
        const domain::user_id& user,
        domain::flow_step step,
        const domain::schedule_id& schedule,
        const std::string& endpoint
    );
    // An empty `user` reads the token whoever holds it (the stream knows the token by id alone).
    awaitable<queue_outcome> token_info(const domain::user_id& user, const domain::queue_token_id& token_id);
    // An empty token_id = whatever token the user holds. ok, not_found or not_yours.
    awaitable<queue_verdict> leave(const domain::user_id& user, const domain::queue_token_id& token_id);

    awaitable<std::vector<std::string>> gates_in_use();
    struct tick_result {
        std::int64_t admitted = 0;
        std::int64_t waiting = 0; // the pre-queued included
        std::int64_t active = 0;
        bool draw_due = false; // a pre-queue whose ticketing start has come: draw it, then admit
    };
    awaitable<tick_result> tick(const std::string& gate);
    awaitable<gate_snapshot> gate(const std::string& gate);

    // The draw (docs/waiting-queue.md, "The fair start"): the frozen pre-queue and its seed
    // (nullopt: none, or drawn already), and the publication of the whole drawn order at once
    // (false: another instance published it first, or it is not due).
    awaitable<std::optional<pre_queue_snapshot>> pre_queue_of(const std::string& gate);
    awaitable<bool> publish_draw(const std::string& gate, std::vector<drawn_place> places);
    // Once drawn: the drawn fans still in line are seen as of now (drawn_presence.lua).
    awaitable<void> show_drawn_presence(const std::string& gate, const std::vector<std::string>& token_ids);
    awaitable<std::optional<published_draw>> draw_of(const std::string& gate);
    // Sets the given fields only, so two operators changing different fields don't collide.
    awaitable<void>
    configure_gate(const std::string& gate, std::optional<std::int64_t> capacity, std::optional<std::int64_t> rate);
    awaitable<void> mark_sold_out(const domain::schedule_id& schedule_id);
    // The gate's "now serving" arrival number; the largest number once its schedule sold out.
    awaitable<std::int64_t> now_serving(const std::string& gate);

    const gate_settings& defaults() const { return options_.defaults; }

    // A waiting fan's open event stream is a sign of presence: the stream says so this often
    // (well within idle_waiting), and note_presence records it.
    std::chrono::milliseconds presence_interval() const;
    awaitable<void> note_presence(const std::string& gate, const domain::queue_token_id& token_id);

private:
    // Runs a queue script with one declared key (its slot); the record retention goes last in
    // ARGV, where the prelude reads it.
    awaitable<reply> run(std::string_view name, std::string key, std::vector<std::string> args);
    awaitable<queue_outcome> settle(const domain::user_id& user, const reply& r);
    awaitable<queue_outcome> call_in_tag(
        const std::string& tag,
        const domain::user_id& user,
        domain::flow_step step,
        const domain::schedule_id& schedule,
        const domain::queue_token_id& shown,
        const std::string& endpoint,
        bool handed_over,
        const std::optional<pre_queue_terms>& terms
    );
    // The user's latest token id (a hint: the token may have ended); empty for none.
    awaitable<domain::queue_token_id> latest_token(const domain::user_id& user);
    awaitable<void> forget_gate_if_empty(const std::string& gate);
    // WAIT for the replicas of the master holding `key` (see queue_options).
    awaitable<void> await_replicas(const std::string& key);

    // Redis's clock as this event loop last read it (TIME), as an offset from the system clock:
    // what plain commands that record a moment (presence) write, so that every moment the
    // queue compares is on Redis's clock, give or take a round trip.
    std::int64_t redis_now_ms() const;
    void learn_redis_clock(std::int64_t redis_ms);

    client& conn_;
    queue_options options_;
    batched_script gate_calls_; // gate_call.lua, batched per tag
    std::int64_t clock_offset_ms_ = 0;
    recent_map<std::string> gate_of_token_{16384}; // a token's gate never changes
};

} // namespace tp::redis
