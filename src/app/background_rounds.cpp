#include "app/background_rounds.hpp"

namespace tp::app {

awaitable<void> sweep_expired_holds(pg::seat_repository& seats, metrics& stats) {
    constexpr int batch_size = 500;
    for (;;) {
        const auto released = co_await seats.release_expired_holds(batch_size);
        stats.holds_released.fetch_add(static_cast<std::uint64_t>(released), std::memory_order_relaxed);
        if (released < batch_size) {
            co_return;
        }
    }
}

awaitable<void>
forget_old_idempotent_answers(pg::wallet_repository& wallet, std::chrono::hours retention, metrics& stats) {
    constexpr int batch_size = 500;
    for (;;) {
        const auto forgotten = co_await wallet.forget_answers_older_than(retention, batch_size);
        stats.idempotent_answers_forgotten.fetch_add(static_cast<std::uint64_t>(forgotten), std::memory_order_relaxed);
        if (forgotten < batch_size) {
            co_return;
        }
    }
}

awaitable<void>
reconcile_sold_out(pg::wallet_repository& wallet, redis::queue_store& queue, std::chrono::seconds window) {
    for (const auto& schedule : co_await wallet.recently_sold_out(window)) {
        co_await queue.mark_sold_out(schedule);
    }
}

awaitable<void> tick_queue_gates(redis::queue_store& queue, metrics& stats) {
    const auto gates = co_await queue.gates_in_use();
    for (const auto& gate : gates) {
        const auto round = co_await queue.tick(gate);
        stats.queue_admissions.fetch_add(static_cast<std::uint64_t>(round.admitted), std::memory_order_relaxed);
        stats.set_gate_lengths(gate, round.waiting, round.active);
    }
}

} // namespace tp::app
