#include "storage/redis/queue_store.hpp"

#include "support/embedded_file.hpp"

#include <sodium.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <string_view>
#include <utility>

namespace tp::redis_scripts {
std::span<const tp::embedded_file> files(); // scripts/*.lua, compiled in by CMake
} // namespace tp::redis_scripts

namespace tp::redis {
namespace {

std::string_view source_of(std::string_view name) {
    for (const auto& f : redis_scripts::files()) {
        if (f.name == name) {
            return f.content;
        }
    }
    throw std::logic_error("missing queue script " + std::string(name));
}

// Each script is the shared prelude followed by its own body.
const script& named(std::string_view name) {
    static const std::map<std::string_view, script, std::less<>> scripts = [] {
        std::map<std::string_view, script, std::less<>> all;
        const std::string prelude(source_of("prelude.lua"));
        for (auto each : {"gate_call.lua", "enter.lua", "leave.lua", "tick.lua"}) {
            all.emplace(each, script(prelude + "\n" + std::string(source_of(each))));
        }
        return all;
    }();
    return scripts.at(name);
}

std::optional<std::int64_t> number(const std::string& text) {
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

// 0 for anything that is not a plain finite number (no exceptions: this runs on every poll).
double real(const std::string& text) {
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc{} && end == text.data() + text.size() && std::isfinite(value) ? value : 0.0;
}

constexpr std::array verdict_words{
    std::pair{queue_verdict::serve, std::string_view{"serve"}},
    std::pair{queue_verdict::wait, std::string_view{"wait"}},
    std::pair{queue_verdict::created, std::string_view{"created"}},
    std::pair{queue_verdict::existing, std::string_view{"existing"}},
    std::pair{queue_verdict::ok, std::string_view{"ok"}},
    std::pair{queue_verdict::expired, std::string_view{"expired"}},
    std::pair{queue_verdict::exists, std::string_view{"exists"}},
    std::pair{queue_verdict::not_found, std::string_view{"not_found"}},
    std::pair{queue_verdict::not_yours, std::string_view{"not_yours"}},
    std::pair{queue_verdict::flow_violated, std::string_view{"flow_violated"}},
    std::pair{queue_verdict::sold_out, std::string_view{"sold_out"}},
};

bool carries_token(queue_verdict verdict) {
    switch (verdict) {
    case queue_verdict::serve:
    case queue_verdict::wait:
    case queue_verdict::created:
    case queue_verdict::existing: return true;
    case queue_verdict::ok:
    case queue_verdict::expired:
    case queue_verdict::exists:
    case queue_verdict::not_found:
    case queue_verdict::not_yours:
    case queue_verdict::flow_violated:
    case queue_verdict::sold_out: return false;
    }
    return false;
}

// {outcome, id, user, gate, endpoint, status, issued, active, expire, rank, rate, seq, configured rate}
queue_outcome read_outcome(const reply& r) {
    if (r.type != reply::kind::array || r.elements.empty()) {
        throw error("unexpected answer from a queue script");
    }
    queue_outcome out{parse_verdict(r.elements[0].text), std::nullopt};
    if (r.elements.size() < 11) {
        if (carries_token(out.verdict)) {
            throw error("a queue script answered '" + r.elements[0].text + "' without its token");
        }
    } else {
        const auto at = [&](std::size_t i) -> const std::string& {
            return r.elements[i].text;
        };
        domain::queue_token t;
        t.id = domain::queue_token_id(at(1));
        t.user_id = at(2);
        t.gate = at(3);
        t.requested_endpoint = at(4);
        t.status = domain::parse_token_status(at(5)).value_or(domain::token_status::expired);
        t.issued_timestamp = number(at(6));
        t.active_timestamp = number(at(7));
        t.expire_timestamp = number(at(8));
        const auto rank = number(at(9));
        if (rank && *rank >= 0) {
            t.rank = rank;
        }
        t.admission_rate = real(at(10));
        if (r.elements.size() >= 13) {
            t.arrival = number(at(11)).value_or(0);
            if (const auto configured = number(at(12))) {
                t.gate_rate = static_cast<double>(*configured);
            }
        }
        out.token = std::move(t);
    }
    return out;
}

std::string step_text(domain::flow_step step) {
    return std::to_string(static_cast<int>(step));
}

std::string gate_key(const std::string& gate, const char* part) {
    return "tp:gate:{" + gate + "}:" + part;
}

// The token's record: user, gate, endpoint, status, issued, active, expire, arrival number.
std::vector<std::string> read_token(const domain::queue_token_id& token_id) {
    std::vector<std::string> command{"HMGET", "tp:token:" + token_id.str()};
    for (const auto* field : {"user", "gate", "endpoint", "status", "issued", "active", "expire", "seq"}) {
        command.emplace_back(field);
    }
    return command;
}

// A waiting token's place in line and its gate's rates (ZRANK, measured rate, operator's rate).
std::vector<std::vector<std::string>> place_in_line(const std::string& gate, const domain::queue_token_id& token_id) {
    return {
        {"ZRANK", gate_key(gate, "waiting"), token_id.str()},
        {"HGET", gate_key(gate, "state"), "rate"},
        {"HGET", gate_key(gate, "settings"), "rate"}};
}

} // namespace

queue_verdict parse_verdict(std::string_view word) {
    for (const auto& [verdict, spelled] : verdict_words) {
        if (spelled == word) {
            return verdict;
        }
    }
    throw error("a queue script answered an unknown outcome: '" + std::string(word) + "'");
}

std::string_view to_string(queue_verdict verdict) {
    for (const auto& [known, spelled] : verdict_words) {
        if (known == verdict) {
            return spelled;
        }
    }
    return "unknown";
}

std::string new_token_id() {
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

awaitable<reply> queue_store::run(std::string_view name, std::vector<std::string> args) {
    args.push_back(std::to_string(options_.record_retention.count()));
    co_return co_await run_script(conn_, named(name), std::move(args));
}

awaitable<queue_outcome> queue_store::gate_call(
    const domain::user_id& user,
    domain::flow_step step,
    const domain::schedule_id& schedule,
    const domain::queue_token_id& presented_token,
    const std::string& endpoint
) {
    std::vector<std::string> args{
        user.str(), step_text(step), schedule.str(), presented_token.str(), new_token_id(), endpoint};
    const auto r = co_await run("gate_call.lua", std::move(args));
    co_return read_outcome(r);
}

awaitable<queue_store::active_check> queue_store::check_active(
    const domain::user_id& user,
    const domain::queue_token_id& token_id,
    const std::string& gate,
    std::vector<std::vector<std::string>> also
) {
    const auto schedule = domain::schedule_of_gate(gate);
    std::vector<std::vector<std::string>> batch{
        {"HMGET", "tp:token:" + token_id.str(), "user", "gate", "status", "expire"},
        {"TIME"},
        {"EXISTS", "tp:soldout:" + std::string(schedule)}};
    const auto own = batch.size();
    batch.insert(batch.end(), std::make_move_iterator(also.begin()), std::make_move_iterator(also.end()));
    auto answers = co_await conn_.execute_all(std::move(batch));
    const auto& f = answers[0].elements;
    const auto& clock = answers[1].elements;
    if (f.size() != 4 || clock.size() != 2) {
        throw error("unexpected answer checking a queue token");
    }
    active_check out;
    out.also.assign(
        std::make_move_iterator(answers.begin() + static_cast<std::ptrdiff_t>(own)),
        std::make_move_iterator(answers.end())
    );
    const auto now = number(clock[0].text).value_or(0) * 1000 + number(clock[1].text).value_or(0) / 1000;
    const auto expire = number(f[3].text);
    const bool sold_out = !schedule.empty() && answers[2].integer == 1;
    if (f[0].is_nil() || f[0].text != user.str() || f[1].text != gate || f[2].text != "ACTIVE" || !expire ||
        *expire <= now || sold_out) {
        co_return out;
    }
    domain::queue_token t;
    t.id = token_id;
    t.user_id = user.str();
    t.gate = gate;
    t.status = domain::token_status::active;
    t.expire_timestamp = expire;
    t.rank = 0;
    out.token = std::move(t);
    co_return out;
}

awaitable<queue_outcome> queue_store::enter(
    const domain::user_id& user,
    domain::flow_step step,
    const domain::schedule_id& schedule,
    const std::string& endpoint
) {
    std::vector<std::string> args{user.str(), step_text(step), schedule.str(), new_token_id(), endpoint};
    const auto r = co_await run("enter.lua", std::move(args));
    co_return read_outcome(r);
}

// Reading a token changes nothing, so it is plain commands rather than a script (a poll is
// the most frequent call of a sale, and a script costs Redis several times more): the token's
// fields with Redis's clock and, for a fan still waiting, its place in line and the gate's
// rates. A token's gate never changes, so once this event loop has seen it, all of that goes
// in one batch; the first time, the place is read in a second one. A token admitted between
// the reads is read again.
awaitable<queue_outcome> queue_store::token_info(const domain::user_id& user, const domain::queue_token_id& token_id) {
    for (int attempt = 0;; ++attempt) {
        const auto* remembered = gate_of_token_.find(token_id.str());
        const std::string known_gate = remembered != nullptr ? *remembered : "";
        std::vector<std::vector<std::string>> batch{read_token(token_id), {"TIME"}};
        if (!known_gate.empty()) {
            auto place = place_in_line(known_gate, token_id);
            batch.insert(batch.end(), place.begin(), place.end());
        }
        auto answers = co_await conn_.execute_all(std::move(batch));
        const auto& fields = answers[0].elements;
        const auto& clock = answers[1].elements;
        if (fields.size() != 8 || clock.size() != 2) {
            throw error("unexpected answer reading a queue token");
        }
        if (token_id.empty() || fields[0].is_nil()) {
            co_return queue_outcome{queue_verdict::not_found, std::nullopt};
        }
        if (!user.empty() && fields[0].text != user.str()) { // "": the stream, which knows the token by id alone
            co_return queue_outcome{queue_verdict::not_yours, std::nullopt};
        }
        domain::queue_token t;
        t.id = token_id;
        t.user_id = fields[0].text;
        t.gate = fields[1].text;
        t.requested_endpoint = fields[2].text;
        t.issued_timestamp = number(fields[4].text);
        t.active_timestamp = number(fields[5].text);
        t.expire_timestamp = number(fields[6].text);
        t.arrival = number(fields[7].text).value_or(0);
        const auto now = number(clock[0].text).value_or(0) * 1000 + number(clock[1].text).value_or(0) / 1000;
        const auto stored = domain::parse_token_status(fields[3].text).value_or(domain::token_status::expired);
        t.status = domain::status_at(stored, t.expire_timestamp, now);
        if (known_gate.empty()) {
            gate_of_token_.insert(token_id.str(), t.gate);
        }
        if (t.status == domain::token_status::expired) {
            co_return queue_outcome{queue_verdict::expired, std::move(t)};
        }
        if (t.status == domain::token_status::active) {
            t.rank = 0;
        }
        if (t.status == domain::token_status::waiting) {
            std::vector<reply> second;
            const reply* place = answers.data() + 2; // rank, measured rate, operator's rate
            if (known_gate != t.gate) {
                auto read_place = place_in_line(t.gate, token_id);
                second = co_await conn_.execute_all(std::move(read_place));
                place = second.data();
            }
            if (place[0].is_nil() && attempt < 2) {
                continue; // admitted (or sold out) in between
            }
            if (!place[0].is_nil()) {
                t.rank = place[0].integer + 1;
            }
            t.admission_rate = real(place[1].text);
            if (const auto configured = number(place[2].text)) {
                t.gate_rate = static_cast<double>(*configured);
            }
        }
        co_return queue_outcome{queue_verdict::ok, std::move(t)};
    }
}

awaitable<queue_verdict> queue_store::leave(const domain::user_id& user, const domain::queue_token_id& token_id) {
    std::vector<std::string> args{user.str(), token_id.str()};
    const auto r = co_await run("leave.lua", std::move(args));
    co_return read_outcome(r).verdict;
}

awaitable<std::vector<std::string>> queue_store::gates_in_use() {
    std::vector<std::string> command{"SMEMBERS", "tp:gates"};
    const auto r = co_await conn_.execute(std::move(command));
    std::vector<std::string> out;
    for (const auto& e : r.elements) {
        out.push_back(e.text);
    }
    co_return out;
}

awaitable<queue_store::tick_result> queue_store::tick(const std::string& gate) {
    std::vector<std::string> args{
        gate,
        std::to_string(options_.defaults.capacity),
        std::to_string(options_.defaults.rate),
        std::to_string(options_.token_ttl.count()),
        std::to_string(options_.tick_spacing.count())};
    const auto r = co_await run("tick.lua", std::move(args));
    if (r.elements.size() != 3) {
        throw error("unexpected answer from the tick script");
    }
    const tick_result ticked{
        .admitted = r.elements[0].integer, .waiting = r.elements[1].integer, .active = r.elements[2].integer};
    co_return ticked;
}

awaitable<gate_snapshot> queue_store::gate(const std::string& gate) {
    gate_snapshot out{
        .gate = gate,
        .settings = options_.defaults,
        .active = 0,
        .waiting = 0,
        .admitted_total = 0,
        .measured_rate = 0};
    std::vector<std::string> settings_command{"HMGET", gate_key(gate, "settings"), "capacity", "rate"};
    std::vector<std::string> state_command{"HMGET", gate_key(gate, "state"), "admitted", "rate"};
    std::vector<std::string> active_command{"ZCARD", gate_key(gate, "active")};
    std::vector<std::string> waiting_command{"ZCARD", gate_key(gate, "waiting")};
    const auto settings = co_await conn_.execute(std::move(settings_command));
    const auto state = co_await conn_.execute(std::move(state_command));
    const auto active = co_await conn_.execute(std::move(active_command));
    const auto waiting = co_await conn_.execute(std::move(waiting_command));
    if (settings.elements.size() == 2) {
        out.settings.capacity = number(settings.elements[0].text).value_or(options_.defaults.capacity);
        out.settings.rate = number(settings.elements[1].text).value_or(options_.defaults.rate);
    }
    if (state.elements.size() == 2) {
        out.admitted_total = number(state.elements[0].text).value_or(0);
        out.measured_rate = real(state.elements[1].text);
    }
    out.active = active.integer;
    out.waiting = waiting.integer;
    co_return out;
}

awaitable<void> queue_store::configure_gate(
    const std::string& gate, std::optional<std::int64_t> capacity, std::optional<std::int64_t> rate
) {
    std::vector<std::string> command{"HSET", gate_key(gate, "settings")};
    if (capacity) {
        command.insert(command.end(), {"capacity", std::to_string(*capacity)});
    }
    if (rate) {
        command.insert(command.end(), {"rate", std::to_string(*rate)});
    }
    const auto r = co_await conn_.execute(std::move(command));
    if (r.is_error()) {
        throw error("Redis refused a gate setting: " + r.text);
    }
}

awaitable<std::int64_t> queue_store::now_serving(const std::string& gate) {
    std::vector<std::string> serving_command{"HGET", gate_key(gate, "state"), "serving"};
    const auto schedule = domain::schedule_of_gate(gate);
    std::vector<std::string> sold_out_command{"EXISTS", "tp:soldout:" + std::string(schedule)};
    const auto serving = co_await conn_.execute(std::move(serving_command));
    if (!schedule.empty()) {
        // (Not a ?: with co_await in one branch: GCC 12 miscompiles that.)
        const auto sold_out = co_await conn_.execute(std::move(sold_out_command));
        if (sold_out.integer == 1) {
            co_return std::numeric_limits<std::int64_t>::max();
        }
    }
    co_return number(serving.text).value_or(0);
}

awaitable<void> queue_store::mark_sold_out(const domain::schedule_id& schedule_id) {
    std::vector<std::string> command{"SET", "tp:soldout:" + schedule_id.str(), "1"};
    co_await conn_.execute(std::move(command));
}

} // namespace tp::redis
