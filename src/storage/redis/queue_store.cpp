#include "storage/redis/queue_store.hpp"

#include "storage/redis/queue_keys.hpp"
#include "support/embedded_file.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>

#include <array>
#include <charconv>
#include <cmath>
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
        for (auto each :
             {"gate_call.lua",
              "enter.lua",
              "hand_over.lua",
              "leave.lua",
              "tick.lua",
              "draw.lua",
              "drawn_presence.lua"}) {
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

// The mean of the last 10 whole seconds of a gate's admissions ring (tick.lua): HGETALL's
// fields and values, each value "second:count".
double admissions_per_second(const reply& ring, std::int64_t now_second) {
    constexpr std::int64_t window = 10;
    std::int64_t admitted = 0;
    for (std::size_t i = 1; i < ring.elements.size(); i += 2) {
        const std::string& held = ring.elements[i].text;
        const auto colon = held.find(':');
        const auto second = number(held.substr(0, colon));
        const auto count = colon == std::string::npos ? std::nullopt : number(held.substr(colon + 1));
        if (second && count && *second >= now_second - window && *second < now_second) {
            admitted += *count;
        }
    }
    return static_cast<double>(admitted) / window;
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

// {outcome, id, user, gate, endpoint, status, issued, active, expire, rank, rate, seq, configured rate,
//  'joined' or '', opens (a pre-queued token's ticketing start)}
queue_outcome read_outcome(const reply& r) {
    if (r.type != reply::kind::array || r.elements.empty()) {
        throw error("unexpected answer from a queue script");
    }
    queue_outcome out{parse_verdict(r.elements[0].text), std::nullopt, false};
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
        out.joined = r.elements.size() >= 14 && at(13) == "joined";
        if (r.elements.size() >= 15 && t.status == domain::token_status::pre_queue) {
            t.opens_at = number(at(14));
        }
        out.token = std::move(t);
    }
    return out;
}

std::string step_text(domain::flow_step step) {
    return std::to_string(static_cast<int>(step));
}

std::string gate_key(const std::string& gate, const char* part) {
    return queue_keys::gate(gate, part);
}

// The token's record: user, gate, endpoint, status, issued, active, expire, arrival number,
// ticketing start (pre-queued tokens).
// Only for an id queue_keys::tag_of_token accepts.
std::vector<std::string> read_token(const domain::queue_token_id& token_id) {
    std::vector<std::string> command{"HMGET", queue_keys::token(token_id.str())};
    for (const auto* field : {"user", "gate", "endpoint", "status", "issued", "active", "expire", "seq", "opens"}) {
        command.emplace_back(field);
    }
    return command;
}

// A waiting token's place in line, its number there and its gate's rates (ZRANK, ZSCORE,
// measured rate, operator's rate), and the poll's sign of presence (`now` on Redis's clock;
// XX: only a token still waiting). The number is what tells a drawn token from a pre-queued
// one (draw.lua leaves the record as it was).
std::vector<std::vector<std::string>>
place_in_line(const std::string& gate, const domain::queue_token_id& token_id, std::int64_t now) {
    return {
        {"ZRANK", gate_key(gate, "waiting"), token_id.str()},
        {"ZSCORE", gate_key(gate, "waiting"), token_id.str()},
        {"HGET", gate_key(gate, "state"), "rate"},
        {"HGET", gate_key(gate, "settings"), "rate"},
        {"ZADD", gate_key(gate, "seen"), "XX", std::to_string(now), token_id.str()}};
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

// Each gated call is ten arguments of gate_call.lua (see call_in_tag); the retention is shared.
queue_store::queue_store(client& conn, queue_options options)
    : conn_(conn), options_(options),
      gate_calls_(
          conn, named("gate_call.lua"), 10, {std::to_string(options_.record_retention.count())}, options_.gate_calls
      ) {}

awaitable<reply> queue_store::run(std::string_view name, std::string key, std::vector<std::string> args) {
    args.push_back(std::to_string(options_.record_retention.count()));
    script_input input;
    input.keys.push_back(std::move(key));
    input.args = std::move(args);
    co_return co_await run_script(conn_, named(name), std::move(input));
}

// A script's answer, and what follows it outside the script: a token that joined a line (or
// may have: any answer "wait") puts its gate among the gates to tick, and a new token becomes
// the user's latest. Both come after the script, so a tick that found the gate empty and took
// it off the list cannot miss this token (see forget_gate_if_empty).
awaitable<queue_outcome> queue_store::settle(const domain::user_id& user, const reply& r) {
    auto out = read_outcome(r);
    const bool joined = out.joined;
    if (!out.token || (!joined && out.verdict != queue_verdict::wait)) {
        co_return out;
    }
    std::vector<std::vector<std::string>> batch{{"SADD", std::string(queue_keys::gates_in_use), out.token->gate}};
    if (joined) {
        const auto ttl =
            options_.record_retention + std::chrono::duration_cast<std::chrono::seconds>(options_.token_ttl);
        batch.push_back(
            {"SET", queue_keys::user_latest(user), out.token->id.str(), "EX", std::to_string(ttl.count() + 1)}
        );
    }
    co_await conn_.execute_all(std::move(batch));
    if (joined) {
        co_await await_replicas(queue_keys::gate(out.token->gate, "state"));
    }
    co_return out;
}

// WAIT blocks the connection it is sent on until the replicas have every write sent on it
// before, the script's included; sent with a key of the script's slot, it goes to that
// script's master (a keyless command travels with its batch's keyed one).
awaitable<void> queue_store::await_replicas(const std::string& key) {
    if (options_.replicas_to_wait <= 0) {
        co_return;
    }
    std::vector<std::vector<std::string>> batch{
        {"EXISTS", key},
        {"WAIT", std::to_string(options_.replicas_to_wait), std::to_string(options_.replica_wait.count())}};
    const auto answers = co_await conn_.execute_all(std::move(batch));
    if (answers.size() == 2 && answers[1].integer < options_.replicas_to_wait && options_.unreplicated != nullptr) {
        options_.unreplicated->fetch_add(1, std::memory_order_relaxed);
    }
}

awaitable<queue_outcome> queue_store::call_in_tag(
    const std::string& tag,
    const domain::user_id& user,
    domain::flow_step step,
    const domain::schedule_id& schedule,
    const domain::queue_token_id& shown,
    const std::string& endpoint,
    bool handed_over,
    const std::optional<pre_queue_terms>& terms
) {
    std::vector<std::string> args{
        user.str(),
        step_text(step),
        schedule.str(),
        shown.str(),
        queue_keys::new_token_id(tag),
        endpoint,
        handed_over ? "1" : "",
        terms ? std::to_string(terms->opens_at) : "",
        terms ? terms->seed : "",
        terms ? terms->commitment : ""};
    batched_call call{.group = tag, .key = queue_keys::user_in_tag(tag, user), .args = std::move(args)};
    const auto r = co_await gate_calls_.call(std::move(call));
    co_return co_await settle(user, r);
}

awaitable<domain::queue_token_id> queue_store::latest_token(const domain::user_id& user) {
    std::vector<std::string> command{"GET", queue_keys::user_latest(user)};
    const auto r = co_await conn_.execute(std::move(command));
    if (r.is_nil() || !queue_keys::tag_of_token(r.text)) {
        co_return domain::queue_token_id{};
    }
    co_return domain::queue_token_id(r.text);
}

// Decided by gate_call.lua in one tag's slot, except where the token the call is about lives
// in another tag (docs/waiting-queue.md, "Across slots"): the hand-over from the performances
// gate to a schedule's, and going back to step 1 from a schedule's gate.
awaitable<queue_outcome> queue_store::gate_call(
    const domain::user_id& user,
    domain::flow_step step,
    const domain::schedule_id& schedule,
    const domain::queue_token_id& presented_token,
    const std::string& endpoint,
    const std::optional<pre_queue_terms>& terms
) {
    if (!presented_token.empty() && !queue_keys::tag_of_token(presented_token.str())) {
        co_return queue_outcome{queue_verdict::not_found, std::nullopt, false};
    }
    const domain::queue_token_id none;
    if (presented_token.empty() && step == domain::flow_step::performances) {
        // A fan's first call, the most frequent write of an on-sale. The user's latest token
        // matters only if it is of a later step (going back drops it), so it is read beside
        // the script instead of before it: one round trip less.
        // Both run to their end (no cancellation halfway); a failure of the script wins.
        const auto executor = co_await asio::this_coro::executor;
        const std::string performances(queue_keys::tag_of_gate(domain::gate_name(step, "")));
        auto [order, read_failure, latest, call_failure, out] =
            co_await asio::experimental::make_parallel_group(
                asio::co_spawn(executor, latest_token(user), asio::deferred),
                asio::co_spawn(
                    executor,
                    call_in_tag(performances, user, step, schedule, none, endpoint, false, std::nullopt),
                    asio::deferred
                )
            )
                .async_wait(asio::experimental::wait_for_all(), use_awaitable);
        if (call_failure) {
            std::rethrow_exception(call_failure);
        }
        if (read_failure) {
            std::rethrow_exception(read_failure);
        }
        const auto latest_tag = latest.empty() ? std::nullopt : queue_keys::tag_of_token(latest.str());
        if (out.token && latest_tag && *latest_tag != performances) {
            co_await leave(user, latest); // ended, or another user's: nothing happens
        }
        co_return out;
    }
    // The token the call is about: the one shown, else the user's latest. (No co_await inside
    // ?: — GCC 12 miscompiles that.)
    auto held = presented_token;
    if (held.empty()) {
        held = co_await latest_token(user);
    }
    const std::string home = held.empty() ? "" : std::string(*queue_keys::tag_of_token(held.str()));
    const std::string target = step == domain::flow_step::take_performance_seat
                                   ? home
                                   : std::string(queue_keys::tag_of_gate(domain::gate_name(step, schedule.str())));
    if (target.empty()) {
        co_return queue_outcome{queue_verdict::flow_violated, std::nullopt, false};
    }
    if (home == target || held.empty()) {
        co_return co_await call_in_tag(target, user, step, schedule, presented_token, endpoint, false, terms);
    }
    if (step == domain::flow_step::performance_seats && home == queue_keys::tag_of_gate("performances")) {
        // The hand-over to a schedule's seat list: the step-1 token is consumed in its slot,
        // then the step-2 token issued in the schedule's (hand_over.lua says why this order).
        // A sold-out schedule is answered without consuming anything.
        std::vector<std::string> sold_out_command{"EXISTS", queue_keys::sold_out(schedule)};
        const auto sold_out = co_await conn_.execute(std::move(sold_out_command));
        auto handed = queue_verdict::flow_violated;
        if (sold_out.integer != 1) {
            std::vector<std::string> args{user.str(), held.str(), domain::gate_name(step, schedule.str())};
            const auto r = co_await run("hand_over.lua", queue_keys::token(held.str()), std::move(args));
            handed = read_outcome(r).verdict;
        }
        if ((handed == queue_verdict::not_found || handed == queue_verdict::not_yours) && !presented_token.empty()) {
            co_return queue_outcome{handed, std::nullopt, false};
        }
        co_return co_await call_in_tag(
            target, user, step, schedule, none, endpoint, handed == queue_verdict::ok, terms
        );
    }
    const auto other = co_await token_info(user, held);
    if (!other.token && !presented_token.empty()) { // not found, not the user's
        co_return queue_outcome{other.verdict, std::nullopt, false};
    }
    if (step == domain::flow_step::performances && other.token) {
        // Going back to step 1 gives up the later step's place.
        auto out = co_await call_in_tag(target, user, step, schedule, none, endpoint, false, std::nullopt);
        if (out.token) {
            co_await leave(user, held);
        }
        co_return out;
    }
    // A stale hint, or a token of another schedule: decided by what the user holds here.
    co_return co_await call_in_tag(target, user, step, schedule, none, endpoint, false, terms);
}

awaitable<queue_store::active_check> queue_store::check_active(
    const domain::user_id& user,
    const domain::queue_token_id& token_id,
    const std::string& gate,
    std::vector<std::vector<std::string>> also
) {
    const auto schedule = domain::schedule_of_gate(gate);
    if (!queue_keys::tag_of_token(token_id.str())) { // not a token: gate_call answers it
        active_check out;
        out.also = co_await conn_.execute_all(std::move(also));
        co_return out;
    }
    // The call is a sign of presence for an admitted fan (XX: only a token still admitted here).
    std::vector<std::vector<std::string>> batch{
        {"HMGET", queue_keys::token(token_id.str()), "user", "gate", "status", "expire"},
        {"TIME"},
        {"EXISTS", queue_keys::sold_out(domain::schedule_id(std::string(schedule)))},
        {"ZADD", gate_key(gate, "called"), "XX", std::to_string(redis_now_ms()), token_id.str()}};
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
    learn_redis_clock(now);
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

// POST /queue/queue: enter.lua in the target gate's tag, after a look at the user's latest
// token when it lives in another tag (a live one there answers "exists").
awaitable<queue_outcome> queue_store::enter(
    const domain::user_id& user,
    domain::flow_step step,
    const domain::schedule_id& schedule,
    const std::string& endpoint
) {
    const auto latest = co_await latest_token(user);
    const std::string home = latest.empty() ? "" : std::string(*queue_keys::tag_of_token(latest.str()));
    const std::string target = step == domain::flow_step::take_performance_seat
                                   ? home
                                   : std::string(queue_keys::tag_of_gate(domain::gate_name(step, schedule.str())));
    if (target.empty()) {
        co_return queue_outcome{queue_verdict::flow_violated, std::nullopt, false};
    }
    if (home != target && !latest.empty()) {
        auto other = co_await token_info(user, latest);
        if (other.token && (other.token->status == domain::token_status::waiting ||
                            other.token->status == domain::token_status::active)) {
            co_return queue_outcome{queue_verdict::exists, std::move(other.token), false};
        }
    }
    std::vector<std::string> args{
        user.str(), step_text(step), schedule.str(), queue_keys::new_token_id(target), endpoint};
    const auto r = co_await run("enter.lua", queue_keys::user_in_tag(target, user), std::move(args));
    co_return co_await settle(user, r);
}

// Reading a token changes nothing, so it is plain commands rather than a script (a poll is
// the most frequent call of a sale, and a script costs Redis several times more): the token's
// fields with Redis's clock and, for a fan still waiting, its place in line and the gate's
// rates. A token's gate never changes, so once this event loop has seen it, all of that goes
// in one batch; the first time, the place is read in a second one. A token admitted between
// the reads is read again.
awaitable<queue_outcome> queue_store::token_info(const domain::user_id& user, const domain::queue_token_id& token_id) {
    if (!queue_keys::tag_of_token(token_id.str())) {
        co_return queue_outcome{queue_verdict::not_found, std::nullopt, false};
    }
    for (int attempt = 0;; ++attempt) {
        const auto* remembered = gate_of_token_.find(token_id.str());
        const std::string known_gate = remembered != nullptr ? *remembered : "";
        std::vector<std::vector<std::string>> batch{read_token(token_id), {"TIME"}};
        if (!known_gate.empty()) {
            auto place = place_in_line(known_gate, token_id, redis_now_ms());
            batch.insert(batch.end(), place.begin(), place.end());
        }
        auto answers = co_await conn_.execute_all(std::move(batch));
        const auto& fields = answers[0].elements;
        const auto& clock = answers[1].elements;
        if (fields.size() != 9 || clock.size() != 2) {
            throw error("unexpected answer reading a queue token");
        }
        if (token_id.empty() || fields[0].is_nil() || fields[3].text == "HANDED") { // HANDED: consumed
            co_return queue_outcome{queue_verdict::not_found, std::nullopt, false};
        }
        if (!user.empty() && fields[0].text != user.str()) { // "": the stream, which knows the token by id alone
            co_return queue_outcome{queue_verdict::not_yours, std::nullopt, false};
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
        if (fields[3].text == "PRE_QUEUE") {
            t.opens_at = number(fields[8].text);
        }
        const auto now = number(clock[0].text).value_or(0) * 1000 + number(clock[1].text).value_or(0) / 1000;
        learn_redis_clock(now);
        const auto stored = domain::parse_token_status(fields[3].text).value_or(domain::token_status::expired);
        t.status = domain::status_at(stored, t.expire_timestamp, now);
        if (known_gate.empty()) {
            gate_of_token_.insert(token_id.str(), t.gate);
        }
        if (t.status == domain::token_status::expired) {
            co_return queue_outcome{queue_verdict::expired, std::move(t), false};
        }
        if (t.status == domain::token_status::active) {
            t.rank = 0;
        }
        if (t.status == domain::token_status::waiting || t.status == domain::token_status::pre_queue) {
            std::vector<reply> second;
            const reply* place = answers.data() + 2; // place_in_line's answers
            if (known_gate != t.gate) {
                auto read_place = place_in_line(t.gate, token_id, redis_now_ms());
                second = co_await conn_.execute_all(std::move(read_place));
                place = second.data();
            }
            if (t.status == domain::token_status::pre_queue) {
                if (place[0].is_nil()) {
                    co_return queue_outcome{queue_verdict::ok, std::move(t), false}; // not drawn yet
                }
                t.status = domain::token_status::waiting; // drawn: waiting at the number drawn
                t.opens_at.reset();
            }
            if (place[0].is_nil() && attempt < 2) {
                continue; // admitted (or sold out) in between
            }
            if (!place[0].is_nil()) {
                t.rank = place[0].integer + 1;
                t.arrival = number(place[1].text).value_or(t.arrival);
            }
            t.admission_rate = real(place[2].text);
            if (const auto configured = number(place[3].text)) {
                t.gate_rate = static_cast<double>(*configured);
            }
        }
        co_return queue_outcome{queue_verdict::ok, std::move(t), false};
    }
}

awaitable<queue_verdict> queue_store::leave(const domain::user_id& user, const domain::queue_token_id& token_id) {
    auto id = token_id;
    if (id.empty()) {
        id = co_await latest_token(user);
    }
    if (id.empty()) {
        co_return queue_verdict::ok; // holds none
    }
    if (!queue_keys::tag_of_token(id.str())) {
        co_return queue_verdict::not_found;
    }
    std::vector<std::string> args{user.str(), id.str()};
    const auto r = co_await run("leave.lua", queue_keys::token(id.str()), std::move(args));
    const auto verdict = read_outcome(r).verdict;
    // Whatever the user holds: a latest token that has ended means nothing is held.
    co_return token_id.empty() && verdict == queue_verdict::not_found ? queue_verdict::ok : verdict;
}

awaitable<std::vector<std::string>> queue_store::gates_in_use() {
    std::vector<std::string> command{"SMEMBERS", std::string(queue_keys::gates_in_use)};
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
        std::to_string(options_.tick_spacing.count()),
        std::to_string(options_.idle_waiting.count()),
        std::to_string(options_.idle_active.count())};
    const auto r = co_await run("tick.lua", queue_keys::gate(gate, "state"), std::move(args));
    if (r.elements.size() != 3 && r.elements.size() != 4) {
        throw error("unexpected answer from the tick script");
    }
    const tick_result ticked{
        .admitted = r.elements[0].integer,
        .waiting = r.elements[1].integer,
        .active = r.elements[2].integer,
        .draw_due = r.elements.size() == 4 && r.elements[3].text == "draw"};
    if (ticked.admitted > 0) {
        co_await await_replicas(queue_keys::gate(gate, "state"));
    }
    if (ticked.waiting == 0 && ticked.active == 0) {
        co_await forget_gate_if_empty(gate);
    }
    co_return ticked;
}

// The gate is taken off the gates to tick, then looked at again: a fan who joined it before
// that second look is seen there (and the gate listed again); one who joins after it lists the
// gate himself after joining (settle), which is after it was taken off.
awaitable<void> queue_store::forget_gate_if_empty(const std::string& gate) {
    std::vector<std::string> forget{"SREM", std::string(queue_keys::gates_in_use), gate};
    co_await conn_.execute(std::move(forget));
    std::vector<std::vector<std::string>> look{
        {"ZCARD", queue_keys::gate(gate, "waiting")},
        {"ZCARD", queue_keys::gate(gate, "active")},
        {"ZCARD", queue_keys::gate(gate, "prequeue")}};
    const auto sizes = co_await conn_.execute_all(std::move(look));
    if (sizes.size() == 3 && sizes[0].integer + sizes[1].integer + sizes[2].integer > 0) {
        std::vector<std::string> again{"SADD", std::string(queue_keys::gates_in_use), gate};
        co_await conn_.execute(std::move(again));
    }
}

awaitable<gate_snapshot> queue_store::gate(const std::string& gate) {
    gate_snapshot out{
        .gate = gate,
        .settings = options_.defaults,
        .active = 0,
        .waiting = 0,
        .admitted_total = 0,
        .measured_rate = 0,
        .admissions_per_second = 0};
    std::vector<std::string> settings_command{"HMGET", gate_key(gate, "settings"), "capacity", "rate"};
    std::vector<std::string> state_command{"HMGET", gate_key(gate, "state"), "admitted", "rate"};
    std::vector<std::string> active_command{"ZCARD", gate_key(gate, "active")};
    std::vector<std::string> waiting_command{"ZCARD", gate_key(gate, "waiting")};
    std::vector<std::string> ring_command{"HGETALL", gate_key(gate, "admissions")};
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
    const auto ring = co_await conn_.execute(std::move(ring_command));
    const auto now_second =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    out.admissions_per_second = admissions_per_second(ring, now_second);
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

awaitable<std::optional<pre_queue_snapshot>> queue_store::pre_queue_of(const std::string& gate) {
    std::vector<std::vector<std::string>> head{
        {"HMGET", gate_key(gate, "draw"), "seed", "drawn_at"}, {"ZCARD", gate_key(gate, "prequeue")}};
    const auto answers = co_await conn_.execute_all(std::move(head));
    const auto& draw = answers[0].elements;
    if (draw.size() != 2 || draw[0].is_nil() || !draw[1].is_nil()) {
        co_return std::nullopt;
    }
    pre_queue_snapshot out;
    out.seed = draw[0].text;
    // In slices, each reply well under the reader's bound on an array (reply_reader.hpp); the
    // pre-queue is frozen from the start on, so the slices add up to one consistent read.
    constexpr std::int64_t slice = 100'000;
    const auto size = answers[1].integer;
    std::vector<std::vector<std::string>> reads;
    for (std::int64_t start = 0; start < size; start += slice) {
        reads.push_back(
            {"ZRANGE",
             gate_key(gate, "prequeue"),
             std::to_string(start),
             std::to_string(std::min(size, start + slice) - 1)}
        );
    }
    out.token_ids.reserve(static_cast<std::size_t>(size));
    if (reads.empty()) {
        co_return out; // everyone left before the start: an empty draw, published as such
    }
    for (auto& members : co_await conn_.execute_all(std::move(reads))) {
        for (auto& member : members.elements) {
            out.token_ids.push_back(std::move(member.text));
        }
    }
    co_return out;
}

awaitable<bool> queue_store::publish_draw(const std::string& gate, std::vector<drawn_place> places) {
    // Written aside with plain commands (Redis's fastest path: no script handles the places),
    // under an id of this draw's own, then swapped in by draw.lua. The parts expire, so a
    // draw whose instance dies halfway leaves nothing behind.
    const auto written = queue_keys::random_uuid();
    const auto line = gate_key(gate, ("drawn:" + written).c_str());
    const auto list = gate_key(gate, ("entrants:" + written).c_str());
    constexpr std::size_t per_command = 2000; // places per ZADD or RPUSH
    constexpr std::size_t per_batch = 50'000; // places per message: a few megabytes
    for (std::size_t first = 0; first < places.size(); first += per_batch) {
        std::vector<std::vector<std::string>> batch;
        const auto end = std::min(places.size(), first + per_batch);
        for (auto from = first; from < end; from += per_command) {
            const auto to = std::min(end, from + per_command);
            std::vector<std::string> zadd{"ZADD", line};
            std::vector<std::string> rpush{"RPUSH", list};
            zadd.reserve(2 + 2 * (to - from));
            rpush.reserve(2 + to - from);
            for (auto k = from; k < to; ++k) {
                zadd.push_back(std::to_string(k + 1)); // the k-th place (from 0) is arrival number k + 1
                zadd.push_back(std::move(places[k].token_id));
                rpush.push_back(std::move(places[k].entrant));
            }
            batch.push_back(std::move(zadd));
            batch.push_back(std::move(rpush));
        }
        batch.push_back({"EXPIRE", line, "60"});
        batch.push_back({"EXPIRE", list, "60"});
        for (const auto& answer : co_await conn_.execute_all(std::move(batch))) {
            if (answer.is_error()) {
                throw error("Redis refused a part of the draw: " + answer.text);
            }
        }
    }
    std::vector<std::string> args{gate, written, std::to_string(places.size())};
    const auto r = co_await run("draw.lua", gate_key(gate, "draw"), std::move(args));
    if (r.elements.empty()) {
        throw error("unexpected answer from the draw script");
    }
    const auto& verdict = r.elements[0].text;
    if (verdict == "incomplete") {
        throw error("the draw of gate " + gate + " was not written whole");
    }
    if (verdict == "ok") {
        co_await await_replicas(gate_key(gate, "draw"));
    }
    co_return verdict == "ok";
}

awaitable<void> queue_store::show_drawn_presence(const std::string& gate, const std::vector<std::string>& token_ids) {
    constexpr std::size_t ids_per_run = 5000; // a few milliseconds of Redis each
    constexpr std::size_t runs_per_batch = 5; // a message of a couple of megabytes
    for (std::size_t first = 0; first < token_ids.size();) {
        std::vector<script_input> runs;
        for (; first < token_ids.size() && runs.size() < runs_per_batch; first += ids_per_run) {
            const auto last = std::min(token_ids.size(), first + ids_per_run);
            std::vector<std::string> args{gate};
            args.reserve(2 + last - first);
            args.insert(
                args.end(),
                token_ids.begin() + static_cast<std::ptrdiff_t>(first),
                token_ids.begin() + static_cast<std::ptrdiff_t>(last)
            );
            args.push_back(std::to_string(options_.record_retention.count()));
            runs.push_back(script_input{.keys = {gate_key(gate, "draw")}, .args = std::move(args)});
        }
        co_await run_script_all(conn_, named("drawn_presence.lua"), std::move(runs));
    }
}

awaitable<std::optional<published_draw>> queue_store::draw_of(const std::string& gate) {
    std::vector<std::string> read{"HMGET", gate_key(gate, "draw"), "opens_at", "commitment", "drawn_at", "seed"};
    const auto fields = co_await conn_.execute(std::move(read));
    const auto& draw = fields.elements;
    if (draw.size() != 4 || draw[0].is_nil() || draw[1].is_nil()) {
        co_return std::nullopt;
    }
    published_draw out;
    out.opens_at = number(draw[0].text).value_or(0);
    out.commitment = draw[1].text;
    out.drawn_at = number(draw[2].text);
    if (out.drawn_at) { // the seed and the order only once drawn: never before
        out.seed = draw[3].text;
        // In slices, as the pre-queue is read (pre_queue_of).
        constexpr std::int64_t slice = 100'000;
        for (std::int64_t start = 0;; start += slice) {
            std::vector<std::string> read_entrants{
                "LRANGE", gate_key(gate, "entrants"), std::to_string(start), std::to_string(start + slice - 1)};
            const auto entrants = co_await conn_.execute(std::move(read_entrants));
            for (const auto& e : entrants.elements) {
                out.entrants.push_back(e.text);
            }
            if (static_cast<std::int64_t>(entrants.elements.size()) < slice) {
                break;
            }
        }
    }
    co_return out;
}

std::int64_t queue_store::redis_now_ms() const {
    const auto system_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    return system_ms + clock_offset_ms_;
}

void queue_store::learn_redis_clock(std::int64_t redis_ms) {
    if (redis_ms > 0) {
        clock_offset_ms_ = redis_ms - redis_now_ms() + clock_offset_ms_;
    }
}

std::chrono::milliseconds queue_store::presence_interval() const {
    return std::min(std::chrono::milliseconds(15'000), options_.idle_waiting / 3);
}

awaitable<void> queue_store::note_presence(const std::string& gate, const domain::queue_token_id& token_id) {
    std::vector<std::string> command{
        "ZADD", gate_key(gate, "seen"), "XX", std::to_string(redis_now_ms()), token_id.str()};
    co_await conn_.execute(std::move(command));
}

awaitable<std::int64_t> queue_store::now_serving(const std::string& gate) {
    std::vector<std::string> serving_command{"HGET", gate_key(gate, "state"), "serving"};
    const auto schedule = domain::schedule_of_gate(gate);
    std::vector<std::string> sold_out_command{
        "EXISTS", queue_keys::sold_out(domain::schedule_id(std::string(schedule)))};
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
    std::vector<std::string> command{"SET", queue_keys::sold_out(schedule_id), "1"};
    co_await conn_.execute(std::move(command));
}

} // namespace tp::redis
