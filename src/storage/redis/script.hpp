#pragma once
// A Lua script run atomically by Redis. Called by EVALSHA (only the 40-byte hash travels);
// when Redis answers NOSCRIPT (restarted, flushed, failed over) the script is sent once in
// full with EVAL, which also caches it again.

#include "storage/redis/client.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace tp::redis {

class script {
public:
    explicit script(std::string_view source);

    const std::string& source() const { return source_; }
    const std::string& sha1() const { return sha1_; }

private:
    std::string source_;
    std::string sha1_;
};

// Runs `s` with ARGV (the queue scripts derive their keys from their arguments; see
// docs/waiting-queue.md on Redis Cluster); throws redis::error for an error reply.
awaitable<reply> run_script(client& conn, const script& s, std::vector<std::string> args);

// A script's declared KEYS (what a Redis Cluster routes by) and its ARGV: one value, so the
// two lists cannot be passed the wrong way round.
struct script_input {
    std::vector<std::string> keys;
    std::vector<std::string> args;
};

awaitable<reply> run_script(client& conn, const script& s, script_input input);

// Runs `s` once per input, the calls pipelined in order on one connection (each script is
// still atomic on its own, and runs in that order); answers in the same order.
awaitable<std::vector<reply>> run_script_all(client& conn, const script& s, std::vector<script_input> inputs);

} // namespace tp::redis
