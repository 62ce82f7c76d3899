#include "app/config.hpp"
#include "domain_printers.hpp"

#include <gtest/gtest.h>

using tp::app::config;
using tp::app::load_config;
using env = std::map<std::string, std::string>;

namespace {

const std::string good_secret(32, 's');
const std::string good_admin_key(16, 'k');

env production() {
    return env{{"JWT_SECRET", good_secret}, {"ADMIN_API_KEY", good_admin_key}};
}

env with(env base, const std::string& name, const std::string& value) {
    base[name] = value;
    return base;
}

// The refusal of `e`, which must name `variable`.
void expect_refused(const env& e, const std::string& variable) {
    const auto r = load_config(e);
    ASSERT_FALSE(r) << variable << " accepted";
    EXPECT_EQ(r.error().code, tp::domain::errc::bad_request);
    EXPECT_NE(r.error().message.find(variable), std::string::npos) << r.error().message;
}

} // namespace

TEST(config, production_with_secrets_uses_the_spec_defaults) {
    const auto r = load_config(production());
    ASSERT_TRUE(r) << r.error().message;
    const config& c = *r;
    EXPECT_FALSE(c.dev_mode);
    EXPECT_EQ(c.jwt_secret, good_secret);
    EXPECT_EQ(c.admin_api_key, good_admin_key);
    EXPECT_EQ(c.listen_host, "127.0.0.1");
    EXPECT_EQ(c.listen_port, 8080);
    EXPECT_EQ(c.hold_ttl_seconds, 300);
    EXPECT_EQ(c.max_seats_per_user, 4);
    EXPECT_EQ(c.jwt_ttl_seconds, 3600);
    EXPECT_EQ(c.db_pool_size, 8);
    EXPECT_EQ(c.db_timeout_ms, 5000);
    EXPECT_EQ(c.log_level, "info");
    EXPECT_EQ(c.redis_url, "redis://127.0.0.1:6379/0");
    EXPECT_GE(c.threads, 1); // 0 means one per core
}

TEST(config, production_refuses_a_missing_or_short_jwt_secret) {
    expect_refused(env{{"ADMIN_API_KEY", good_admin_key}}, "JWT_SECRET");
    expect_refused(with(production(), "JWT_SECRET", std::string(31, 's')), "JWT_SECRET");
    EXPECT_TRUE(load_config(with(production(), "JWT_SECRET", std::string(32, 's'))));
}

TEST(config, production_refuses_the_dev_defaults_even_when_long_enough) {
    expect_refused(with(production(), "JWT_SECRET", "dev-only-jwt-secret-do-not-use-in-production"), "JWT_SECRET");
}

TEST(config, production_refuses_a_missing_or_short_admin_key) {
    expect_refused(env{{"JWT_SECRET", good_secret}}, "ADMIN_API_KEY");
    expect_refused(with(production(), "ADMIN_API_KEY", std::string(15, 'k')), "ADMIN_API_KEY");
    EXPECT_TRUE(load_config(with(production(), "ADMIN_API_KEY", std::string(16, 'k'))));
}

TEST(config, an_empty_variable_counts_as_unset) {
    expect_refused(with(production(), "JWT_SECRET", ""), "JWT_SECRET");
    const auto r = load_config(with(production(), "HOLD_TTL_SECONDS", ""));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->hold_ttl_seconds, 300);
}

TEST(config, dev_mode_fills_in_secrets) {
    const auto r = load_config(env{{"TICKETD_ENV", "dev"}});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->dev_mode);
    EXPECT_FALSE(r->jwt_secret.empty());
    EXPECT_FALSE(r->admin_api_key.empty());
}

TEST(config, dev_mode_keeps_given_secrets) {
    const auto r = load_config(env{{"TICKETD_ENV", "dev"}, {"JWT_SECRET", "short"}, {"ADMIN_API_KEY", "k"}});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->jwt_secret, "short");
    EXPECT_EQ(r->admin_api_key, "k");
}

