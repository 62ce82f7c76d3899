#pragma once
// I4 (docs/api-contract.md, Invariants): a gate never has more active tokens than its
// capacity, and admits in FIFO order. Checked from what Redis holds, never from the answers
// the callers got.
//
// Each checker returns a description of every violation it finds (empty: the invariant
// held), so a test can print them; queue_concurrency_redistest.cpp feeds each one a
// fabricated violation to show that it can fail.

#include "redis_harness.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tp::test {

// One admission as the token's record keeps it: when it became ACTIVE, until when, and its
// arrival number in the gate's line.
struct admission {
    std::string token;
    std::int64_t active_ms = 0;
    std::int64_t expire_ms = 0;
    std::int64_t arrival = 0;
};

// Every admission to `gate` still on record (tp:token:* hashes with an `active` field).
std::vector<admission> read_admissions(redis_inspector& redis, const std::string& gate);

// FIFO: ordered by activation time (arrival breaking ties within one tick), the arrival
// numbers must strictly increase; a later arrival admitted strictly before an earlier one is
// a violation.
std::vector<std::string> fifo_violations(std::vector<admission> log);

// Capacity, from samples of ZCARD of the gate's active set.
std::vector<std::string> capacity_violations(const std::vector<std::int64_t>& samples, std::int64_t capacity);

// Capacity, from the log: at no instant may more admissions be unexpired ([active, expire))
// than the capacity. Sound (a token in its window is certainly still in the active set) but
// not complete (a token the tick has not freed yet counts as gone here).
std::vector<std::string> overlap_violations(std::vector<admission> log, std::int64_t capacity);

} // namespace tp::test
