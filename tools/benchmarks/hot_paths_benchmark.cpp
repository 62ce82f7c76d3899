// Micro-benchmarks of the work every request of an on-sale repeats: routing, verifying the
// access token, reading a JSON body, and writing the seat list (the largest answer).
// Run: build/release/tools/hot_paths_benchmark (a release build; figures in docs/).

#include "api/json_io.hpp"
#include "api/routes.hpp"
#include "domain/seats.hpp"
#include "security/jwt.hpp"
#include "security/token_verifier.hpp"

#include <boost/json.hpp>

#include <benchmark/benchmark.h>

namespace {

using namespace tp;

void route_lookup(benchmark::State& state) {
    metrics stats;
    const auto table = api::make_route_table(stats);
    const std::string target = "/reservation/performance_seats/123e4567-e89b-12d3-a456-426614174000";
    for (auto _ : state) {
        auto found = table.find(http::verb::get, target);
        benchmark::DoNotOptimize(found);
    }
}
BENCHMARK(route_lookup);

void jwt_verify(benchmark::State& state) {
    const security::jwt_codec codec("a-secret-of-at-least-thirty-two-characters");
    const auto token = codec.sign({"123e4567-e89b-12d3-a456-426614174000", 1'700'000'000, 1'700'003'600});
    for (auto _ : state) {
        auto claims = codec.verify(token, 1'700'000'100);
        benchmark::DoNotOptimize(claims);
    }
}
BENCHMARK(jwt_verify);

// The same token presented again, as a polling fan does: matched against the remembered ones.
void jwt_verify_remembered(benchmark::State& state) {
    const security::jwt_codec codec("a-secret-of-at-least-thirty-two-characters");
    security::token_verifier tokens(codec);
    const auto token = codec.sign({"123e4567-e89b-12d3-a456-426614174000", 1'700'000'000, 1'700'003'600});
    for (auto _ : state) {
        auto claims = tokens.verify(token, 1'700'000'100);
        benchmark::DoNotOptimize(claims);
    }
}
BENCHMARK(jwt_verify_remembered);

void take_body_parse(benchmark::State& state) {
    http::request req{http::verb::patch, "/reservation/take_performance_seat", 11};
    req.set(http::beast_http::field::content_type, "application/json");
    req.body() = R"({"performance_seat_id":"123e4567-e89b-12d3-a456-426614174000"})";
    for (auto _ : state) {
        auto body = api::parse_json_object(req);
        api::body_reader in(*body);
        auto id = in.string("performance_seat_id");
        auto selection = domain::validate_seat_selection(std::span(&id, 1), 4);
        benchmark::DoNotOptimize(selection);
    }
}
BENCHMARK(take_body_parse);

// The seat list of one schedule, as GET /reservation/performance_seats writes it.
void seat_list_encode(benchmark::State& state) {
    const auto seats = state.range(0);
    for (auto _ : state) {
        boost::json::array out;
        out.reserve(static_cast<std::size_t>(seats));
        for (std::int64_t i = 0; i < seats; ++i) {
            out.push_back(boost::json::object{
                {"id", "123e4567-e89b-12d3-a456-426614174000"},
                {"seat_number", std::to_string(i + 1)},
                {"price", 70000},
                {"reservation_status", domain::to_string(domain::seat_status::available)}});
        }
        auto text = boost::json::serialize(out);
        benchmark::DoNotOptimize(text);
    }
    state.SetItemsProcessed(state.iterations() * seats);
}
BENCHMARK(seat_list_encode)->Arg(50)->Arg(5000);

void seat_list_decode(benchmark::State& state) {
    boost::json::array list;
    for (int i = 0; i < 5000; ++i) {
        list.push_back(boost::json::object{
            {"id", "123e4567-e89b-12d3-a456-426614174000"},
            {"seat_number", std::to_string(i + 1)},
            {"price", 70000},
            {"reservation_status", "AVAILABLE"}});
    }
    const auto text = boost::json::serialize(list);
    for (auto _ : state) {
        auto parsed = boost::json::parse(text);
        benchmark::DoNotOptimize(parsed);
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}
BENCHMARK(seat_list_decode);

} // namespace
