// onsale: replays an on-sale against running ticketd instances (docs/benchmarks.md).
//
//   onsale replay --url http://127.0.0.1:8080 [--url ...] --database-url URL --redis-url URL
//          [--fans 20000] [--seats 5000] [--arrival-seconds 5] [--stream-share 0.5]
//          [--gate-capacity 5000] [--gate-rate 1000] [--connections 32] [--observations FILE]
//          [--deadline-seconds 900] [--sign-in before|arrival]
//   onsale rush   (same connection options) [--fans 20000] [--connections 50]
//   onsale churn  --database-url URL --redis-url URL --schedule ID [--rate 500] [--seconds 10]
//   onsale streams (same connection options) --stream-url URL --pid PID [--fans 18000] [--gate-rate 1000]
//          [--admit-seconds 2] [--linger-seconds 0]
//
// replay: N fans arrive at random moments within the arrival window for one schedule of M
//   seats, and each queues through the three gates (polling as Retry-After says, or on the
//   event stream), lists the seats, takes a random available one (another of the few it
//   keeps in mind on 409 SEAT_TAKEN), and pays. Fans sign in before the doors open, as
//   ticketing sites ask them to (timed on its own: "sign_in" in the report), or with
//   --sign-in arrival when they arrive. The time to sell out counts from the doors opening. Reports each endpoint's
//   rate and p50/p99, the time to sell out and what became of the fans; writes what it saw of the queue (active counts
//   sampled from Redis, every admission's arrival number and time) to --observations for the I4 checks
//   (tools/invariants.py), which also check I1-I3 in PostgreSQL.
// churn: changes seats of a schedule at a steady rate, as takes and releases would, while the
//   seat list of that schedule is measured (onsale/churn.hpp).
// streams: what one instance's open event streams of waiting fans cost it in memory, and how
//   soon they hear of an admission (onsale/waiting_streams.hpp). --url: the instances that
//   set the fans up; --stream-url and --pid: the instance measured.
// rush: the hold and payment rates at saturation, to compare with their raw SQL. Every fan
//   is first walked (untimed) to an active token for the take step, each with a seat of its
//   own; then --connections workers take the seats as fast as they are answered (timed),
//   then pay for them (timed).
//
// Prints the report as JSON on stdout and a summary on stderr; exits 1 if any exchange failed
// on the wire, was answered 5xx, or a fan met an unexpected answer.

#include "common/process_cpu.hpp"
#include "onsale/churn.hpp"
#include "onsale/fixture.hpp"
#include "onsale/for_each_fan.hpp"
#include "onsale/journey.hpp"
#include "onsale/waiting_streams.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>

namespace {

using namespace tp::onsale;
using clock_type = std::chrono::steady_clock;

struct options {
    std::string mode;
    std::vector<std::string> urls;
    std::string database_url;
    std::string redis_url;
    std::string admin_key = "dev-admin-key";
    std::string observations;
    int fans = 20000;
    int seats = 5000;
    double arrival_seconds = 5;
    double stream_share = 0.5;
    int gate_capacity = 5000;
    int gate_rate = 1000;
    int connections = 0;            // per instance (replay) or in all (rush); 0: the mode's default
    int deadline_seconds = 900;     // a run that takes longer is stopped and fails
    std::string schedule;           // churn: the schedule whose seats change
    int rate = 500;                 // churn: changes per second
    double seconds = 10;            // churn: for how long
    std::string sign_in = "before"; // replay: fans sign in "before" the doors open, or on "arrival"
    std::string stream_url;         // streams: the instance measured ...
    int pid = 0;                    // ... and its process
    double admit_seconds = 2;       // streams: how long the gate admits
    double linger_seconds = 0;      // streams: how long they stay open once measured (for a profiler)
    std::int64_t price = 50000;
};

// Every option, as one line: its name and what its value sets.
std::map<std::string, std::function<void(const std::string&)>> option_table(options& o) {
    const auto text = [](std::string& field) {
        return [&field](const std::string& v) {
            field = v;
        };
    };
    const auto whole = [](int& field) {
        return [&field](const std::string& v) {
            field = std::stoi(v);
        };
    };
    const auto real = [](double& field) {
        return [&field](const std::string& v) {
            field = std::stod(v);
        };
    };
    return {
        {"--url",
         [&o](const std::string& v) {
             o.urls.push_back(v);
         }},
        {"--database-url", text(o.database_url)},
        {"--redis-url", text(o.redis_url)},
        {"--admin-key", text(o.admin_key)},
        {"--observations", text(o.observations)},
        {"--fans", whole(o.fans)},
        {"--seats", whole(o.seats)},
        {"--arrival-seconds", real(o.arrival_seconds)},
        {"--stream-share", real(o.stream_share)},
        {"--gate-capacity", whole(o.gate_capacity)},
        {"--gate-rate", whole(o.gate_rate)},
        {"--connections", whole(o.connections)},
        {"--deadline-seconds", whole(o.deadline_seconds)},
        {"--sign-in", text(o.sign_in)},
        {"--schedule", text(o.schedule)},
        {"--rate", whole(o.rate)},
        {"--seconds", real(o.seconds)},
        {"--stream-url", text(o.stream_url)},
        {"--pid", whole(o.pid)},
        {"--admit-seconds", real(o.admit_seconds)},
        {"--linger-seconds", real(o.linger_seconds)},
    };
}

int usage(const std::string& why) {
    std::cerr
        << "onsale: " << why << "\n"
        << "usage: onsale replay|rush|streams --url http://host:port [--url ...] --database-url URL --redis-url URL\n"
           "       [--fans N] [--seats M] [--arrival-seconds S] [--stream-share F] [--gate-capacity N]\n"
           "       [--gate-rate N] [--connections N] [--admin-key KEY] [--observations FILE]\n"
           "       [--deadline-seconds S] [--sign-in before|arrival] [--stream-url URL --pid PID]\n"
           "       [--admit-seconds S]\n"
           "       onsale churn --database-url URL --redis-url URL --schedule ID [--rate N] [--seconds S]\n";
    return 64;
}

// Enough file descriptors for thousands of streams and pooled connections.
// Raises the soft file limit to the hard one; returns the limit then in force.
int raise_file_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return 1024;
    }
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
        getrlimit(RLIMIT_NOFILE, &limit);
    }
    return static_cast<int>(std::min<rlim_t>(limit.rlim_cur, std::numeric_limits<int>::max()));
}

