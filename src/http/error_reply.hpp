#pragma once
// THE mapping from a refusal to an HTTP answer, used for every one (the domain's errors and
// the transport's and server's failures) so that all errors share one shape:
//   {"message": "...", "error": "<HTTP reason>", "statusCode": N, "code": "MACHINE_CODE"}

#include "domain/errc.hpp"
#include "http/failure.hpp"
#include "http/message.hpp"

#include <string_view>

namespace tp::http {

status status_of(domain::errc code);
std::string_view code_of(domain::errc code);
status status_of(failure f);
std::string_view code_of(failure f);

response error_response(const domain::error& e, unsigned version = 11);
response error_response(failure f, unsigned version = 11);

// A JSON response with the given status and already-serialised body.
response json_response(status s, std::string body, unsigned version = 11);

} // namespace tp::http
