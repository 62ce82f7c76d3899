#pragma once
// The process configuration: one plain struct, read from the environment once at start-up
// and validated there (a bad value stops the process with a message naming the variable),
// then passed down. The variables and their defaults: README.md, Configuration.

#include "domain/errc.hpp"

#include <chrono>
#include <map>
#include <string>

namespace tp::app {

struct config {
    bool dev_mode = false; // TICKETD_ENV=dev
    std::string database_url = "postgresql://127.0.0.1:5432/ticketing";
    std::string redis_url = "redis://127.0.0.1:6379/0";
    std::string listen_host = "127.0.0.1";
    unsigned short listen_port = 8080;
    std::string jwt_secret;
    std::string admin_api_key;
    int hold_ttl_seconds = 300;
    int queue_token_ttl_seconds = 300;
    int queue_record_retention_seconds = 86400; // an ended token's record and index, kept this long
    int queue_idle_seconds = 60;                // a waiting token without a call, poll or stream leaves the line
    int queue_active_idle_seconds = 120;        // an admitted token without a gated call frees its place
    int redis_wait_replicas = -1;               // replicas a join or admission waits for; -1: 1 on a cluster, else 0
    int gate_default_capacity = 1000;
    int gate_default_rate = 100;
    int queue_tick_ms = 100;
    int jwt_ttl_seconds = 3600;
    int max_seats_per_user = 4;
    int threads = 0; // 0: one per core
    std::string log_level = "info";
    int db_pool_size = 8;     // per I/O thread
    int db_timeout_ms = 5000; // connect, acquire and statement deadlines
    int sweep_interval_ms = 1000;
    int idempotency_retention_hours = 24; // stored answers of Idempotency-Key calls, kept this long
    int event_retention_hours = 168;      // sale events, kept this long
    int header_timeout_seconds = 10;      // a request's head must arrive within it
    int body_timeout_seconds = 30;        // and the rest of the request, once its head is in
    std::string swagger_ui_dir = "node_modules/swagger-ui-dist";
    // FAULT_INJECTION (dev mode only): faults the tests' negative controls switch on to show
    // that a check can fail. "stale_seat_lists": seat lists never check their version.
    bool fault_stale_seat_lists = false;
    // "unproven_event_pages": event pages serve every id visible, not only those below the
    // proven horizon (docs/sale-events.md), so a page can skip an event committed late.
    bool fault_unproven_event_pages = false;
};

// Reads `env` (name -> value; normally the process environment). The error's message names
// the variable and what it accepts.
domain::result<config> load_config(const std::map<std::string, std::string>& env);

std::map<std::string, std::string> process_environment();

} // namespace tp::app