std::string run_tag() {
    return std::to_string(std::chrono::system_clock::now().time_since_epoch().count() / 1000);
}

std::vector<std::string> gates_of(const std::string& schedule) {
    return {"performances", "performance_seats:" + schedule, "take_performance_seat:" + schedule};
}

tp::awaitable<void> sleep_until(clock_type::time_point when) {
    tp::asio::steady_timer timer(co_await tp::asio::this_coro::executor, when);
    co_await timer.async_wait(tp::asio::as_tuple(tp::use_awaitable));
}

tp::awaitable<void>
replay(const options& o, sale& s, const std::vector<fan_account>& fans, boost::json::object& report) {
    s.schedule_id = co_await create_schedule(s.client, o.admin_key, o.seats, o.price);
    for (const auto& gate : gates_of(s.schedule_id)) {
        co_await configure_gate(s.client, o.admin_key, gate, o.gate_capacity, o.gate_rate);
        s.observer.watch_gate(gate, o.gate_capacity);
    }
    const auto executor = co_await tp::asio::this_coro::executor;
    tp::asio::co_spawn(executor, s.observer.sample(std::chrono::milliseconds(5)), tp::asio::detached);

    std::uniform_real_distribution<double> arrival(0, o.arrival_seconds);
    std::bernoulli_distribution streams(o.stream_share);
    std::vector<std::unique_ptr<journey>> journeys;
    for (int i = 0; i < o.fans; ++i) {
        journeys.push_back(std::make_unique<journey>(
            s, static_cast<std::size_t>(i), streams(s.rng) ? wait_style::stream : wait_style::poll
        ));
    }
    const bool signed_in_before = o.sign_in == "before";
    if (signed_in_before) { // as many at once as the load generator has connections
        const int workers = o.connections * static_cast<int>(s.client.instances());
        int signed_in = 0;
        const double took = co_await for_each_fan(o.fans, workers, [&](int i) -> tp::awaitable<void> {
            const auto& account = fans[static_cast<std::size_t>(i)];
            signed_in += co_await journeys[static_cast<std::size_t>(i)]->sign_in(account.email, account.password);
        });
        report["sign_in"] = {{"count", signed_in}, {"seconds", took}, {"rate", signed_in / took}};
    }
    s.doors_open = clock_type::now();
    const double elapsed = co_await for_each_fan(o.fans, o.fans, [&](int i) -> tp::awaitable<void> {
        const auto at = s.doors_open +
                        std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(arrival(s.rng)));
        co_await sleep_until(at);
        auto& fan = *journeys[static_cast<std::size_t>(i)];
        const auto& account = fans[static_cast<std::size_t>(i)];
        if (signed_in_before) { // (not a ?: around co_await: GCC 12 miscompiles that)
            co_await fan.shop();
        } else {
            co_await fan.replay(account.email, account.password);
        }
        journeys[static_cast<std::size_t>(i)].reset();
    });
    s.observer.stop();
    report["schedule_id"] = s.schedule_id;
    report["seconds"] = elapsed;
    report["sold_out_seconds"] = s.sold_out_s < 0 ? boost::json::value(nullptr) : boost::json::value(s.sold_out_s);
    boost::json::object milestones;
    for (const auto& [milestone, per_second] : s.milestones) {
        milestones[milestone] = boost::json::value_from(per_second);
    }
    report["milestones_per_second"] = std::move(milestones);
}

