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

awaitable<seat_map_version> seat_map_versions::read(const std::string& schedule_id) {
    std::vector<std::vector<std::string>> batch{{"GET", seat_map_version_key(schedule_id)}, {"TIME"}};
    const auto answers = co_await conn_.execute_all(std::move(batch));
    // Read after the answer: a reset before it moved the session already, one after it only
    // makes this read look newer than it is (a needless refresh, never a stale hit).
    const auto session = conn_.session();
    const auto& clock = answers[1].elements;
    if (answers[0].is_error() || clock.size() != 2) {
        throw error("unexpected answer reading a seat list version");
    }
    co_return seat_map_version{
        answers[0].is_nil() ? std::string{} : answers[0].text,
        number(clock[0].text) * 1000 + number(clock[1].text) / 1000,
        session};
}

awaitable<void> seat_map_versions::bump(const std::string& schedule_id) {
    const std::vector<std::string> keys{seat_map_version_key(schedule_id)};
    std::vector<std::string> args{std::string(version_ttl_seconds)};
    co_await run_script(conn_, bump_script(), keys, std::move(args));
}

} // namespace tp::redis
