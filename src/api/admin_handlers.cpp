// POST /admin/performances: a stage, a performance and its schedules with their seats, in
// one transaction. Seats are listed ({seat_number, price}) or generated (seat_count + price,
// numbered "1".."N").

#include "api/handlers.hpp"
#include "api/json_io.hpp"
#include "domain/catalog.hpp"
#include "http/error_reply.hpp"

namespace tp::api::handlers {
namespace {

using domain::errc;
using domain::make_error;

domain::result<domain::epoch_ms> instant(const std::string& text, std::string_view field) {
    const auto parsed = domain::parse_iso8601(text);
    if (!parsed) {
        return make_error(
            errc::bad_request, std::string(field) + " must be an ISO 8601 date-time such as 2030-01-31T19:00:00Z."
        );
    }
    return *parsed;
}

domain::result<domain::new_schedule> read_schedule(const json::value& value) {
    if (!value.is_object()) {
        return make_error(errc::bad_request, "Each schedule must be an object.");
    }
    body_reader in(value.as_object());
    domain::new_schedule schedule;
    const auto date_text = in.string("staging_date");
    if (in.has("seats")) {
        for (const auto& seat : in.array("seats")) {
            if (!seat.is_object()) {
                return make_error(errc::bad_request, "Each seat must be an object.");
            }
            body_reader seat_in(seat.as_object());
            domain::new_seat s{.seat_number = seat_in.string("seat_number"), .price = seat_in.integer("price")};
            if (seat_in.failed()) {
                return seat_in.error();
            }
            schedule.seats.push_back(std::move(s));
        }
    } else {
        const auto count = in.integer("seat_count");
        const auto price = in.integer("price");
        if (!in.failed() && (count < 1 || count > static_cast<std::int64_t>(domain::max_seats_per_schedule))) {
            return make_error(errc::bad_request, "seat_count must be from 1 to 20000.");
        }
        for (std::int64_t n = 1; !in.failed() && n <= count; ++n) {
            schedule.seats.push_back(domain::new_seat{.seat_number = std::to_string(n), .price = price});
        }
    }
    if (in.failed()) {
        return in.error();
    }
    auto date = instant(date_text, "staging_date");
    if (!date) {
        return date.error();
    }
    schedule.staging_date = *date;
    return schedule;
}

domain::result<domain::new_performance> read_performance(const json::object& body) {
    body_reader in(body);
    domain::new_performance p;
    p.title = in.string("title");
    const auto start_text = in.string("ticketing_start_date");
    const auto& stage = in.object("stage");
    const auto& schedules = in.array("schedules");
    if (in.failed()) {
        return in.error();
    }
    body_reader stage_in(stage);
    p.stage_name = stage_in.string("name");
    p.stage_location = stage_in.string("location");
    if (stage_in.failed()) {
        return make_error(errc::bad_request, "stage." + stage_in.error().message);
    }
    auto start = instant(start_text, "ticketing_start_date");
    if (!start) {
        return start.error();
    }
    p.ticketing_start_date = *start;
    for (const auto& s : schedules) {
        auto schedule = read_schedule(s);
        if (!schedule) {
            return schedule.error();
        }
        p.schedules.push_back(std::move(*schedule));
    }
    return domain::validate_new_performance(std::move(p));
}

} // namespace

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
