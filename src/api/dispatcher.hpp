#pragma once
// The request boundary: route, authenticate, (gate,) run the handler, and turn whatever
// escaped it into an answer. Infrastructure exceptions end here: logged in full with the
// request id, answered 503 (a dependency is down) or 500 (a bug) without internals.

#include "api/routes.hpp"
#include "http/failure.hpp"
#include "http/server.hpp"
#include "storage/pg/error.hpp"

namespace tp::api {

// How a database error that escaped a handler is answered: 503 DATABASE_UNAVAILABLE when the
// database is the reason and trying again will do (unreachable, timed out, a deadlock or a
// serialization failure); 500 INTERNAL_ERROR for anything else, a bug.
http::failure failure_of(const pg::error& e);

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
