// GET /queue/queue/stream: Server-Sent Events telling a waiting fan their rank as it changes,
// so clients need not poll. The token comes in the Queue-Token header or, for browsers'
// EventSource (which cannot set headers), as ?token=; no access token is needed, as the id
// is unguessable and the stream reveals only rank and times.
//
// Events: `rank` (at once, then on every change), `admitted` or `sold_out` (then the stream
// closes), each with the token info as JSON data; a comment line every 15 s as heartbeat.

#include "api/handlers.hpp"
#include "api/queue_gate.hpp"
#include "api/queue_json.hpp"
#include "api/queue_refusal.hpp"
#include "http/error_reply.hpp"
#include "storage/redis/queue_keys.hpp"

#include <limits>

namespace tp::api::handlers {
namespace {

using domain::errc;
using domain::make_error;
using domain::token_status;

constexpr auto heartbeat_interval = std::chrono::seconds(15);

std::string frame(std::string_view event, const domain::queue_token& t, double configured_rate) {
    return "event: " + std::string(event) + "\ndata: " + json::serialize(token_info_json(t, configured_rate)) + "\n\n";
}

// The end of the wait, if the token has reached it.
std::optional<std::string_view> final_event(const domain::queue_token& t) {
    if (t.status == token_status::active) {
        return "admitted";
    }
    if (t.status == token_status::sold_out) {
        return "sold_out";
    }
    return std::nullopt;
}

// What a waiting fan's stream remembers between events.
struct stream_state {
    domain::queue_token token;
    double rate = 0; // the default rate, for the wait estimates
    std::optional<std::int64_t> sent_rank;
    std::int64_t serving = -1; // the gate's now-serving number last taken in
    std::chrono::steady_clock::time_point quiet_since;
    std::chrono::steady_clock::time_point present_since; // last told the queue the fan is here
};

// How a stream pauses after telling what there was to tell.
struct pause {
    bool over = false;   // no pause: the stream ends
    bool listen = false; // the gate's number moving on cuts the pause short
    std::chrono::steady_clock::time_point until;
};
constexpr pause stream_over{.over = true, .listen = false, .until = {}};

// Writes one event.
awaitable<bool> tell(http::event_stream& out, std::string_view event, const domain::queue_token& t, double rate) {
    co_return co_await out.write(frame(event, t, rate));
}

// The first event: the rank, and the end at once if the wait is already over.
awaitable<bool> open_stream(http::event_stream& out, const stream_state& s) {
    if (!co_await tell(out, "rank", s.token, s.rate)) {
        co_return false;
    }
    if (const auto last = final_event(s.token)) {
        co_await tell(out, *last, s.token, s.rate);
        co_return false;
    }
    co_return true;
}

// Our number came up (or the line changed under us): asks Redis for the truth, updates the
// token and says whether the wait goes on.
awaitable<bool> read_afresh(http::event_stream& out, services& svc, stream_state& s) {
    const domain::user_id whoever_holds_it; // the stream knows the token by its id alone
    std::optional<redis::queue_outcome> fresh;
    try {
        fresh = co_await svc.queue.token_info(whoever_holds_it, s.token.id);
    } catch (const std::exception&) {
        co_return false; // Redis is away: close; the client reconnects or polls
    }
    if (fresh->verdict != redis::queue_verdict::ok) {
        co_return false; // gone or expired: nothing more to tell
    }
    s.token = *fresh->token;
    s.token.user_id.clear(); // in no event: not kept for the whole wait
    if (const auto last = final_event(s.token)) {
        co_await tell(out, *last, s.token, s.rate);
        co_return false;
    }
    co_return true;
}

// Says that the stream is still alive when it has been quiet for the heartbeat's interval.
awaitable<bool> keep_alive(http::event_stream& out, stream_state& s, std::chrono::steady_clock::time_point now) {
    if (now - s.quiet_since < heartbeat_interval) {
        co_return true;
    }
    s.quiet_since = now;
    co_return co_await out.write(": heartbeat\n\n");
}

// A pre-queued fan has no place until the draw: the stream rests until the ticketing start,
// then asks Redis every quarter second until the draw has placed the token, and tells the rank.
awaitable<pause> await_draw(http::event_stream& out, services& svc, stream_state& s) {
    constexpr auto ask_every = std::chrono::milliseconds(250);
    const auto now = std::chrono::steady_clock::now();
    const auto until_opening = std::chrono::milliseconds(s.token.opens_at.value_or(0) - svc.now_ms());
    if (until_opening.count() > 0) {
        if (!co_await keep_alive(out, s, now)) {
            co_return stream_over;
        }
        co_return pause{.until = std::min(now + until_opening, s.quiet_since + heartbeat_interval)};
    }
    if (!co_await read_afresh(out, svc, s)) {
        co_return stream_over;
    }
    if (s.token.status == token_status::pre_queue) {
        co_return pause{.until = now + ask_every};
    }
    s.sent_rank = s.token.rank;
    s.quiet_since = now;
    if (!co_await tell(out, "rank", s.token, s.rate)) {
        co_return stream_over;
    }
    co_return pause{.listen = true, .until = now + heartbeat_interval};
}

// An open stream is a fan waiting (docs/waiting-queue.md, Abandonment): every presence
// interval the stream reads its token exactly, which the queue counts as presence (as any
// poll), so the token does not leave the line for want of polls. The exact place also
// catches up with fans who left the line ahead, which the now-serving number cannot show:
// the stream then counts from a number that many places nearer.
awaitable<void> show_presence(services& svc, stream_state& s, std::chrono::steady_clock::time_point now) {
    if (now - s.present_since < svc.queue.presence_interval()) {
        co_return;
    }
    s.present_since = now;
    const domain::user_id whoever_holds_it;
    try {
        const auto exact = co_await svc.queue.token_info(whoever_holds_it, s.token.id);
        if (exact.token && exact.token->status == token_status::waiting && exact.token->rank && s.serving >= 0) {
            s.token.arrival = std::min(s.token.arrival, s.serving + *exact.token->rank);
        }
    } catch (const std::exception&) {
        // Redis away: the next read of the token ends the stream, and the fan reconnects.
    }
}

// Takes in the gate's latest number, tells the fan what changed (or that the stream is still
// alive), and says how to pause next.
awaitable<pause> take_news(http::event_stream& out, services& svc, stream_state& s, std::int64_t now_serving) {
    if (s.token.status == token_status::pre_queue) {
        co_return co_await await_draw(out, svc, s);
    }
    if (now_serving == std::numeric_limits<std::int64_t>::max()) {
        s.token.status = token_status::sold_out; // the schedule sold out: no need to ask
        s.token.rank.reset();
        co_await tell(out, "sold_out", s.token, s.rate);
        co_return stream_over;
    }
    const auto now = std::chrono::steady_clock::now();
    const bool moved_on = now_serving != s.serving;
    s.serving = now_serving;
    const auto arrival = s.token.arrival;
    co_await show_presence(svc, s, now);
    if (moved_on || arrival != s.token.arrival) {
        if (s.serving >= s.token.arrival) {
            if (!co_await read_afresh(out, svc, s)) {
                co_return stream_over;
            }
        } else {
            s.token.rank = s.token.arrival - s.serving;
        }
    }
    if (s.token.rank != s.sent_rank) {
        s.sent_rank = s.token.rank;
        s.quiet_since = now;
        if (!co_await tell(out, "rank", s.token, s.rate)) {
            co_return stream_over;
        }
        // While a gate admits, ranks move on every tick: the rest spaces the events by the
        // distance from the front (domain::stream_rest_after_rank), and news does not cut it.
        co_return pause{
            .until = std::min(
                now + domain::stream_rest_after_rank(estimated_wait_of(s.token, s.rate)),
                s.present_since + svc.queue.presence_interval()
            )};
    }
    if (!co_await keep_alive(out, s, now)) {
        co_return stream_over;
    }
    co_return pause{
        .listen = true,
        .until = std::min(s.quiet_since + heartbeat_interval, s.present_since + svc.queue.presence_interval())};
}

// The stream of a waiting fan. While the fan waits, this frame is what the stream costs the
// instance (with the connection: docs/stream-memory.md), so it holds only the stream's state
// and its pause: the work between pauses runs in the short coroutines above, and a pause is
// the event stream's one timer, which the serving watch cancels when the gate's number moves
// on (while listening) and the server cancels when it stops.
// (The state comes as the parameter: a parameter lives in the frame for the coroutine's whole
// life, so a token passed in and then copied into a local would be there twice.)
awaitable<void> queue_events(http::event_stream& out, services& svc, stream_state s) {
    if (!co_await open_stream(out, s)) {
        co_return;
    }
    redis::serving_watch::subscription news(svc.watch, s.token.gate, out.alarm());
    pause next{.listen = true, .until = s.quiet_since + heartbeat_interval};
    if (s.token.status == token_status::pre_queue) {
        next = pause{.until = s.quiet_since}; // no place to follow yet: await_draw says how long to rest
    }
    while (!out.stopping()) {
        if (!next.listen || news.latest() == s.serving) { // (news already in: no pause)
            if (next.listen) {
                news.listen(s.serving);
            }
            co_await out.sleep_until(next.until);
            news.stop_listening();
            if (out.stopping()) {
                break;
            }
        }
        next = co_await take_news(out, svc, s, news.latest());
        if (next.over) {
            co_return;
        }
    }
}

} // namespace

reply queue_stream(request_context& ctx) {
    const auto token_id = stream_queue_token(ctx.req);
    if (token_id.empty()) {
        co_return http::error_response(make_error(errc::queue_token_missing));
    }
    if (token_id.str().size() > redis::queue_keys::max_token_id_size) {
        co_return http::error_response(make_error(errc::queue_token_not_found));
    }
    const domain::user_id whoever_holds_it; // the stream knows the token by its id alone
    const auto found = co_await ctx.svc.queue.token_info(whoever_holds_it, token_id);
    if (found.verdict != redis::queue_verdict::ok) {
        co_return http::error_response(queue_refusal(found.verdict, ""));
    }
    auto token = *found.token;
    token.user_id.clear(); // not part of any event: not kept for the whole wait
    ctx.stream = [&svc = ctx.svc, token = std::move(token)](http::event_stream& out) {
        return queue_events(
            out,
            svc,
            stream_state{
                .token = token,
                .rate = static_cast<double>(svc.queue.defaults().rate),
                .sent_rank = token.rank,
                .serving = -1,
                .quiet_since = std::chrono::steady_clock::now(),
                .present_since = std::chrono::steady_clock::now()}
        );
    };
    http::response head{http::status::ok, 11};
    head.set(http::beast_http::field::content_type, "text/event-stream");
    head.set(http::beast_http::field::cache_control, "no-cache");
    co_return head;
}

} // namespace tp::api::handlers
