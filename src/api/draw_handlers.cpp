// GET /queue/draws/{gate}: the audit of a gate's pre-queue draw (docs/waiting-queue.md, "The
// fair start"). Before the draw it shows only the commitment (SHA-256 of the seed); the seed
// and the entrants (SHA-256 of each pre-queued token id, in drawn order) only after, so that
// the order cannot be known, nor the seed chosen, once the entrants are in.

#include "api/handlers.hpp"
#include "api/json_io.hpp"
#include "domain/queue.hpp"
#include "domain/timestamp.hpp"
#include "http/error_reply.hpp"

namespace tp::api::handlers {

reply read_draw(request_context& ctx) {
    const auto& gate = ctx.params.at("gate");
    if (!domain::is_gate_name(gate)) {
        co_return http::error_response(domain::make_error(
            domain::errc::bad_request,
            "gate must be performances, performance_seats:{schedule id} or take_performance_seat:{schedule id}."
        ));
    }
    const auto draw = co_await ctx.svc.queue.draw_of(gate);
    if (!draw) {
        co_return http::error_response(domain::make_error(domain::errc::draw_not_found));
    }
    json::object out{
        {"gate", gate},
        {"opens_at", domain::format_iso8601(draw->opens_at)},
        {"commitment", draw->commitment},
    };
    if (draw->drawn_at) {
        out["drawn_at"] = domain::format_iso8601(*draw->drawn_at);
        out["seed"] = draw->seed;
        json::array entrants;
        entrants.reserve(draw->entrants.size());
        for (const auto& e : draw->entrants) {
            entrants.emplace_back(e);
        }
        out["entrants"] = std::move(entrants);
    }
    co_return json_answer(http::status::ok, out);
}

} // namespace tp::api::handlers
