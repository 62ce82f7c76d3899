#include "http/event_stream.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace tp::http {

event_stream::event_stream(asio::ip::tcp::socket& socket, std::chrono::seconds write_timeout, const bool& stopping)
    : socket_(socket), write_timeout_(write_timeout), stopping_(stopping), alarm_(socket.get_executor()) {
    boost::system::error_code ignored; // (if it fails, every write takes the asynchronous way)
    socket_.non_blocking(true, ignored);
}

awaitable<bool> event_stream::write(std::string data) {
    // An event is a few hundred bytes and nearly always fits in the socket's send buffer: a
    // non-blocking send writes it at once, with nothing to wait for and so no deadline to
    // keep. When thousands of streams are told of an admission at once, this is most of
    // the cost of each (docs/stream-memory.md).
    std::size_t sent = 0;
    if (socket_.non_blocking()) { // never a blocking send on the event loop
        boost::system::error_code ec;
        sent = socket_.send(asio::buffer(data), 0, ec);
        if (ec && ec != asio::error::would_block) {
            co_return false;
        }
        if (sent == data.size()) {
            co_return true;
        }
    }
    // The rest when the client reads it, within write_timeout (a client that stops reading is
    // closed). A Beast stream for this write only, for its deadline: it keeps its timers on
    // the heap, about 540 bytes that a waiting stream need not hold between events. Moving the
    // socket in and out keeps its registration with the event loop.
    boost::beast::tcp_stream writing(std::move(socket_));
    writing.expires_after(write_timeout_);
    auto [ec, written] = co_await asio::async_write(writing, asio::buffer(data) + sent, asio::as_tuple(use_awaitable));
    socket_ = writing.release_socket();
    co_return !ec;
}

} // namespace tp::http
