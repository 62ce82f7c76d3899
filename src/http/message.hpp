#pragma once
// The HTTP vocabulary of the project: Beast string-bodied requests and responses.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <string>

namespace tp::http {

namespace beast_http = boost::beast::http;

using request = beast_http::request<beast_http::string_body>;
using response = beast_http::response<beast_http::string_body>;
using status = beast_http::status;
using verb = beast_http::verb;

// A body kept elsewhere and shared by many answers (a cached seat list), sent as it is: no
// copy per request. The head it goes with has an empty body of its own.
using shared_body = std::shared_ptr<const std::string>;

struct shared_response {
    response head;
    shared_body body; // null: the head's own body is the answer (a 304, for one)
};

} // namespace tp::http
