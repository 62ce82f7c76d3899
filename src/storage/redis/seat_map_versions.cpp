#include "storage/redis/seat_map_versions.hpp"

#include "storage/redis/script.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace tp::redis {
namespace {

// A version's key and its log live a day past their last change; a list that finds no key
// reloads.
constexpr std::string_view version_ttl_seconds = "86400";
// Entries kept in a log (about; Redis trims whole nodes): a reader further behind than this
// reads PostgreSQL instead.
constexpr std::string_view log_length = "1000";

// The entry goes in with redis.pcall: an id not above the log's last one (a clock gone back
// past a lost version key) leaves it out, and readers find a gap and read PostgreSQL.
const script& bump_script() {
    static const script s(R"lua(
local old = redis.call('GET', KEYS[1]) or '0'
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local new = string.format('%.0f', math.max((tonumber(old) or 0) + 1, now_us))
redis.call('SET', KEYS[1], new, 'EX', ARGV[1])
if ARGV[2] ~= '' then
  redis.pcall('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], new .. '-0', 'prev', old, 'seats', ARGV[2])
  redis.call('EXPIRE', KEYS[2], ARGV[1])
end
return new
)lua");
    return s;
}

template <typename Number> bool parse_number(std::string_view text, Number& out) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size();
}

std::int64_t number(const std::string& text) {
    std::int64_t value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
}

char status_letter(domain::seat_status s) {
    switch (s) {
    case domain::seat_status::available: return 'A';
    case domain::seat_status::temporary_reserved: return 'T';
    case domain::seat_status::reserved: return 'R';
    }
    return 'R';
}

std::optional<domain::seat_status> status_of_letter(std::string_view letter) {
    if (letter == "A") {
        return domain::seat_status::available;
    }
    if (letter == "T") {
        return domain::seat_status::temporary_reserved;
    }
    if (letter == "R") {
        return domain::seat_status::reserved;
    }
    return std::nullopt;
}

// Splits `text` at `separator`, at most `n` parts; false if there are not exactly `n`.
bool split(std::string_view text, char separator, std::span<std::string_view> parts) {
    std::size_t i = 0;
    for (;;) {
        const auto at = text.find(separator);
        if (i == parts.size()) {
            return false;
        }
        parts[i++] = text.substr(0, at);
        if (at == std::string_view::npos) {
            return i == parts.size();
        }
        text.remove_prefix(at + 1);
    }
}

// The value of `name` in a stream entry's flat [field, value, ...] array.
const reply* field(const reply& fields, std::string_view name) {
    for (std::size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
        if (fields.elements[i].text == name) {
            return &fields.elements[i + 1];
        }
    }
    return nullptr;
}

// The entries after `since`, if they chain from it to `current` with no gap.
std::optional<std::vector<domain::seat_state_change>>
chained_changes(const reply& entries, const std::string& since, const std::string& current) {
    std::vector<domain::seat_state_change> out;
    std::string_view expected_prev = since;
    if (since == current) {
        return out;
    }
    for (const auto& entry : entries.elements) {
        if (entry.elements.size() != 2) {
            return std::nullopt;
        }
        const auto& id = entry.elements[0].text;
        const auto* prev = field(entry.elements[1], "prev");
        const auto* seats = field(entry.elements[1], "seats");
        if (prev == nullptr || seats == nullptr || prev->text != expected_prev || !id.ends_with("-0")) {
            return std::nullopt;
        }
        auto changes = decode_seat_changes(seats->text);
        if (!changes) {
            return std::nullopt;
        }
        out.insert(out.end(), changes->begin(), changes->end());
        expected_prev = std::string_view(id).substr(0, id.size() - 2);
        if (expected_prev == current) {
            return out; // later entries (bumps after the version was read) wait for the next read
        }
    }
    if (expected_prev != current) {
        return std::nullopt;
    }
    return out;
}

} // namespace

std::string seat_map_version_key(const domain::schedule_id& schedule_id) {
    return "tp:seatmap:{" + schedule_id.str() + "}:version";
}

std::string seat_map_changes_key(const domain::schedule_id& schedule_id) {
    return "tp:seatmap:{" + schedule_id.str() + "}:changes";
}

std::string encode_seat_changes(std::span<const domain::seat_state_change> changes) {
    std::string out;
    for (const auto& c : changes) {
        if (!out.empty()) {
            out += ';';
        }
        out += std::to_string(c.position);
        out += ' ';
        out += status_letter(c.state.status);
        out += ' ';
        out += c.state.hold_expires ? std::to_string(*c.state.hold_expires) : "-";
        out += ' ';
        out += std::to_string(c.state.change_count);
        out += ' ';
        out += c.state.holder.empty() ? std::string_view("-") : std::string_view(c.state.holder);
    }
    return out;
}

