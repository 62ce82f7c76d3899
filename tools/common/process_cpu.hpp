#pragma once
// The CPU time the calling process has used, which the benchmark's tools report beside their
// figures (docs/benchmarks.md: each part of the system's share of the machine).

#include <sys/resource.h>

namespace tp::tools {

// User and system CPU time of this process so far.
inline double own_cpu_seconds() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

} // namespace tp::tools
