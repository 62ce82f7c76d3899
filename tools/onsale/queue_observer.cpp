#include "onsale/queue_observer.hpp"

#include "storage/redis/queue_keys.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>

#include <stdexcept>

namespace tp::onsale {

queue_observer::queue_observer(asio::any_io_executor executor, const std::string& redis_url)
    : redis_(executor, [&] {
          auto options = redis::parse_redis_url(redis_url);
          if (!options) {
              throw std::invalid_argument("not a redis://host:port[/db] URL: " + redis_url);
          }
          return *options;
      }()) {}

void queue_observer::watch_gate(const std::string& gate, int capacity) {
    gates_[gate].capacity = capacity;
}

awaitable<void> queue_observer::sample(std::chrono::milliseconds every) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (!stopping_) {
        const double at_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
        for (auto& [gate, watch] : gates_) {
            std::vector<std::string> command{"ZCARD", redis::queue_keys::gate(gate, "active")};
            const auto count = co_await redis_.execute(std::move(command));
            watch.samples.emplace_back(at_ms, count.integer);
        }
        timer.expires_after(every);
        co_await timer.async_wait(use_awaitable);
    }
}

awaitable<void> queue_observer::admitted(const std::string& token_id) {
    if (!redis::queue_keys::tag_of_token(token_id)) {
        co_return;
    }
    std::vector<std::string> command{"HMGET", redis::queue_keys::token(token_id), "gate", "seq", "active", "status"};
    const auto r = co_await redis_.execute(std::move(command));
    if (r.elements.size() != 4 || r.elements[0].is_nil() || r.elements[3].text != "ACTIVE") {
        co_return; // used or expired in between: nothing to record
    }
    const auto it = gates_.find(r.elements[0].text);
    if (it != gates_.end()) {
        it->second.admissions.emplace_back(token_id, std::stoll(r.elements[1].text), std::stoll(r.elements[2].text));
    }
}

std::size_t queue_observer::peak_active(const std::string& gate) const {
    std::int64_t peak = 0;
    for (const auto& [at, count] : gates_.at(gate).samples) {
        peak = std::max(peak, count);
    }
    return static_cast<std::size_t>(peak);
}

boost::json::object queue_observer::report() const {
    boost::json::object out;
    for (const auto& [gate, watch] : gates_) {
        boost::json::array samples;
        for (const auto& [at, count] : watch.samples) {
            samples.push_back(boost::json::array{at, count});
        }
        boost::json::array admissions;
        for (const auto& [id, seq, active] : watch.admissions) {
            admissions.push_back(boost::json::array{boost::json::string(id), seq, active});
        }
        out[gate] = boost::json::object{
            {"capacity", watch.capacity}, {"samples", std::move(samples)}, {"admissions", std::move(admissions)}};
    }
    return out;
}

} // namespace tp::onsale
