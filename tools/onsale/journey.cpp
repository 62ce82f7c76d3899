#include "onsale/journey.hpp"

#include "domain/queue.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <functional>

namespace tp::onsale {
namespace {

using clock_type = std::chrono::steady_clock;
using verb = beast_http::verb;

// Counts an event stream as open for as long as it is in scope.
class open_stream_count {
public:
    explicit open_stream_count(int& open) : open_(&open) { ++*open_; }
    ~open_stream_count() { --*open_; }
    open_stream_count(const open_stream_count&) = delete;
    open_stream_count& operator=(const open_stream_count&) = delete;

private:
    int* open_;
};

const std::string queue_status_endpoint = "GET /queue/queue";
const std::string stream_endpoint = "GET /queue/queue/stream (time in line)";
const std::string take_endpoint = "PATCH /reservation/take_performance_seat";
const std::string pay_endpoint = "POST /payment/payment_performance_seat";

// Seats a fan keeps in mind from the map, tried in turn while others take them.
constexpr std::size_t seats_in_mind = 16;

awaitable<void> sleep_for(clock_type::duration d) {
    asio::steady_timer timer(co_await asio::this_coro::executor, d);
    co_await timer.async_wait(asio::as_tuple(use_awaitable));
}

std::string error_code_of(const answer& a) {
    boost::system::error_code ec;
    const auto body = boost::json::parse(a.body, ec);
    if (ec || !body.is_object() || !body.as_object().contains("code")) {
        return {};
    }
    return std::string(body.at("code").as_string());
}

std::chrono::seconds retry_after(const answer& a) {
    try {
        return std::chrono::seconds(a.retry_after.empty() ? 1 : std::stoi(a.retry_after));
    } catch (const std::exception&) {
        return std::chrono::seconds(1);
    }
}

} // namespace

std::vector<std::string> available_seats(const std::string& seat_list_json, std::size_t at_most, std::mt19937_64& rng) {
    // Seats are flat objects: instead of building a JSON tree, find each available status
    // (a skipping search: most of the text is seat ids) and the id of the object it is in,
    // since every fan reads a list of thousands of seats on the same cores as the servers.
    // The choice is a partial shuffle: every available seat has the same chance.
    static const std::string_view status = R"("reservation_status":"AVAILABLE")";
    static const std::boyer_moore_horspool_searcher find_status(status.begin(), status.end());
    const std::string_view json(seat_list_json);
    std::vector<std::string_view> ids;
    for (auto at = json.begin();;) {
        const auto found = std::search(at, json.end(), find_status);
        if (found == json.end()) {
            break;
        }
        const auto position = static_cast<std::size_t>(found - json.begin());
        const auto open = json.rfind('{', position);
        const auto id = open == std::string_view::npos ? open : json.find(R"("id":")", open);
        if (id != std::string_view::npos && id < position) {
            const auto from = id + 6;
            ids.push_back(json.substr(from, json.find('"', from) - from));
        }
        at = found + static_cast<std::ptrdiff_t>(status.size());
    }
    const auto chosen = std::min(at_most, ids.size());
    for (std::size_t i = 0; i < chosen; ++i) {
        std::swap(ids[i], ids[std::uniform_int_distribution<std::size_t>(i, ids.size() - 1)(rng)]);
    }
    return {ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(chosen)};
}

awaitable<std::optional<answer>> journey::call(const std::string& endpoint, exchange request) {
    request.headers.emplace_back("Authorization", authorization_);
    if (!queue_token_.empty()) {
        request.headers.emplace_back("Queue-Token", "Bearer " + queue_token_);
    }
    auto out = co_await sale_.client.send(index_ + calls_++, request); // spread over the instances
    if (out.status == 0) {
        sale_.seen.failure(endpoint, out.failure);
        co_return std::nullopt;
    }
    sale_.seen.record(endpoint, out.status, out.latency.count(), out.waited_for_connection.count());
    co_return out;
}

awaitable<bool> journey::sign_in(const std::string& email, const std::string& password) {
    const auto body = boost::json::serialize(boost::json::object{{"email_address", email}, {"password", password}});
    exchange request{verb::post, "/auth/signIn", {}, body};
    const auto out = co_await call("POST /auth/signIn", std::move(request));
    if (!out || out->status != 200) {
        co_return false;
    }
    authorization_ = "Bearer " + std::string(boost::json::parse(out->body).at("accessToken").as_string());
    co_return true;
}

awaitable<passed> journey::through_gate(const std::string& endpoint, exchange request, bool stop_when_admitted) {
    for (;;) {
        auto out = co_await call(endpoint, request);
        if (!out || out->status != 202) {
            co_return passed{std::move(out), queue_token_};
        }
        queue_token_ = std::string(boost::json::parse(out->body).at("queue_data").at("id").as_string());
        if (!co_await wait_in_line(queue_token_, retry_after(*out))) {
            co_return passed{std::nullopt, queue_token_};
        }
        if (stop_when_admitted) {
            co_return passed{std::nullopt, queue_token_};
        }
    }
}

awaitable<bool> journey::wait_in_line(const std::string& token, std::chrono::seconds first_delay) {
    std::optional<bool> admitted;
    if (style_ == wait_style::stream) {
        admitted = co_await wait_on_stream(token);
    }
    if (!admitted) { // polling, or the stream broke off
        admitted = co_await wait_by_polling(first_delay);
    }
    if (admitted.value_or(false)) {
        co_await sale_.observer.admitted(token);
    }
    co_return admitted.value_or(false);
}

awaitable<std::optional<bool>> journey::wait_by_polling(std::chrono::seconds first_delay) {
    clock_type::duration delay = first_delay;
    for (;;) {
        if (poll_every_) {
            delay = *poll_every_;
        }
        co_await sleep_for(delay);
        exchange request{verb::get, "/queue/queue", {}, {}};
        const auto out = co_await call(queue_status_endpoint, std::move(request));
        if (!out || out->status != 200) {
            co_return false;
        }
        const auto info = boost::json::parse(out->body);
        const auto status = std::string(info.at("status").as_string());
        if (status == "ACTIVE") {
            co_return true;
        }
        if (status != "WAITING") {
            co_return false; // SOLD_OUT, or EXPIRED (the gated call puts it back in line)
        }
        // As a browser would: come back when the server says (half the estimated wait).
        delay =
            std::chrono::seconds(domain::retry_after_seconds(info.at("estimated_wait_seconds").to_number<std::int64_t>()
            ));
    }
}

awaitable<std::optional<bool>> journey::wait_on_stream(const std::string& token) {
    if (sale_.open_streams >= sale_.most_streams) {
        ++sale_.streams_polled_instead; // no descriptor left for it here: not the server's doing
        co_return std::nullopt;
    }
    const open_stream_count counted(sale_.open_streams);
    const auto instance = index_ + calls_++;
    auto [stream, connect_error] = co_await sale_.client.open(instance % sale_.client.instances());
    if (!stream) {
        sale_.seen.failure(stream_endpoint, "connect: " + connect_error.message());
        co_return std::nullopt;
    }
    const auto started = clock_type::now();
    beast_http::request<beast_http::empty_body> req{verb::get, "/queue/queue/stream?token=" + token, 11};
    req.set(beast_http::field::host, sale_.client.address(instance % sale_.client.instances()).host);
    req.set(beast_http::field::accept, "text/event-stream");
    stream->expires_never();
    auto [write_ec, written] = co_await beast_http::async_write(*stream, req, asio::as_tuple(use_awaitable));
    std::string seen; // the unread tail of the stream: rank events come on every change
    char chunk[4096];
    std::string failure = "write: " + write_ec.message();
    while (!write_ec) {
        auto [read_ec, n] = co_await stream->async_read_some(asio::buffer(chunk), asio::as_tuple(use_awaitable));
        if (read_ec) {
            failure = "read before admitted or sold_out: " + read_ec.message();
            break;
        }
        seen.append(chunk, n);
        const bool admitted = seen.find("event: admitted") != std::string::npos;
        if (admitted || seen.find("event: sold_out") != std::string::npos) {
            sale_.seen.record(
                stream_endpoint, 200, std::chrono::duration<double, std::milli>(clock_type::now() - started).count()
            );
            co_return admitted;
        }
        // Keep only what could be the start of a final event cut in two by the read.
        seen.erase(0, seen.size() > 32 ? seen.size() - 32 : 0);
    }
    sale_.seen.failure(stream_endpoint, failure);
    co_return std::nullopt;
}

awaitable<std::optional<answer>> journey::take(const std::string& seat_id) {
    const auto body = boost::json::serialize(boost::json::object{{"performance_seat_id", seat_id}});
    exchange request{verb::patch, "/reservation/take_performance_seat", {}, body};
    auto result = co_await through_gate(take_endpoint, std::move(request));
    co_return std::move(result.served);
}

awaitable<bool> journey::pay(const std::string& seat_id) {
    const auto body = boost::json::serialize(boost::json::object{{"performance_seat_id", seat_id}});
    exchange request{verb::post, "/payment/payment_performance_seat", {}, body};
    const auto out = co_await call(pay_endpoint, std::move(request));
    if (!out || out->status != 201) {
        co_return false;
    }
    sale_.reached("4 paid");
    if (++sale_.sold == sale_.seats) {
        sale_.sold_out_s = std::chrono::duration<double>(clock_type::now() - sale_.doors_open).count();
    }
    co_return true;
}

awaitable<void> journey::finish(std::string outcome) {
    ++sale_.outcomes[outcome];
    if (outcome != "bought a seat") {
        sale_.reached("5 gave up or told sold out");
    }
    if (outcome != "bought a seat" && !queue_token_.empty()) {
        exchange leave{verb::delete_, "/queue/queue", {}, {}};
        co_await call("DELETE /queue/queue", std::move(leave));
    }
}

awaitable<void> journey::replay(const std::string& email, const std::string& password) {
    if (!co_await sign_in(email, password)) {
        co_return co_await finish("failed: sign in");
    }
    co_await shop();
}

awaitable<void> journey::shop() {
    exchange list_performances{verb::get, "/reservation/performances", {}, {}};
    const auto listed = co_await through_gate("GET /reservation/performances", std::move(list_performances));
    if (!listed.served || listed.served->status != 200) {
        co_return co_await finish("failed: performances");
    }
    sale_.reached("1 listed performances");
    const auto seats_path = "/reservation/performance_seats/" + sale_.schedule_id;
    exchange list_seats{verb::get, seats_path, {}, {}};
    auto seats = co_await through_gate("GET /reservation/performance_seats/{id}", std::move(list_seats));
    if (!seats.served || seats.served->status != 200) {
        const bool sold_out = seats.served && error_code_of(*seats.served) == "SOLD_OUT";
        co_return co_await finish(sold_out || !seats.served ? "sold out before listing" : "failed: seat list");
    }
    sale_.reached("2 listed seats");
    // A few ids: thousands of fans hold their choices while they wait at the next gate.
    auto choices = available_seats(seats.served->body, seats_in_mind, sale_.rng);
    seats.served->body.clear();
    seats.served->body.shrink_to_fit();
    while (!choices.empty()) {
        std::uniform_int_distribution<std::size_t> pick(0, choices.size() - 1);
        const auto at = pick(sale_.rng);
        const auto seat = choices[at];
        choices[at] = choices.back();
        choices.pop_back();
        const auto held = co_await take(seat);
        if (!held) {
            co_return co_await finish("sold out while waiting to take");
        }
        if (held->status == 200) {
            sale_.reached("3 took a seat");
            const bool paid = co_await pay(seat);
            co_return co_await finish(paid ? "bought a seat" : "failed: payment");
        }
        const auto code = error_code_of(*held);
        if (code == "SOLD_OUT") {
            co_return co_await finish("sold out while taking");
        }
        if (code != "SEAT_TAKEN") {
            co_return co_await finish("failed: take " + std::to_string(held->status) + " " + code);
        }
    }
    co_await finish("every listed seat taken");
}

} // namespace tp::onsale
