#include "api/queue_json.hpp"

namespace tp::api {
namespace {

json::value optional_number(const std::optional<std::int64_t>& v) {
    return v ? json::value(*v) : json::value(nullptr);
}

std::int64_t wait_of(const domain::queue_token& t, double configured_rate) {
    return domain::estimated_wait_seconds(t.rank.value_or(0), t.admission_rate, configured_rate);
}

} // namespace

json::object token_info_json(const domain::queue_token& t, double configured_rate) {
    return json::object{
        {"id", t.id},
        {"requested_endpoint", t.requested_endpoint},
        {"gate", t.gate},
        {"status", to_string(t.status)},
        {"issued_timestamp", optional_number(t.issued_timestamp)},
        {"active_timestamp", optional_number(t.active_timestamp)},
        {"expire_timestamp", optional_number(t.expire_timestamp)},
        {"rank", optional_number(t.rank)},
        {"estimated_wait_seconds", wait_of(t, configured_rate)},
    };
}

http::response waiting_answer(const domain::queue_token& t, double configured_rate) {
    const auto wait = wait_of(t, configured_rate);
    auto res = json_answer(
        http::status::accepted,
        json::object{
            {"message", "Please wait for your order to arrive."},
            {"queue_data",
             json::object{
                 {"id", t.id},
                 {"issued_timestamp", optional_number(t.issued_timestamp)},
                 {"rank", optional_number(t.rank)},
                 {"estimated_wait_seconds", wait}}},
            {"statusCode", 202}}
    );
    res.set(http::beast_http::field::retry_after, std::to_string(domain::retry_after_seconds(wait)));
    return res;
}

} // namespace tp::api
