// trickle: clients that never finish a request head (the "slowloris" attack). N connections
// to one URL, opened over a ramp, each sending a request head one byte at a time at an
// interval, a head that never ends, so the server can only close them; it prints one JSON
// line: connections opened, closed by the server and how long after their opening (p50,
// p99, max), answered before being closed, outliving the give-up time, failed to open, the
// pace it kept (bytes sent per second a connection was open: 1 / interval when it kept up)
// and its own CPU time (it shares the machine with what it measures).
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
#include <deque>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
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
    double open_seconds = 0; // summed over every connection once closed: bytes_sent / open_seconds is the pace kept
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
// it wrote first, if any. Also ends when the pacer closes the socket at the give-up time.
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

// Every open connection's next byte is due one interval after its last, and every interval is
// the same, so the connections due next are always at the front of one FIFO: one pacer wakes
// a hundred times a second and sends each due connection its byte with a plain send(2). (A
// timer per connection would cost this tool an epoll wake-up and a timerfd re-arm per byte,
// a quarter of a core at 10,000 connections, taken from the machine it measures.)
struct due_byte {
    clock_type::time_point at;
    int slot;
    std::uint64_t generation; // the slot's connection when this was queued (it may have ended since)
};

struct open_connection {
    tcp::socket* socket = nullptr; // null while the slot has no connection open
    std::uint64_t generation = 0;
    std::uint64_t next_byte = 0;
    clock_type::time_point give_up_at;
    bool gave_up = false; // closed by this tool at the give-up time
};

struct pacer {
    const options& o;
    const std::string& head;
    tally& t;
    std::vector<open_connection> slots;
    std::deque<due_byte> due;

    // The next byte of the slot's head, then queued again one interval later. A failed send
    // is left to the reader: the server's close or reset ends the connection there.
    void send_next(int slot) {
        auto& c = slots[static_cast<std::size_t>(slot)];
        const char byte = head_byte(head, c.next_byte);
        if (::send(c.socket->native_handle(), &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1) {
            ++c.next_byte;
            ++t.bytes_sent;
        }
        due.push_back({clock_type::now() + seconds(o.interval_seconds), slot, c.generation});
    }

    void opened(int slot, tcp::socket& socket, clock_type::time_point at) {
        auto& c = slots[static_cast<std::size_t>(slot)];
        c = {&socket, c.generation + 1, 0, at + seconds(o.give_up_seconds), false};
        send_next(slot);
    }

    // True if the tool closed it at the give-up time.
    bool closed(int slot) {
        auto& c = slots[static_cast<std::size_t>(slot)];
        c.socket = nullptr;
        return c.gave_up;
    }

    // Runs until every slot is done (their last connections closed).
    tp::awaitable<void> run() {
        asio::steady_timer tick(co_await asio::this_coro::executor);
        while (t.slots_running > 0) {
            const auto now = clock_type::now();
            while (!due.empty() && due.front().at <= now) {
                const auto [at, slot, generation] = due.front();
                due.pop_front();
                auto& c = slots[static_cast<std::size_t>(slot)];
                if (c.socket == nullptr || c.generation != generation) {
                    continue;
                }
                if (now >= c.give_up_at) {
                    c.gave_up = true;
                    boost::system::error_code ignored;
                    c.socket->close(ignored); // ends its reader, which counts it
                    continue;
                }
                send_next(slot);
            }
            tick.expires_after(std::chrono::milliseconds(10));
            co_await tick.async_wait(asio::as_tuple(tp::use_awaitable));
        }
    }
};

// The ready file is written when the last slot has its first connection open (not when N
// are open at once: with a ramp longer than the header timeout, that moment never comes).
void note_first_open(const options& o, tally& t) {
    if (++t.slots_opened == o.connections && !o.ready_file.empty()) {
        std::ofstream(o.ready_file) << t.open_now << "\n";
    }
}

// One connection, from its connect to its close. False if it could not be opened.
tp::awaitable<bool>
one_connection(const options& o, const tcp::endpoint& endpoint, int slot, bool first, pacer& bytes, tally& t) {
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

    bytes.opened(slot, socket, opened_at);
    const std::size_t answer_bytes = co_await until_closed(socket);
    const double after = std::chrono::duration<double>(clock_type::now() - opened_at).count();
    t.open_seconds += after;
    if (bytes.closed(slot)) {
        ++t.outlived;
    } else {
        ++t.closed_by_server;
        t.closed_after_seconds.push_back(after);
        if (answer_bytes > 0) {
            ++t.answered;
        }
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
    int slot,
    clock_type::time_point first_open,
    pacer& bytes,
    tally& t,
    asio::signal_set& signals
) {
    asio::steady_timer pause(co_await asio::this_coro::executor, first_open);
    co_await pause.async_wait(asio::as_tuple(tp::use_awaitable));
    bool first = true;
    do {
        if (co_await one_connection(o, endpoint, slot, first, bytes, t)) {
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
    pacer bytes{o, head, t, std::vector<open_connection>(static_cast<std::size_t>(o.connections)), {}};
    for (int i = 0; i < o.connections; ++i) {
        const auto first_open = started + seconds(o.ramp_seconds * i / o.connections);
        asio::co_spawn(loop, run_slot(o, endpoint, i, first_open, bytes, t, signals), asio::detached);
    }
    asio::co_spawn(loop, bytes.run(), asio::detached);
    loop.run();
    const double elapsed = std::chrono::duration<double>(clock_type::now() - started).count();

    auto& after = t.closed_after_seconds;
    std::sort(after.begin(), after.end());
    std::printf(
        "{\"connections\":%d,\"opened\":%llu,\"failed_to_open\":%llu,\"closed_by_server\":%llu,\"answered\":%llu,"
        "\"outlived\":%llu,\"most_open\":%d,\"closed_after\":{\"p50_s\":%.3f,\"p99_s\":%.3f,\"max_s\":%.3f},"
        "\"bytes_sent\":%llu,\"bytes_per_connection_second\":%.3f,\"seconds\":%.3f,\"cpu_seconds\":%.3f}\n",
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
        t.open_seconds > 0 ? static_cast<double>(t.bytes_sent) / t.open_seconds : 0.0,
        elapsed,
        tp::tools::own_cpu_seconds()
    );
    return 0;
}
