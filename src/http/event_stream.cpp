#include "http/event_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/write.hpp>

namespace tp::http {

awaitable<bool> event_stream::write(std::string data) {
    stream_.expires_after(write_timeout_);
    auto [ec, written] = co_await asio::async_write(stream_, asio::buffer(data), asio::as_tuple(use_awaitable));
    co_return !ec;
}

} // namespace tp::http
