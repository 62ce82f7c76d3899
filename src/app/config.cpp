#include "app/config.hpp"

#include "storage/redis/client.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <thread>

extern char** environ;

namespace tp::app {
namespace {

using domain::errc;
using domain::make_error;

constexpr const char* dev_jwt_secret = "dev-only-jwt-secret-do-not-use-in-production";
constexpr const char* dev_admin_key = "dev-admin-key";

class reader {
public:
    explicit reader(const std::map<std::string, std::string>& env) : env_(env) {}

    void text(const char* name, std::string& out) {
        if (const auto* v = find(name)) {
            out = *v;
        }
    }

    void integer(const char* name, int& out, int min, int max) {
        const auto* v = find(name);
        if (v == nullptr) {
            return;
        }
        int value = 0;
        const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), value);
        if (ec != std::errc{} || end != v->data() + v->size() || value < min || value > max) {
            fail(
                std::string(name) + " must be a whole number from " + std::to_string(min) + " to " +
                std::to_string(max) + " (got \"" + *v + "\")."
            );
            return;
        }
        out = value;
    }

    void fail(std::string message) {
        if (!error_) {
            error_ = std::move(message);
        }
    }

    const std::optional<std::string>& error() const { return error_; }

private:
    const std::string* find(const char* name) const {
        const auto it = env_.find(name);
        return it == env_.end() || it->second.empty() ? nullptr : &it->second;
    }

    const std::map<std::string, std::string>& env_;
    std::optional<std::string> error_;
};

} // namespace

std::map<std::string, std::string> process_environment() {
    std::map<std::string, std::string> env;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        const std::string_view item(*entry);
        const auto eq = item.find('=');
        if (eq != std::string_view::npos) {
            env.emplace(item.substr(0, eq), item.substr(eq + 1));
        }
    }
    return env;
}

domain::result<config> load_config(const std::map<std::string, std::string>& env) {
    config c;
    reader in(env);
    std::string mode = "production";
    in.text("TICKETD_ENV", mode);
    if (mode != "dev" && mode != "production") {
        in.fail("TICKETD_ENV must be \"dev\" or \"production\" (got \"" + mode + "\").");
    }
    c.dev_mode = mode == "dev";

    in.text("DATABASE_URL", c.database_url);
    in.text("REDIS_URL", c.redis_url);
    if (const auto problem = redis::client_url_problem(c.redis_url); !problem.empty()) {
        in.fail("REDIS_URL: " + problem + " (got \"" + c.redis_url + "\").");
    }

    std::string listen = c.listen_host + ":" + std::to_string(c.listen_port);
    in.text("LISTEN", listen);
    const auto colon = listen.rfind(':');
    int port = 0;
    const auto port_text = colon == std::string::npos ? std::string_view{} : std::string_view(listen).substr(colon + 1);
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (colon == std::string::npos || colon == 0 || ec != std::errc{} || end != port_text.data() + port_text.size() ||
        port < 1 || port > 65535) {
        in.fail("LISTEN must be host:port, e.g. 127.0.0.1:8080 (got \"" + listen + "\").");
    } else {
        c.listen_host = listen.substr(0, colon);
        c.listen_port = static_cast<unsigned short>(port);
    }

    in.text("JWT_SECRET", c.jwt_secret);
    in.text("ADMIN_API_KEY", c.admin_api_key);
    if (c.jwt_secret.empty() && c.dev_mode) {
        c.jwt_secret = dev_jwt_secret;
    }
    if (c.admin_api_key.empty() && c.dev_mode) {
        c.admin_api_key = dev_admin_key;
    }
    if (!c.dev_mode && (c.jwt_secret.size() < 32 || c.jwt_secret == dev_jwt_secret)) {
        in.fail("JWT_SECRET must be set to a secret of at least 32 characters (or run with TICKETD_ENV=dev).");
    }
    if (!c.dev_mode && (c.admin_api_key.size() < 16 || c.admin_api_key == dev_admin_key)) {
        in.fail("ADMIN_API_KEY must be set to a key of at least 16 characters (or run with TICKETD_ENV=dev).");
    }

    in.integer("HOLD_TTL_SECONDS", c.hold_ttl_seconds, 1, 86400);
    in.integer("QUEUE_TOKEN_TTL_SECONDS", c.queue_token_ttl_seconds, 1, 86400);
    in.integer("QUEUE_RECORD_RETENTION_SECONDS", c.queue_record_retention_seconds, 1, 30 * 86400);
    in.integer("QUEUE_IDLE_SECONDS", c.queue_idle_seconds, 1, 86400);
    in.integer("QUEUE_ACTIVE_IDLE_SECONDS", c.queue_active_idle_seconds, 1, 86400);
    in.integer("REDIS_WAIT_REPLICAS", c.redis_wait_replicas, 0, 5);
    in.integer("GATE_DEFAULT_CAPACITY", c.gate_default_capacity, 0, 10'000'000);
    in.integer("GATE_DEFAULT_RATE", c.gate_default_rate, 0, 10'000'000);
    in.integer("QUEUE_TICK_MS", c.queue_tick_ms, 10, 60'000);
    in.integer("JWT_TTL_SECONDS", c.jwt_ttl_seconds, 60, 30 * 86400);
    in.integer("MAX_SEATS_PER_USER", c.max_seats_per_user, 1, 100);
    in.integer("THREADS", c.threads, 0, 256);
    in.integer("DB_POOL_SIZE", c.db_pool_size, 1, 1000);
    in.integer("DB_TIMEOUT_MS", c.db_timeout_ms, 100, 600'000);
    in.integer("SWEEP_INTERVAL_MS", c.sweep_interval_ms, 50, 3'600'000);
    in.integer("IDEMPOTENCY_RETENTION_HOURS", c.idempotency_retention_hours, 1, 24 * 366);
    in.integer("EVENT_RETENTION_HOURS", c.event_retention_hours, 1, 24 * 3660);
    in.integer("HEADER_TIMEOUT_SECONDS", c.header_timeout_seconds, 1, 3600);
    in.integer("BODY_TIMEOUT_SECONDS", c.body_timeout_seconds, 1, 3600);
    in.text("SWAGGER_UI_DIR", c.swagger_ui_dir);
    std::string fault;
    in.text("FAULT_INJECTION", fault);
    if (!fault.empty() && ((fault != "stale_seat_lists" && fault != "unproven_event_pages") || !c.dev_mode)) {
        in.fail(
            "FAULT_INJECTION must be empty or, with TICKETD_ENV=dev, \"stale_seat_lists\" or "
            "\"unproven_event_pages\" (got \"" +
            fault + "\")."
        );
    }
    c.fault_stale_seat_lists = fault == "stale_seat_lists";
    c.fault_unproven_event_pages = fault == "unproven_event_pages";

    in.text("LOG_LEVEL", c.log_level);
    constexpr std::string_view levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    if (std::find(std::begin(levels), std::end(levels), c.log_level) == std::end(levels)) {
        in.fail(
            "LOG_LEVEL must be one of trace, debug, info, warn, error, critical, off (got \"" + c.log_level + "\")."
        );
    }
    if (c.threads == 0) {
        c.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    }
    if (in.error()) {
        return make_error(errc::bad_request, *in.error());
    }
    return c;
}

} // namespace tp::app
