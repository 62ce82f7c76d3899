// Points: balance, charge, history and paying for a held seat. Charge and pay accept an
// Idempotency-Key: a retry with the same key and body replays the first answer.

#include "api/handlers.hpp"
#include "api/json_io.hpp"
#include "api/queue_gate.hpp"
#include "api/request_readers.hpp"
#include "domain/identifiers.hpp"
#include "domain/timestamp.hpp"
#include "http/error_reply.hpp"

namespace tp::api::handlers {
namespace {

// The claim for this call, if the client sent an Idempotency-Key. The request is
// identified by its meaning (canonical form), not its bytes, so reformatted JSON matches.
domain::result<std::optional<pg::idempotency_claim>>
idempotency_claim_of(const request_context& ctx, std::string_view route, std::string canonical_request) {
    auto key = idempotency_key_of(ctx.req);
    if (!key) {
        return key.error();
    }
    if (!*key) {
        return std::optional<pg::idempotency_claim>{};
    }
    return std::optional(pg::idempotency_claim{
        .key = std::move(**key), .route = std::string(route), .canonical_request = std::move(canonical_request)});
}

http::response from_stored(const pg::stored_answer& answer) {
    auto res = http::json_response(static_cast<http::status>(answer.status), answer.body);
    return res;
}

} // namespace

reply balance(request_context& ctx) {
    const auto amount = co_await ctx.svc.wallet.balance(ctx.user_id);
    co_return json_answer(http::status::ok, json::object{{"balance", amount}});
}

reply charge(request_context& ctx) {
    auto body = parse_json_object(ctx.req);
    if (!body) {
        co_return http::error_response(body.error());
    }
    const auto requested = read_charge(*body);
    if (!requested) {
        co_return http::error_response(requested.error());
    }
    const auto amount = domain::validate_charge_amount(*requested);
    if (!amount) {
        co_return http::error_response(amount.error());
    }
    const auto claim = idempotency_claim_of(ctx, "POST /payment/cash", std::to_string(*amount));
    if (!claim) {
        co_return http::error_response(claim.error());
    }
    const auto render = [](domain::krw balance) {
        return pg::stored_answer{
            .status = 201, .body = json::serialize(json::object{{"result", "success"}, {"balance", balance}})};
    };
    const auto answer = co_await ctx.svc.wallet.charge(ctx.user_id, *amount, *claim, render);
    if (!answer) {
        co_return http::error_response(answer.error());
    }
    co_return from_stored(*answer);
}

reply history(request_context& ctx) {
    const auto rows = co_await ctx.svc.wallet.history(ctx.user_id);
    json::array out;
    out.reserve(rows.size());
    for (const auto& r : rows) {
        out.push_back(json::object{
            {"date_created", domain::format_iso8601(r.date_created)},
            {"amount", r.amount},
            {"cause", to_string(r.cause)},
            {"performance_seat_id", r.performance_seat_id ? json::value(*r.performance_seat_id) : nullptr}});
    }
    co_return json_answer(http::status::ok, out);
}

reply pay_seat(request_context& ctx) {
    auto body = parse_json_object(ctx.req);
    if (!body) {
        co_return http::error_response(body.error());
    }
    const auto seat_id = read_payment(*body);
    if (!seat_id) {
        co_return http::error_response(seat_id.error());
    }
    const auto claim = idempotency_claim_of(ctx, "POST /payment/payment_performance_seat", seat_id->str());
    if (!claim) {
        co_return http::error_response(claim.error());
    }
    std::optional<pg::payment> made;
    const auto render = [&made](const pg::payment& paid) {
        made = paid;
        return pg::stored_answer{
            .status = 201,
            .body = json::serialize(json::object{
                {"result", "success"}, {"performance_seat_id", paid.performance_seat_id}})};
    };
    const auto answer = co_await ctx.svc.wallet.pay(ctx.user_id, *seat_id, *claim, render);
    if (!answer) {
        co_return http::error_response(answer.error());
    }
    if (made) {
        const domain::seat_state_change paid{
            .position = made->position,
            .state = {
                .status = domain::seat_status::reserved,
                .hold_expires = std::nullopt,
                .change_count = made->change_count,
                .holder = domain::parse_uuid(ctx.user_id.str()).value_or(ctx.user_id.str())}};
        co_await announce_seat_change(ctx, made->schedule_id, std::span(&paid, 1));
        ctx.svc.stats.seats_sold.fetch_add(1, std::memory_order_relaxed);
        // Paying ends the booking: any queue token the fan still holds expires, and the last
        // seat of a schedule tells its waiting line at once (docs/waiting-queue.md, Sold out).
        const domain::queue_token_id whichever_they_hold;
        co_await give_up_queue_token(ctx, whichever_they_hold);
        // Payments of the last seats at the same moment each saw the others' seats unsold:
        // with few left, the committed state decides (the sweeper catches what remains).
        bool sold_out = made->unsold_seen == 0;
        if (!sold_out && made->unsold_seen < pg::few_unsold_seats) {
            sold_out = co_await ctx.svc.wallet.schedule_sold_out(made->schedule_id);
        }
        if (sold_out) {
            co_await announce_sold_out(ctx, made->schedule_id);
        }
    }
    co_return from_stored(*answer);
}

} // namespace tp::api::handlers
