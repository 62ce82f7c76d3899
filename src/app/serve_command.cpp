// `ticketd serve`: one event loop per thread, each with its own HTTP acceptor (same port,
// SO_REUSEPORT), database pool and services; nothing on the hot path is shared between
// threads. A separate small pool hashes passwords. SIGINT/SIGTERM stop accepting, let
// requests in flight finish (up to a grace period), then exit.

#include "api/dispatcher.hpp"
#include "app/background_rounds.hpp"
#include "app/commands.hpp"
#include "app/periodic_task.hpp"
#include "storage/redis/client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <list>
#include <random>
#include <sstream>
#include <thread>

namespace tp::app {
namespace {

// On a cluster a join or an admission waits for one replica before it is answered, so the
// failover of its master does not lose it (docs/waiting-queue.md, Redis Cluster).
int replicas_to_wait(const config& c) {
    if (c.redis_wait_replicas >= 0) {
        return c.redis_wait_replicas;
    }
    return c.redis_url.starts_with("redis-cluster://") ? 1 : 0;
}

constexpr auto grace_period = std::chrono::seconds(10);

std::int64_t wall_clock_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::map<std::string, std::string, std::less<>> load_swagger_ui(const std::string& dir) {
    std::map<std::string, std::string, std::less<>> files;
    for (const char* name : {"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"}) {
        std::ifstream in(dir + "/" + name, std::ios::binary);
        if (in) {
            std::ostringstream content;
            content << in.rdbuf();
            files.emplace(name, content.str());
        }
    }
    return files;
}

std::string random_instance_id() {
    std::random_device device;
    std::ostringstream out;
    out << std::hex << (device() & 0xFFFFFF);
    return out.str();
}

// A cluster's topology changes (failover, resharding) are logged once per event loop.
redis::client_options redis_client_options(int worker_index) {
    return redis::client_options{
        .timeout = std::chrono::milliseconds(2000),
        .retry_interval = std::chrono::milliseconds(250),
        .on_topology_change = [worker_index](const std::string& what) {
            spdlog::warn("msg=\"{}\" worker={}", what, worker_index);
        }};
}

// Everything one I/O thread owns.
struct worker {
    worker(
        const config& c,
        const api::settings& s,
        const api::route_table& routes,
        const security::jwt_codec& jwt,
        asio::thread_pool& hashing,
        metrics& stats,
        const std::string& instance_id,
        int index,
        const std::string& redis_url
    )
        : db(context.get_executor(),
             pg::pool_options{
                 .connection =
                     pg::connection_options{
                         .conninfo = c.database_url,
                         .connect_timeout = std::chrono::milliseconds(c.db_timeout_ms),
                         .query_timeout = std::chrono::milliseconds(c.db_timeout_ms)},
                 .max_size = static_cast<std::size_t>(c.db_pool_size),
                 .acquire_timeout = std::chrono::milliseconds(c.db_timeout_ms)}),
          redis(redis::make_client(context.get_executor(), redis_url, redis_client_options(index))), tokens(jwt),
          queue(
              *redis,
              redis::queue_options{
                  .defaults = {.capacity = c.gate_default_capacity, .rate = c.gate_default_rate},
                  .token_ttl = std::chrono::seconds(c.queue_token_ttl_seconds),
                  .record_retention = std::chrono::seconds(c.queue_record_retention_seconds),
                  // Instances tick each gate every QUEUE_TICK_MS: together, about once per period.
                  .tick_spacing = std::chrono::milliseconds(c.queue_tick_ms * 9 / 10),
                  .idle_waiting = std::chrono::seconds(c.queue_idle_seconds),
                  .idle_active = std::chrono::seconds(c.queue_active_idle_seconds),
                  .replicas_to_wait = replicas_to_wait(c),
                  .replica_wait = std::chrono::milliseconds(100),
                  .unreplicated = &stats.queue_writes_unreplicated,
                  .gate_calls = {.calls = &stats.queue_gate_calls, .runs = &stats.queue_gate_call_runs}}
          ),
          watch(context.get_executor(), queue, std::chrono::milliseconds(c.queue_tick_ms)), seat_versions(*redis),
          seat_maps(
              context.get_executor(),
              db,
              stats,
              api::seat_map_cache_options{.skip_version_check = c.fault_stale_seat_lists}
          ),
          svc{s,
              db,
              pg::user_repository(db),
              pg::catalog_repository(db),
              pg::seat_repository(db),
              pg::wallet_repository(db),
              pg::event_repository(db, !c.fault_unproven_event_pages),
              queue,
              watch,
              seat_versions,
              seat_maps,
              jwt,
              tokens,
              hashing.get_executor(),
              stats,
              wall_clock_ms},
          dispatch(routes, svc, instance_id + "-" + std::to_string(index)),
          server(
              context,
              http::server_options{
                  .endpoint = asio::ip::tcp::endpoint(asio::ip::make_address(c.listen_host), c.listen_port),
                  .header_limit = std::size_t{8} * 1024,
                  .body_limit = std::size_t{64} * 1024,
                  .header_timeout = std::chrono::seconds(c.header_timeout_seconds),
                  .request_timeout = std::chrono::seconds(c.body_timeout_seconds),
                  .write_timeout = std::chrono::seconds(30)},
              [this](http::request& req, const http::connection_info& info) { return dispatch.handle(req, info); }
          ) {}

