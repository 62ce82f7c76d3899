#pragma once
// Reading one request off a connection: its head within the header timeout, then its body.
// The server reads with these instead of Beast's async_read for two reasons (docs/architecture.md,
// "Reading a request"):
//
// - The head is read with the socket's receive low-water mark (SO_RCVLOWAT) set to the
//   fewest bytes that could still end it, so the kernel does not wake the server for each
//   byte of a head that trickles in. A client sending a head one byte a second is woken for
//   once or twice before the header timeout closes it, not for every byte.
// - A body is given to the parser least_put() bytes at a time (a Boost 1.81 bug, below).

#include "http/message.hpp"
#include "support/asio.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <string_view>
#include <tuple>

namespace tp::http {

// The parser of one request, held to the server's limits: a head above its header limit
// fails with header_limit (431), a body above its body limit with body_limit (413).
using request_parser = beast_http::request_parser<beast_http::string_body>;

// The fewest bytes that could still complete a head of which `received` bytes have come,
// the last of them `tail` (up to three): a head is at least 16 bytes ("A * HTTP/1.1\r\n\r\n")
// and ends with CRLF CRLF, and the parser answers header_limit once it holds `header_limit`
// bytes. Never 0. A malformed head shorter than 16 bytes is refused once 16 bytes have
// come or the client closes; one that never gets there is closed by the header timeout.
std::size_t fewest_bytes_to_end_head(std::size_t received, std::string_view tail, std::size_t header_limit);

// The fewest buffered bytes the parser is given at once. Boost 1.81's parser asserts (in
// builds with assertions) when a chunked body's last chunk reaches it as "0\r\n" and then
// one byte more (boostorg/beast#2861, fixed in later Boost); the rest of a chunked body is
// never shorter than five bytes ("0\r\n\r\n"), so waiting for five never stalls a request.
std::size_t least_put(const request_parser& parser);

// SO_RCVLOWAT of one socket, changed only when it differs from what was last set.
class receive_low_water {
public:
    explicit receive_low_water(asio::ip::tcp::socket& socket) : socket_(socket) {}
    void set(std::size_t bytes);

private:
    asio::ip::tcp::socket& socket_;
    std::size_t current_ = 1; // the kernel's default
};

// Reads until the parser has the head (as beast::http::async_read_header does); returns the
// error and how many bytes came. A connection closed before any byte is end_of_stream, one
// closed within a head partial_message.
awaitable<std::tuple<boost::system::error_code, std::size_t>> read_head(
    boost::beast::tcp_stream& stream,
    boost::beast::flat_buffer& buffer,
    request_parser& parser,
    receive_low_water& low_water,
    std::size_t header_limit
);

// Reads the rest of a request whose head is in (as beast::http::async_read does).
awaitable<boost::system::error_code> read_body(
    boost::beast::tcp_stream& stream,
    boost::beast::flat_buffer& buffer,
    request_parser& parser,
    receive_low_water& low_water
);

} // namespace tp::http