TEST(config, refuses_an_unknown_mode) {
    expect_refused(with(production(), "TICKETD_ENV", "staging"), "TICKETD_ENV");
    expect_refused(with(production(), "TICKETD_ENV", "DEV"), "TICKETD_ENV");
}

TEST(config, reads_every_setting) {
    env e = production();
    e["DATABASE_URL"] = "postgresql://db.internal:6432/tickets";
    e["REDIS_URL"] = "redis://cache:6380/2";
    e["LISTEN"] = "0.0.0.0:9000";
    e["HOLD_TTL_SECONDS"] = "60";
    e["QUEUE_TOKEN_TTL_SECONDS"] = "120";
    e["QUEUE_RECORD_RETENTION_SECONDS"] = "7200";
    e["QUEUE_IDLE_SECONDS"] = "30";
    e["QUEUE_ACTIVE_IDLE_SECONDS"] = "45";
    e["GATE_DEFAULT_CAPACITY"] = "0";
    e["GATE_DEFAULT_RATE"] = "50";
    e["QUEUE_TICK_MS"] = "10";
    e["JWT_TTL_SECONDS"] = "60";
    e["MAX_SEATS_PER_USER"] = "2";
    e["THREADS"] = "3";
    e["DB_POOL_SIZE"] = "16";
    e["DB_TIMEOUT_MS"] = "100";
    e["SWEEP_INTERVAL_MS"] = "50";
    e["IDEMPOTENCY_RETENTION_HOURS"] = "48";
    e["HEADER_TIMEOUT_SECONDS"] = "5";
    e["BODY_TIMEOUT_SECONDS"] = "7";
    e["LOG_LEVEL"] = "debug";
    e["SWAGGER_UI_DIR"] = "/opt/swagger";
    const auto r = load_config(e);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->database_url, "postgresql://db.internal:6432/tickets");
    EXPECT_EQ(r->redis_url, "redis://cache:6380/2");
    EXPECT_EQ(r->listen_host, "0.0.0.0");
    EXPECT_EQ(r->listen_port, 9000);
    EXPECT_EQ(r->hold_ttl_seconds, 60);
    EXPECT_EQ(r->queue_token_ttl_seconds, 120);
    EXPECT_EQ(r->queue_record_retention_seconds, 7200);
    EXPECT_EQ(r->queue_idle_seconds, 30);
    EXPECT_EQ(r->queue_active_idle_seconds, 45);
    EXPECT_EQ(r->gate_default_capacity, 0);
    EXPECT_EQ(r->gate_default_rate, 50);
    EXPECT_EQ(r->queue_tick_ms, 10);
    EXPECT_EQ(r->jwt_ttl_seconds, 60);
    EXPECT_EQ(r->max_seats_per_user, 2);
    EXPECT_EQ(r->threads, 3);
    EXPECT_EQ(r->db_pool_size, 16);
    EXPECT_EQ(r->db_timeout_ms, 100);
    EXPECT_EQ(r->sweep_interval_ms, 50);
    EXPECT_EQ(r->idempotency_retention_hours, 48);
    EXPECT_EQ(r->header_timeout_seconds, 5);
    EXPECT_EQ(r->body_timeout_seconds, 7);
    EXPECT_EQ(r->log_level, "debug");
    EXPECT_EQ(r->swagger_ui_dir, "/opt/swagger");
}

