#pragma once
// The request boundary: route, authenticate, (gate,) run the handler, and turn whatever
// escaped it into an answer. Infrastructure exceptions end here: logged in full with the
// request id, answered 503 (a dependency is down) or 500 (a bug) without internals.

#include "api/routes.hpp"
#include "http/server.hpp"

namespace tp::api {

class dispatcher {
public:
    dispatcher(const route_table& routes, services& svc, std::string instance_id);

    awaitable<http::reply> handle(http::request& req, const http::connection_info& info);

private:
    awaitable<http::response> run(request_context& ctx, const route& r);
    std::string next_request_id(const http::request& req);

    const route_table& routes_;
    services& svc_;
    std::string instance_id_;
    std::uint64_t sequence_ = 0;
};

} // namespace tp::api
