#pragma once
// Process-wide counters in Prometheus text format: requests and latency per route, plus
// gauges that other parts register. Lock-free on the hot path (relaxed atomics).

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tp {

class latency_histogram {
public:
    static constexpr std::array<double, 12> bounds_seconds{
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0};

    void observe(double seconds);
    void render(std::string& out, const std::string& name, const std::string& labels) const;

private:
    std::array<std::atomic<std::uint64_t>, bounds_seconds.size() + 1> buckets_{};
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::uint64_t> sum_microseconds_{0};
};

class metrics {
public:
    // A registered route's index. Its own type, so that it cannot be passed for a status.
    enum class route_id : std::size_t {};

    // Routes are registered once at start-up, before any thread serves; ids index them.
    route_id register_route(std::string method, std::string path);
    void record_request(route_id route, unsigned status, std::chrono::duration<double> elapsed);
    void record_unrouted(unsigned status);

    void add_counter(std::string name, std::string help, std::function<std::uint64_t()> read);
    void add_gauge(std::string name, std::string help, std::function<double()> read);

    std::atomic<std::uint64_t> seats_held{0};
    std::atomic<std::uint64_t> seats_sold{0};
    std::atomic<std::uint64_t> holds_released{0};
    std::atomic<std::uint64_t> idempotent_answers_forgotten{0};
    std::atomic<std::uint64_t> sale_events_forgotten{0};
    std::atomic<std::uint64_t> queue_admissions{0};          // by this instance's ticks
    std::atomic<std::uint64_t> queue_writes_unreplicated{0}; // joins, admissions answered before a replica had them
    std::atomic<std::uint64_t> queue_gate_calls{0};          // gated calls decided by gate_call.lua ...
    std::atomic<std::uint64_t> queue_gate_call_runs{0};      // ... in this many runs (batches)
    std::atomic<std::uint64_t> seat_map_hits{0};
    std::atomic<std::uint64_t> seat_map_refreshes{0};
    std::atomic<std::uint64_t> seat_map_logged_updates{0};
    std::atomic<std::uint64_t> takes_refused_from_seat_map{0};
    std::atomic<std::uint64_t> seat_map_full_reads{0};
    std::atomic<std::uint64_t> seat_map_blocks_encoded{0};
    std::atomic<std::uint64_t> seat_map_bump_failures{0};

    // The queue's lengths as this instance's last tick saw them.
    void set_gate_lengths(const std::string& gate, std::int64_t waiting, std::int64_t active);

    std::string render() const;

private:
    struct route_stats {
        std::string method;
        std::string path;
        std::array<std::atomic<std::uint64_t>, 6> by_class{}; // 1xx..5xx, index 0 unused
        latency_histogram latency;
    };
    struct sampled {
        std::string name;
        std::string help;
        std::string type;
        std::function<double()> read;
    };

    std::vector<std::unique_ptr<route_stats>> routes_;
    std::array<std::atomic<std::uint64_t>, 6> unrouted_{};
    mutable std::mutex sampled_mutex_;
    std::vector<sampled> sampled_;
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> gate_lengths_; // under sampled_mutex_
};

} // namespace tp
