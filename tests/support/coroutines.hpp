#pragma once
// Running coroutines in tests with a bounded run time, so a deadlock, a lost reply or a pool
// that never hands out a connection fails the test instead of hanging the run. Shared by the
// PostgreSQL and Redis integration tests.

#include "support/asio.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tp::test {

// --- running coroutines ----------------------------------------------------------------------

inline constexpr std::chrono::seconds default_run_limit{60};

class coroutine_timeout : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Runs `op` on `ctx` until it finishes, at most `limit`. Rethrows what the coroutine threw;
// records a test failure and throws coroutine_timeout if it did not finish in time.
template <class T>
T run_coro(asio::io_context& ctx, awaitable<T> op, std::chrono::steady_clock::duration limit = default_run_limit) {
    struct outcome {
        bool done = false;
        std::exception_ptr failure;
        std::optional<T> value;
    };
    auto state = std::make_shared<outcome>();
    auto on_done = [state](std::exception_ptr e, T v) {
        state->done = true;
        state->failure = e;
        if (!e) {
            state->value.emplace(std::move(v));
        }
    };
    asio::co_spawn(ctx, std::move(op), on_done);
    ctx.restart();
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!state->done && std::chrono::steady_clock::now() < deadline) {
        ctx.run_one_until(deadline);
    }
    if (!state->done) {
        ADD_FAILURE() << "the coroutine did not finish within the run limit (deadlock or hang?)";
        throw coroutine_timeout("coroutine did not finish in time");
    }
    if (state->failure) {
        std::rethrow_exception(state->failure);
    }
    return std::move(*state->value);
}

void run_coro(asio::io_context& ctx, awaitable<void> op, std::chrono::steady_clock::duration limit = default_run_limit);

// Runs all of `ops` concurrently on `ctx` until every one finished, at most `limit`.
struct run_report {
    std::size_t finished = 0;
    std::vector<std::string> failures; // what the coroutines that threw said
};
run_report run_all(
    asio::io_context& ctx,
    std::vector<awaitable<void>> ops,
    std::chrono::steady_clock::duration limit = default_run_limit
);

// Runs `body(i)` for i in 0..threads-1, each on its own thread with its own io_context, at
// most `limit`. Returns what went wrong (exceptions, threads that did not finish).
std::vector<std::string> run_on_threads(
    int threads,
    const std::function<awaitable<void>(int)>& body,
    std::chrono::steady_clock::duration limit = default_run_limit
);

// From inside a coroutine: runs `ops` concurrently on the caller's executor and waits for
// all of them, at most `limit`. Returns what went wrong (exceptions, ops still running).
// Ops still running at the limit are left running: give them shared ownership of what they use.
awaitable<std::vector<std::string>>
join_all(std::vector<awaitable<void>> ops, std::chrono::steady_clock::duration limit = default_run_limit);

// Suspends the calling coroutine for `duration` on its own executor.
awaitable<void> sleep_for(std::chrono::steady_clock::duration duration);

} // namespace tp::test
