#pragma once
// THE mapping from a domain error to an HTTP answer, used for every refusal (handlers,
// routing, transport limits) so that all errors share one shape:
//   {"message": "...", "error": "<HTTP reason>", "statusCode": N, "code": "MACHINE_CODE"}

#include "domain/errc.hpp"
#include "http/message.hpp"

#include <string_view>

namespace tp::http {

status status_of(domain::errc code);
std::string_view code_of(domain::errc code);

response error_response(const domain::error& e, unsigned version = 11);

// A JSON response with the given status and already-serialised body.
response json_response(status s, std::string body, unsigned version = 11);

} // namespace tp::http
