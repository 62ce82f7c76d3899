#include "app/periodic_task.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>

#include <spdlog/spdlog.h>

namespace tp::app {

periodic_task::periodic_task(
    asio::io_context& context,
    std::string name,
    std::chrono::milliseconds interval,
    std::function<awaitable<void>()> round
)
    : context_(context), name_(std::move(name)), interval_(interval), round_(std::move(round)), timer_(context) {}

void periodic_task::start() {
    asio::co_spawn(context_, run(), asio::detached);
}

void periodic_task::stop() {
    asio::post(context_, [this] {
        stopping_ = true;
        timer_.cancel();
    });
}

awaitable<void> periodic_task::run() {
    while (!stopping_) {
        timer_.expires_after(interval_);
        try {
            co_await round_();
        } catch (const std::exception& e) {
            const auto now = std::chrono::steady_clock::now();
            if (now - last_warning_ > std::chrono::seconds(5)) {
                last_warning_ = now;
                spdlog::warn("msg=\"background round failed; will retry\" task={} error=\"{}\"", name_, e.what());
            }
        }
        // stop() may have run during the round: its cancel() found no wait to cancel then, and
        // a wait begun now would last a whole interval (an hour for some sweeps), keeping the
        // event loop alive past the shutdown's grace period.
        if (stopping_) {
            break;
        }
        co_await timer_.async_wait(asio::as_tuple(use_awaitable));
    }
}

} // namespace tp::app
