#include "onsale/stream_watch.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

#include <array>

namespace tp::onsale {
namespace {

// The name of an event block ("event: rank\ndata: {...}"); empty for a comment (heartbeat).
std::string_view event_name(std::string_view block) {
    constexpr std::string_view prefix = "event: ";
    if (!block.starts_with(prefix)) {
        return {};
    }
    block.remove_prefix(prefix.size());
    return block.substr(0, block.find('\n'));
}

std::optional<std::int64_t> active_timestamp(std::string_view block) {
    const auto data = block.find("\ndata: ");
    if (data == std::string_view::npos) {
        return std::nullopt;
    }
    boost::system::error_code ec;
    const auto info = boost::json::parse(block.substr(data + 7), ec);
    if (ec || !info.is_object()) {
        return std::nullopt;
    }
    const auto* active = info.as_object().if_contains("active_timestamp");
    if (active == nullptr || !active->is_int64()) {
        return std::nullopt;
    }
    return active->as_int64();
}

// Takes in one event block; true once the stream has said its last word.
bool take_event(stream_watch& w, const stream_board& board, std::string_view block) {
    const auto name = event_name(block);
    if (name.empty()) {
        return false;
    }
    const auto now = unix_now_ms();
    if (!w.ranked && name == "rank") {
        w.ranked = true;
        w.started.cancel();
        return false;
    }
    if (board.watching_from_ms > 0 && w.next_event.empty()) {
        w.next_event = std::string(name);
        w.next_event_ms = now;
    }
    if (name == "admitted") {
        w.admitted_at_ms = active_timestamp(block);
        w.admitted_event_ms = now;
    }
    return name == "admitted" || name == "sold_out";
}

} // namespace

double unix_now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
}

awaitable<void> watch_stream(http_client& client, stream_watch& w, stream_board& board) {
    ++board.running;
    auto attempt = co_await client.open(0);
    w.connection = std::move(attempt.stream);
    if (!w.connection) {
        w.failure = "connect: " + attempt.error.message();
    } else {
        beast_http::request<beast_http::empty_body> req{
            beast_http::verb::get, "/queue/queue/stream?token=" + w.token, 11};
        req.set(beast_http::field::host, client.address(0).host);
        req.set(beast_http::field::accept, "text/event-stream");
        w.connection->expires_never();
        auto [write_ec, written] = co_await beast_http::async_write(*w.connection, req, asio::as_tuple(use_awaitable));
        std::string pending; // read but not yet taken in: the head, then a partial event
        bool head_read = false;
        std::array<char, 512> chunk{};
        while (!write_ec && !w.ended) {
            auto [read_ec, n] =
                co_await w.connection->async_read_some(asio::buffer(chunk), asio::as_tuple(use_awaitable));
            if (read_ec) {
                w.failure = board.closing ? "" : "broke off: " + read_ec.message();
                break;
            }
            pending.append(chunk.data(), n);
            if (!head_read) {
                const auto end = pending.find("\r\n\r\n");
                if (end == std::string::npos) {
                    continue;
                }
                if (!pending.starts_with("HTTP/1.1 200")) {
                    w.failure = "answered " + pending.substr(0, pending.find('\r'));
                    break;
                }
                head_read = true;
                pending.erase(0, end + 4);
            }
            for (auto end = pending.find("\n\n"); end != std::string::npos && !w.ended; end = pending.find("\n\n")) {
                w.ended = take_event(w, board, std::string_view(pending).substr(0, end));
                pending.erase(0, end + 2);
            }
        }
        if (write_ec) {
            w.failure = "write: " + write_ec.message();
        }
    }
    w.started.cancel();
    --board.running;
}

} // namespace tp::onsale
