#include "api/queue_gate.hpp"

#include "api/queue_json.hpp"
#include "api/queue_refusal.hpp"
#include "domain/identifiers.hpp"
#include "http/error_reply.hpp"
#include "security/fair_draw.hpp"
#include "storage/redis/queue_keys.hpp"
#include "storage/redis/reply.hpp"
#include "support/log_throttle.hpp"

#include <spdlog/spdlog.h>

namespace tp::api {

using domain::errc;
using domain::make_error;

namespace {

void log_queue_unavailable(const request_context& ctx, const redis::error& e) {
    static log_throttle throttle;
    log_throttled(
        throttle,
        spdlog::level::warn,
        "msg=\"queue unavailable\" request_id={} error=\"{}\" suppressed={}",
        ctx.request_id,
        e.what()
    );
}

// A seat list's gate takes fans into its pre-queue until the ticketing start, as judged by
// Redis's clock in the script; the terms go along while this instance's clock says the start
// may not have come on Redis's (an hour's margin for any skew), and not for a sale long open.
// A fresh seed each time: only the first entry's is kept (docs/waiting-queue.md, "The fair start").
std::optional<redis::pre_queue_terms> pre_queue_terms_for(domain::epoch_ms opening, domain::epoch_ms now) {
    constexpr domain::epoch_ms skew_margin_ms = 3'600'000;
    if (opening <= now - skew_margin_ms) {
        return std::nullopt;
    }
    const auto seed = security::new_draw_seed();
    return redis::pre_queue_terms{.opens_at = opening, .seed = seed.hex(), .commitment = seed.commitment()};
}

} // namespace

awaitable<std::optional<http::response>> pass_gate(request_context& ctx, domain::flow_step step) {
    domain::schedule_id schedule; // empty but for the seat list
    std::optional<redis::pre_queue_terms> terms;
    if (step == domain::flow_step::performance_seats) {
        auto id = domain::parse_id<domain::schedule_id>(ctx.params.at("performance_staging_date_id"));
        if (!id) {
            co_return http::error_response(make_error(errc::bad_request, "performance_staging_date_id must be a UUID.")
            );
        }
        schedule = std::move(*id);
        // Before queueing anyone for it (and consuming their step-1 token), the schedule
        // must exist. Schedules are never deleted, so each thread remembers the known ones.
        const auto opening = co_await ctx.svc.catalog.schedule_opening(schedule);
        if (!opening) {
            co_return http::error_response(make_error(errc::schedule_not_found));
        }
        terms = pre_queue_terms_for(*opening, ctx.svc.now_ms());
    }
    const auto presented = presented_queue_token(ctx.req);
    if (presented.str().size() > redis::queue_keys::max_token_id_size) {
        co_return http::error_response(make_error(errc::queue_token_not_found));
    }
    // An admitted fan's call, the most frequent by far, is checked with plain reads; the seat
    // list's version travels in the same batch. Everything else is decided by the script.
    if (!presented.empty() && step != domain::flow_step::take_performance_seat) {
        const bool seat_list = step == domain::flow_step::performance_seats;
        const auto since = seat_list ? ctx.svc.seat_maps.version_of(schedule) : std::string{};
        auto also = seat_list ? redis::seat_map_versions::read_commands(schedule, since)
                              : std::vector<std::vector<std::string>>{};
        std::optional<redis::queue_store::active_check> checked;
        try {
            checked = co_await ctx.svc.queue.check_active(
                ctx.user_id, presented, domain::gate_name(step, schedule.str()), std::move(also)
            );
        } catch (const redis::error& e) {
            log_queue_unavailable(ctx, e);
            co_return http::error_response(http::failure::queue_unavailable);
        }
        if (checked->token) {
            ctx.admission = std::move(checked->token);
            if (seat_list) {
                ctx.seat_list_version = ctx.svc.seat_versions.read_from(checked->also, since);
            }
            co_return std::nullopt;
        }
    }
    const std::string endpoint(ctx.req.target().substr(0, ctx.req.target().find('?')));
    const auto configured_rate = static_cast<double>(ctx.svc.queue.defaults().rate);
    redis::queue_outcome decided;
    try {
        decided = co_await ctx.svc.queue.gate_call(ctx.user_id, step, schedule, presented, endpoint, terms);
    } catch (const redis::error& e) {
        log_queue_unavailable(ctx, e);
        co_return http::error_response(http::failure::queue_unavailable);
    }
    if (decided.verdict == redis::queue_verdict::serve) {
        ctx.admission = std::move(decided.token);
        co_return std::nullopt;
    }
    if (decided.verdict == redis::queue_verdict::wait) {
        co_return waiting_answer(*decided.token, configured_rate);
    }
    co_return http::error_response(queue_refusal(
        decided.verdict,
        step == domain::flow_step::performances
            ? "The booking steps must be taken in order."
            : "This step needs an active queue token of the previous step (Queue-Token: Bearer <id>)."
    ));
}

} // namespace tp::api

namespace tp::api {

awaitable<void> give_up_queue_token(request_context& ctx, const domain::queue_token_id& token_id) {
    try {
        co_await ctx.svc.queue.leave(ctx.user_id, token_id);
    } catch (const redis::error& e) {
        static log_throttle throttle;
        log_throttled(
            throttle,
            spdlog::level::warn,
            "msg=\"could not release a queue token\" request_id={} error=\"{}\" suppressed={}",
            ctx.request_id,
            e.what()
        );
    }
}

awaitable<void> announce_sold_out(request_context& ctx, const domain::schedule_id& schedule_id) {
    try {
        co_await ctx.svc.queue.mark_sold_out(schedule_id);
        spdlog::info("msg=\"schedule sold out\" schedule={}", schedule_id.str());
    } catch (const redis::error& e) {
        static log_throttle throttle;
        log_throttled(
            throttle,
            spdlog::level::warn,
            "msg=\"could not mark a schedule sold out\" request_id={} error=\"{}\" suppressed={}",
            ctx.request_id,
            e.what()
        );
    }
}

awaitable<void> announce_seat_change(
    request_context& ctx, const domain::schedule_id& schedule_id, std::span<const domain::seat_state_change> changes
) {
    try {
        co_await ctx.svc.seat_versions.bump(schedule_id, changes);
    } catch (const redis::error& e) {
        ctx.svc.stats.seat_map_bump_failures.fetch_add(1, std::memory_order_relaxed);
        static log_throttle throttle;
        log_throttled(
            throttle,
            spdlog::level::warn,
            "msg=\"could not move a seat list version\" request_id={} schedule={} error=\"{}\" suppressed={}",
            ctx.request_id,
            schedule_id.str(),
            e.what()
        );
    }
}

} // namespace tp::api
