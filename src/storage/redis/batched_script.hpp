#pragma once
// Calls of one script that arrive while an earlier run of theirs is in Redis go together in
// the next run: Redis pays the script's fixed cost (the command, its arguments, the reply, the
// round trip) once per batch rather than once per call, and a batch holds what arrived during
// one round trip, so it grows with the load and adds no wait when there is none
// (docs/waiting-queue.md, "Batched gated calls").
//
// The script takes call i as KEYS[i] and ARGV's i-th group of `args_per_call`, then the
// shared arguments, and answers an array with one reply per call, in order. Calls are grouped
// by a name the caller gives: the keys of one group must share a slot (one hash tag), since
// one run of a script cannot span slots on a Redis Cluster. Runs of one group are sent one at
// a time, in order. Runs on one event loop, as the client does; not thread-safe.

#include "storage/redis/client.hpp"
#include "storage/redis/script.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace tp::redis {

// One call: its group (calls of one group go in one run: their keys must share a slot), its
// key and its own arguments. One value, so the three cannot be passed in the wrong order.
struct batched_call {
    std::string group;
    std::string key;
    std::vector<std::string> args;
};

// Where a batched script counts its calls and its runs (either may be null): calls over runs
// is the mean batch. Shared by the event loops, hence atomic.
struct batch_counters {
    std::atomic<std::uint64_t>* calls = nullptr;
    std::atomic<std::uint64_t>* runs = nullptr;
};

class batched_script {
public:
    batched_script(
        client& conn,
        const script& s,
        std::size_t args_per_call,
        std::vector<std::string> shared_args,
        batch_counters counters = {}
    );
    batched_script(const batched_script&) = delete;
    batched_script& operator=(const batched_script&) = delete;
    ~batched_script();

    // The call's own reply; throws redis::error when its run failed (every call of the run
    // fails with it).
    awaitable<reply> call(batched_call c);

    // A run carries at most this many calls; more wait for the next.
    static constexpr std::size_t most_calls = 128;

private:
    struct batch;
    struct group_state {
        std::deque<std::shared_ptr<batch>> queued;
        bool sending = false;
    };

    // Sends the group's batches one after the other until none is left, then forgets the group.
    awaitable<void> send_all(std::string group, std::shared_ptr<bool> alive);

    client& conn_;
    const script& script_;
    std::size_t args_per_call_;
    std::vector<std::string> shared_args_;
    batch_counters counters_;
    std::unordered_map<std::string, group_state> groups_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace tp::redis
