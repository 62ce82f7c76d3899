#include "storage/redis/script.hpp"

#include <openssl/evp.h>

#include <cstdio>

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

awaitable<reply> run_script(client& conn, const script& s, script_input input) {
    std::vector<std::string> command{"EVALSHA", s.sha1(), std::to_string(input.keys.size())};
    command.insert(command.end(), input.keys.begin(), input.keys.end());
    command.insert(command.end(), input.args.begin(), input.args.end());
    auto first_try = command;
    auto answer = co_await conn.execute(std::move(first_try));
    if (answer.is_error() && answer.text.starts_with("NOSCRIPT")) {
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
