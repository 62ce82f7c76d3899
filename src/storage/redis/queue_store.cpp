#include "storage/redis/queue_store.hpp"

#include "support/embedded_file.hpp"

#include <sodium.h>

#include <charconv>
#include <cstdio>
#include <limits>
#include <map>

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
        for (auto each : {"gate_call.lua", "enter.lua", "token_info.lua", "leave.lua", "tick.lua"}) {
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

double real(const std::string& text) {
    try {
        return text.empty() ? 0.0 : std::stod(text);
    } catch (const std::exception&) {
        return 0.0;
    }
}

// {outcome, id, user, gate, endpoint, status, issued, active, expire, rank, rate, seq, configured rate}
queue_outcome read_outcome(const reply& r) {
    if (r.type != reply::kind::array || r.elements.empty()) {
        throw error("unexpected answer from a queue script");
    }
    queue_outcome out{r.elements[0].text, std::nullopt};
    if (r.elements.size() >= 11) {
        const auto at = [&](std::size_t i) -> const std::string& {
            return r.elements[i].text;
        };
        domain::queue_token t;
        t.id = at(1);
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

} // namespace

std::string new_token_id() {
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
    char out[37];
    std::snprintf(
        out,
        sizeof out,
        "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
        b[0],
        b[1],
        b[2],
        b[3],
        b[4],
        b[5],
        b[6],
        b[7],
        b[8],
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    );
    return out;
}

awaitable<queue_outcome> queue_store::gate_call(
    const std::string& user,
    domain::flow_step step,
    const std::string& schedule,
    const std::string& presented_token,
    const std::string& endpoint
) {
    std::vector<std::string> args{user, step_text(step), schedule, presented_token, new_token_id(), endpoint};
    const auto r = co_await run_script(conn_, named("gate_call.lua"), std::move(args));
    co_return read_outcome(r);
}

awaitable<queue_outcome> queue_store::enter(
    const std::string& user, domain::flow_step step, const std::string& schedule, const std::string& endpoint
) {
    std::vector<std::string> args{user, step_text(step), schedule, new_token_id(), endpoint};
    const auto r = co_await run_script(conn_, named("enter.lua"), std::move(args));
    co_return read_outcome(r);
}

awaitable<queue_outcome> queue_store::token_info(const std::string& user, const std::string& token_id) {
    std::vector<std::string> args{user, token_id};
    const auto r = co_await run_script(conn_, named("token_info.lua"), std::move(args));
    co_return read_outcome(r);
}

awaitable<std::string> queue_store::leave(const std::string& user, const std::string& token_id) {
    std::vector<std::string> args{user, token_id};
    const auto r = co_await run_script(conn_, named("leave.lua"), std::move(args));
    co_return read_outcome(r).outcome;
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
        gate, std::to_string(defaults_.capacity), std::to_string(defaults_.rate), std::to_string(token_ttl_.count())};
    const auto r = co_await run_script(conn_, named("tick.lua"), std::move(args));
    if (r.elements.size() != 3) {
        throw error("unexpected answer from the tick script");
    }
    co_return tick_result{r.elements[0].integer, r.elements[1].integer, r.elements[2].integer};
}

awaitable<gate_snapshot> queue_store::gate(const std::string& gate) {
    gate_snapshot out{gate, defaults_, 0, 0, 0, 0};
    std::vector<std::string> settings_command{"HMGET", gate_key(gate, "settings"), "capacity", "rate"};
    std::vector<std::string> state_command{"HMGET", gate_key(gate, "state"), "admitted", "rate"};
    std::vector<std::string> active_command{"ZCARD", gate_key(gate, "active")};
    std::vector<std::string> waiting_command{"ZCARD", gate_key(gate, "waiting")};
    const auto settings = co_await conn_.execute(std::move(settings_command));
    const auto state = co_await conn_.execute(std::move(state_command));
    const auto active = co_await conn_.execute(std::move(active_command));
    const auto waiting = co_await conn_.execute(std::move(waiting_command));
    if (settings.elements.size() == 2) {
        out.settings.capacity = number(settings.elements[0].text).value_or(defaults_.capacity);
        out.settings.rate = number(settings.elements[1].text).value_or(defaults_.rate);
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

awaitable<void> queue_store::mark_sold_out(const std::string& schedule_id) {
    std::vector<std::string> command{"SET", "tp:soldout:" + schedule_id, "1"};
    co_await conn_.execute(std::move(command));
}

} // namespace tp::redis
