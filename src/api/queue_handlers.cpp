// POST / GET / DELETE /queue/queue: entering the line, watching one's place, leaving it.

#include "api/handlers.hpp"
#include "api/json_io.hpp"
#include "api/queue_gate.hpp"
#include "api/queue_json.hpp"
#include "api/queue_refusal.hpp"
#include "api/request_readers.hpp"
#include "http/error_reply.hpp"

namespace tp::api::handlers {
namespace {

using domain::errc;
using domain::make_error;

http::response refusal(redis::queue_verdict verdict) {
    return http::error_response(
        queue_refusal(verdict, "Enter the line at /reservation/performances; later steps follow from it.")
    );
}

double configured_rate(const request_context& ctx) {
    return static_cast<double>(ctx.svc.queue.defaults().rate);
}

} // namespace

reply enter_queue(request_context& ctx) {
    auto body = parse_json_object(ctx.req);
    if (!body) {
        co_return http::error_response(body.error());
    }
    const auto entry = read_queue_entry(*body);
    if (!entry) {
        co_return http::error_response(entry.error());
    }
    const auto& [endpoint, requested] = *entry;
    const auto entered = co_await ctx.svc.queue.enter(ctx.user_id, requested.step, requested.schedule_id, endpoint);
    if (entered.verdict != redis::queue_verdict::created && entered.verdict != redis::queue_verdict::existing) {
        co_return refusal(entered.verdict);
    }
    co_return json_answer(http::status::created, token_info_json(*entered.token, configured_rate(ctx)));
}

reply queue_status(request_context& ctx) {
    const auto token = presented_queue_token(ctx.req);
    if (token.empty()) {
        co_return http::error_response(make_error(errc::queue_token_missing));
    }
    const auto found = co_await ctx.svc.queue.token_info(ctx.user_id, token);
    if (found.verdict != redis::queue_verdict::ok) {
        co_return refusal(found.verdict);
    }
    co_return json_answer(http::status::ok, token_info_json(*found.token, configured_rate(ctx)));
}

reply leave_queue(request_context& ctx) {
    const auto token = presented_queue_token(ctx.req);
    if (token.empty()) {
        co_return http::error_response(make_error(errc::queue_token_missing));
    }
    const auto verdict = co_await ctx.svc.queue.leave(ctx.user_id, token);
    if (verdict != redis::queue_verdict::ok) {
        co_return refusal(verdict);
    }
    co_return json_answer(http::status::ok, json::object{{"result", "success"}});
}

} // namespace tp::api::handlers
