#pragma once
// The rounds of the background tasks (see periodic_task.hpp).

#include "storage/pg/event_repository.hpp"
#include "storage/pg/seat_repository.hpp"
#include "storage/pg/wallet_repository.hpp"
#include "storage/redis/queue_store.hpp"
#include "support/metrics.hpp"

namespace tp::app {

// Releases expired holds in batches until none is left. Correctness never depends on it
// (every read and write treats an expired hold as available already); it keeps the stored
// state tidy for operators and other readers. Batches skip rows another instance locked.
awaitable<void> sweep_expired_holds(pg::seat_repository& seats, metrics& stats);

// Deletes the stored answers of Idempotency-Key calls older than `retention`, in batches,
// so the table holds a day of calls rather than every call ever made.
awaitable<void>
forget_old_idempotent_answers(pg::wallet_repository& wallet, std::chrono::hours retention, metrics& stats);

// Deletes sale events older than EVENT_RETENTION_HOURS, a batch at a time.
awaitable<void> forget_old_sale_events(pg::event_repository& events, std::chrono::hours retention, metrics& stats);

// Tells the queue again of every schedule paid for within `window` that has no unsold seat
// left (setting a sold-out mark twice is harmless): a notice lost to a Redis outage, or
// missed by payments of the last seats at the same moment, reaches the gates within a round.
awaitable<void>
reconcile_sold_out(pg::wallet_repository& wallet, redis::queue_store& queue, std::chrono::seconds window);

// Draws a gate's pre-queue once its ticketing start has come (docs/waiting-queue.md, "The
// fair start"); harmless on several instances at once, and a no-op once drawn. The order is
// computed on `compute` (a thread pool), away from the event loop. Answers the drawn token
// ids when this instance published the draw, for show_drawn_presence once admissions began.
awaitable<std::vector<std::string>>
draw_pre_queue(redis::queue_store& queue, const std::string& gate, asio::any_io_executor compute);

// One admission tick for every gate in use, drawing the pre-queues that are due.
awaitable<void> tick_queue_gates(redis::queue_store& queue, metrics& stats, asio::any_io_executor compute);

} // namespace tp::app
