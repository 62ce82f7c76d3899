#include "api/routes.hpp"

#include "api/handlers.hpp"

namespace tp::api {

route_table make_route_table(metrics& stats) {
    using enum access;
    using enum flow_step;
    using http::verb;
    namespace h = handlers;

    route_table table;
    const auto add = [&](verb method, std::string_view path, handler fn, access who, flow_step step) {
        const auto id = stats.register_route(std::string(to_string(method)), std::string(path));
        table.add(method, path, route{.fn = fn, .who = who, .step = step, .metrics_id = id});
    };

    add(verb::post, "/auth/signUp", h::sign_up, anyone, none);
    add(verb::post, "/auth/signIn", h::sign_in, anyone, none);

    add(verb::get, "/reservation/performances", h::list_performances, user, performances);
    add(verb::get, "/reservation/performaces", h::list_performances, user, performances); // the seed's spelling
    add(verb::get,
        "/reservation/performance_seats/{performance_staging_date_id}",
        h::list_seats,
        user,
        performance_seats);
    add(verb::patch, "/reservation/take_performance_seat", h::take_seat, user, take_performance_seat);
    add(verb::get, "/reservation/reserved_performance_seats", h::my_seats, user, none);

    add(verb::get, "/payment/cash", h::balance, user, none);
    add(verb::post, "/payment/cash", h::charge, user, none);
    add(verb::get, "/payment/payment_history", h::history, user, none);
    add(verb::post, "/payment/payment_performance_seat", h::pay_seat, user, none);

    add(verb::post, "/queue/queue", h::enter_queue, user, none);
    add(verb::get, "/queue/queue", h::queue_status, user, none);
    add(verb::delete_, "/queue/queue", h::leave_queue, user, none);
    add(verb::get, "/queue/queue/stream", h::queue_stream, anyone, none); // the token id is the credential
    add(verb::get, "/queue/draws/{gate}", h::read_draw, anyone, none);    // public: anyone may audit a draw

    add(verb::post, "/admin/performances", h::create_performance, admin, none);
    add(verb::get, "/admin/gates", h::list_gates, admin, none);
    add(verb::get, "/admin/gates/{gate}", h::read_gate, admin, none);
    add(verb::put, "/admin/gates/{gate}", h::configure_gate, admin, none);
    add(verb::get, "/admin/events", h::list_events, admin, none);
    add(verb::get, "/admin/events/stream", h::follow_events, admin, none);
    add(verb::get, "/admin/sales", h::list_sales, admin, none);

    add(verb::get, "/", h::fan_page, anyone, none);
    add(verb::get, "/console", h::console_page, anyone, none); // the admin key is typed in on the page
    add(verb::get, "/static/{file}", h::web_file, anyone, none);

    add(verb::get, "/healthz", h::healthz, anyone, none);
    add(verb::get, "/readyz", h::readyz, anyone, none);
    add(verb::get, "/metrics", h::prometheus_metrics, anyone, none);
    add(verb::get, "/api-docs/openapi.json", h::openapi_document, anyone, none);
    add(verb::get, "/api", h::swagger_ui_page, anyone, none);
    add(verb::get, "/api/{file}", h::swagger_ui_file, anyone, none);
    return table;
}

} // namespace tp::api
