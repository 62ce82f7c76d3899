#include "onsale/waiting_streams.hpp"

#include "onsale/for_each_fan.hpp"
#include "onsale/proc_memory.hpp"
#include "onsale/stream_watch.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <deque>
#include <functional>

namespace tp::onsale {
namespace {

using clock_type = std::chrono::steady_clock;
using verb = beast_http::verb;

const std::string gate = "performances";
constexpr int open_capacity = 1'000'000;     // the gate's capacity while it admits: the rate is what limits
constexpr int streams_opening_at_once = 200; // more would overflow the listen backlog (SYN retries, 1 s each)
constexpr auto update_patience = std::chrono::seconds(15);
constexpr auto settle = std::chrono::seconds(2); // before reading the memory with every stream open (and the idle CPU)

awaitable<void> sleep_for(clock_type::duration d) {
    asio::steady_timer timer(co_await asio::this_coro::executor, d);
    co_await timer.async_wait(asio::as_tuple(use_awaitable));
}

// A fresh pool of connections to the set-up instances for each phase of the run: they close
// keep-alive connections left idle for HEADER_TIMEOUT_SECONDS (10 s by default), and opening
// thousands of streams takes longer than that.
std::unique_ptr<http_client> set_up_pool(const streams_options& o, const asio::any_io_executor& executor) {
    return std::make_unique<http_client>(executor, o.set_up, o.connections);
}

// Sleeps in short steps until `done()` or `patience` has passed.
awaitable<void> wait_until(const std::function<bool()>& done, clock_type::duration patience) {
    const auto give_up = clock_type::now() + patience;
    while (!done() && clock_type::now() < give_up) {
        co_await sleep_for(std::chrono::milliseconds(50));
    }
}

struct fan_in_line {
    std::string authorization;
    std::string token;
};

awaitable<answer>
recorded(http_client& client, std::size_t i, const std::string& endpoint, const exchange& request, tally& seen) {
    auto out = co_await client.send(i, request);
    if (out.status == 0) {
        seen.failure(endpoint, out.failure);
    } else {
        seen.record(endpoint, out.status, out.latency.count(), out.waited_for_connection.count());
    }
    co_return out;
}

// Signs the fan in and calls step 1, which puts them in the paused gate's line (202).
awaitable<fan_in_line> enter_line(http_client& setup, std::size_t i, const fan_account& fan, tally& seen) {
    const auto credentials =
        boost::json::serialize(boost::json::object{{"email_address", fan.email}, {"password", fan.password}});
    const exchange sign_in{verb::post, "/auth/signIn", {}, credentials};
    const auto signed_in = co_await recorded(setup, i, "POST /auth/signIn", sign_in, seen);
    if (signed_in.status != 200) {
        co_return fan_in_line{};
    }
    fan_in_line fan_line;
    fan_line.authorization = "Bearer " + std::string(boost::json::parse(signed_in.body).at("accessToken").as_string());
    const exchange step1{verb::get, "/reservation/performances", {{"Authorization", fan_line.authorization}}, {}};
    const auto entered = co_await recorded(setup, i, "GET /reservation/performances (into the line)", step1, seen);
    if (entered.status == 202) {
        fan_line.token = std::string(boost::json::parse(entered.body).at("queue_data").at("id").as_string());
    }
    co_return fan_line;
}

boost::json::object summary_of(std::vector<double> delays_ms) {
    return {
        {"count", delays_ms.size()},
        {"p50_ms", percentile(delays_ms, 0.50)},
        {"p99_ms", percentile(delays_ms, 0.99)},
        {"max_ms", percentile(delays_ms, 1.0)}};
}

} // namespace

awaitable<void> waiting_streams(
    const streams_options& o,
    const std::vector<fan_account>& fans,
    tally& seen,
    std::map<std::string, int>& outcomes,
    boost::json::object& report
) {
    const auto count = static_cast<int>(fans.size());
    const auto workers = o.connections * static_cast<int>(o.set_up.size());
    const auto executor = co_await asio::this_coro::executor;
    auto setup = set_up_pool(o, executor);
    std::vector<instance_address> measured{o.measured}; // (named: no braces in a line with co_await, GCC 12)
    http_client streams(executor, std::move(measured), 1);
    const auto settings_before = co_await read_gate(*setup, o.admin_key, gate);
    if (settings_before.waiting != 0) {
        throw std::runtime_error(
            "the performances gate already has " + std::to_string(settings_before.waiting) +
            " fans in line: the admission moment would not be ours"
        );
    }
    co_await configure_gate(*setup, o.admin_key, gate, open_capacity, 0);

    std::vector<fan_in_line> in_line(fans.size());
    report["set_up_seconds"] = co_await for_each_fan(count, workers, [&](int i) -> awaitable<void> {
        const auto at = static_cast<std::size_t>(i);
        in_line[at] = co_await enter_line(*setup, at, fans[at], seen);
    });

    const auto rss_before = resident_kib(o.pid);
    const auto slab_before = proc_field("/proc/meminfo", "Slab:", "");
    const auto tcp_pages_before = proc_field("/proc/net/sockstat", "TCP:", "mem");
    stream_board board;
    std::deque<stream_watch> watches; // a deque: watches are referred to while others are added
    report["open_seconds"] = co_await for_each_fan(count, streams_opening_at_once, [&](int i) -> awaitable<void> {
        auto& w = watches.emplace_back(executor);
        w.token = in_line[static_cast<std::size_t>(i)].token;
        if (w.token.empty()) {
            w.failure = "set-up failed";
            co_return;
        }
        asio::co_spawn(executor, watch_stream(streams, w, board), asio::detached);
        co_await w.started.async_wait(asio::as_tuple(use_awaitable)); // until its first rank event
    });
    const auto cpu_settling = cpu_ms(o.pid);
    co_await sleep_for(settle);
    const auto idle_cpu_ms = cpu_ms(o.pid) - cpu_settling;
    const auto rss_with = resident_kib(o.pid);
    const auto slab_with = proc_field("/proc/meminfo", "Slab:", "");
    const auto tcp_pages_with = proc_field("/proc/net/sockstat", "TCP:", "mem");
    const auto ranked = std::count_if(watches.begin(), watches.end(), [](const auto& w) { return w.ranked; });
    co_await sleep_for(std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.linger_seconds))
    );

    setup = set_up_pool(o, executor);
    const auto cpu_before = cpu_ms(o.pid);
    board.watching_from_ms = unix_now_ms();
    co_await configure_gate(*setup, o.admin_key, gate, open_capacity, o.gate_rate);
    co_await sleep_for(std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.admit_seconds))
    );
    co_await configure_gate(*setup, o.admin_key, gate, open_capacity, 0);
    const auto all_told = [&] {
        return std::all_of(watches.begin(), watches.end(), [](const auto& w) {
            return !w.failure.empty() || !w.ranked || !w.next_event.empty();
        });
    };
    co_await wait_until(all_told, update_patience);
    const auto cpu_spent = cpu_ms(o.pid) - cpu_before;

    // The admission moment: the first admission after the gate opened, on Redis's clock.
    std::optional<std::int64_t> admission_ms;
    for (const auto& w : watches) {
        if (w.admitted_at_ms && (!admission_ms || *w.admitted_at_ms < *admission_ms)) {
            admission_ms = w.admitted_at_ms;
        }
    }
    std::vector<double> updates_ms;
    std::vector<double> admitted_ms;
    double last_update_ms = 0;
    for (auto& w : watches) {
        if (!w.failure.empty()) {
            ++outcomes["failed: " + w.failure];
        } else if (!w.ranked) {
            ++outcomes["failed: no first rank event"];
        } else if (w.next_event.empty() || !admission_ms) {
            ++outcomes["failed: no event after the admission"];
        } else {
            ++outcomes[w.ended ? "waited, then admitted" : "waited, told of the admission"];
            updates_ms.push_back(w.next_event_ms - static_cast<double>(*admission_ms));
            last_update_ms = std::max(last_update_ms, w.next_event_ms);
            if (w.admitted_at_ms) {
                admitted_ms.push_back(w.admitted_event_ms - static_cast<double>(*w.admitted_at_ms));
            }
        }
    }

    // Close the streams still open (a closed page), then leave the line, freeing every place.
    board.closing = true;
    for (auto& w : watches) {
        if (w.connection) {
            boost::system::error_code ignored;
            w.connection->socket().close(ignored);
        }
    }
    co_await wait_until([&] { return board.running == 0; }, std::chrono::seconds(30));
    setup = set_up_pool(o, executor);
    co_await for_each_fan(count, workers, [&](int i) -> awaitable<void> {
        const auto& fan = in_line[static_cast<std::size_t>(i)];
        if (!fan.token.empty()) {
            const exchange leave{
                verb::delete_,
                "/queue/queue",
                {{"Authorization", fan.authorization}, {"Queue-Token", "Bearer " + fan.token}},
                {}};
            co_await recorded(*setup, static_cast<std::size_t>(i), "DELETE /queue/queue", leave, seen);
        }
    });
    co_await configure_gate(
        *setup, o.admin_key, gate, static_cast<int>(settings_before.capacity), static_cast<int>(settings_before.rate)
    );

    const auto opened = static_cast<double>(std::max<std::ptrdiff_t>(ranked, 1));
    auto updates = summary_of(updates_ms);
    updates["rate"] =
        admission_ms && last_update_ms > static_cast<double>(*admission_ms)
            ? static_cast<double>(updates_ms.size()) * 1000 / (last_update_ms - static_cast<double>(*admission_ms))
            : 0.0;
    report["streams"] = count;
    report["ranked"] = ranked;
    report["rss_before_kib"] = rss_before;
    report["rss_with_streams_kib"] = rss_with;
    report["bytes_per_stream"] = static_cast<double>(rss_with - rss_before) * 1024 / opened;
    report["kernel_slab_bytes_per_stream_both_ends"] = static_cast<double>(slab_with - slab_before) * 1024 / opened;
    report["tcp_buffer_pages"] = boost::json::array{tcp_pages_before, tcp_pages_with};
    report["update_after_admission"] = std::move(updates);
    // The instance's CPU from the gate opening until every stream was told (the admissions
    // of those seconds and the wake-ups included), per stream told.
    // What the open streams cost the instance while nothing happens (timers, the serving
    // watch's reads), in percent of one core.
    report["idle_cpu_percent"] = idle_cpu_ms / 10.0 / std::chrono::duration<double>(settle).count();
    report["cpu_us_per_update"] = updates_ms.empty() ? 0.0 : cpu_spent * 1000 / static_cast<double>(updates_ms.size());
    report["admitted_event_after_own_admission"] = summary_of(admitted_ms);
    report["failed_streams"] = count - static_cast<int>(updates_ms.size());
}

} // namespace tp::onsale
