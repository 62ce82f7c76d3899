#pragma once
// Watches the waiting queue from Redis while the replay runs, for the I4 checks made after
// it (tools/invariants.py): how many tokens each gate had active, sampled every few
// milliseconds, and, for every admission a fan saw, the token's arrival number (`seq`) and
// admission time (`active`, Redis ms) as Redis recorded them at that moment (a token is
// deleted once it is used, so this cannot be read back afterwards).

#include "storage/redis/connection.hpp"

#include <boost/json/object.hpp>

#include <map>
#include <string>
#include <vector>

namespace tp::onsale {

class queue_observer {
public:
    queue_observer(asio::any_io_executor executor, const std::string& redis_url);

    void watch_gate(const std::string& gate, int capacity);

    // Samples every watched gate's active count until stop().
    awaitable<void> sample(std::chrono::milliseconds every);
    void stop() { stopping_ = true; }
    // Closes the Redis connection, so that the event loop can finish.
    void close() { redis_.close(); }

    // Records an admission of `token_id` (call while the token is still ACTIVE).
    awaitable<void> admitted(const std::string& token_id);

    // {"gate": {"capacity": C, "samples": [[ms, active]...], "admissions": [[id, seq, active_ms]...]}}
    boost::json::object report() const;
    std::size_t peak_active(const std::string& gate) const;

private:
    struct gate_watch {
        int capacity = 0;
        std::vector<std::pair<double, std::int64_t>> samples;
        std::vector<std::tuple<std::string, std::int64_t, std::int64_t>> admissions;
    };

    redis::connection redis_;
    std::map<std::string, gate_watch> gates_;
    bool stopping_ = false;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

} // namespace tp::onsale
