#include "storage/redis/seat_map_versions.hpp"

#include "storage/redis/script.hpp"

#include <charconv>

namespace tp::redis {
namespace {

// A version's key lives a day past its last change; a list that finds no key reloads.
constexpr std::string_view version_ttl_seconds = "86400";

const script& bump_script() {
    static const script s(R"lua(
local old = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('SET', KEYS[1], string.format('%.0f', math.max(old + 1, now_us)), 'EX', ARGV[1])
return 1
)lua");
    return s;
}

std::int64_t number(const std::string& text) {
    std::int64_t value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
}

} // namespace

std::string seat_map_version_key(const std::string& schedule_id) {
    return "tp:seatmap:{" + schedule_id + "}:version";
}

std::vector<std::vector<std::string>> seat_map_versions::read_commands(const std::string& schedule_id) {
    return {{"GET", seat_map_version_key(schedule_id)}, {"TIME"}};
}

// Called once the replies are in: the session is read after them. A reset before they
// arrived moved it already; one after only makes this read look newer than it is (a
// needless refresh, never a stale hit).
seat_map_version seat_map_versions::read_from(std::span<const reply> replies) const {
    if (replies.size() != 2 || replies[0].is_error() || replies[1].elements.size() != 2) {
        throw error("unexpected answer reading a seat list version");
    }
    const auto& clock = replies[1].elements;
    return seat_map_version{
        replies[0].is_nil() ? std::string{} : replies[0].text,
        number(clock[0].text) * 1000 + number(clock[1].text) / 1000,
        conn_.session()};
}

awaitable<seat_map_version> seat_map_versions::read(const std::string& schedule_id) {
    const auto replies = co_await conn_.execute_all(read_commands(schedule_id));
    co_return read_from(replies);
}

awaitable<void> seat_map_versions::bump(const std::string& schedule_id) {
    const std::vector<std::string> keys{seat_map_version_key(schedule_id)};
    std::vector<std::string> args{std::string(version_ttl_seconds)};
    co_await run_script(conn_, bump_script(), keys, std::move(args));
}

} // namespace tp::redis
