#include "storage/redis/batched_script.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <iterator>
#include <stdexcept>
#include <utility>

namespace tp::redis {

struct batched_script::batch {
    explicit batch(const asio::any_io_executor& executor) : answered(executor) {
        answered.expires_at(asio::steady_timer::time_point::max()); // cancelled once answered
    }
    script_input input;
    std::size_t calls = 0;
    std::vector<reply> answers;
    std::exception_ptr failure;
    bool done = false;
    asio::steady_timer answered;
};

batched_script::batched_script(
    client& conn,
    const script& s,
    std::size_t args_per_call,
    std::vector<std::string> shared_args,
    batch_counters counters
)
    : conn_(conn), script_(s), args_per_call_(args_per_call), shared_args_(std::move(shared_args)),
      counters_(counters) {}

batched_script::~batched_script() {
    *alive_ = false;
}

awaitable<reply> batched_script::call(batched_call c) {
    if (c.args.size() != args_per_call_) {
        throw std::logic_error("a batched script call takes " + std::to_string(args_per_call_) + " arguments");
    }
    const auto executor = co_await asio::this_coro::executor;
    auto& g = groups_[c.group];
    if (g.queued.empty() || g.queued.back()->calls == most_calls) {
        g.queued.push_back(std::make_shared<batch>(executor));
    }
    const auto b = g.queued.back();
    const std::size_t index = b->calls++;
    b->input.keys.push_back(std::move(c.key));
    std::move(c.args.begin(), c.args.end(), std::back_inserter(b->input.args));
    if (!g.sending) {
        g.sending = true;
        asio::co_spawn(executor, send_all(c.group, alive_), asio::detached);
    }
    co_await b->answered.async_wait(asio::as_tuple(use_awaitable));
    if (!b->done) {
        throw error("a batched Redis call was cancelled before its answer");
    }
    if (b->failure) {
        std::rethrow_exception(b->failure);
    }
    co_return std::move(b->answers[index]);
}

awaitable<void> batched_script::send_all(std::string group, std::shared_ptr<bool> alive) {
    // Once the handlers ready on this event loop have run: the calls they make (say, requests
    // read in the same wake-up) join the first run too.
    co_await asio::post(co_await asio::this_coro::executor, use_awaitable);
    if (!*alive) {
        co_return;
    }
    for (;;) {
        const auto found = groups_.find(group);
        if (found == groups_.end()) {
            co_return;
        }
        if (found->second.queued.empty()) {
            groups_.erase(found);
            co_return;
        }
        const auto b = std::move(found->second.queued.front());
        found->second.queued.pop_front();
        if (counters_.runs != nullptr) {
            counters_.runs->fetch_add(1, std::memory_order_relaxed);
        }
        if (counters_.calls != nullptr) {
            counters_.calls->fetch_add(b->calls, std::memory_order_relaxed);
        }
        try {
            auto input = std::move(b->input);
            input.args.insert(input.args.end(), shared_args_.begin(), shared_args_.end());
            auto answer = co_await run_script(conn_, script_, std::move(input));
            if (answer.type != reply::kind::array || answer.elements.size() != b->calls) {
                throw error(
                    "a batched Redis script answered " + std::to_string(answer.elements.size()) + " replies for " +
                    std::to_string(b->calls) + " calls"
                );
            }
            b->answers = std::move(answer.elements);
        } catch (...) {
            b->failure = std::current_exception();
        }
        b->done = true;
        b->answered.cancel();
        if (!*alive) { // destroyed meanwhile (shutdown): its groups are gone
            co_return;
        }
    }
}

} // namespace tp::redis
