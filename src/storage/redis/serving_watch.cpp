#include "storage/redis/serving_watch.hpp"

#include <boost/asio/as_tuple.hpp>

#include <vector>

namespace tp::redis {

serving_watch::subscription::subscription(serving_watch& watch, const std::string& gate, asio::steady_timer& alarm)
    : gate_(watch.gates_[gate]), alarm_(alarm) {
    ++gate_.subscriptions;
    if (!watch.polling_) {
        watch.polling_ = true;
        asio::co_spawn(watch.executor_, watch.poll(), asio::detached);
    }
}

void serving_watch::subscription::listen(std::int64_t seen) {
    seen_ = seen;
    if (!is_linked()) {
        gate_.listening.push_back(*this);
    }
}

awaitable<void> serving_watch::poll() {
    asio::steady_timer pause(executor_);
    while (!gates_.empty()) {
        std::vector<std::string> watched;
        for (auto it = gates_.begin(); it != gates_.end();) {
            if (it->second.subscriptions == 0) {
                it = gates_.erase(it); // no subscription points at it any more
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
            const auto found = gates_.find(gate);
            if (found == gates_.end() || found->second.serving == serving) {
                continue; // nobody listens any more, or nothing new to tell: no stream is visited
            }
            found->second.serving = serving;
            auto& listening = found->second.listening;
            for (auto it = listening.begin(); it != listening.end();) {
                if (it->seen_ != serving) {
                    auto& stream = *it;
                    it = listening.erase(it); // woken once: it listens again when it pauses again
                    stream.alarm_.cancel();
                } else {
                    ++it;
                }
            }
        }
        pause.expires_after(interval_);
        co_await pause.async_wait(asio::as_tuple(use_awaitable));
    }
    polling_ = false;
}

} // namespace tp::redis
