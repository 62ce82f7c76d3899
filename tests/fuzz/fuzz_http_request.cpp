// The request path: bytes as a client sends them on one keep-alive connection, through the
// server's own parser and limits (http::limit_request), then everything the dispatcher and
// the handlers read of each request before any I/O: the route table of api/routes.cpp and
// its captures, the credentials (user token, admin key), the queue token (header or
// ?token=), Accept-Encoding, If-None-Match, Idempotency-Key, the body's media type and, for
// a route that takes one, its JSON body reader. Refusals are values here; a crash is a bug.

#include "api/authentication.hpp"
#include "api/json_io.hpp"
#include "api/request_readers.hpp"
#include "api/routes.hpp"
#include "domain/identifiers.hpp"
#include "domain/queue.hpp"
#include "domain/seats.hpp"
#include "http/compression.hpp"
#include "http/error_reply.hpp"
#include "http/server.hpp"
#include "security/jwt.hpp"
#include "security/token_verifier.hpp"
#include "support/metrics.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace beast_http = tp::http::beast_http;
using tp::http::verb;

constexpr std::int64_t now_seconds = 1'900'000'000;
constexpr std::size_t max_requests_per_connection = 8;

struct fixture {
    tp::metrics stats;
    tp::api::route_table routes = tp::api::make_route_table(stats);
    tp::security::jwt_codec codec{"fuzz-secret"};
    tp::security::token_verifier tokens{codec, 64};
    std::string admin_key = "fuzz-admin-key";
    tp::http::server_options options; // the limits serve_command.cpp gives every server
    std::string big_json = "[" + std::string(2000, '1') + "]";
};

