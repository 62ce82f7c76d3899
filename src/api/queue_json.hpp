#pragma once
// How queue tokens look on the wire: the token info of /queue/queue, and the seed's 202
// "please wait" answer of a gated call (with a Retry-After hint that grows with the rank).

#include "api/json_io.hpp"
#include "domain/queue.hpp"
#include "http/message.hpp"

namespace tp::api {

// Seconds until admission as the token's answers state it (the gate's measured rate, else
// its configured one, else `configured_rate`).
std::int64_t estimated_wait_of(const domain::queue_token& token, double configured_rate);

json::object token_info_json(const domain::queue_token& token, double configured_rate);

http::response waiting_answer(const domain::queue_token& token, double configured_rate);

} // namespace tp::api
