// The booking steps: performances, seats of a schedule, taking seats, and the fan's own
// seats. Steps 1-3 sit behind the waiting queue's gates (see routes.cpp).

#include "api/handlers.hpp"
#include "api/json_io.hpp"
#include "api/queue_gate.hpp"
#include "api/request_readers.hpp"
#include "domain/identifiers.hpp"
#include "domain/timestamp.hpp"
#include "http/compression.hpp"
#include "http/error_reply.hpp"
#include "storage/redis/reply.hpp"

#include <unordered_map>

namespace tp::api::handlers {
namespace {

using domain::errc;
using domain::format_iso8601;

json::object stage_json(const std::string& name, const std::string& location) {
    return json::object{{"name", name}, {"location", location}};
}

json::object seat_json(const std::string& id, const std::string& number, domain::krw price, domain::seat_status s) {
    return json::object{{"id", id}, {"seat_number", number}, {"price", price}, {"reservation_status", to_string(s)}};
}

// Most takes in an on-sale are refused: another fan took the seat while this one waited at
// the take gate. When the thread's seat map of the schedule is current (its version and the
// change log read now) and proves the refusal, it is answered from there: one Redis round
// trip instead of a database transaction and the read that explains it (docs/seat-map.md).
// Anything else, Redis unreachable included, goes to the database as before.
awaitable<std::optional<domain::error>> refusal_from_seat_map(
    request_context& ctx, const domain::schedule_id& schedule, const std::vector<domain::seat_id>& seat_ids
) {
    const auto user = domain::parse_id<domain::user_id>(ctx.user_id.str());
    const auto since = schedule.empty() ? std::string{} : ctx.svc.seat_maps.version_of(schedule);
    if (!user || since.empty()) {
        co_return std::nullopt; // no map of it on this thread (nor a version to hold it to)
    }
    std::optional<redis::seat_map_version> seen;
    try {
        seen = co_await ctx.svc.seat_versions.read(schedule, since);
    } catch (const redis::error&) {
        co_return std::nullopt;
    }
    co_return ctx.svc.seat_maps.take_refusal(schedule, *seen, *user, seat_ids, ctx.svc.config.holds.max_seats_per_user);
}

// The seats left of every schedule this thread has a current seat map of: every fan's first
// call counts them, and counting thousands of unsold seats in PostgreSQL for each was the
// database's largest load in an on-sale. The same freshness rule as a seat list (the
// versions are read now, in one round trip); the other schedules are counted by the
// database. Redis unreachable: the database counts them all.
awaitable<std::unordered_map<domain::schedule_id, std::int64_t>> seat_counts_from_seat_maps(request_context& ctx) {
    std::unordered_map<domain::schedule_id, std::int64_t> out;
    const auto schedules = ctx.svc.seat_maps.cached_schedules();
    std::vector<std::string> since;
    since.reserve(schedules.size());
    for (const auto& s : schedules) {
        since.push_back(ctx.svc.seat_maps.version_of(s));
    }
    std::vector<redis::seat_map_version> seen;
    try {
        seen = co_await ctx.svc.seat_versions.read_many(schedules, since);
    } catch (const redis::error&) {
        co_return out;
    }
    for (std::size_t i = 0; i < schedules.size(); ++i) {
        if (const auto available = ctx.svc.seat_maps.available_seats(schedules[i], seen[i])) {
            out.emplace(schedules[i], static_cast<std::int64_t>(*available));
        }
    }
    co_return out;
}

} // namespace

reply list_performances(request_context& ctx) {
    const auto counted = co_await seat_counts_from_seat_maps(ctx);
    std::vector<domain::schedule_id> counted_ids;
    counted_ids.reserve(counted.size());
    for (const auto& [id, count] : counted) {
        counted_ids.push_back(id);
    }
    const auto performances = co_await ctx.svc.catalog.list_performances(counted_ids);
    json::array out;
    for (const auto& p : performances) {
        json::array schedules;
        for (const auto& s : p.schedules) {
            schedules.push_back(json::object{
                {"id", s.id},
                {"staging_date", format_iso8601(s.staging_date)},
                {"reserveable_seats_count",
                 s.reserveable_seats_count ? *s.reserveable_seats_count : counted.at(domain::schedule_id(s.id))}});
        }
        out.push_back(json::object{
            {"id", p.id},
            {"title", p.title},
            {"ticketing_start_date", format_iso8601(p.ticketing_start_date)},
            {"stage", stage_json(p.stage_name, p.stage_location)},
            {"performance_staging_date", std::move(schedules)}});
    }
    co_return json_answer(http::status::ok, out);
}

// The largest answer of an on-sale, asked for by every fan: kept ready by the thread's seat
// map cache (docs/seat-map.md). The version is read first (usually by the gate, in its own
// batch): the cache answers for it.
reply list_seats(request_context& ctx) {
    const auto schedule_id = domain::parse_id<domain::schedule_id>(ctx.params.at("performance_staging_date_id"));
    if (!schedule_id) {
        co_return http::error_response(
            domain::make_error(errc::bad_request, "performance_staging_date_id must be a UUID.")
        );
    }
    if (!ctx.seat_list_version) {
        ctx.seat_list_version =
            co_await ctx.svc.seat_versions.read(*schedule_id, ctx.svc.seat_maps.version_of(*schedule_id));
    }
    const auto list = co_await ctx.svc.seat_maps.answer(*schedule_id, *ctx.seat_list_version);
    if (!list) {
        co_return http::error_response(list.error());
    }
    // The bodies are the cached answer's own (shared pointers into it): sent without a copy.
    const auto& answer = *list;
    auto prepared = http::prepared_json_response(
        ctx.req,
        {answer->etag,
         answer->json_size(),
         [&answer] { return http::shared_body(answer, &answer->gzip()); },
         [&answer] {
             return http::shared_body(answer, &answer->json());
         }}
    );
    ctx.shared_body = std::move(prepared.body);
    co_return std::move(prepared.head);
}

// Body: {"performance_seat_id": id} (the seed's form, answered with one seat) or
// {"performance_seat_ids": [ids]} (all or nothing, answered with a list).
reply take_seat(request_context& ctx) {
    auto body = parse_json_object(ctx.req);
    if (!body) {
        co_return http::error_response(body.error());
    }
    const auto choice = read_seat_choice(*body);
    if (!choice) {
        co_return http::error_response(choice.error());
    }
    const bool many = choice->many;
    const auto& policy = ctx.svc.config.holds;
    const auto selection = domain::validate_seat_selection(choice->ids, policy.max_seats_per_user);
    if (!selection) {
        co_return http::error_response(selection.error());
    }
    // Empty when not admitted by a take gate: the seats may then be of any schedule.
    const domain::schedule_id schedule(
        std::string(ctx.admission ? domain::schedule_of_gate(ctx.admission->gate) : std::string_view{})
    );
    if (auto refused = co_await refusal_from_seat_map(ctx, schedule, *selection)) {
        co_return http::error_response(*refused);
    }
    const auto held = co_await ctx.svc.seats.take(ctx.user_id, *selection, policy, schedule);
    if (!held) {
        co_return http::error_response(held.error());
    }
    std::vector<domain::seat_state_change> changes;
    for (const auto& s : *held) {
        changes.push_back(
            {.position = s.position,
             .state =
                 {.status = domain::seat_status::temporary_reserved,
                  .hold_expires = s.hold_expire_timestamp,
                  .change_count = s.change_count,
                  .holder = domain::parse_uuid(ctx.user_id.str()).value_or(ctx.user_id.str())}}
        );
    }
    co_await announce_seat_change(ctx, held->front().schedule_id, changes);
    if (ctx.admission) {
        co_await give_up_queue_token(ctx, ctx.admission->id); // step 3 is done: free the place
    }
    ctx.svc.stats.seats_held.fetch_add(held->size(), std::memory_order_relaxed);
    json::array data;
    for (const auto& s : *held) {
        auto seat = seat_json(s.id.str(), s.seat_number, s.price, domain::seat_status::temporary_reserved);
        seat["hold_expire_timestamp"] = s.hold_expire_timestamp;
        data.push_back(std::move(seat));
    }
    json::value shaped = many ? json::value(std::move(data)) : std::move(data.front());
    co_return json_answer(http::status::ok, json::object{{"result", "success"}, {"data", std::move(shaped)}});
}

// Grouped as the seed shows it: performance -> schedules -> seats.
reply my_seats(request_context& ctx) {
    const auto rows = co_await ctx.svc.seats.list_mine(ctx.user_id);
    json::array out;
    const pg::my_seat* previous = nullptr;
    for (const auto& r : rows) {
        if (previous == nullptr || previous->performance_id != r.performance_id) {
            out.push_back(json::object{
                {"id", r.performance_id},
                {"title", r.title},
                {"ticketing_start_date", format_iso8601(r.ticketing_start_date)},
                {"stage", stage_json(r.stage_name, r.stage_location)},
                {"performance_staging_date", json::array{}}});
            previous = nullptr;
        }
        auto& schedules = out.back().as_object()["performance_staging_date"].as_array();
        if (previous == nullptr || previous->schedule_id != r.schedule_id) {
            schedules.push_back(json::object{
                {"id", r.schedule_id}, {"staging_date", format_iso8601(r.staging_date)}, {"seat", json::array{}}});
        }
        auto seat = seat_json(r.seat_id, r.seat_number, r.price, r.status);
        seat["hold_expire_timestamp"] = r.hold_expire_timestamp ? json::value(*r.hold_expire_timestamp) : nullptr;
        schedules.back().as_object()["seat"].as_array().push_back(std::move(seat));
        previous = &r;
    }
    co_return json_answer(http::status::ok, out);
}

} // namespace tp::api::handlers
