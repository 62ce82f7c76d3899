#include "storage/redis/serving_watch.hpp"

#include <boost/asio/as_tuple.hpp>

#include <vector>

namespace tp::redis {

serving_watch::subscription::subscription(serving_watch& watch, const std::string& gate, asio::steady_timer& alarm)
    : gate_(watch.gates_[gate]), alarm_(alarm) {
    gate_.streams.push_back(*this);
    if (!watch.polling_) {
        watch.polling_ = true;
        asio::co_spawn(watch.executor_, watch.poll(), asio::detached);
    }
}

awaitable<void> serving_watch::poll() {
    asio::steady_timer pause(executor_);
    while (!gates_.empty()) {
        std::vector<std::string> watched;
        for (auto it = gates_.begin(); it != gates_.end();) {
            if (it->second.streams.empty()) {
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
            for (auto& stream : found->second.streams) {
                if (stream.listening_ && stream.seen_ != serving) {
                    stream.listening_ = false;
                    stream.alarm_.cancel();
                }
            }
        }
        pause.expires_after(interval_);
        co_await pause.async_wait(asio::as_tuple(use_awaitable));
    }
    polling_ = false;
}

} // namespace tp::redis
