#include "api/request_readers.hpp"

#include "api/authentication.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <limits>

namespace tp::api {
namespace {

using domain::errc;
using domain::make_error;

domain::result<domain::epoch_ms> instant(const std::string& text, std::string_view field) {
    const auto parsed = domain::parse_iso8601(text);
    if (!parsed) {
        return make_error(
            errc::bad_request, std::string(field) + " must be an ISO 8601 date-time such as 2030-01-31T19:00:00Z."
        );
    }
    return *parsed;
}

domain::result<domain::new_schedule> read_schedule(const json::value& value) {
    if (!value.is_object()) {
        return make_error(errc::bad_request, "Each schedule must be an object.");
    }
    body_reader in(value.as_object());
    domain::new_schedule schedule;
    const auto date_text = in.string("staging_date");
    if (in.has("seats")) {
        for (const auto& seat : in.array("seats")) {
            if (!seat.is_object()) {
                return make_error(errc::bad_request, "Each seat must be an object.");
            }
            body_reader seat_in(seat.as_object());
            domain::new_seat s{.seat_number = seat_in.string("seat_number"), .price = seat_in.integer("price")};
            if (seat_in.failed()) {
                return seat_in.error();
            }
            schedule.seats.push_back(std::move(s));
        }
    } else {
        const auto count = in.integer("seat_count");
        const auto price = in.integer("price");
        if (!in.failed() && (count < 1 || count > static_cast<std::int64_t>(domain::max_seats_per_schedule))) {
            return make_error(errc::bad_request, "seat_count must be from 1 to 20000.");
        }
        for (std::int64_t n = 1; !in.failed() && n <= count; ++n) {
            schedule.seats.push_back(domain::new_seat{.seat_number = std::to_string(n), .price = price});
        }
    }
    if (in.failed()) {
        return in.error();
    }
    auto date = instant(date_text, "staging_date");
    if (!date) {
        return date.error();
    }
    schedule.staging_date = *date;
    return schedule;
}

} // namespace

domain::result<domain::sign_up_form> read_sign_up(const json::object& body) {
    body_reader in(body);
    domain::sign_up_form form{
        .email_address = in.string("email_address"),
        .password = in.string("password"),
        .name = in.optional_string("name"),
        .phone_number = in.optional_string("phone_number")};
    if (in.failed()) {
        return in.error();
    }
    return form;
}

domain::result<credentials> read_sign_in(const json::object& body) {
    body_reader in(body);
    credentials given{.email_address = in.string("email_address"), .password = in.string("password")};
    if (in.failed()) {
        return in.error();
    }
    return given;
}

domain::result<domain::krw> read_charge(const json::object& body) {
    body_reader in(body);
    const auto amount = in.integer("amount");
    if (in.failed()) {
        return in.error();
    }
    return amount;
}

domain::result<domain::seat_id> read_payment(const json::object& body) {
    body_reader in(body);
    const auto given = in.string("performance_seat_id");
    if (in.failed()) {
        return in.error();
    }
    auto seat_id = domain::parse_id<domain::seat_id>(given);
    if (!seat_id) {
        return make_error(errc::bad_request, "performance_seat_id must be a UUID.");
    }
    return std::move(*seat_id);
}

domain::result<seat_choice> read_seat_choice(const json::object& body) {
    body_reader in(body);
    seat_choice choice;
    choice.many = in.has("performance_seat_ids");
    if (choice.many && in.has("performance_seat_id")) {
        return make_error(errc::bad_request, "Give performance_seat_id or performance_seat_ids, not both.");
    }
    if (choice.many) {
        choice.ids = in.string_list("performance_seat_ids");
    } else {
        choice.ids.push_back(in.string("performance_seat_id"));
    }
    if (in.failed()) {
        return in.error();
    }
    return choice;
}

domain::result<queue_entry> read_queue_entry(const json::object& body) {
    body_reader in(body);
    auto endpoint = in.string("request_endpoint");
    if (in.failed()) {
        return in.error();
    }
    auto requested = domain::parse_request_endpoint(endpoint);
    if (!requested) {
        return make_error(
            errc::bad_request, "request_endpoint must be a booking endpoint, e.g. /reservation/performances."
        );
    }
    return queue_entry{.endpoint = std::move(endpoint), .requested = std::move(*requested)};
}

domain::result<gate_change> read_gate_change(const json::object& body) {
    body_reader in(body);
    const gate_change change{.capacity = in.optional_integer("capacity"), .rate = in.optional_integer("rate")};
    if (in.failed()) {
        return in.error();
    }
    if (!change.capacity && !change.rate) {
        return make_error(errc::bad_request, "Give capacity, rate or both.");
    }
    constexpr std::int64_t limit = 10'000'000;
    for (const auto& [field, value] : {std::pair{"capacity", change.capacity}, std::pair{"rate", change.rate}}) {
        if (value && (*value < 0 || *value > limit)) {
            return make_error(errc::bad_request, std::string(field) + " must be a whole number from 0 to 10000000.");
        }
    }
    return change;
}

domain::result<domain::new_performance> read_performance(const json::object& body) {
    body_reader in(body);
    domain::new_performance p;
    p.title = in.string("title");
    const auto start_text = in.string("ticketing_start_date");
    const auto& stage = in.object("stage");
    const auto& schedules = in.array("schedules");
    if (in.failed()) {
        return in.error();
    }
    body_reader stage_in(stage);
    p.stage_name = stage_in.string("name");
    p.stage_location = stage_in.string("location");
    if (stage_in.failed()) {
        return make_error(errc::bad_request, "stage." + stage_in.error().message);
    }
    auto start = instant(start_text, "ticketing_start_date");
    if (!start) {
        return start.error();
    }
    p.ticketing_start_date = *start;
    for (const auto& s : schedules) {
        auto schedule = read_schedule(s);
        if (!schedule) {
            return schedule.error();
        }
        p.schedules.push_back(std::move(*schedule));
    }
    return domain::validate_new_performance(std::move(p));
}

domain::result<std::optional<std::string>> idempotency_key_of(const http::request& req) {
    const auto it = req.find("Idempotency-Key");
    if (it == req.end()) {
        return std::optional<std::string>{};
    }
    const std::string_view key = it->value();
    const bool printable = std::all_of(key.begin(), key.end(), [](unsigned char c) { return c > 32 && c < 127; });
    if (key.empty() || key.size() > 255 || !printable) {
        return make_error(errc::bad_request, "Idempotency-Key must be 1 to 255 visible ASCII characters.");
    }
    return std::optional(std::string(key));
}

domain::queue_token_id presented_queue_token(const http::request& req) {
    if (const auto bearer = bearer_credential(req, "Queue-Token")) {
        return domain::queue_token_id(std::string(*bearer));
    }
    const auto it = req.find("Queue-Token");
    return it == req.end() ? domain::queue_token_id{} : domain::queue_token_id(std::string(it->value()));
}

namespace {

// A whole number from 0 to `most` written in plain digits; nullopt otherwise.
std::optional<std::int64_t> whole_number(std::string_view text, std::int64_t most) {
    if (text.empty() || text.size() > 18 || !std::ranges::all_of(text, [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    std::int64_t value = 0;
    for (const char c : text) {
        value = value * 10 + (c - '0');
    }
    return value <= most ? std::optional(value) : std::nullopt;
}

} // namespace

domain::result<event_query> read_event_query(const http::request& req) {
    constexpr std::int64_t most_per_page = 1000;
    event_query out;
    const auto url = boost::urls::parse_origin_form(req.target());
    if (!url) {
        return make_error(errc::bad_request, "The query string is malformed.");
    }
    for (const auto& param : url->params()) {
        if (param.key == "after" && param.value == "latest") {
            out.from_latest = true;
        } else if (param.key == "after") {
            const auto after = whole_number(param.value, std::numeric_limits<std::int64_t>::max());
            if (!after) {
                return make_error(errc::bad_request, "after must be an event id (a whole number, 0 for the oldest).");
            }
            out.after = *after;
        } else if (param.key == "limit") {
            const auto limit = whole_number(param.value, most_per_page);
            if (!limit || *limit == 0) {
                return make_error(errc::bad_request, "limit must be a whole number from 1 to 1000.");
            }
            out.limit = static_cast<int>(*limit);
        }
    }
    if (const auto resumed = req.find("Last-Event-ID"); resumed != req.end()) {
        const auto after = whole_number(resumed->value(), std::numeric_limits<std::int64_t>::max());
        if (!after) {
            return make_error(errc::bad_request, "Last-Event-ID must be the id of an event.");
        }
        out.after = *after;
        out.from_latest = false;
    }
    return out;
}

domain::queue_token_id stream_queue_token(const http::request& req) {
    auto token = presented_queue_token(req);
    if (token.empty()) {
        const auto url = boost::urls::parse_origin_form(req.target());
        if (url) {
            const auto it = url->params().find("token");
            if (it != url->params().end()) {
                token = domain::queue_token_id((*it).value);
            }
        }
    }
    return token;
}

} // namespace tp::api
