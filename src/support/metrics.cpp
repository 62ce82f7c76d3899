#include "support/metrics.hpp"

#include <fmt/format.h>

namespace tp {

void latency_histogram::observe(double seconds) {
    std::size_t i = 0;
    while (i < bounds_seconds.size() && seconds > bounds_seconds[i]) {
        ++i;
    }
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_microseconds_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void latency_histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bounds_seconds.size(); ++i) {
        cumulative += buckets_[i].load(std::memory_order_relaxed);
        out += fmt::format("{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, bounds_seconds[i], cumulative);
    }
    cumulative += buckets_.back().load(std::memory_order_relaxed);
    out += fmt::format("{}_bucket{{{},le=\"+Inf\"}} {}\n", name, labels, cumulative);
    out += fmt::format(
        "{}_sum{{{}}} {}\n", name, labels, static_cast<double>(sum_microseconds_.load(std::memory_order_relaxed)) / 1e6
    );
    out += fmt::format("{}_count{{{}}} {}\n", name, labels, count_.load(std::memory_order_relaxed));
}

metrics::route_id metrics::register_route(std::string method, std::string path) {
    auto stats = std::make_unique<route_stats>();
    stats->method = std::move(method);
    stats->path = std::move(path);
    routes_.push_back(std::move(stats));
    return route_id{routes_.size() - 1};
}

void metrics::record_request(route_id route, unsigned status, std::chrono::duration<double> elapsed) {
    auto& stats = *routes_[static_cast<std::size_t>(route)];
    stats.by_class[std::min<unsigned>(status / 100, 5)].fetch_add(1, std::memory_order_relaxed);
    stats.latency.observe(elapsed.count());
}

void metrics::record_unrouted(unsigned status) {
    unrouted_[std::min<unsigned>(status / 100, 5)].fetch_add(1, std::memory_order_relaxed);
}

void metrics::add_counter(std::string name, std::string help, std::function<std::uint64_t()> read) {
    std::lock_guard lock(sampled_mutex_);
    sampled_.push_back(sampled{std::move(name), std::move(help), "counter", [read = std::move(read)] {
                                   return static_cast<double>(read());
                               }});
}

void metrics::add_gauge(std::string name, std::string help, std::function<double()> read) {
    std::lock_guard lock(sampled_mutex_);
    sampled_.push_back(sampled{std::move(name), std::move(help), "gauge", std::move(read)});
}

void metrics::set_gate_lengths(const std::string& gate, std::int64_t waiting, std::int64_t active) {
    std::lock_guard lock(sampled_mutex_);
    if (waiting == 0 && active == 0) {
        gate_lengths_.erase(gate);
    } else {
        gate_lengths_[gate] = {waiting, active};
    }
}

std::string metrics::render() const {
    std::string out;
    out += "# HELP ticketd_http_requests_total HTTP requests answered, by route and status class.\n";
    out += "# TYPE ticketd_http_requests_total counter\n";
    for (const auto& r : routes_) {
        for (unsigned c = 1; c <= 5; ++c) {
            out += fmt::format(
                "ticketd_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}xx\"}} {}\n",
                r->method,
                r->path,
                c,
                r->by_class[c].load(std::memory_order_relaxed)
            );
        }
    }
    for (unsigned c = 1; c <= 5; ++c) {
        out += fmt::format(
            "ticketd_http_requests_total{{method=\"\",route=\"unmatched\",status=\"{}xx\"}} {}\n",
            c,
            unrouted_[c].load(std::memory_order_relaxed)
        );
    }
    out += "# HELP ticketd_http_request_duration_seconds Time from a parsed request to its response.\n";
    out += "# TYPE ticketd_http_request_duration_seconds histogram\n";
    for (const auto& r : routes_) {
        r->latency.render(
            out, "ticketd_http_request_duration_seconds", fmt::format("method=\"{}\",route=\"{}\"", r->method, r->path)
        );
    }
    const auto counter = [&](const char* name, const char* help, const std::atomic<std::uint64_t>& v) {
        out += fmt::format(
            "# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, help, name, name, v.load(std::memory_order_relaxed)
        );
    };
    counter("ticketd_seats_held_total", "Seats put on hold.", seats_held);
    counter("ticketd_seats_sold_total", "Seats paid for.", seats_sold);
    counter("ticketd_holds_released_total", "Expired holds released by the sweeper.", holds_released);
    counter(
        "ticketd_idempotent_answers_forgotten_total",
        "Stored answers of Idempotency-Key calls deleted after IDEMPOTENCY_RETENTION_HOURS.",
        idempotent_answers_forgotten
    );
    counter(
        "ticketd_sale_events_forgotten_total", "Sale events deleted after EVENT_RETENTION_HOURS.", sale_events_forgotten
    );
    counter("ticketd_queue_admissions_total", "Queue tokens admitted by this instance's ticks.", queue_admissions);
    counter(
        "ticketd_queue_writes_unreplicated_total",
        "Joins and admissions answered before a Redis replica acknowledged them (cluster mode).",
        queue_writes_unreplicated
    );
    counter("ticketd_queue_gate_calls_total", "Gated calls decided by the queue's gate_call.lua.", queue_gate_calls);
    counter(
        "ticketd_queue_gate_call_runs_total",
        "Runs of gate_call.lua sent to Redis: the calls of one tag that arrive while its previous run is in Redis go "
        "in one run.",
        queue_gate_call_runs
    );
    counter("ticketd_seat_list_cache_hits_total", "Seat lists answered from the cache as they were.", seat_map_hits);
    counter("ticketd_seat_list_refreshes_total", "Seat list refreshes from PostgreSQL.", seat_map_refreshes);
    counter(
        "ticketd_seat_list_logged_updates_total",
        "Seat lists brought up to date from the change log read with their version (no PostgreSQL read).",
        seat_map_logged_updates
    );
    counter(
        "ticketd_takes_refused_from_seat_map_total",
        "Takes refused from the thread's current seat map, without a database transaction.",
        takes_refused_from_seat_map
    );
    counter("ticketd_seat_list_full_reads_total", "Refreshes that read a whole seat list.", seat_map_full_reads);
    counter(
        "ticketd_seat_list_blocks_encoded_total",
        "Blocks of seats encoded (JSON, gzip, digest).",
        seat_map_blocks_encoded
    );
    counter(
        "ticketd_seat_list_version_bump_failures_total",
        "Seat changes whose list version could not be moved in Redis (lists may lag up to a second).",
        seat_map_bump_failures
    );
    std::lock_guard lock(sampled_mutex_);
    out += "# HELP ticketd_queue_waiting Fans waiting in a gate's line (as of the last tick).\n";
    out += "# TYPE ticketd_queue_waiting gauge\n";
    for (const auto& [gate, lengths] : gate_lengths_) {
        out += fmt::format("ticketd_queue_waiting{{gate=\"{}\"}} {}\n", gate, lengths.first);
    }
    out += "# HELP ticketd_queue_active Admitted tokens of a gate (as of the last tick).\n";
    out += "# TYPE ticketd_queue_active gauge\n";
    for (const auto& [gate, lengths] : gate_lengths_) {
        out += fmt::format("ticketd_queue_active{{gate=\"{}\"}} {}\n", gate, lengths.second);
    }
    for (const auto& s : sampled_) {
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", s.name, s.help, s.name, s.type, s.name, s.read());
    }
    return out;
}

} // namespace tp
