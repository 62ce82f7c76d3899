#include "api/queue_json.hpp"

#include "domain/timestamp.hpp"

namespace tp::api {
namespace {

json::value optional_number(const std::optional<std::int64_t>& v) {
    return v ? json::value(*v) : json::value(nullptr);
}

} // namespace

// The gate's own rate if an operator set one, else the default, until a rate is measured.
std::int64_t estimated_wait_of(const domain::queue_token& t, double default_rate) {
    const double configured = t.gate_rate.value_or(default_rate);
    if (configured <= 0) {
        return domain::estimated_wait_seconds(t.rank.value_or(0), {.measured = 0, .configured = 0}); // paused
    }
    return domain::estimated_wait_seconds(t.rank.value_or(0), {.measured = t.admission_rate, .configured = configured});
}

// A pre-queued token's draw time, in the ISO 8601 form of every date of the API.
void add_opening(json::object& out, const domain::queue_token& t) {
    if (t.status == domain::token_status::pre_queue && t.opens_at) {
        out["opens_at"] = domain::format_iso8601(*t.opens_at);
    }
}

json::object token_info_json(const domain::queue_token& t, double configured_rate) {
    json::object out{
        {"id", t.id.str()},
        {"requested_endpoint", t.requested_endpoint},
        {"gate", t.gate},
        {"status", to_string(t.status)},
        {"issued_timestamp", optional_number(t.issued_timestamp)},
        {"active_timestamp", optional_number(t.active_timestamp)},
        {"expire_timestamp", optional_number(t.expire_timestamp)},
        {"rank", optional_number(t.rank)},
        {"estimated_wait_seconds", estimated_wait_of(t, configured_rate)},
    };
    add_opening(out, t);
    return out;
}

http::response waiting_answer(const domain::queue_token& t, double configured_rate) {
    const auto wait = estimated_wait_of(t, configured_rate);
    json::object queue_data{
        {"id", t.id.str()},
        {"status", to_string(t.status)},
        {"issued_timestamp", optional_number(t.issued_timestamp)},
        {"rank", optional_number(t.rank)},
        {"estimated_wait_seconds", wait}};
    add_opening(queue_data, t);
    auto res = json_answer(
        http::status::accepted,
        json::object{
            {"message", "Please wait for your order to arrive."},
            {"queue_data", std::move(queue_data)},
            {"statusCode", 202}}
    );
    res.set(http::beast_http::field::retry_after, std::to_string(domain::retry_after_seconds(wait)));
    return res;
}

} // namespace tp::api
