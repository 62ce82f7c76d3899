#include "http/request_reader.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <string>

namespace tp::http {
namespace beast = boost::beast;

namespace {

// What a read may bring, as Beast's own reads: at least 512 bytes of room, more as the
// buffer has grown, at most 64 KiB. A connection that has sent nothing costs 512 bytes of
// buffer, not a big one.
constexpr std::size_t most_read = std::size_t{64} * 1024;
constexpr std::size_t shortest_head = 16; // "A * HTTP/1.1\r\n\r\n"
constexpr std::string_view head_end = "\r\n\r\n";
constexpr std::size_t kept_tail = head_end.size() - 1;

// The last kept_tail bytes of what came before and what just came.
void keep_tail(std::string& tail, std::string_view arrived) {
    tail.append(arrived.substr(arrived.size() - std::min(arrived.size(), kept_tail)));
    if (tail.size() > kept_tail) {
        tail.erase(0, tail.size() - kept_tail);
    }
}

std::string_view as_view(const beast::flat_buffer& buffer) {
    const auto data = buffer.data();
    return {static_cast<const char*>(data.data()), data.size()};
}

} // namespace

std::size_t fewest_bytes_to_end_head(std::size_t received, std::string_view tail, std::size_t header_limit) {
    // How much of CRLF CRLF the tail already holds: the longest suffix of it that begins the end.
    std::size_t begun = 0;
    for (std::size_t length = std::min(tail.size(), kept_tail); length > 0; --length) {
        if (tail.ends_with(head_end.substr(0, length))) {
            begun = length;
            break;
        }
    }
    auto fewest = head_end.size() - begun;
    if (received < shortest_head) {
        fewest = std::max(fewest, shortest_head - received);
    }
    if (received < header_limit) {
        fewest = std::min(fewest, header_limit - received);
    }
    return std::max<std::size_t>(fewest, 1);
}

std::size_t least_put(const request_parser& parser) {
    constexpr std::size_t last_chunk = 5; // "0\r\n\r\n"
    return parser.is_header_done() && parser.chunked() ? last_chunk : 1;
}

void receive_low_water::set(std::size_t bytes) {
    if (bytes == current_) {
        return;
    }
    boost::system::error_code ignored; // without it the server only wakes more often
    socket_.set_option(asio::socket_base::receive_low_watermark(static_cast<int>(bytes)), ignored);
    current_ = bytes;
}

awaitable<std::tuple<boost::system::error_code, std::size_t>> read_head(
    beast::tcp_stream& stream,
    beast::flat_buffer& buffer,
    request_parser& parser,
    receive_low_water& low_water,
    std::size_t header_limit
) {
    // What is buffered already (a pipelined request's start) counts as received.
    std::size_t received = buffer.size();
    std::size_t arrived = 0;
    std::string tail;
    keep_tail(tail, as_view(buffer));
    while (!parser.is_header_done()) {
        if (buffer.size() > 0) {
            boost::system::error_code ec;
            const auto used = parser.put(buffer.data(), ec);
            buffer.consume(used);
            if (ec && ec != beast_http::error::need_more) {
                co_return std::tuple{ec, arrived};
            }
            if (!ec && used > 0) {
                continue;
            }
        }
        low_water.set(fewest_bytes_to_end_head(received, tail, header_limit));
        const auto [read_ec, bytes] = co_await stream.async_read_some(
            buffer.prepare(beast::read_size(buffer, most_read)), asio::as_tuple(use_awaitable)
        );
        buffer.commit(bytes);
        received += bytes;
        arrived += bytes;
        keep_tail(tail, as_view(buffer).substr(buffer.size() - bytes));
        if (read_ec == asio::error::eof) {
            boost::system::error_code ec = beast_http::error::end_of_stream;
            if (parser.got_some()) {
                parser.put_eof(ec); // a head cut short: partial_message
            }
            co_return std::tuple{ec, arrived};
        }
        if (read_ec) {
            co_return std::tuple{read_ec, arrived};
        }
    }
    co_return std::tuple{boost::system::error_code{}, arrived};
}

awaitable<boost::system::error_code>
read_body(beast::tcp_stream& stream, beast::flat_buffer& buffer, request_parser& parser, receive_low_water& low_water) {
    parser.eager(true);
    while (!parser.is_done()) {
        if (buffer.size() >= least_put(parser)) {
            boost::system::error_code ec;
            const auto used = parser.put(buffer.data(), ec);
            buffer.consume(used);
            if (ec && ec != beast_http::error::need_more) {
                co_return ec;
            }
            if (!ec && used > 0) {
                continue;
            }
        }
        low_water.set(1); // a body may end with any number of bytes
        const auto [read_ec, bytes] = co_await stream.async_read_some(
            buffer.prepare(beast::read_size(buffer, most_read)), asio::as_tuple(use_awaitable)
        );
        buffer.commit(bytes);
        if (read_ec == asio::error::eof) {
            boost::system::error_code ec;
            parser.put_eof(ec); // a body cut short: partial_message
            co_return ec;
        }
        if (read_ec) {
            co_return read_ec;
        }
    }
    co_return boost::system::error_code{};
}

} // namespace tp::http