TEST(config, listen_accepts_an_ipv6_host) {
    const auto r = load_config(with(production(), "LISTEN", "[::1]:8081"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->listen_host, "[::1]");
    EXPECT_EQ(r->listen_port, 8081);
}

TEST(config, refuses_a_bad_listen_address) {
    for (const char* listen : {"8080", ":8080", "host:", "host:0", "host:65536", "host:80x", "host:-1", "host"}) {
        expect_refused(with(production(), "LISTEN", listen), "LISTEN");
    }
}

TEST(config, refuses_a_bad_redis_url) {
    for (const char* url :
         {"http://127.0.0.1:6379",
          "127.0.0.1:6379",
          "redis://bad host:6379",
          "redis-cluster://",
          "redis-cluster://a:7000,",
          "redis-cluster://a",
          "redis-cluster://a:7000/3"}) {
        expect_refused(with(production(), "REDIS_URL", url), "REDIS_URL");
    }
}

TEST(config, accepts_a_redis_cluster_url) {
    for (const char* url : {"redis-cluster://10.0.0.1:7000", "redis-cluster://a:7000,b:7001,[::1]:7002"}) {
        const auto r = load_config(with(production(), "REDIS_URL", url));
        ASSERT_TRUE(r) << url << ": " << r.error().message;
        EXPECT_EQ(r->redis_url, url);
    }
}

TEST(config, refuses_an_unknown_log_level) {
    expect_refused(with(production(), "LOG_LEVEL", "verbose"), "LOG_LEVEL");
    expect_refused(with(production(), "LOG_LEVEL", "INFO"), "LOG_LEVEL");
}

TEST(config, each_number_is_checked_against_its_bounds_and_named) {
    struct bound {
        const char* name;
        int min;
        int max;
    };
    const bound bounds[] = {
        {"HOLD_TTL_SECONDS", 1, 86400},
        {"QUEUE_TOKEN_TTL_SECONDS", 1, 86400},
        {"QUEUE_RECORD_RETENTION_SECONDS", 1, 30 * 86400},
        {"QUEUE_IDLE_SECONDS", 1, 86400},
        {"QUEUE_ACTIVE_IDLE_SECONDS", 1, 86400},
        {"GATE_DEFAULT_CAPACITY", 0, 10'000'000},
        {"GATE_DEFAULT_RATE", 0, 10'000'000},
        {"QUEUE_TICK_MS", 10, 60'000},
        {"JWT_TTL_SECONDS", 60, 30 * 86400},
        {"MAX_SEATS_PER_USER", 1, 100},
        {"THREADS", 0, 256},
        {"DB_POOL_SIZE", 1, 1000},
        {"DB_TIMEOUT_MS", 100, 600'000},
        {"IDEMPOTENCY_RETENTION_HOURS", 1, 24 * 366},
        {"SWEEP_INTERVAL_MS", 50, 3'600'000},
        {"HEADER_TIMEOUT_SECONDS", 1, 3600},
        {"BODY_TIMEOUT_SECONDS", 1, 3600},
    };
    for (const auto& b : bounds) {
        SCOPED_TRACE(b.name);
        EXPECT_TRUE(load_config(with(production(), b.name, std::to_string(b.min))));
        EXPECT_TRUE(load_config(with(production(), b.name, std::to_string(b.max))));
        expect_refused(with(production(), b.name, std::to_string(b.min - 1)), b.name);
        expect_refused(with(production(), b.name, std::to_string(b.max + 1)), b.name);
        for (const char* junk : {"abc", "12x", " 5", "5 ", "1.5", "+5", "99999999999999999999"}) {
            expect_refused(with(production(), b.name, junk), b.name);
        }
    }
}

TEST(config, the_message_quotes_the_bad_value) {
    const auto r = load_config(with(production(), "DB_POOL_SIZE", "lots"));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("\"lots\""), std::string::npos) << r.error().message;
}

TEST(config, reports_the_first_problem) {
    env e = with(production(), "LOG_LEVEL", "loud");
    e["HOLD_TTL_SECONDS"] = "0";
    e["TICKETD_ENV"] = "nope";
    expect_refused(e, "TICKETD_ENV");
}

TEST(config, a_fault_can_be_injected_in_dev_mode_only) {
    const auto dev = load_config(env{{"TICKETD_ENV", "dev"}, {"FAULT_INJECTION", "stale_seat_lists"}});
    ASSERT_TRUE(dev);
    EXPECT_TRUE(dev->fault_stale_seat_lists);
    EXPECT_FALSE(load_config(env{{"TICKETD_ENV", "dev"}})->fault_stale_seat_lists);
    expect_refused(with(production(), "FAULT_INJECTION", "stale_seat_lists"), "FAULT_INJECTION");
    expect_refused(env{{"TICKETD_ENV", "dev"}, {"FAULT_INJECTION", "everything"}}, "FAULT_INJECTION");
}
