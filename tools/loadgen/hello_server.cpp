// hello_server: the machine's HTTP ceiling. The same transport as ticketd (http::server:
// Beast, one event loop per thread, SO_REUSEPORT, keep-alive, limits), answering every
// request with a fixed JSON body and doing nothing else. scripts/bench.sh measures it with
// the same load generator as ticketd, so ticketd's rates can be read as a share of it.
//
//   hello_server 127.0.0.1:8099 [threads]

#include "http/server.hpp"

#include <boost/asio/signal_set.hpp>

#include <cstdio>
#include <list>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs("usage: hello_server host:port [threads]\n", stderr);
        return 64;
    }
    const std::string listen = argv[1];
    const auto colon = listen.rfind(':');
    const auto address = tp::asio::ip::make_address(listen.substr(0, colon));
    const auto port = static_cast<unsigned short>(std::stoi(listen.substr(colon + 1)));
    const int threads = argc > 2 ? std::max(1, std::stoi(argv[2])) : 2;

    const tp::http::request_handler hello = [](tp::http::request&, const tp::http::connection_info&) {
        return [](void) -> tp::awaitable<tp::http::reply> {
            tp::http::response res{tp::http::status::ok, 11};
            res.set(boost::beast::http::field::content_type, "application/json");
            res.body() = R"({"status":"ok"})";
            co_return tp::http::reply{std::move(res), {}, {}};
        }();
    };
    std::list<tp::asio::io_context> contexts;
    std::list<tp::http::server> servers;
    for (int i = 0; i < threads; ++i) {
        auto& context = contexts.emplace_back(1);
        servers.emplace_back(context, tp::http::server_options{tp::asio::ip::tcp::endpoint(address, port)}, hello)
            .start();
    }
    tp::asio::signal_set signals(contexts.front(), SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) {
        for (auto& c : contexts) {
            c.stop();
        }
    });
    std::vector<std::thread> running;
    for (auto& c : contexts) {
        running.emplace_back([&c] { c.run(); });
    }
    for (auto& t : running) {
        t.join();
    }
    return 0;
}
