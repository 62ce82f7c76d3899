#pragma once
// The HTTP vocabulary of the project: Beast string-bodied requests and responses.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace tp::http {

namespace beast_http = boost::beast::http;

using request = beast_http::request<beast_http::string_body>;
using response = beast_http::response<beast_http::string_body>;
using status = beast_http::status;
using verb = beast_http::verb;

} // namespace tp::http
