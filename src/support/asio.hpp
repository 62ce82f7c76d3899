#pragma once
// The Asio vocabulary used across the project: awaitable coroutines on an any_io_executor.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace tp {

namespace asio = boost::asio;

template <class T = void> using awaitable = asio::awaitable<T>;

constexpr auto use_awaitable = asio::use_awaitable;

} // namespace tp
