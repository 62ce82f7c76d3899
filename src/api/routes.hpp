#pragma once
// THE route table: every endpoint of the API is one row here (method, path, who may call
// it, which queue gate stands in front of it, and its handler). 404 and 405 come from it,
// and a test checks it against the OpenAPI document.

#include "api/request_context.hpp"
#include "domain/queue.hpp"
#include "http/router.hpp"
#include "support/asio.hpp"

namespace tp::api {

using handler = awaitable<http::response> (*)(request_context&);

enum class access {
    anyone,
    user,  // Authorization: Bearer <access token>
    admin, // Authorization: Bearer <ADMIN_API_KEY>
};

// The booking step a route belongs to; the waiting queue gates steps 1 to 3.
using domain::flow_step;

struct route {
    handler fn = nullptr;
    access who = access::anyone;
    flow_step step = flow_step::none;
    metrics::route_id metrics_id{};
};

using route_table = http::router<route>;

// Builds the table and registers each route with `stats` for per-route metrics.
route_table make_route_table(metrics& stats);

} // namespace tp::api