tp::awaitable<void> rush(const options& o, sale& s, const std::vector<fan_account>& fans, boost::json::object& report) {
    s.schedule_id = co_await create_schedule(s.client, o.admin_key, o.fans, o.price);
    for (const auto& gate : gates_of(s.schedule_id)) {
        co_await configure_gate(s.client, o.admin_key, gate, 10'000'000, 10'000'000);
    }
    const auto seats = seat_ids(o.database_url, s.schedule_id);
    std::vector<std::unique_ptr<journey>> ready(fans.size());
    const auto take_path = "/reservation/take_performance_seat";
    const auto seats_path = "/reservation/performance_seats/" + s.schedule_id;
    const double prepared = co_await for_each_fan(o.fans, 500, [&](int i) -> tp::awaitable<void> {
        const auto at = static_cast<std::size_t>(i);
        auto fan = std::make_unique<journey>(s, at, wait_style::poll);
        fan->poll_every(std::chrono::milliseconds(20));
        if (!co_await fan->sign_in(fans[at].email, fans[at].password)) {
            co_return;
        }
        const auto body = R"({"performance_seat_id":")" + seats[at] + "\"}";
        // Named, not braced in the co_await: GCC 12 miscompiles braced temporaries there.
        exchange step1{beast_http::verb::get, "/reservation/performances", {}, {}};
        exchange step2{beast_http::verb::get, seats_path, {}, {}};
        exchange step3{beast_http::verb::patch, take_path, {}, body};
        co_await fan->through_gate("prepare", std::move(step1), true);
        co_await fan->through_gate("prepare", std::move(step2), true);
        co_await fan->through_gate("prepare", std::move(step3), true);
        ready[at] = std::move(fan);
    });
    s.seen = tally(clock_type::now());
    int held = 0;
    const double holding = co_await for_each_fan(o.fans, o.connections, [&](int i) -> tp::awaitable<void> {
        const auto at = static_cast<std::size_t>(i);
        if (ready[at]) {
            const auto out = co_await ready[at]->take(seats[at]);
            held += out && out->status == 200;
        }
    });
    int paid = 0;
    const double paying = co_await for_each_fan(o.fans, o.connections, [&](int i) -> tp::awaitable<void> {
        const auto at = static_cast<std::size_t>(i);
        if (ready[at]) {
            paid += co_await ready[at]->pay(seats[at]);
        }
    });
    report["schedule_id"] = s.schedule_id;
    report["prepare_seconds"] = prepared;
    report["holds"] = {{"count", held}, {"seconds", holding}, {"rate", held / holding}};
    report["payments"] = {{"count", paid}, {"seconds", paying}, {"rate", paid / paying}};
    const auto ready_count =
        static_cast<int>(std::count_if(ready.begin(), ready.end(), [](auto& f) { return f != nullptr; }));
    s.outcomes["held and paid"] = std::min(held, paid);
    for (const auto& [what, missing] :
         {std::pair{"failed: preparation", o.fans - ready_count},
          std::pair{"failed: hold", ready_count - held},
          std::pair{"failed: payment", held - paid}}) {
        if (missing > 0) {
            s.outcomes[what] = missing;
        }
    }
}

tp::awaitable<void> streams(
    const options& o,
    const std::vector<instance_address>& instances,
    sale& s,
    const std::vector<fan_account>& fans,
    boost::json::object& report
) {
    const streams_options settings{
        .set_up = instances,
        .measured = parse_base_url(o.stream_url),
        .pid = o.pid,
        .admin_key = o.admin_key,
        .gate_rate = o.gate_rate,
        .admit_seconds = o.admit_seconds,
        .connections = o.connections,
        .linger_seconds = o.linger_seconds};
    co_await waiting_streams(settings, fans, s.seen, s.outcomes, report);
}

} // namespace

