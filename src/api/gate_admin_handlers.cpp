// Admin: the gates of the waiting queue, read and tuned while the sale runs.

#include "api/handlers.hpp"
#include "api/json_io.hpp"
#include "api/request_readers.hpp"
#include "domain/queue.hpp"
#include "http/error_reply.hpp"

namespace tp::api::handlers {
namespace {

using domain::errc;
using domain::make_error;

json::object gate_json(const redis::gate_snapshot& g) {
    return json::object{
        {"gate", g.gate},
        {"capacity", g.settings.capacity},
        {"rate", g.settings.rate},
        {"active", g.active},
        {"waiting", g.waiting},
        {"admitted_total", g.admitted_total},
        {"measured_rate", g.measured_rate},
        {"admissions_per_second", g.admissions_per_second},
    };
}

std::optional<domain::error> check_gate_name(const std::string& gate) {
    if (!domain::is_gate_name(gate)) {
        return make_error(
            errc::bad_request,
            "gate must be performances, performance_seats:{schedule id} or take_performance_seat:{schedule id}."
        );
    }
    return std::nullopt;
}

} // namespace

reply list_gates(request_context& ctx) {
    json::array out;
    const auto names = co_await ctx.svc.queue.gates_in_use();
    for (const auto& name : names) {
        out.push_back(gate_json(co_await ctx.svc.queue.gate(name)));
    }
    co_return json_answer(http::status::ok, out);
}

reply read_gate(request_context& ctx) {
    const auto& name = ctx.params.at("gate");
    if (auto bad = check_gate_name(name)) {
        co_return http::error_response(*bad);
    }
    co_return json_answer(http::status::ok, gate_json(co_await ctx.svc.queue.gate(name)));
}

// {capacity, rate}: either may be left out to keep its value; 0 pauses admission.
reply configure_gate(request_context& ctx) {
    const auto& name = ctx.params.at("gate");
    if (auto bad = check_gate_name(name)) {
        co_return http::error_response(*bad);
    }
    auto body = parse_json_object(ctx.req);
    if (!body) {
        co_return http::error_response(body.error());
    }
    const auto change = read_gate_change(*body);
    if (!change) {
        co_return http::error_response(change.error());
    }
    co_await ctx.svc.queue.configure_gate(name, change->capacity, change->rate);
    co_return json_answer(http::status::ok, gate_json(co_await ctx.svc.queue.gate(name)));
}

} // namespace tp::api::handlers
