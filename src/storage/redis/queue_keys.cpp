#include "storage/redis/queue_keys.hpp"

#include "domain/queue.hpp"

#include <sodium.h>

#include <array>
#include <cstring>

namespace tp::redis::queue_keys {
namespace {

constexpr std::string_view performances_tag = "performances";

bool is_canonical_uuid(std::string_view text) {
    const auto canonical = domain::parse_uuid(text);
    return canonical && *canonical == text;
}

} // namespace

std::string_view tag_of_gate(std::string_view gate) {
    const auto schedule = domain::schedule_of_gate(gate);
    return schedule.empty() ? gate : schedule;
}

std::string gate(std::string_view gate, std::string_view part) {
    const auto colon = gate.find(':');
    std::string key = "tp:gate:";
    if (colon == std::string_view::npos) {
        key.append("{").append(gate).append("}:");
    } else {
        key.append(gate.substr(0, colon)).append(":{").append(gate.substr(colon + 1)).append("}:");
    }
    return key.append(part);
}

std::optional<std::string_view> tag_of_token(std::string_view token_id) {
    const auto dot = token_id.rfind('.');
    if (dot == std::string_view::npos) {
        return std::nullopt;
    }
    const auto tag = token_id.substr(0, dot);
    if (!is_canonical_uuid(token_id.substr(dot + 1)) || (tag != performances_tag && !is_canonical_uuid(tag))) {
        return std::nullopt;
    }
    return tag;
}

std::string token(std::string_view token_id) {
    const auto dot = token_id.rfind('.');
    return "tp:token:{" + std::string(token_id.substr(0, dot)) + "}:" + std::string(token_id.substr(dot + 1));
}

std::string user_in_tag(std::string_view tag, const domain::user_id& user) {
    return "tp:user:{" + std::string(tag) + "}:" + user.str();
}

std::string user_latest(const domain::user_id& user) {
    return "tp:user:" + user.str();
}

std::string sold_out(const domain::schedule_id& schedule) {
    return "tp:soldout:{" + schedule.str() + "}";
}

std::string random_uuid() {
    // The system's CSPRNG, read 4 KiB at a time per thread: one getrandom() for 256 ids
    // instead of one per id, a system call less on every fan joining a line. Bytes are wiped
    // from the pool as they are handed out, so no id can be read back from it later.
    thread_local std::array<unsigned char, 4096> pool{};
    thread_local std::size_t used = pool.size();
    if (used == pool.size()) {
        randombytes_buf(pool.data(), pool.size());
        used = 0;
    }
    std::array<unsigned char, 16> b{};
    std::memcpy(b.data(), pool.data() + used, b.size());
    sodium_memzero(pool.data() + used, b.size());
    used += b.size();
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
    constexpr std::string_view hex = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out += '-';
        }
        out += hex[b[i] >> 4];
        out += hex[b[i] & 0x0F];
    }
    sodium_memzero(b.data(), b.size());
    return out;
}

std::string new_token_id(std::string_view tag) {
    return std::string(tag) + "." + random_uuid();
}

} // namespace tp::redis::queue_keys
