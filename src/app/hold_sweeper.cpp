#include "app/hold_sweeper.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>

#include <spdlog/spdlog.h>

namespace tp::app {
namespace {

constexpr int batch_size = 500;

} // namespace

hold_sweeper::hold_sweeper(
    asio::io_context& context, pg::seat_repository& seats, metrics& stats, std::chrono::milliseconds interval
)
    : context_(context), seats_(seats), stats_(stats), interval_(interval), timer_(context) {}

void hold_sweeper::start() {
    asio::co_spawn(context_, run(), asio::detached);
}

void hold_sweeper::stop() {
    asio::post(context_, [this] {
        stopping_ = true;
        timer_.cancel();
    });
}

awaitable<void> hold_sweeper::run() {
    while (!stopping_) {
        try {
            for (;;) {
                const auto released = co_await seats_.release_expired_holds(batch_size);
                stats_.holds_released.fetch_add(static_cast<std::uint64_t>(released), std::memory_order_relaxed);
                if (released < batch_size) {
                    break;
                }
            }
        } catch (const std::exception& e) {
            spdlog::warn("msg=\"hold sweep failed; will retry\" error=\"{}\"", e.what());
        }
        timer_.expires_after(interval_);
        co_await timer_.async_wait(asio::as_tuple(use_awaitable));
    }
}

} // namespace tp::app
