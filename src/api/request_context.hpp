#pragma once
// Everything one handler invocation sees: the request, the path captures, the caller's
// identity (once authenticated) and the thread's services.

#include "api/services.hpp"
#include "domain/identifiers.hpp"
#include "domain/queue.hpp"
#include "http/event_stream.hpp"
#include "http/message.hpp"
#include "http/router.hpp"

#include <optional>
#include <string>

namespace tp::api {

struct request_context {
    http::request& req;
    http::path_params params;
    services& svc;
    std::string request_id;
    domain::user_id user_id; // set for routes that require a signed-in user
    // For gated routes, once admitted: the queue token that let the call through.
    std::optional<domain::queue_token> admission;
    // For the seat list (step 2): its version, when the gate read it in its own batch.
    std::optional<redis::seat_map_version> seat_list_version;
    // Set by handlers that stream their body (Server-Sent Events) ...
    http::stream_body stream;
    // ... or that answer with a body kept elsewhere (the response's own body stays empty).
    http::shared_body shared_body;
};

} // namespace tp::api
