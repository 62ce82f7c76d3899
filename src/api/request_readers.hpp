#pragma once
// What a request says, read and checked before any I/O: each JSON body of the API, field by
// field (the first bad field gives a precise 400), and the headers handlers read. The
// handlers call these and go on to the domain rules and the repositories; being pure, they
// are also what tests/fuzz/fuzz_json_bodies.cpp feeds.

#include "api/json_io.hpp"
#include "domain/account.hpp"
#include "domain/catalog.hpp"
#include "domain/identifiers.hpp"
#include "domain/queue.hpp"
#include "domain/wallet.hpp"
#include "http/message.hpp"

#include <optional>
#include <string>
#include <vector>

namespace tp::api {

// POST /auth/signUp: {email_address, password, name?, phone_number?}, not yet validated.
domain::result<domain::sign_up_form> read_sign_up(const json::object& body);

// POST /auth/signIn: {email_address, password}.
struct credentials {
    std::string email_address;
    std::string password;
};
domain::result<credentials> read_sign_in(const json::object& body);

// POST /payment/cash: {amount}, a whole number not yet validated.
domain::result<domain::krw> read_charge(const json::object& body);

// POST /payment/payment_performance_seat: {performance_seat_id}, a UUID.
domain::result<domain::seat_id> read_payment(const json::object& body);

// PATCH /reservation/take_performance_seat: {performance_seat_id} (the seed's form, answered
// with one seat) or {performance_seat_ids: [...]} (all or nothing, answered with a list).
struct seat_choice {
    std::vector<std::string> ids;
    bool many = false;
};
domain::result<seat_choice> read_seat_choice(const json::object& body);

// POST /queue/queue: {request_endpoint}, a booking endpoint.
struct queue_entry {
    std::string endpoint;
    domain::requested_step requested;
};
domain::result<queue_entry> read_queue_entry(const json::object& body);

// PUT /admin/gates/{gate}: {capacity?, rate?}, at least one, each from 0 to 10000000.
struct gate_change {
    std::optional<std::int64_t> capacity;
    std::optional<std::int64_t> rate;
};
domain::result<gate_change> read_gate_change(const json::object& body);

// POST /admin/performances: the stage, the performance and its schedules with their seats,
// listed or generated; validated by the domain's catalog rules.
domain::result<domain::new_performance> read_performance(const json::object& body);

// GET /admin/events and GET /admin/events/stream: ?after= (an event id, default 0: from the
// oldest kept; `latest`: from now on; a Last-Event-ID header wins, as a reconnecting client
// sends it) and ?limit= (1 to 1000, default 100).
struct event_query {
    std::int64_t after = 0;
    bool from_latest = false; // after=latest
    int limit = 100;
};
domain::result<event_query> read_event_query(const http::request& req);

// The Idempotency-Key header of a charge or a payment: nullopt when absent, an error when
// not 1 to 255 visible ASCII characters.
domain::result<std::optional<std::string>> idempotency_key_of(const http::request& req);

// The token id of a Queue-Token header ("Bearer <id>" or the bare id); empty when absent.
domain::queue_token_id presented_queue_token(const http::request& req);

// The queue token of GET /queue/queue/stream: the Queue-Token header or, for browsers'
// EventSource (which cannot set headers), ?token= in the target; empty when neither.
domain::queue_token_id stream_queue_token(const http::request& req);

} // namespace tp::api