    asio::io_context context{1};
    pg::pool db;
    std::unique_ptr<redis::client> redis;
    security::token_verifier tokens;
    redis::queue_store queue;
    redis::serving_watch watch;
    redis::seat_map_versions seat_versions;
    api::seat_map_cache seat_maps;
    api::services svc;
    api::dispatcher dispatch;
    http::server server;
};

} // namespace

int serve(const config& c) {
    const api::settings settings{
        .holds =
            domain::hold_policy{.hold_ttl_seconds = c.hold_ttl_seconds, .max_seats_per_user = c.max_seats_per_user},
        .jwt_ttl = std::chrono::seconds(c.jwt_ttl_seconds),
        .admin_api_key = c.admin_api_key,
        .swagger_ui_files = load_swagger_ui(c.swagger_ui_dir)};
    if (settings.swagger_ui_files.empty()) {
        spdlog::warn("msg=\"Swagger UI files not found; /api shows a notice\" dir={}", c.swagger_ui_dir);
    }
    if (c.dev_mode) {
        spdlog::warn("msg=\"development mode: default secrets may be in use\"");
    }
    metrics stats;
    const auto routes = api::make_route_table(stats);
    const security::jwt_codec jwt(c.jwt_secret);
    asio::thread_pool hashing(static_cast<std::size_t>(std::max(1, c.threads / 2)));
    const auto instance_id = random_instance_id();

    if (const auto problem = redis::client_url_problem(c.redis_url); !problem.empty()) {
        spdlog::error("msg=\"REDIS_URL is malformed\" url={} error=\"{}\"", c.redis_url, problem);
        return 78;
    }
    std::list<worker> workers;
    try {
        for (int i = 0; i < c.threads; ++i) {
            workers.emplace_back(c, settings, routes, jwt, hashing, stats, instance_id, i, c.redis_url);
            workers.back().server.start();
        }
    } catch (const std::exception& e) {
        spdlog::error("msg=\"cannot listen\" listen={}:{} error=\"{}\"", c.listen_host, c.listen_port, e.what());
        return 1;
    }
    stats.add_counter(
        "ticketd_accept_pauses_total",
        "Times accepting connections paused because the process or the system was out of file descriptors.",
        [&workers] {
            std::uint64_t pauses = 0;
            for (const auto& w : workers) {
                pauses += w.server.accept_pauses();
            }
            return pauses;
        }
    );
    // Background work runs on the first worker; it is safe on every instance at once.
    auto& first = workers.front();
    // A sold-out notice lost to a Redis outage shorter than `sold_out_window` is still delivered.
    const auto sweep = [&first,
                        &stats,
                        retention = std::chrono::hours(c.idempotency_retention_hours),
                        event_retention = std::chrono::hours(c.event_retention_hours),
                        sold_out_window = std::chrono::seconds(600)]() -> awaitable<void> {
        co_await sweep_expired_holds(first.svc.seats, stats);
        co_await forget_old_idempotent_answers(first.svc.wallet, retention, stats);
        co_await forget_old_sale_events(first.svc.events, event_retention, stats);
        co_await reconcile_sold_out(first.svc.wallet, first.queue, sold_out_window);
    };
    const auto tick = [&first, &stats] {
        return tick_queue_gates(first.queue, stats, first.svc.hashing);
    };
    periodic_task sweeper(first.context, "hold-sweeper", std::chrono::milliseconds(c.sweep_interval_ms), sweep);
    periodic_task ticker(first.context, "queue-ticker", std::chrono::milliseconds(c.queue_tick_ms), tick);
    sweeper.start();
    ticker.start();

    asio::io_context control{1};
    asio::signal_set signals(control, SIGINT, SIGTERM);
    asio::steady_timer grace(control);
    std::atomic<std::size_t> running{workers.size()};
    signals.async_wait([&](boost::system::error_code ec, int signal) {
        if (ec) {
            return;
        }
        spdlog::info("msg=\"shutting down\" signal={} grace_seconds={}", signal, grace_period.count());
        sweeper.stop();
        ticker.stop();
        for (auto& w : workers) {
            asio::post(w.context, [&w] {
                w.server.stop();
                w.redis->close(); // its reader would keep the loop alive forever
            });
        }
        grace.expires_after(grace_period);
        grace.async_wait([&](boost::system::error_code timer_ec) {
            if (!timer_ec) {
                // Requests still in flight hold pooled connections and sockets of loops that
                // would have to be torn down under them; leaving at once is the clean option.
                // No transaction is left half-done: uncommitted work rolls back server-side.
                spdlog::warn("msg=\"grace period over; exiting with requests in flight\"");
                spdlog::default_logger()->flush();
                std::_Exit(1);
            }
        });
    });

    std::vector<std::thread> threads;
    for (auto& w : workers) {
        threads.emplace_back([&w, &control, &grace, &running] {
            w.context.run();
            if (--running == 0) {
                asio::post(control, [&grace] { grace.cancel(); });
            }
        });
    }
    spdlog::info(
        "msg=listening listen={}:{} threads={} instance={}", c.listen_host, c.listen_port, c.threads, instance_id
    );
    control.run();
    for (auto& t : threads) {
        t.join();
    }
    hashing.join();
    spdlog::info("msg=stopped");
    spdlog::default_logger()->flush();
    return 0;
}

} // namespace tp::app
