#pragma once
// Refusals that are not the domain's: a request the transport cannot take (malformed, too
// slow, too big, no such route) or a server that cannot answer it (a dependency down, a bug).
// The domain's refusals are domain::errc. Both are answered by http::error_response, whose
// file (http/error_reply.cpp) is the one mapping to HTTP statuses and machine codes.

#include <boost/system/result.hpp>

#include <string_view>

namespace tp::http {

enum class failure {
    // The transport's.
    malformed_request,
    malformed_target,
    body_too_large,
    headers_too_large,
    route_not_found,
    method_not_allowed,
    // The server's.
    database_unavailable,
    queue_unavailable,
    internal,
};

std::string_view default_message(failure f);

template <class T> using result = boost::system::result<T, failure>;

// Lets `result<T>::value()` throw when a caller insists on a value that is a failure.
[[noreturn]] void throw_exception_from_error(failure f, const boost::source_location& loc);

} // namespace tp::http
