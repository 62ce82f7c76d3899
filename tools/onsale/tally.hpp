#pragma once
// What the replay saw, per endpoint: every latency, answers by status, failures on the wire,
// and when the first and last exchange ended (for a rate over the time the endpoint was busy).

#include <boost/json/object.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace tp::onsale {

struct endpoint_tally {
    std::vector<double> latencies_ms;
    std::vector<double> queued_ms; // waiting for a pooled connection, before the exchange
    std::map<unsigned, std::uint64_t> statuses;
    std::uint64_t failures = 0;
    std::map<std::string, std::uint64_t> failure_reasons; // e.g. "connect: Too many open files"
    double first_s = -1;
    double last_s = 0;
};

class tally {
public:
    explicit tally(std::chrono::steady_clock::time_point start) : start_(start) {}

    void record(const std::string& endpoint, unsigned status, double latency_ms, double queued_ms = 0);
    void failure(const std::string& endpoint, const std::string& reason);
    double seconds_since_start() const;

    // Answers of these statuses, over all endpoints (e.g. >= 500).
    std::uint64_t count_statuses(unsigned from, unsigned to) const;
    std::uint64_t failures() const;

    // {"endpoint": {"requests", "rate", "p50_ms", "p99_ms", "max_ms", "queued_p50_ms", "queued_p99_ms",
    //               "statuses", "failures", "failure_reasons"}}
    boost::json::object report() const;

private:
    endpoint_tally& at(const std::string& endpoint);

    std::chrono::steady_clock::time_point start_;
    std::map<std::string, endpoint_tally> endpoints_;
};

double percentile(std::vector<double> values, double p);

} // namespace tp::onsale