int main(int argc, char** argv) {
    options o;
    if (argc < 2) {
        return usage("give a mode");
    }
    o.mode = argv[1];
    const auto table = option_table(o);
    try {
        for (int i = 2; i < argc; i += 2) {
            const std::string arg = argv[i];
            if (i + 1 >= argc) {
                return usage(arg + " needs a value");
            }
            const auto option = table.find(arg);
            if (option == table.end()) {
                return usage("unknown option " + arg);
            }
            option->second(argv[i + 1]);
        }
    } catch (const std::exception&) {
        return usage("a number was expected");
    }
    if (o.mode == "churn") {
        try {
            const int made = churn({o.database_url, o.redis_url, o.schedule, o.rate, o.seconds});
            std::cout << boost::json::serialize(boost::json::object{{"changes", made}, {"rate", made / o.seconds}})
                      << std::endl;
            return 0;
        } catch (const std::exception& e) {
            std::cerr << "onsale churn: " << e.what() << "\n";
            return 1;
        }
    }
    if ((o.mode != "replay" && o.mode != "rush" && o.mode != "streams") || o.urls.empty() || o.database_url.empty() ||
        o.redis_url.empty()) {
        return usage("give a mode, --url, --database-url and --redis-url");
    }
    if (o.fans < 1 || o.seats < 1 || o.arrival_seconds < 0 || o.stream_share < 0 || o.stream_share > 1) {
        return usage("--fans and --seats must be positive, --stream-share from 0 to 1");
    }
    if (o.sign_in != "before" && o.sign_in != "arrival") {
        return usage("--sign-in is before or arrival");
    }
    if (o.mode == "streams" && (o.stream_url.empty() || o.pid <= 0)) {
        return usage("streams needs --stream-url and --pid of the instance measured");
    }
    if (o.connections <= 0) {
        o.connections = o.mode == "rush" ? 50 : 32;
    }
    const int file_limit = raise_file_limit();

    try {
        std::vector<instance_address> instances;
        for (const auto& url : o.urls) {
            instances.push_back(parse_base_url(url));
        }
        const auto fans = insert_fans(o.database_url, run_tag(), o.fans, o.mode == "streams" ? 0 : o.price);
        tp::asio::io_context context(1);
        // rush: the workers share the instances' pools, --connections in all.
        const int per_instance =
            o.mode != "rush" ? o.connections : std::max(1, o.connections / static_cast<int>(instances.size()));
        http_client client(context.get_executor(), instances, per_instance);
        queue_observer observer(context.get_executor(), o.redis_url);
        tally seen(clock_type::now());
        sale s(client, seen, observer, o.seats);
        // Descriptors for streams: the limit less the pools, the Redis and PostgreSQL
        // connections and a margin.
        s.most_streams = std::max(0, file_limit - per_instance * static_cast<int>(instances.size()) - 256);
        boost::json::object report{{"mode", o.mode}, {"fans", o.fans}, {"instances", instances.size()}};
        std::exception_ptr failed;
        auto run = o.mode == "replay" ? replay(o, s, fans, report)
                   : o.mode == "rush" ? rush(o, s, fans, report)
                                      : streams(o, instances, s, fans, report);
        bool finished = false;
        tp::asio::co_spawn(context, std::move(run), [&](std::exception_ptr e) {
            failed = e;
            finished = true;
            observer.close();
        });
        // A fan stuck for good (an answer that never comes) must fail the run, not hang it.
        tp::asio::steady_timer deadline(context, std::chrono::seconds(o.deadline_seconds));
        deadline.async_wait([&](boost::system::error_code ec) {
            if (!ec && !finished) {
                context.stop();
            }
        });
        while (!finished && !context.stopped()) {
            context.run_one();
        }
        deadline.cancel();
        if (!finished) {
            std::cerr << "onsale: the run did not finish within " << o.deadline_seconds << " s\n";
            s.outcomes["failed: did not finish in time"] = 1;
        }
        if (failed) {
            std::rethrow_exception(failed);
        }
        boost::json::object outcomes;
        for (const auto& [what, count] : s.outcomes) {
            outcomes[what] = count;
        }
        if (o.mode != "streams") {
            report["seats"] = o.mode == "replay" ? o.seats : o.fans;
            report["sold"] = s.sold;
        }
        report["outcomes"] = std::move(outcomes);
        report["streams_polled_instead"] = s.streams_polled_instead;
        report["most_streams"] = s.most_streams;
        report["endpoints"] = seen.report();
        const auto server_errors = seen.count_statuses(500, 599);
        const auto wire_failures = seen.failures();
        std::uint64_t unexpected = 0;
        for (const auto& [what, count] : s.outcomes) {
            unexpected += what.starts_with("failed") ? static_cast<std::uint64_t>(count) : 0;
        }
        report["server_errors"] = server_errors;
        report["wire_failures"] = wire_failures;
        report["unexpected_outcomes"] = unexpected;
        report["cpu_seconds"] = tp::tools::own_cpu_seconds(); // the load generator's share of the machine
        if (!o.observations.empty()) {
            std::ofstream(o.observations) << boost::json::serialize(observer.report()) << "\n";
        }
        std::cout << boost::json::serialize(report) << std::endl;
        return server_errors + wire_failures + unexpected == 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "onsale: " << e.what() << "\n";
        return 1;
    }
}
