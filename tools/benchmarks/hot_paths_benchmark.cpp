// Micro-benchmarks of the work every request of an on-sale repeats: routing, verifying the
// access token, making a queue token's id, reading a JSON body, and keeping the seat list (the
// largest answer) ready.
// Run: build/release/tools/hot_paths_benchmark (a release build; figures in docs/).

#include "api/json_io.hpp"
#include "api/routes.hpp"
#include "api/seat_map.hpp"
#include "domain/seats.hpp"
#include "security/jwt.hpp"
#include "security/token_verifier.hpp"
#include "storage/redis/queue_keys.hpp"
#include "storage/redis/queue_store.hpp"

#include <boost/json.hpp>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>

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

// A new queue token's id, made for every fan joining a line.
void queue_token_id(benchmark::State& state) {
    for (auto _ : state) {
        auto id = redis::queue_keys::new_token_id("performances");
        benchmark::DoNotOptimize(id);
    }
}
BENCHMARK(queue_token_id);

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

// Seats with ids as random as real UUIDs (they decide what gzip can do), the same every run.
std::vector<pg::listed_seat> hall(std::int64_t seats) {
    std::mt19937_64 rng(20261126);
    std::vector<pg::listed_seat> out;
    for (std::int64_t i = 0; i < seats; ++i) {
        char id[37];
        std::snprintf(
            id,
            sizeof id,
            "%08llx-%04llx-4%03llx-a%03llx-%012llx",
            static_cast<unsigned long long>(rng() & 0xFFFFFFFFULL),
            static_cast<unsigned long long>(rng() & 0xFFFFULL),
            static_cast<unsigned long long>(rng() & 0xFFFULL),
            static_cast<unsigned long long>(rng() & 0xFFFULL),
            static_cast<unsigned long long>(rng() & 0xFFFFFFFFFFFFULL)
        );
        out.push_back(pg::listed_seat{id, std::to_string(i + 1), 70000, {}});
    }
    return out;
}

// A seat list read whole: every block encoded (JSON, gzip piece, digest), the answer assembled.
void seat_map_first_answer(benchmark::State& state) {
    const auto seats = hall(state.range(0));
    for (auto _ : state) {
        api::seat_map map(seats);
        auto answer = map.answer_at(0);
        benchmark::DoNotOptimize(answer);
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(seat_map_first_answer)->Arg(50)->Arg(5000);

// What one change costs a cached list: its block encoded again, the answer assembled.
void seat_map_one_change(benchmark::State& state) {
    api::seat_map map(hall(state.range(0)));
    map.answer_at(0);
    std::size_t position = 0;
    bool held = false;
    for (auto _ : state) {
        held = !held;
        pg::seat_change change;
        change.position = position;
        change.state.status = held ? domain::seat_status::temporary_reserved : domain::seat_status::available;
        change.state.hold_expires = held ? std::optional<domain::epoch_ms>(1'000'000) : std::nullopt;
        map.apply(std::span(&change, 1));
        auto answer = map.answer_at(0);
        benchmark::DoNotOptimize(answer);
        position = (position + 997) % map.size();
    }
}
BENCHMARK(seat_map_one_change)->Arg(5000)->Arg(15000);

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
