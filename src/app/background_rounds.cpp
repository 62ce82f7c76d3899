#include "app/background_rounds.hpp"

#include "security/fair_draw.hpp"

#include <boost/asio/co_spawn.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace tp::app {
namespace {

// Places given per script call: a draw of 100,000 fans is twenty short scripts rather than
// one that holds Redis for the whole draw.
constexpr std::size_t places_per_run = 5000;

struct drawn_order {
    std::vector<std::string> entrants; // of each pre-queued token, in the pre-queue's order
    std::vector<std::size_t> order;    // indexes into it, first place first
};

// A hundred thousand SHA-256s, HMACs and a sort: a few tenths of a second, kept off the
// event loop, whose Redis commands would otherwise wait out their deadline behind it.
awaitable<drawn_order> order_of(security::draw_seed seed, const std::vector<std::string>& token_ids) {
    drawn_order out;
    out.entrants.reserve(token_ids.size());
    for (const auto& id : token_ids) {
        out.entrants.push_back(security::entrant_of(id));
    }
    out.order = security::draw_order(seed, out.entrants);
    co_return out;
}

} // namespace

awaitable<void> draw_pre_queue(redis::queue_store& queue, const std::string& gate, asio::any_io_executor compute) {
    const auto pre = co_await queue.pre_queue_of(gate);
    if (!pre) {
        co_return; // drawn by another instance meanwhile
    }
    const auto seed = security::parse_draw_seed(pre->seed);
    if (!seed) {
        throw redis::error("the draw of gate " + gate + " has a malformed seed");
    }
    auto ordering = order_of(*seed, pre->token_ids);
    const auto [entrants, order] = co_await asio::co_spawn(compute, std::move(ordering), use_awaitable);
    const auto total = static_cast<std::int64_t>(order.size());
    // Any instance may be drawing the same gate: each run starts where the draw stands, and
    // a run placed by another instance tells this one where to go on.
    std::int64_t placed = pre->placed;
    do {
        std::vector<redis::drawn_place> run;
        const auto from = static_cast<std::size_t>(std::clamp<std::int64_t>(placed, 0, total));
        const auto to = std::min(order.size(), from + places_per_run);
        run.reserve(to - from);
        for (auto k = from; k < to; ++k) {
            run.push_back(redis::drawn_place{
                .token_id = pre->token_ids[order[k]], .entrant = entrants[order[k]], .number = pre->numbers[k]});
        }
        placed = co_await queue.place_drawn(gate, static_cast<std::int64_t>(from), total, run);
    } while (placed >= 0 && placed < total);
    if (placed == total) { // this instance placed the last run (else another one did)
        spdlog::info("msg=\"pre-queue drawn\" gate={} entrants={}", gate, total);
    }
}

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

awaitable<void> tick_queue_gates(redis::queue_store& queue, metrics& stats, asio::any_io_executor compute) {
    const auto gates = co_await queue.gates_in_use();
    for (const auto& gate : gates) {
        auto round = co_await queue.tick(gate);
        if (round.draw_due) {
            co_await draw_pre_queue(queue, gate, compute);
            round = co_await queue.tick(gate); // the first admissions at once
        }
        stats.queue_admissions.fetch_add(static_cast<std::uint64_t>(round.admitted), std::memory_order_relaxed);
        stats.set_gate_lengths(gate, round.waiting, round.active);
    }
}

} // namespace tp::app
