#include "app/queue_ticker.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>

#include <spdlog/spdlog.h>

namespace tp::app {

queue_ticker::queue_ticker(
    asio::io_context& context, redis::queue_store& queue, metrics& stats, std::chrono::milliseconds interval
)
    : context_(context), queue_(queue), stats_(stats), interval_(interval), timer_(context) {}

void queue_ticker::start() {
    asio::co_spawn(context_, run(), asio::detached);
}

void queue_ticker::stop() {
    asio::post(context_, [this] {
        stopping_ = true;
        timer_.cancel();
    });
}

awaitable<void> queue_ticker::run() {
    while (!stopping_) {
        timer_.expires_after(interval_);
        try {
            const auto gates = co_await queue_.gates_in_use();
            for (const auto& gate : gates) {
                const auto round = co_await queue_.tick(gate);
                stats_.queue_admissions.fetch_add(
                    static_cast<std::uint64_t>(round.admitted), std::memory_order_relaxed
                );
                stats_.set_gate_lengths(gate, round.waiting, round.active);
            }
        } catch (const std::exception& e) {
            // While Redis is down this would repeat every tick; say it every few seconds.
            const auto now = std::chrono::steady_clock::now();
            if (now - last_warning_ > std::chrono::seconds(5)) {
                last_warning_ = now;
                spdlog::warn("msg=\"queue tick failed; will retry\" error=\"{}\"", e.what());
            }
        }
        co_await timer_.async_wait(asio::as_tuple(use_awaitable));
    }
}

} // namespace tp::app