void require(bool invariant, const char* what) {
    if (!invariant) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

// Every {name} of the matched pattern was captured, non-empty; then the checks the handlers
// make of the captures.
void check_captures(std::string_view pattern, const tp::http::path_params& params) {
    for (auto open = pattern.find('{'); open != std::string_view::npos; open = pattern.find('{', open + 1)) {
        const auto close = pattern.find('}', open);
        const auto& value = params.at(pattern.substr(open + 1, close - open - 1));
        require(!value.empty(), "a capture is never empty");
    }
    if (pattern.ends_with("{performance_staging_date_id}")) {
        (void)tp::domain::parse_id<tp::domain::schedule_id>(params.at("performance_staging_date_id"));
    } else if (pattern.ends_with("{gate}")) {
        const auto& gate = params.at("gate");
        if (tp::domain::is_gate_name(gate)) {
            require(
                tp::domain::is_gate_name(tp::domain::gate_name(
                    gate == "performances" ? tp::domain::flow_step::performances
                                           : tp::domain::flow_step::performance_seats,
                    tp::domain::schedule_of_gate(gate)
                )),
                "a gate's schedule makes a gate name again"
            );
        }
    }
}

// The body reader of the route, as its handler calls it.
void read_body(const tp::http::request& req, std::string_view pattern) {
    auto body = tp::api::parse_json_object(req);
    if (!body) {
        (void)tp::http::error_response(body.error());
        return;
    }
    if (pattern == "/auth/signUp") {
        if (auto form = tp::api::read_sign_up(*body)) {
            (void)tp::domain::validate_sign_up(std::move(*form));
        }
    } else if (pattern == "/auth/signIn") {
        (void)tp::api::read_sign_in(*body);
    } else if (pattern == "/payment/cash") {
        if (auto amount = tp::api::read_charge(*body)) {
            (void)tp::domain::validate_charge_amount(*amount);
        }
    } else if (pattern == "/payment/payment_performance_seat") {
        (void)tp::api::read_payment(*body);
    } else if (pattern == "/reservation/take_performance_seat") {
        if (auto choice = tp::api::read_seat_choice(*body)) {
            (void)tp::domain::validate_seat_selection(choice->ids, tp::domain::hold_policy{}.max_seats_per_user);
        }
    } else if (pattern == "/queue/queue") {
        (void)tp::api::read_queue_entry(*body);
    } else if (pattern == "/admin/gates/{gate}") {
        (void)tp::api::read_gate_change(*body);
    } else if (pattern == "/admin/performances") {
        (void)tp::api::read_performance(*body);
    }
}

void handle(fixture& f, const tp::http::request& req) {
    auto found = f.routes.find(req.method(), req.target());
    if (!found) {
        (void)tp::http::error_response(found.error(), req.version());
    } else {
        const auto& entry = *found->found;
        require(entry.method == req.method(), "a route matches its own method only");
        check_captures(entry.pattern.text(), found->params);
        if (req.method() == verb::post || req.method() == verb::put || req.method() == verb::patch) {
            read_body(req, entry.pattern.text());
        }
    }
    // What the dispatcher, the gate and the handlers read of the head, whatever the route.
    if (auto user = tp::api::authenticate_user(req, f.tokens, now_seconds); !user) {
        (void)tp::http::error_response(user.error());
    }
    (void)tp::api::authenticate_admin(req, f.admin_key);
    const auto queue_token = tp::api::presented_queue_token(req);
    const auto stream_token = tp::api::stream_queue_token(req);
    require(queue_token.empty() || stream_token == queue_token, "the Queue-Token header wins over ?token=");
    (void)tp::api::idempotency_key_of(req);

    // The two ways an answer's form follows the request: a prepared (seat list) answer and a
    // JSON answer compressed in place.
    const auto identity = std::make_shared<const std::string>(f.big_json);
    const auto prepared = tp::http::prepared_json_response(
        req,
        {"\"v1-abc\"",
         identity->size(),
         [&] { return tp::http::shared_body(std::make_shared<const std::string>(tp::http::gzip(*identity))); },
         [&] {
             return tp::http::shared_body(identity);
         }}
    );
    require(
        (prepared.head.result() == tp::http::status::not_modified) == tp::http::none_match_names(req, "\"v1-abc\""),
        "304 exactly when If-None-Match names the etag"
    );
    auto res = tp::http::json_response(tp::http::status::ok, f.big_json);
    tp::http::compress_if_accepted(req, res);
    require(
        (res[beast_http::field::content_encoding] == "gzip") == tp::http::accepts_gzip(req),
        "gzip exactly when Accept-Encoding takes it"
    );
    (void)req.keep_alive();
}

struct connection_outcome {
    std::vector<tp::http::request> requests;
    boost::system::error_code error; // why reading stopped (the end of the bytes included)
    bool got_bytes = false;          // of the request that could not be read
};

// serve(): one parser per request with the server's limits, the head and then the body,
// until the bytes run out or a request is refused (the connection then closes). The bytes
// arrive `piece` at a time, as reads from the socket bring them.
connection_outcome read_connection(const fixture& f, std::string_view bytes, std::size_t piece) {
    connection_outcome out;
    std::size_t arrived = std::min(piece, bytes.size()); // read, not yet parsed
    while (out.requests.size() < max_requests_per_connection) {
        tp::http::request_parser parser;
        tp::http::limit_request(parser, f.options);
        boost::system::error_code ec;
        while (!parser.is_done()) {
            if (parser.is_header_done()) {
                parser.eager(true); // http::async_read after async_read_header
            }
            std::size_t used = 0;
            if (arrived >= tp::http::least_put(parser)) {
                used = parser.put(boost::asio::buffer(bytes.data(), arrived), ec);
                bytes.remove_prefix(used);
                arrived -= used;
            } else {
                ec = beast_http::error::need_more; // too few bytes buffered: read more first, as serve() does
            }
            if (ec == beast_http::error::need_more) {
                if (arrived == bytes.size()) { // nothing more comes: the client closed the connection
                    if (parser.got_some()) {
                        parser.put_eof(ec); // as http::read does at the end of the stream
                    } else {
                        ec = beast_http::error::end_of_stream;
                    }
                    break;
                }
                arrived = std::min(arrived + piece, bytes.size());
                ec = {};
            } else if (ec) {
                break;
            } else {
                require(used > 0 || parser.is_done(), "the parser takes what it is given");
            }
        }
        if (ec || !parser.is_done()) {
            out.error = ec;
            out.got_bytes = parser.got_some();
            return out;
        }
        out.requests.push_back(parser.release());
    }
    return out;
}

bool same(const tp::http::request& a, const tp::http::request& b) {
    if (a.method_string() != b.method_string() || a.target() != b.target() || a.version() != b.version() ||
        a.body() != b.body()) {
        return false;
    }
    auto i = a.begin();
    auto j = b.begin();
    for (; i != a.end() && j != b.end(); ++i, ++j) {
        if (i->name_string() != j->name_string() || i->value() != j->value()) {
            return false;
        }
    }
    return i == a.end() && j == b.end();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fixture f;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const auto whole = read_connection(f, bytes, bytes.size());
    const auto trickled = read_connection(f, bytes, 1 + size % 17);
    // Beast may find a bad line before the head's end when it has the bytes at once, and
    // not when they trickle in; the server's answer (http::refusal_for) is the same.
    const auto refusal = tp::http::refusal_for(whole.error, whole.got_bytes);
    if (refusal != tp::http::refusal_for(trickled.error, trickled.got_bytes)) {
        std::fprintf(
            stderr,
            "refused for '%s', or for '%s' in pieces\n",
            whole.error.message().c_str(),
            trickled.error.message().c_str()
        );
        std::abort();
    }
    if (refusal) {
        (void)tp::http::error_response(*refusal);
    }
    require(whole.requests.size() == trickled.requests.size(), "as many requests however the bytes arrive");
    for (std::size_t i = 0; i < whole.requests.size(); ++i) {
        require(same(whole.requests[i], trickled.requests[i]), "the same requests however the bytes arrive");
    }
    for (const auto& req : whole.requests) {
        require(req.body().size() <= f.options.body_limit, "the body limit holds");
        handle(f, req);
    }
    return 0;
}
