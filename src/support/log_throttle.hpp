#pragma once
// At most one log line a second for a condition that repeats: a database down fails every
// request, and an exhausted file limit fails every accept. One line per occurrence would
// flood the log (millions of lines in seconds) and cost the CPU the server needs to recover.
// One throttle per kind of line (a static at the call site); safe from any thread.
//
//   static log_throttle throttle;
//   log_throttled(throttle, spdlog::level::warn, "msg=\"...\" error=\"{}\" suppressed={}", e.what());

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <utility>

namespace tp {

class log_throttle {
public:
    using clock = std::chrono::steady_clock;

    explicit log_throttle(clock::duration every = std::chrono::seconds(1)) : every_(every.count()) {}

    // The number of lines dropped since the last one written when a line may be written
    // now; nullopt when it must be dropped.
    std::optional<std::uint64_t> admit(clock::time_point now = clock::now()) {
        const auto at = now.time_since_epoch().count();
        auto next = next_.load(std::memory_order_relaxed);
        if (at < next || !next_.compare_exchange_strong(next, at + every_, std::memory_order_relaxed)) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            return std::nullopt;
        }
        return dropped_.exchange(0, std::memory_order_relaxed);
    }

private:
    clock::rep every_;
    std::atomic<clock::rep> next_{0};
    std::atomic<std::uint64_t> dropped_{0};
};

// One structured line when `throttle` admits it. The format ends with a placeholder for the
// number of lines dropped before this one (" suppressed={}"), which is passed last. (The line
// is formatted by spdlog alone: formatting it with fmt first tripped UBSan's vptr check on
// fmt's buffer across the shared library.)
template <class... Args>
void log_throttled(
    log_throttle& throttle,
    spdlog::level::level_enum level,
    spdlog::format_string_t<Args..., std::uint64_t> format,
    Args&&... args
) {
    if (const auto dropped = throttle.admit()) {
        spdlog::log(level, format, std::forward<Args>(args)..., std::uint64_t{*dropped});
    }
}

} // namespace tp
