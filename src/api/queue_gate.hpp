#pragma once
// The waiting queue in front of a booking step (docs/waiting-queue.md, and the rules a client
// sees in docs/api-contract.md, Booking flow). Decides, atomically in Redis, whether this
// call is served now (an active token for this step), waits (202 with its rank), or is
// refused (flow violated, another user's token, sold out). Fails closed: if Redis cannot be
// reached the call is answered 503 and the step is never served unchecked.

#include "api/request_context.hpp"
#include "api/request_readers.hpp"
#include "domain/identifiers.hpp"
#include "domain/queue.hpp"
#include "domain/seats.hpp"
#include "support/asio.hpp"

#include <optional>
#include <span>

namespace tp::api {

// nullopt: serve the call (ctx.admission is set); otherwise the answer to send instead.
awaitable<std::optional<http::response>> pass_gate(request_context& ctx, domain::flow_step step);

} // namespace tp::api

namespace tp::api {

// Frees the caller's queue token (an empty token_id = whichever they hold). Best effort: the
// booking already succeeded, and an unused token expires by itself if Redis is away.
awaitable<void> give_up_queue_token(request_context& ctx, const domain::queue_token_id& token_id);

// Marks a schedule sold out for the waiting queue. Best effort, like the above.
awaitable<void> announce_sold_out(request_context& ctx, const domain::schedule_id& schedule_id);

// Moves the schedule's seat list version after a seat change committed, before it is
// answered, and logs the seats' new states with it (docs/seat-map.md). If Redis cannot be reached the change stands and
// is answered; lists elsewhere may then lag behind it for up to a second (the cache's max age), which the metric
// ticketd_seat_list_version_bump_failures_total counts.
awaitable<void> announce_seat_change(
    request_context& ctx, const domain::schedule_id& schedule_id, std::span<const domain::seat_state_change> changes
);

} // namespace tp::api
