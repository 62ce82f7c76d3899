#include "app/background_rounds.hpp"

#include "security/fair_draw.hpp"

#include <boost/asio/co_spawn.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace tp::app {
namespace {

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

awaitable<std::vector<std::string>>
draw_pre_queue(redis::queue_store& queue, const std::string& gate, asio::any_io_executor compute) {
    const auto started = std::chrono::steady_clock::now();
    auto pre = co_await queue.pre_queue_of(gate);
    if (!pre) {
        co_return std::vector<std::string>{}; // drawn by another instance meanwhile
    }
    const auto seed = security::parse_draw_seed(pre->seed);
    if (!seed) {
        throw redis::error("the draw of gate " + gate + " has a malformed seed");
    }
    auto ordering = order_of(*seed, pre->token_ids);
    const auto read = std::chrono::steady_clock::now();
    const auto [entrants, order] = co_await asio::co_spawn(compute, std::move(ordering), use_awaitable);
    const auto ordered = std::chrono::steady_clock::now();
    std::vector<redis::drawn_place> places;
    places.reserve(order.size());
    for (const auto k : order) {
        places.push_back(redis::drawn_place{.token_id = pre->token_ids[k], .entrant = entrants[k]});
    }
    // Any instance may be drawing the same gate (each computes the same order): the first to
    // publish does, the others' work is dropped.
    if (!co_await queue.publish_draw(gate, std::move(places))) {
        co_return std::vector<std::string>{};
    }
    const auto ms = [](auto from, auto to) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
    };
    spdlog::info(
        "msg=\"pre-queue drawn\" gate={} entrants={} read_ms={} order_ms={} publish_ms={}",
        gate,
        order.size(),
        ms(started, read),
        ms(read, ordered),
        ms(ordered, std::chrono::steady_clock::now())
    );
    co_return std::move(pre->token_ids);
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

awaitable<void> forget_old_sale_events(pg::event_repository& events, std::chrono::hours retention, metrics& stats) {
    constexpr int batch_size = 1000;
    for (;;) {
        const auto forgotten = co_await events.forget_older_than(retention, batch_size);
        stats.sale_events_forgotten.fetch_add(static_cast<std::uint64_t>(forgotten), std::memory_order_relaxed);
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
            const auto drawn = co_await draw_pre_queue(queue, gate, compute);
            round = co_await queue.tick(gate); // the first admissions at once
            co_await queue.show_drawn_presence(gate, drawn);
        }
        stats.queue_admissions.fetch_add(static_cast<std::uint64_t>(round.admitted), std::memory_order_relaxed);
        stats.set_gate_lengths(gate, round.waiting, round.active);
    }
}

} // namespace tp::app
