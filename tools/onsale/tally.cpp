#include "onsale/tally.hpp"

#include <algorithm>

namespace tp::onsale {

double percentile(std::vector<double> values, double p) {
    if (values.empty()) {
        return 0;
    }
    const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index), values.end());
    return values[index];
}

double tally::seconds_since_start() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

endpoint_tally& tally::at(const std::string& endpoint) {
    auto& t = endpoints_[endpoint];
    const double now = seconds_since_start();
    if (t.first_s < 0) {
        t.first_s = now;
    }
    t.last_s = now;
    return t;
}

void tally::record(const std::string& endpoint, unsigned status, double latency_ms, double queued_ms) {
    auto& t = at(endpoint);
    t.latencies_ms.push_back(latency_ms);
    t.queued_ms.push_back(queued_ms);
    ++t.statuses[status];
}

void tally::failure(const std::string& endpoint, const std::string& reason) {
    auto& t = at(endpoint);
    ++t.failures;
    ++t.failure_reasons[reason];
}

std::uint64_t tally::count_statuses(unsigned from, unsigned to) const {
    std::uint64_t n = 0;
    for (const auto& [name, t] : endpoints_) {
        for (const auto& [status, count] : t.statuses) {
            n += status >= from && status <= to ? count : 0;
        }
    }
    return n;
}

std::uint64_t tally::failures() const {
    std::uint64_t n = 0;
    for (const auto& [name, t] : endpoints_) {
        n += t.failures;
    }
    return n;
}

boost::json::object tally::report() const {
    boost::json::object out;
    for (const auto& [name, t] : endpoints_) {
        boost::json::object statuses;
        for (const auto& [status, count] : t.statuses) {
            statuses[std::to_string(status)] = count;
        }
        boost::json::object reasons;
        for (const auto& [reason, count] : t.failure_reasons) {
            reasons[reason] = count;
        }
        const double busy = std::max(t.last_s - t.first_s, 1e-3);
        const auto requests = t.latencies_ms.size();
        out[name] = boost::json::object{
            {"requests", requests},
            {"rate", static_cast<double>(requests) / busy},
            {"busy_seconds", busy},
            {"p50_ms", percentile(t.latencies_ms, 0.50)},
            {"p99_ms", percentile(t.latencies_ms, 0.99)},
            {"max_ms", percentile(t.latencies_ms, 1.0)},
            {"queued_p50_ms", percentile(t.queued_ms, 0.50)},
            {"queued_p99_ms", percentile(t.queued_ms, 0.99)},
            {"statuses", std::move(statuses)},
            {"failures", t.failures},
            {"failure_reasons", std::move(reasons)}};
    }
    return out;
}

} // namespace tp::onsale
