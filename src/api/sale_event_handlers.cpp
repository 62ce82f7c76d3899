// Admin: the sale as it happens. GET /admin/events pages the sale events (the outbox of
// every hold, release, sale, charge and payment), GET /admin/events/stream follows them as
// Server-Sent Events, and GET /admin/sales counts each schedule's seats. docs/sale-events.md
// says why a consumer sees every committed event exactly once, in id order.

#include "api/handlers.hpp"
#include "api/json_io.hpp"
#include "api/request_readers.hpp"
#include "domain/timestamp.hpp"
#include "http/error_reply.hpp"

#include <spdlog/spdlog.h>

namespace tp::api::handlers {
namespace {

// How long a page waits for transactions in flight before it serves what is proven.
constexpr auto settle = std::chrono::milliseconds(500);
constexpr int stream_page = 500;
constexpr auto stream_poll = std::chrono::milliseconds(250);
constexpr auto heartbeat_interval = std::chrono::seconds(15);

json::object event_json(const pg::sale_event& e) {
    json::object out{{"id", e.id}, {"kind", e.kind}, {"occurred_timestamp", e.occurred_at}};
    if (e.user_id) {
        out["user_id"] = *e.user_id;
    }
    if (e.schedule_id) {
        out["schedule_id"] = *e.schedule_id;
    }
    if (e.seat_id) {
        out["seat_id"] = *e.seat_id;
    }
    if (e.amount) {
        out["amount"] = *e.amount;
    }
    if (e.hold_expire_timestamp) {
        out["hold_expire_timestamp"] = *e.hold_expire_timestamp;
    }
    return out;
}

// Pages of events, each written as one write of its frames, until the client leaves, the
// server stops or the database fails (the client reconnects with Last-Event-ID).
awaitable<void> follow(http::event_stream& out, services& svc, std::int64_t after) {
    auto quiet_since = std::chrono::steady_clock::now();
    while (!out.stopping()) {
        pg::event_page page;
        try {
            page = co_await svc.events.page(after, stream_page, settle);
        } catch (const std::exception& e) {
            spdlog::warn("msg=\"event stream ends: the database failed\" error=\"{}\"", e.what());
            co_return;
        }
        const auto now = std::chrono::steady_clock::now();
        after = page.next_after;
        if (!page.events.empty()) {
            std::string frames;
            for (const auto& e : page.events) {
                frames += "id: " + std::to_string(e.id) + "\ndata: " + json::serialize(event_json(e)) + "\n\n";
            }
            if (!co_await out.write(std::move(frames))) {
                co_return;
            }
            quiet_since = now;
            if (std::cmp_equal(page.events.size(), stream_page)) {
                continue; // more at once
            }
        } else if (now - quiet_since >= heartbeat_interval) {
            if (!co_await out.write(": heartbeat\n\n")) {
                co_return;
            }
            quiet_since = now;
        }
        co_await out.sleep_until(now + stream_poll);
    }
}

// Where a page or a stream starts: after the id asked for, or after the horizon (`latest`).
awaitable<std::int64_t> starting_point(services& svc, const event_query& query) {
    if (query.from_latest) {
        co_return co_await svc.events.horizon(settle);
    }
    co_return query.after;
}

} // namespace

reply list_events(request_context& ctx) {
    const auto query = read_event_query(ctx.req);
    if (!query) {
        co_return http::error_response(query.error());
    }
    const auto after = co_await starting_point(ctx.svc, *query);
    const auto page = co_await ctx.svc.events.page(after, query->limit, settle);
    json::array events;
    events.reserve(page.events.size());
    for (const auto& e : page.events) {
        events.push_back(event_json(e));
    }
    co_return json_answer(
        http::status::ok, json::object{{"events", std::move(events)}, {"next_after", page.next_after}}
    );
}

reply follow_events(request_context& ctx) {
    const auto query = read_event_query(ctx.req);
    if (!query) {
        co_return http::error_response(query.error());
    }
    const auto after = co_await starting_point(ctx.svc, *query);
    ctx.stream = [&svc = ctx.svc, after](http::event_stream& out) {
        return follow(out, svc, after);
    };
    http::response head{http::status::ok, 11};
    head.set(http::beast_http::field::content_type, "text/event-stream");
    head.set(http::beast_http::field::cache_control, "no-cache");
    co_return head;
}

reply list_sales(request_context& ctx) {
    json::array out;
    for (const auto& s : co_await ctx.svc.catalog.sales()) {
        out.push_back(json::object{
            {"performance_id", s.performance_id},
            {"title", s.title},
            {"schedule_id", s.schedule_id},
            {"staging_date", domain::format_iso8601(s.staging_date)},
            {"available", s.available},
            {"held", s.held},
            {"sold", s.sold},
            {"revenue", s.revenue}});
    }
    co_return json_answer(http::status::ok, out);
}

} // namespace tp::api::handlers
