#pragma once
// What handlers may use, one instance per I/O thread (each thread has its own database
// pool, so nothing here is shared between threads but the read-only parts).

#include "api/seat_map_cache.hpp"
#include "domain/seats.hpp"
#include "security/jwt.hpp"
#include "security/token_verifier.hpp"
#include "storage/pg/catalog_repository.hpp"
#include "storage/pg/event_repository.hpp"
#include "storage/pg/seat_repository.hpp"
#include "storage/pg/user_repository.hpp"
#include "storage/pg/wallet_repository.hpp"
#include "storage/redis/queue_store.hpp"
#include "storage/redis/seat_map_versions.hpp"
#include "storage/redis/serving_watch.hpp"
#include "support/metrics.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <string>

namespace tp::api {

// The settings handlers read; filled from the process configuration at start-up.
struct settings {
    domain::hold_policy holds;
    std::chrono::seconds jwt_ttl{3600};
    std::string admin_api_key;
    // Files of Swagger UI by name (swagger-ui.css, ...); empty when not installed.
    std::map<std::string, std::string, std::less<>> swagger_ui_files;
};

// Wall-clock time, behind a function so tests can move it.
using clock_fn = std::function<std::int64_t()>; // milliseconds since the epoch

struct services {
    const settings& config;
    pg::pool& db;
    pg::user_repository users;
    pg::catalog_repository catalog;
    pg::seat_repository seats;
    pg::wallet_repository wallet;
    pg::event_repository events;
    redis::queue_store& queue;
    redis::serving_watch& watch;
    redis::seat_map_versions& seat_versions;
    seat_map_cache& seat_maps;
    const security::jwt_codec& jwt;   // signs access tokens
    security::token_verifier& tokens; // verifies them, remembering this thread's recent ones
    asio::any_io_executor hashing;    // a thread pool for Argon2id, away from the I/O threads
    metrics& stats;
    clock_fn now_ms;
};

} // namespace tp::api