std::optional<std::vector<domain::seat_state_change>> decode_seat_changes(std::string_view text) {
    std::vector<domain::seat_state_change> out;
    while (!text.empty()) {
        const auto end = std::min(text.find(';'), text.size());
        std::array<std::string_view, 5> parts;
        if (!split(text.substr(0, end), ' ', parts)) {
            return std::nullopt;
        }
        domain::seat_state_change c;
        const auto status = status_of_letter(parts[1]);
        if (!parse_number(parts[0], c.position) || !status || !parse_number(parts[3], c.state.change_count)) {
            return std::nullopt;
        }
        c.state.status = *status;
        if (parts[4] != "-") {
            if (parts[4].empty() || parts[4].find_first_of(" ;") != std::string_view::npos) {
                return std::nullopt;
            }
            c.state.holder = std::string(parts[4]);
        }
        if (parts[2] != "-") {
            domain::epoch_ms expires = 0;
            if (!parse_number(parts[2], expires)) {
                return std::nullopt;
            }
            c.state.hold_expires = expires;
        }
        out.push_back(c);
        text.remove_prefix(std::min(end + 1, text.size()));
    }
    return out;
}

std::vector<std::vector<std::string>>
seat_map_versions::read_commands(const domain::schedule_id& schedule_id, const std::string& since) {
    std::vector<std::vector<std::string>> commands{{"GET", seat_map_version_key(schedule_id)}, {"TIME"}};
    if (!since.empty()) {
        commands.push_back(
            {"XRANGE",
             seat_map_changes_key(schedule_id),
             "(" + since + "-0",
             "+",
             "COUNT",
             std::to_string(max_changes_read)}
        );
    }
    return commands;
}

// Called once the replies are in: the session is read after them. A reset before they
// arrived moved it already; one after only makes this read look newer than it is (a
// needless refresh, never a stale hit).
seat_map_version seat_map_versions::read_from(std::span<const reply> replies, const std::string& since) const {
    const std::size_t expected = since.empty() ? 2 : 3;
    if (replies.size() != expected || replies[0].is_error() || replies[1].elements.size() != 2) {
        throw error("unexpected answer reading a seat list version");
    }
    const auto& clock = replies[1].elements;
    seat_map_version out{
        .value = replies[0].is_nil() ? std::string{} : replies[0].text,
        .now_ms = number(clock[0].text) * 1000 + number(clock[1].text) / 1000,
        .session = conn_.session(),
        .since = since,
        .changes = std::nullopt};
    if (!since.empty() && !out.value.empty() && !replies[2].is_error()) {
        out.changes = chained_changes(replies[2], since, out.value);
    }
    return out;
}

awaitable<seat_map_version> seat_map_versions::read(const domain::schedule_id& schedule_id, const std::string& since) {
    const auto replies = co_await conn_.execute_all(read_commands(schedule_id, since));
    co_return read_from(replies, since);
}

awaitable<std::vector<seat_map_version>>
seat_map_versions::read_many(std::span<const domain::schedule_id> schedule_ids, std::span<const std::string> since) {
    std::vector<std::vector<std::string>> commands;
    for (std::size_t i = 0; i < schedule_ids.size(); ++i) {
        for (auto& c : read_commands(schedule_ids[i], since[i])) {
            commands.push_back(std::move(c));
        }
    }
    std::vector<seat_map_version> out;
    if (commands.empty()) {
        co_return out;
    }
    const auto replies = co_await conn_.execute_all(std::move(commands));
    std::span<const reply> rest(replies);
    for (std::size_t i = 0; i < schedule_ids.size(); ++i) {
        const std::size_t n = since[i].empty() ? 2 : 3;
        if (rest.size() < n) {
            throw error("unexpected answer reading seat list versions");
        }
        out.push_back(read_from(rest.first(n), since[i]));
        rest = rest.subspan(n);
    }
    co_return out;
}

awaitable<void>
seat_map_versions::bump(const domain::schedule_id& schedule_id, std::span<const domain::seat_state_change> changes) {
    script_input input{
        .keys = {seat_map_version_key(schedule_id), seat_map_changes_key(schedule_id)},
        .args = {std::string(version_ttl_seconds), encode_seat_changes(changes), std::string(log_length)}};
    co_await run_script(conn_, bump_script(), std::move(input));
}

} // namespace tp::redis
