// loadgen: a closed-loop HTTP/1.1 load generator on Asio coroutines. N keep-alive
// connections each send a request, wait for the answer, and send the next, for a fixed time;
// it prints one JSON line: requests, answers by status, rate, latency percentiles, and its own
// CPU time (it shares the machine with what it measures).
//
//   loadgen --url http://127.0.0.1:8080/payment/cash --connections 50 --duration 10
//           --headers-file users.txt   (line i: headers of connection i, "K: V|K: V", cycled)
//   --url may be given once per instance: connection i talks to the (i mod n)-th.
//   --threads N runs the connections on N event loops (default 1).
//   --headers-once: the header lines are walked once across all connections instead (the
//   k-th request sent carries line k), and loadgen stops when every line has been sent or at
//   --duration, whichever comes first: each line's request is sent exactly once, for calls
//   that may be made once per caller (a fan joining a line).
//
// Used by scripts/bench.sh against ticketd and against the bare hello server, so that both
// figures come from the same client on the same machine in the same run.

#include "common/process_cpu.hpp"
#include "support/asio.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tp::asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

struct target_url {
    std::string host;
    std::string port;
    std::string target;
    tcp::resolver::results_type endpoints;
};

struct options {
    std::vector<target_url> urls;
    http::verb method = http::verb::get;
    std::string body;
    int connections = 50;
    int threads = 1; // event loops; connection i runs on loop i mod threads
    double duration_seconds = 10;
    std::vector<std::vector<std::pair<std::string, std::string>>> header_sets{{}};
    bool headers_once = false;
};

// With --headers-once, the next header line to send, shared by every connection and loop.
struct line_cursor {
    std::atomic<std::size_t> next{0};
    std::size_t lines = 0;

    std::optional<std::size_t> take() {
        const auto line = next.fetch_add(1, std::memory_order_relaxed);
        return line < lines ? std::optional{line} : std::nullopt;
    }
};

struct tally {
    std::vector<double> latencies_ms;
    std::map<unsigned, std::uint64_t> statuses;
    std::uint64_t transport_errors = 0;
};

std::vector<std::pair<std::string, std::string>> parse_headers(const std::string& line) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t start = 0;
    while (start <= line.size()) {
        const auto end = std::min(line.find('|', start), line.size());
        const auto item = line.substr(start, end - start);
        const auto colon = item.find(':');
        if (colon != std::string::npos) {
            auto value = item.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            out.emplace_back(item.substr(0, colon), value);
        }
        start = end + 1;
    }
    return out;
}

// Puts one header line on the request, replacing the line it carried before (--headers-once).
void carry_line(
    http::request<http::string_body>& req,
    const std::vector<std::pair<std::string, std::string>>* previous,
    const std::vector<std::pair<std::string, std::string>>& line
) {
    if (previous != nullptr) {
        for (const auto& [name, value] : *previous) {
            req.erase(name);
        }
    }
    for (const auto& [name, value] : line) {
        req.set(name, value);
    }
}

tp::awaitable<void>
run_connection(const options& o, int index, clock_type::time_point until, line_cursor& cursor, tally& out) {
    const auto& headers =
        o.headers_once ? o.header_sets.front() : o.header_sets[static_cast<std::size_t>(index) % o.header_sets.size()];
    const auto& url = o.urls[static_cast<std::size_t>(index) % o.urls.size()];
    const auto& endpoints = url.endpoints;
    http::request<http::string_body> req{o.method, url.target, 11};
    req.set(http::field::host, url.host);
    for (const auto& [name, value] : headers) {
        req.set(name, value);
    }
    if (!o.body.empty()) {
        req.set(http::field::content_type, "application/json");
        req.body() = o.body;
    }
    req.prepare_payload();
    const auto* carried = &headers;
    bool used_up = false;
    const auto executor = co_await tp::asio::this_coro::executor;
    while (!used_up && clock_type::now() < until) {
        beast::tcp_stream stream(executor);
        auto [connect_ec, endpoint] =
            co_await tp::asio::async_connect(stream.socket(), endpoints, tp::asio::as_tuple(tp::use_awaitable));
        if (connect_ec) {
            ++out.transport_errors;
            continue;
        }
        stream.socket().set_option(tcp::no_delay(true));
        // Beast reads at most the buffer's free capacity per call: room for large answers.
        beast::flat_buffer buffer;
        buffer.reserve(64 * 1024);
        while (clock_type::now() < until) {
            if (o.headers_once) {
                const auto line = cursor.take();
                if (!line) {
                    used_up = true;
                    break;
                }
                carry_line(req, carried, o.header_sets[*line]);
                carried = &o.header_sets[*line];
            }
            const auto started = clock_type::now();
            stream.expires_after(std::chrono::seconds(30));
            auto [write_ec, written] = co_await http::async_write(stream, req, tp::asio::as_tuple(tp::use_awaitable));
            if (write_ec) {
                ++out.transport_errors;
                break; // reconnect
            }
            http::response<http::string_body> res;
            auto [read_ec, read] =
                co_await http::async_read(stream, buffer, res, tp::asio::as_tuple(tp::use_awaitable));
            if (read_ec) {
                ++out.transport_errors;
                break;
            }
            out.latencies_ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - started).count());
            ++out.statuses[res.result_int()];
            if (!res.keep_alive()) {
                break;
            }
        }
    }
}

