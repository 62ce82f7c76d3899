#include "storage/redis/script.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <iterator>

namespace tp::redis {

script::script(std::string_view source) : source_(source) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(source_.data(), source_.size(), digest, &length, EVP_sha1(), nullptr);
    char hex[3];
    for (unsigned int i = 0; i < length; ++i) {
        std::snprintf(hex, sizeof hex, "%02x", digest[i]);
        sha1_ += hex;
    }
}

awaitable<reply> run_script(client& conn, const script& s, std::vector<std::string> args) {
    script_input input{.keys = {}, .args = std::move(args)};
    co_return co_await run_script(conn, s, std::move(input));
}

namespace {

std::vector<std::string> evalsha(const script& s, script_input input) {
    std::vector<std::string> command{"EVALSHA", s.sha1(), std::to_string(input.keys.size())};
    command.reserve(3 + input.keys.size() + input.args.size());
    std::move(input.keys.begin(), input.keys.end(), std::back_inserter(command));
    std::move(input.args.begin(), input.args.end(), std::back_inserter(command));
    return command;
}

bool unknown_script(const reply& answer) {
    return answer.is_error() && answer.text.starts_with("NOSCRIPT");
}

} // namespace

awaitable<std::vector<reply>> run_script_all(client& conn, const script& s, std::vector<script_input> inputs) {
    std::vector<std::vector<std::string>> commands;
    commands.reserve(inputs.size());
    for (auto& input : inputs) {
        commands.push_back(evalsha(s, std::move(input)));
    }
    // The first call carries the script in full (which also caches it), so that none of the
    // batch meets NOSCRIPT: the batch's calls are too large to keep for a second try.
    if (!commands.empty()) {
        commands.front()[0] = "EVAL";
        commands.front()[1] = s.source();
    }
    auto answers = co_await conn.execute_all(std::move(commands));
    for (const auto& answer : answers) {
        if (answer.is_error()) {
            throw error("Redis script failed: " + answer.text);
        }
    }
    co_return answers;
}

awaitable<reply> run_script(client& conn, const script& s, script_input input) {
    auto command = evalsha(s, std::move(input));
    auto first_try = command;
    auto answer = co_await conn.execute(std::move(first_try));
    if (unknown_script(answer)) {
        command[0] = "EVAL";
        command[1] = s.source();
        answer = co_await conn.execute(std::move(command));
    }
    if (answer.is_error()) {
        throw error("Redis script failed: " + answer.text);
    }
    co_return answer;
}

} // namespace tp::redis
