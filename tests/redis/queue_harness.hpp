#pragma once
// A queue_store on the suite's Redis database, with blocking wrappers for single calls and
// readers of the raw keys (docs/waiting-queue.md, "Data structures") for checking results.

#include "domain/queue.hpp"
#include "redis_harness.hpp"
#include "storage/redis/queue_keys.hpp"
#include "storage/redis/queue_store.hpp"

#include <chrono>
#include <memory>
#include <ostream>
#include <string>

namespace tp::redis {
// Failed expectations name the verdict.
inline void PrintTo(queue_verdict verdict, std::ostream* os) {
    *os << to_string(verdict);
}
} // namespace tp::redis

namespace tp::test {

// Tests name a token by its text or by the id a store call returned: either will do here
// (implicit on purpose, unlike the id types themselves).
struct token_ref {
    token_ref(const char* given) : text(given) {}
    token_ref(std::string given) : text(std::move(given)) {}
    token_ref(const domain::queue_token_id& id) : text(id.str()) {}
    domain::queue_token_id id() const { return domain::queue_token_id(text); }
    std::string text;
};

inline std::string waiting_key(const std::string& gate) {
    return redis::queue_keys::gate(gate, "waiting");
}
inline std::string active_key(const std::string& gate) {
    return redis::queue_keys::gate(gate, "active");
}
inline std::string state_key(const std::string& gate) {
    return redis::queue_keys::gate(gate, "state");
}
inline std::string token_key(const token_ref& id) {
    return redis::queue_keys::token(id.text);
}

inline std::string seats_gate(const std::string& schedule) {
    return "performance_seats:" + schedule;
}
inline std::string take_gate(const std::string& schedule) {
    return "take_performance_seat:" + schedule;
}

inline std::string endpoint_of(domain::flow_step step, const std::string& schedule) {
    switch (step) {
    case domain::flow_step::performances: return "/reservation/performances";
    case domain::flow_step::performance_seats: return "/reservation/performance_seats/" + schedule;
    case domain::flow_step::take_performance_seat: return "/reservation/take_performance_seat";
    case domain::flow_step::none: break;
    }
    return "/";
}

class queue_suite : public redis_suite {
protected:
    using step = domain::flow_step;
    static constexpr auto performances = "performances";

    explicit queue_suite(int database) : redis_suite(database) {}

    void SetUp() override {
        redis_suite::SetUp();
        if (IsSkipped()) {
            return;
        }
        conn_ = std::make_unique<redis::connection>(ctx_.get_executor(), options());
        store_ = std::make_unique<redis::queue_store>(*conn_, options_);
    }

    // Replaces the store with one of other defaults (capacity, rate), token lifetime, record
    // retention and tick spacing.
    void use_store(
        redis::gate_settings defaults,
        std::chrono::milliseconds ttl = std::chrono::minutes(5),
        std::chrono::seconds retention = std::chrono::hours(24),
        std::chrono::milliseconds tick_spacing = {}
    ) {
        options_ = {
            .defaults = defaults,
            .token_ttl = ttl,
            .record_retention = retention,
            .tick_spacing = tick_spacing,
            .replicas_to_wait = 0,
            .replica_wait = {},
            .unreplicated = nullptr};
        store_ = std::make_unique<redis::queue_store>(*conn_, options_);
    }

    redis::queue_store& store() { return *store_; }

    // --- blocking wrappers around the store -------------------------------------------------

    redis::queue_outcome call(const std::string& user, step s, const std::string& schedule = "", token_ref token = "") {
        return run_coro(
            ctx_,
            store_->gate_call(
                domain::user_id(user), s, domain::schedule_id(schedule), token.id(), endpoint_of(s, schedule)
            )
        );
    }
    redis::queue_outcome enter(const std::string& user, step s, const std::string& schedule = "") {
        return run_coro(
            ctx_, store_->enter(domain::user_id(user), s, domain::schedule_id(schedule), endpoint_of(s, schedule))
        );
    }
    redis::queue_outcome info(const std::string& user, const token_ref& token) {
        return run_coro(ctx_, store_->token_info(domain::user_id(user), token.id()));
    }
    redis::queue_verdict leave(const std::string& user, const token_ref& token) {
        return run_coro(ctx_, store_->leave(domain::user_id(user), token.id()));
    }
    std::int64_t run_tick(const std::string& gate) { return tick_counts(gate).admitted; }
    redis::queue_store::tick_result tick_counts(const std::string& gate) { return run_coro(ctx_, store_->tick(gate)); }
    void configure(const std::string& gate, std::int64_t capacity, std::int64_t rate) {
        run_coro(ctx_, store_->configure_gate(gate, capacity, rate));
    }
    std::int64_t now_serving(const std::string& gate) { return run_coro(ctx_, store_->now_serving(gate)); }
    void pause(std::chrono::milliseconds duration) { run_coro(ctx_, sleep_for(duration)); }

    // The bucket starts empty and fills with Redis time: a first tick starts the clock, a
    // second one after `wait` admits what the rate allows. Returns how many were admitted.
    std::int64_t admit_round(const std::string& gate, std::chrono::milliseconds wait = std::chrono::milliseconds(30)) {
        auto admitted = run_tick(gate);
        pause(wait);
        admitted += run_tick(gate);
        return admitted;
    }

    // --- reading Redis directly --------------------------------------------------------------

    std::map<std::string, std::string> token_record(const token_ref& id) { return inspect().hash(token_key(id.text)); }
    std::string status_of(const token_ref& id) { return token_record(id)["status"]; }
    std::int64_t active_count(const std::string& gate) { return inspect().integer({"ZCARD", active_key(gate)}); }
    std::int64_t waiting_count(const std::string& gate) { return inspect().integer({"ZCARD", waiting_key(gate)}); }
    bool is_waiting(const std::string& gate, const token_ref& id) {
        return inspect().text({"ZSCORE", waiting_key(gate), id.text}).has_value();
    }
    bool is_active(const std::string& gate, const token_ref& id) {
        return inspect().text({"ZSCORE", active_key(gate), id.text}).has_value();
    }
    // The token the user holds: their latest, while its tag's index still names it.
    std::optional<std::string> held_by(const std::string& user) {
        const domain::user_id who(user);
        const auto latest = inspect().text({"GET", redis::queue_keys::user_latest(who)});
        const auto tag = latest ? redis::queue_keys::tag_of_token(*latest) : std::nullopt;
        if (!tag || inspect().text({"GET", redis::queue_keys::user_in_tag(*tag, who)}) != latest) {
            return std::nullopt;
        }
        return latest;
    }

    std::unique_ptr<redis::connection> conn_;

private:
    redis::queue_options options_{
        .defaults = {.capacity = 10, .rate = 1000},
        .token_ttl = std::chrono::minutes(5),
        .record_retention = std::chrono::hours(24),
        .tick_spacing = {}, // every tick of a test is a whole round
        .replicas_to_wait = 0,
        .replica_wait = {},
        .unreplicated = nullptr};
    std::unique_ptr<redis::queue_store> store_;
};

} // namespace tp::test
