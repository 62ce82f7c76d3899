// Every JSON body reader of the API (api/request_readers.hpp), behind the media type check
// and the parse the handlers make (api::parse_json_object), followed by the domain rule the
// handler applies next. The first byte picks the reader, the rest is the body:
//   u sign-up   i sign-in   c charge   p pay   t take seat   q queue entry
//   g gate settings   a admin performance   (upper case: no Content-Type; other bytes: by value)
// Invariant: a reader's answer depends on the JSON value only, so the body serialised again
// by Boost.JSON reads to the same answer (the same fields, or the same error).

#include "api/json_io.hpp"
#include "api/request_readers.hpp"
#include "domain/account.hpp"
#include "domain/seats.hpp"
#include "domain/timestamp.hpp"
#include "domain/wallet.hpp"
#include "http/message.hpp"

#include <boost/json.hpp>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace json = boost::json;
using tp::domain::result;

template <class T> std::string error_or(const result<T>& r, std::string (*describe)(const T&)) {
    if (!r) {
        return "error " + std::to_string(static_cast<int>(r.error().code)) + ": " + r.error().message;
    }
    return describe(*r);
}

std::string optional_text(const std::optional<std::string>& s) {
    return s ? "\"" + *s + "\"" : "null";
}

std::string optional_number(const std::optional<std::int64_t>& n) {
    return n ? std::to_string(*n) : "null";
}

void require(bool invariant, const char* what) {
    if (!invariant) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

std::vector<tp::domain::epoch_ms> instants_of(const tp::domain::new_performance& p) {
    std::vector<tp::domain::epoch_ms> out{p.ticketing_start_date};
    for (const auto& s : p.schedules) {
        out.push_back(s.staging_date);
    }
    return out;
}

// One reader, its domain rule, and what came of both as text to compare.
std::string read(char reader, const json::object& body) {
    namespace api = tp::api;
    namespace domain = tp::domain;
    switch (reader) {
    case 'u': {
        const auto form = api::read_sign_up(body);
        auto text = error_or<domain::sign_up_form>(form, [](const domain::sign_up_form& f) {
            return f.email_address + "|" + f.password + "|" + optional_text(f.name) + "|" +
                   optional_text(f.phone_number);
        });
        if (form) {
            const auto valid = domain::validate_sign_up(*form);
            text += valid ? " valid " + valid->email_address : " refused " + valid.error().message;
        }
        return text;
    }
    case 'i':
        return error_or<api::credentials>(api::read_sign_in(body), [](const api::credentials& c) {
            return c.email_address + "|" + c.password + "|" + domain::normalise_email(c.email_address);
        });
    case 'c': {
        const auto amount = api::read_charge(body);
        auto text = error_or<domain::krw>(amount, [](const domain::krw& k) { return std::to_string(k); });
        if (amount) {
            const auto valid = domain::validate_charge_amount(*amount);
            text += valid ? " valid" : " refused " + valid.error().message;
        }
        return text;
    }
    case 'p':
        return error_or<domain::seat_id>(api::read_payment(body), [](const domain::seat_id& id) { return id.str(); });
    case 't': {
        const auto choice = api::read_seat_choice(body);
        auto text = error_or<api::seat_choice>(choice, [](const api::seat_choice& c) {
            std::string out = c.many ? "many" : "one";
            for (const auto& id : c.ids) {
                out += "|" + id;
            }
            return out;
        });
        if (choice) {
            const auto valid = domain::validate_seat_selection(choice->ids, domain::hold_policy{}.max_seats_per_user);
            text += valid ? " valid " + std::to_string(valid->size()) : " refused " + valid.error().message;
        }
        return text;
    }
    case 'q':
        return error_or<api::queue_entry>(api::read_queue_entry(body), [](const api::queue_entry& e) {
            return e.endpoint + "|" + std::to_string(static_cast<int>(e.requested.step)) + "|" +
                   e.requested.schedule_id.str();
        });
    case 'g':
        return error_or<api::gate_change>(api::read_gate_change(body), [](const api::gate_change& g) {
            return optional_number(g.capacity) + "|" + optional_number(g.rate);
        });
    default: {
        const auto performance = api::read_performance(body);
        if (performance) {
            for (const auto instant : instants_of(*performance)) {
                const auto again = domain::parse_iso8601(domain::format_iso8601(instant));
                require(again && *again == instant, "a date read formats to a date that reads the same");
            }
        }
        return error_or<domain::new_performance>(performance, [](const domain::new_performance& p) {
            std::string out =
                p.title + "|" + p.stage_name + "|" + p.stage_location + "|" + std::to_string(p.ticketing_start_date);
            for (const auto& s : p.schedules) {
                out += "|" + std::to_string(s.staging_date) + ":" + std::to_string(s.seats.size());
                for (const auto& seat : s.seats) {
                    out += "," + seat.seat_number + "=" + std::to_string(seat.price);
                }
            }
            return out;
        });
    }
    }
}

char reader_of(unsigned char first) {
    static constexpr std::string_view readers = "uicptqga";
    const auto lower = static_cast<char>(std::tolower(first));
    return readers.find(lower) != std::string_view::npos ? lower : readers[first % readers.size()];
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const char reader = reader_of(data[0]);
    tp::http::request req{tp::http::verb::post, "/", 11};
    if (std::islower(data[0]) != 0) {
        req.set(tp::http::beast_http::field::content_type, "application/json; charset=utf-8");
    }
    req.body().assign(reinterpret_cast<const char*>(data) + 1, size - 1);

    const auto body = tp::api::parse_json_object(req);
    if (!body) {
        return 0; // 400 MALFORMED_JSON, 400 (not an object) or 415: answers, not bugs
    }
    const auto first = read(reader, *body);

    req.body() = json::serialize(*body);
    const auto again = tp::api::parse_json_object(req);
    if (!again) {
        // Boost.JSON reads a number beyond a double as infinity (1e999) or NaN (0e3000) and
        // writes it as Infinity or NaN, which are not JSON; the readers refuse such numbers.
        require(
            req.body().find("Infinity") != std::string::npos || req.body().find("NaN") != std::string::npos,
            "a serialised body parses again"
        );
        return 0;
    }
    const auto second = read(reader, *again);
    if (first != second) {
        std::fprintf(stderr, "read differently once serialised again:\n  %s\n  %s\n", first.c_str(), second.c_str());
        std::abort();
    }
    return 0;
}