double percentile(std::vector<double>& sorted, double p) {
    if (sorted.empty()) {
        return 0;
    }
    const auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
    return sorted[index];
}

int usage() {
    std::fputs(
        "usage: loadgen --url http://host:port/path [--method GET|POST|PATCH|PUT|DELETE] [--body JSON]\n"
        "               [--connections N] [--threads N] [--duration SECONDS] [--header 'K: V']...\n"
        "               [--headers-file F [--headers-once]]\n",
        stderr
    );
    return 64;
}

} // namespace

int main(int argc, char** argv) {
    options o;
    std::vector<std::pair<std::string, std::string>> common;
    std::string headers_file;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--headers-once") {
            o.headers_once = true;
            continue;
        }
        if (i + 1 >= argc) {
            return usage();
        }
        const std::string value = argv[++i];
        if (arg == "--url") {
            const auto url = boost::urls::parse_uri(value);
            if (!url || url->scheme() != "http") {
                return usage();
            }
            o.urls.push_back(target_url{
                std::string(url->host()),
                url->has_port() ? std::string(url->port()) : "80",
                std::string(url->encoded_target()),
                {}});
        } else if (arg == "--method") {
            o.method = http::string_to_verb(value);
        } else if (arg == "--body") {
            o.body = value;
        } else if (arg == "--connections") {
            o.connections = std::max(1, std::stoi(value));
        } else if (arg == "--threads") {
            o.threads = std::max(1, std::stoi(value));
        } else if (arg == "--duration") {
            o.duration_seconds = std::stod(value);
        } else if (arg == "--header") {
            const auto parsed = parse_headers(value);
            common.insert(common.end(), parsed.begin(), parsed.end());
        } else if (arg == "--headers-file") {
            headers_file = value;
        } else {
            return usage();
        }
    }
    if (!headers_file.empty()) {
        std::ifstream in(headers_file);
        std::string line;
        o.header_sets.clear();
        while (std::getline(in, line)) {
            if (!line.empty()) {
                o.header_sets.push_back(parse_headers(line));
            }
        }
        if (o.header_sets.empty()) {
            std::cerr << "loadgen: no headers in " << headers_file << "\n";
            return 66;
        }
    }
    if (o.headers_once && headers_file.empty()) {
        return usage();
    }
    for (auto& set : o.header_sets) {
        set.insert(set.end(), common.begin(), common.end());
    }
    line_cursor cursor;
    cursor.lines = o.header_sets.size();

    if (o.urls.empty()) {
        return usage();
    }
    // One event loop per thread, each with its share of the connections: for answers so
    // large that one loop reading them would be the limit of the figure.
    std::vector<std::unique_ptr<tp::asio::io_context>> loops;
    for (int t = 0; t < o.threads; ++t) {
        loops.push_back(std::make_unique<tp::asio::io_context>(1));
    }
    tcp::resolver resolver(*loops.front());
    for (auto& url : o.urls) {
        url.endpoints = resolver.resolve(url.host, url.port);
    }
    std::vector<tally> tallies(static_cast<std::size_t>(o.connections));
    const auto started = clock_type::now();
    const auto until =
        started + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.duration_seconds));
    for (int i = 0; i < o.connections; ++i) {
        tp::asio::co_spawn(
            *loops[static_cast<std::size_t>(i % o.threads)],
            run_connection(o, i, until, cursor, tallies[static_cast<std::size_t>(i)]),
            tp::asio::detached
        );
    }
    std::vector<std::thread> threads;
    for (std::size_t t = 1; t < loops.size(); ++t) {
        threads.emplace_back([&loop = *loops[t]] { loop.run(); });
    }
    loops.front()->run();
    for (auto& t : threads) {
        t.join();
    }
    const double elapsed = std::chrono::duration<double>(clock_type::now() - started).count();

    tally all;
    for (auto& t : tallies) {
        all.latencies_ms.insert(all.latencies_ms.end(), t.latencies_ms.begin(), t.latencies_ms.end());
        for (const auto& [status, count] : t.statuses) {
            all.statuses[status] += count;
        }
        all.transport_errors += t.transport_errors;
    }
    std::sort(all.latencies_ms.begin(), all.latencies_ms.end());
    std::string statuses;
    for (const auto& [status, count] : all.statuses) {
        statuses += (statuses.empty() ? "" : ",") + ("\"" + std::to_string(status) + "\":" + std::to_string(count));
    }
    std::printf(
        "{\"requests\":%zu,\"seconds\":%.3f,\"rate\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
        "\"statuses\":{%s},\"transport_errors\":%llu,\"cpu_seconds\":%.3f}\n",
        all.latencies_ms.size(),
        elapsed,
        static_cast<double>(all.latencies_ms.size()) / elapsed,
        percentile(all.latencies_ms, 0.50),
        percentile(all.latencies_ms, 0.99),
        statuses.c_str(),
        static_cast<unsigned long long>(all.transport_errors),
        tp::tools::own_cpu_seconds()
    );
    return 0;
}
