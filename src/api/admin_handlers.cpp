// POST /admin/performances: a stage, a performance and its schedules with their seats, in
// one transaction. Seats are listed ({seat_number, price}) or generated (seat_count + price,
// numbered "1".."N").

#include "api/handlers.hpp"
#include "api/json_io.hpp"
#include "api/request_readers.hpp"
#include "domain/timestamp.hpp"
#include "http/error_reply.hpp"

namespace tp::api::handlers {

reply create_performance(request_context& ctx) {
    auto body = parse_json_object(ctx.req);
    if (!body) {
        co_return http::error_response(body.error());
    }
    const auto performance = read_performance(*body);
    if (!performance) {
        co_return http::error_response(performance.error());
    }
    const auto created = co_await ctx.svc.catalog.create(*performance);
    json::array schedules;
    for (const auto& s : created.schedules) {
        json::array seat_ids;
        for (const auto& id : s.seat_ids) {
            seat_ids.push_back(json::value(id));
        }
        schedules.push_back(json::object{
            {"id", s.id}, {"staging_date", domain::format_iso8601(s.staging_date)}, {"seat_ids", std::move(seat_ids)}});
    }
    co_return json_answer(
        http::status::created,
        json::object{
            {"id", created.id}, {"stage_id", created.stage_id}, {"performance_staging_date", std::move(schedules)}}
    );
}

} // namespace tp::api::handlers
