#pragma once
// Every handler of the route table. Each one parses its input, calls the domain and the
// repositories, and shapes the answer; errors are returned as values and rendered by
// http::error_response.

#include "api/request_context.hpp"
#include "support/asio.hpp"

namespace tp::api::handlers {

using reply = awaitable<http::response>;

// auth_handlers.cpp
reply sign_up(request_context& ctx);
reply sign_in(request_context& ctx);

// reservation_handlers.cpp
reply list_performances(request_context& ctx);
reply list_seats(request_context& ctx);
reply take_seat(request_context& ctx);
reply my_seats(request_context& ctx);

// payment_handlers.cpp
reply balance(request_context& ctx);
reply charge(request_context& ctx);
reply history(request_context& ctx);
reply pay_seat(request_context& ctx);

// queue_handlers.cpp
reply enter_queue(request_context& ctx);
reply queue_status(request_context& ctx);
reply leave_queue(request_context& ctx);

// queue_stream_handler.cpp
reply queue_stream(request_context& ctx);

// draw_handlers.cpp
reply read_draw(request_context& ctx);

// admin_handlers.cpp
reply create_performance(request_context& ctx);

// gate_admin_handlers.cpp
reply list_gates(request_context& ctx);
reply read_gate(request_context& ctx);
reply configure_gate(request_context& ctx);

// sale_event_handlers.cpp
reply list_events(request_context& ctx);
reply follow_events(request_context& ctx);
reply list_sales(request_context& ctx);

// web_handlers.cpp
reply fan_page(request_context& ctx);
reply console_page(request_context& ctx);
reply web_file(request_context& ctx);

// ops_handlers.cpp
reply healthz(request_context& ctx);
reply readyz(request_context& ctx);
reply prometheus_metrics(request_context& ctx);
reply openapi_document(request_context& ctx);
reply swagger_ui_page(request_context& ctx);
reply swagger_ui_file(request_context& ctx);

} // namespace tp::api::handlers
