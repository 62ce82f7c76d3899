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

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/url/parse.hpp>

#include <limits>

namespace tp::api::handlers {
namespace {

using domain::errc;
using domain::make_error;
using domain::token_status;

constexpr auto heartbeat_interval = std::chrono::seconds(15);
constexpr auto check_stopping_every = std::chrono::milliseconds(1000);

std::string frame(std::string_view event, const domain::queue_token& t, double configured_rate) {
    return "event: " + std::string(event) + "\ndata: " + json::serialize(token_info_json(t, configured_rate)) + "\n\n";
}

domain::queue_token_id token_from(const http::request& req) {
    auto token = presented_queue_token(req);
    if (token.empty()) {
        const auto url = boost::urls::parse_origin_form(req.target());
        if (url) {
            const auto it = url->params().find("token");
            if (it != url->params().end()) {
                token = domain::queue_token_id((*it).value);
            }
        }
    }
    return token;
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

awaitable<void> queue_events(http::event_stream& out, services& svc, domain::queue_token token) {
    const auto rate = static_cast<double>(svc.queue.defaults().rate);
    const domain::user_id whoever_holds_it; // the stream knows the token by its id alone
    if (!co_await out.write(frame("rank", token, rate))) {
        co_return;
    }
    if (const auto last = final_event(token)) {
        co_await out.write(frame(*last, token, rate));
        co_return;
    }
    auto sent_rank = token.rank;
    std::int64_t serving = -1;
    auto quiet_since = std::chrono::steady_clock::now();
    asio::steady_timer rest(co_await asio::this_coro::executor);
    while (!out.stopping()) {
        std::optional<redis::queue_outcome> fresh;
        try {
            const auto now_serving = co_await svc.watch.wait_change(token.gate, serving, check_stopping_every);
            if (now_serving == std::numeric_limits<std::int64_t>::max()) {
                token.status = token_status::sold_out; // the schedule sold out: no need to ask
                token.rank.reset();
                co_await out.write(frame("sold_out", token, rate));
                co_return;
            }
            if (now_serving != serving) {
                serving = now_serving;
                if (serving >= token.arrival) {
                    // Our number came up (or the line changed under us): ask for the truth.
                    fresh = co_await svc.queue.token_info(whoever_holds_it, token.id);
                } else {
                    token.rank = token.arrival - serving;
                }
            }
        } catch (const std::exception&) {
            co_return; // Redis is away: close; the client reconnects or polls
        }
        if (fresh) {
            if (fresh->verdict != redis::queue_verdict::ok) {
                co_return; // gone or expired: nothing more to tell
            }
            token = *fresh->token;
            if (const auto last = final_event(token)) {
                co_await out.write(frame(*last, token, rate));
                co_return;
            }
        }
        const auto now = std::chrono::steady_clock::now();
        if (token.rank != sent_rank) {
            sent_rank = token.rank;
            quiet_since = now;
            if (!co_await out.write(frame("rank", token, rate))) {
                co_return;
            }
            // While a gate admits, ranks move on every tick: the rest spaces the events by
            // the distance from the front (domain::stream_rest_after_rank).
            rest.expires_after(domain::stream_rest_after_rank(estimated_wait_of(token, rate)));
            co_await rest.async_wait(asio::as_tuple(use_awaitable));
        } else if (now - quiet_since >= heartbeat_interval) {
            quiet_since = now;
            if (!co_await out.write(": heartbeat\n\n")) {
                co_return;
            }
        }
    }
}

} // namespace

reply queue_stream(request_context& ctx) {
    const auto token_id = token_from(ctx.req);
    if (token_id.empty()) {
        co_return http::error_response(make_error(errc::queue_token_missing));
    }
    if (token_id.str().size() > 64) {
        co_return http::error_response(make_error(errc::queue_token_not_found));
    }
    const domain::user_id whoever_holds_it; // the stream knows the token by its id alone
    const auto found = co_await ctx.svc.queue.token_info(whoever_holds_it, token_id);
    if (found.verdict != redis::queue_verdict::ok) {
        co_return http::error_response(queue_refusal(found.verdict, ""));
    }
    ctx.stream = [&svc = ctx.svc, token = *found.token](http::event_stream& out) {
        return queue_events(out, svc, token);
    };
    http::response head{http::status::ok, 11};
    head.set(http::beast_http::field::content_type, "text/event-stream");
    head.set(http::beast_http::field::cache_control, "no-cache");
    co_return head;
}

} // namespace tp::api::handlers
