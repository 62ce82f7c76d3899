#include "http/event_stream.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace tp::http {

awaitable<bool> event_stream::write(std::string data) {
    // A Beast stream for this write only, for its deadline (a client that stops reading is
    // closed after write_timeout): it keeps its timers on the heap, about 540 bytes that a
    // waiting stream need not hold between events. Moving the socket in and out keeps its
    // registration with the event loop.
    boost::beast::tcp_stream writing(std::move(socket_));
    writing.expires_after(write_timeout_);
    auto [ec, written] = co_await asio::async_write(writing, asio::buffer(data), asio::as_tuple(use_awaitable));
    socket_ = writing.release_socket();
    co_return !ec;
}

} // namespace tp::http
