#include "queue_invariants.hpp"

#include <algorithm>
#include <utility>

namespace tp::test {

std::vector<admission> read_admissions(redis_inspector& redis, const std::string& gate) {
    std::vector<admission> out;
    for (const auto& key : redis.strings({"KEYS", "tp:token:*"})) {
        auto record = redis.hash(key);
        if (record["gate"] != gate || record["active"].empty()) {
            continue;
        }
        admission a;
        // tp:token:{<tag>}:<uuid> is the record of token "<tag>.<uuid>".
        const auto close = key.find("}:");
        a.token = key.substr(std::string("tp:token:{").size(), close - std::string("tp:token:{").size()) + "." +
                  key.substr(close + 2);
        a.active_ms = std::stoll(record["active"]);
        a.expire_ms = record["expire"].empty() ? a.active_ms : std::stoll(record["expire"]);
        a.arrival = std::stoll(record["seq"]);
        out.push_back(std::move(a));
    }
    return out;
}

std::vector<std::string> fifo_violations(std::vector<admission> log) {
    std::sort(log.begin(), log.end(), [](const admission& a, const admission& b) {
        return std::pair(a.active_ms, a.arrival) < std::pair(b.active_ms, b.arrival);
    });
    std::vector<std::string> out;
    for (std::size_t i = 1; i < log.size(); ++i) {
        if (log[i].arrival <= log[i - 1].arrival) {
            out.push_back(
                "arrival " + std::to_string(log[i].arrival) + " admitted at " + std::to_string(log[i].active_ms) +
                ", after arrival " + std::to_string(log[i - 1].arrival) + " admitted at " +
                std::to_string(log[i - 1].active_ms)
            );
        }
    }
    return out;
}

std::vector<std::string> capacity_violations(const std::vector<std::int64_t>& samples, std::int64_t capacity) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < samples.size(); ++i) {
        if (samples[i] > capacity) {
            out.push_back(
                "sample " + std::to_string(i) + ": " + std::to_string(samples[i]) + " active > capacity " +
                std::to_string(capacity)
            );
        }
    }
    return out;
}

std::vector<std::string> overlap_violations(std::vector<admission> log, std::int64_t capacity) {
    // Sweep: +1 at activation, -1 at expiry; at equal instants the expiry goes first (the
    // tick frees expire <= now before it admits).
    std::vector<std::pair<std::int64_t, int>> events;
    for (const auto& a : log) {
        events.emplace_back(a.active_ms, +1);
        events.emplace_back(a.expire_ms, -1);
    }
    std::sort(events.begin(), events.end());
    std::vector<std::string> out;
    std::int64_t live = 0;
    for (const auto& [at, delta] : events) {
        live += delta;
        if (delta > 0 && live > capacity) {
            out.push_back(
                std::to_string(live) + " admissions unexpired at " + std::to_string(at) + " > capacity " +
                std::to_string(capacity)
            );
        }
    }
    return out;
}

} // namespace tp::test
