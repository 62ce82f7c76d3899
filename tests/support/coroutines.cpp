#include "support/coroutines.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <thread>

namespace tp::test {
namespace {

// What a failed coroutine threw, as text for a test's failure list.
std::string describe(std::exception_ptr e) {
    try {
        std::rethrow_exception(std::move(e));
    } catch (const std::exception& ex) {
        return ex.what();
    } catch (...) {
        return "unknown exception";
    }
}

} // namespace

// --- running coroutines ----------------------------------------------------------------------

void run_coro(asio::io_context& ctx, awaitable<void> op, std::chrono::steady_clock::duration limit) {
    auto done = std::make_shared<bool>(false);
    auto failure = std::make_shared<std::exception_ptr>();
    auto on_done = [done, failure](std::exception_ptr e) {
        *done = true;
        *failure = e;
    };
    asio::co_spawn(ctx, std::move(op), on_done);
    ctx.restart();
    const auto deadline = std::chrono::steady_clock::now() + limit;
    // Not run_for: a connection's read loop keeps the context busy after the coroutine ended.
    while (!*done && !ctx.stopped() && std::chrono::steady_clock::now() < deadline) {
        ctx.run_one_until(deadline);
    }
    if (!*done) {
        ADD_FAILURE() << "the coroutine did not finish within the run limit (deadlock or hang?)";
        throw coroutine_timeout("coroutine did not finish in time");
    }
    if (*failure) {
        std::rethrow_exception(*failure);
    }
}

run_report run_all(asio::io_context& ctx, std::vector<awaitable<void>> ops, std::chrono::steady_clock::duration limit) {
    auto report = std::make_shared<run_report>();
    const auto total = ops.size();
    for (auto& op : ops) {
        auto on_done = [report](std::exception_ptr e) {
            ++report->finished;
            if (e) {
                report->failures.push_back(describe(e));
            }
        };
        asio::co_spawn(ctx, std::move(op), on_done);
    }
    ctx.restart();
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (report->finished < total && !ctx.stopped() && std::chrono::steady_clock::now() < deadline) {
        ctx.run_one_until(deadline);
    }
    if (report->finished < total) {
        ADD_FAILURE() << (total - report->finished) << " of " << total
                      << " coroutines did not finish within the run limit (deadlock or hang?)";
    }
    return *report;
}

std::vector<std::string> run_on_threads(
    int threads, const std::function<awaitable<void>(int)>& body, std::chrono::steady_clock::duration limit
) {
    std::vector<std::vector<std::string>> failures(static_cast<std::size_t>(threads));
    std::vector<std::thread> running;
    for (int i = 0; i < threads; ++i) {
        running.emplace_back([&, i] {
            auto& mine = failures[static_cast<std::size_t>(i)];
            asio::io_context ctx;
            bool done = false;
            auto on_done = [&](std::exception_ptr e) {
                done = true;
                if (e) {
                    try {
                        std::rethrow_exception(e);
                    } catch (const std::exception& ex) {
                        mine.push_back("thread " + std::to_string(i) + ": " + ex.what());
                    } catch (...) {
                        mine.push_back("thread " + std::to_string(i) + ": unknown exception");
                    }
                }
            };
            asio::co_spawn(ctx, body(i), on_done);
            const auto deadline = std::chrono::steady_clock::now() + limit;
            while (!done && !ctx.stopped() && std::chrono::steady_clock::now() < deadline) {
                ctx.run_one_until(deadline);
            }
            if (!done) {
                mine.push_back("thread " + std::to_string(i) + " did not finish within the run limit");
                ctx.stop();
            }
        });
    }
    for (auto& t : running) {
        t.join();
    }
    std::vector<std::string> all;
    for (auto& f : failures) {
        all.insert(all.end(), f.begin(), f.end());
    }
    return all;
}

awaitable<std::vector<std::string>>
join_all(std::vector<awaitable<void>> ops, std::chrono::steady_clock::duration limit) {
    struct joined {
        explicit joined(asio::any_io_executor ex) : all_done(ex) {}
        std::size_t left = 0;
        std::vector<std::string> failures;
        asio::steady_timer all_done;
    };
    const auto executor = co_await asio::this_coro::executor;
    auto state = std::make_shared<joined>(executor);
    state->left = ops.size();
    state->all_done.expires_after(limit);
    for (auto& op : ops) {
        auto on_done = [state](std::exception_ptr e) {
            if (e) {
                state->failures.push_back(describe(e));
            }
            if (--state->left == 0) {
                state->all_done.cancel();
            }
        };
        asio::co_spawn(executor, std::move(op), on_done);
    }
    if (state->left > 0) {
        co_await state->all_done.async_wait(asio::as_tuple(use_awaitable));
    }
    auto out = state->failures;
    if (state->left > 0) {
        out.push_back(std::to_string(state->left) + " coroutines did not finish within the limit");
    }
    co_return out;
}

awaitable<void> sleep_for(std::chrono::steady_clock::duration duration) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(duration);
    co_await timer.async_wait(use_awaitable);
}

} // namespace tp::test
