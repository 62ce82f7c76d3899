#include "onsale/fixture.hpp"

#include "onsale/blocking_pg.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <sodium.h>

#include <memory>
#include <stdexcept>

namespace tp::onsale {
namespace {

constexpr std::string_view fan_password = "onsale-fan-password";

std::string cheap_hash(std::string_view password) {
    if (sodium_init() < 0) {
        throw std::runtime_error("libsodium failed to initialise");
    }
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(
            out,
            password.data(),
            password.size(),
            crypto_pwhash_OPSLIMIT_MIN,
            crypto_pwhash_MEMLIMIT_MIN,
            crypto_pwhash_ALG_ARGON2ID13
        ) != 0) {
        throw std::runtime_error("could not hash the fans' password");
    }
    return out;
}

std::string fan_email(const std::string& run_tag, int i) {
    return "fan-" + std::to_string(i) + "-" + run_tag + "@onsale.example";
}

awaitable<answer> admin_call(
    http_client& client, const std::string& admin_key, beast_http::verb method, std::string target, std::string body
) {
    exchange request{method, std::move(target), {{"Authorization", "Bearer " + admin_key}}, std::move(body)};
    auto out = co_await client.send(0, request);
    if (out.status < 200 || out.status > 299) {
        throw std::runtime_error(
            request.target + ": " + (out.status ? std::to_string(out.status) + " " + out.body : out.failure)
        );
    }
    co_return out;
}

} // namespace

std::vector<fan_account>
insert_fans(const std::string& database_url, const std::string& run_tag, int count, std::int64_t balance) {
    const auto conn = connect(database_url);
    // One statement: the fans, then a ledger row for each fan's points (I2 holds from the start).
    run(conn.get(),
        R"sql(
        WITH fans AS (
            INSERT INTO users (email_address, password_hash, balance)
            SELECT 'fan-' || g || '-' || $1 || '@onsale.example', $2, $3::bigint
            FROM generate_series(1, $4::int) g
            RETURNING id, balance
        )
        INSERT INTO ledger_entries (user_id, amount, cause)
        SELECT id, balance, 'CHARGED_BY_USER' FROM fans WHERE balance > 0
        )sql",
        {run_tag, cheap_hash(fan_password), std::to_string(balance), std::to_string(count)});
    std::vector<fan_account> fans;
    fans.reserve(static_cast<std::size_t>(count));
    for (int i = 1; i <= count; ++i) {
        fans.push_back({fan_email(run_tag, i), std::string(fan_password)});
    }
    return fans;
}

std::vector<std::string> seat_ids(const std::string& database_url, const std::string& schedule_id) {
    const auto conn = connect(database_url);
    const auto r = run(conn.get(), "SELECT id FROM performance_seats WHERE staging_date_id = $1", {schedule_id});
    std::vector<std::string> ids;
    for (int row = 0; row < PQntuples(r.get()); ++row) {
        ids.emplace_back(PQgetvalue(r.get(), row, 0));
    }
    return ids;
}

awaitable<std::string>
create_schedule(http_client& client, const std::string& admin_key, int seats, std::int64_t price) {
    const boost::json::object performance{
        {"title", "On-sale replay"},
        {"ticketing_start_date", "2025-01-01T00:00:00Z"},
        {"stage", {{"name", "Main hall"}, {"location", "Seoul"}}},
        {"schedules",
         boost::json::array{{{"staging_date", "2030-01-01T19:00:00Z"}, {"seat_count", seats}, {"price", price}}}}};
    const auto out = co_await admin_call(
        client, admin_key, beast_http::verb::post, "/admin/performances", boost::json::serialize(performance)
    );
    const auto made = boost::json::parse(out.body);
    co_return std::string(made.at("performance_staging_date").at(0).at("id").as_string());
}

awaitable<void>
configure_gate(http_client& client, const std::string& admin_key, const std::string& gate, int capacity, int rate) {
    const boost::json::object settings{{"capacity", capacity}, {"rate", rate}};
    co_await admin_call(
        client, admin_key, beast_http::verb::put, "/admin/gates/" + gate, boost::json::serialize(settings)
    );
}

awaitable<gate_reading> read_gate(http_client& client, const std::string& admin_key, const std::string& gate) {
    const auto out = co_await admin_call(client, admin_key, beast_http::verb::get, "/admin/gates/" + gate, "");
    const auto read = boost::json::parse(out.body);
    co_return gate_reading{
        .capacity = read.at("capacity").to_number<std::int64_t>(),
        .rate = read.at("rate").to_number<std::int64_t>(),
        .waiting = read.at("waiting").to_number<std::int64_t>()};
}

} // namespace tp::onsale
