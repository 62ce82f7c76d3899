#include "storage/redis/serving_watch.hpp"

#include <boost/asio/as_tuple.hpp>

#include <vector>

namespace tp::redis {

awaitable<std::int64_t>
serving_watch::wait_change(const std::string& gate, std::int64_t seen, std::chrono::milliseconds patience) {
    auto& state = gates_[gate];
    if (state.serving >= 0 && state.serving != seen) {
        co_return state.serving;
    }
    waiter self{asio::steady_timer(executor_, patience), seen, seen};
    state.waiters.push_back(&self);
    const auto registered = std::prev(state.waiters.end());
    if (!polling_) {
        polling_ = true;
        asio::co_spawn(executor_, poll(), asio::detached);
    }
    co_await self.timer.async_wait(asio::as_tuple(use_awaitable));
    gates_[gate].waiters.erase(registered); // entries with waiters are never erased
    co_return self.value;
}

awaitable<void> serving_watch::poll() {
    asio::steady_timer pause(executor_);
    while (!gates_.empty()) {
        std::vector<std::string> watched;
        for (auto it = gates_.begin(); it != gates_.end();) {
            if (it->second.waiters.empty()) {
                it = gates_.erase(it);
            } else {
                watched.push_back(it->first);
                ++it;
            }
        }
        for (const auto& gate : watched) {
            std::int64_t serving = -1;
            try {
                serving = co_await queue_.now_serving(gate);
            } catch (const std::exception&) {
                continue; // Redis away: streams keep their last rank and heartbeat on
            }
            auto& state = gates_[gate];
            state.serving = serving;
            for (auto* w : state.waiters) {
                if (w->seen != serving) {
                    w->value = serving;
                    w->timer.cancel();
                }
            }
        }
        pause.expires_after(interval_);
        co_await pause.async_wait(asio::as_tuple(use_awaitable));
    }
    polling_ = false;
}

} // namespace tp::redis
