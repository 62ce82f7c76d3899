#include "test_database.hpp"

#include "storage/pg/connection.hpp"
#include "storage/pg/migrations.hpp"
#include "support/servers_required.hpp"

#include <algorithm>
#include <cstdlib>
#include <random>
#include <stdexcept>

namespace tp::test {
namespace {

std::string random_suffix() {
    std::random_device device;
    std::mt19937_64 engine(device());
    constexpr std::string_view digits = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::string out;
    for (int i = 0; i < 12; ++i) {
        out.push_back(digits[engine() % digits.size()]);
    }
    return out;
}

// The guard: only databases made for tests are ever created or dropped.
void require_test_name(const std::string& name) {
    const bool plain = std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (!name.starts_with(test_database_prefix) || !plain) {
        throw std::logic_error("refusing to touch database \"" + name + "\": not a tp_test_ database");
    }
}

} // namespace

std::optional<std::string> maintenance_url() {
    const char* value = std::getenv("TEST_DATABASE_URL");
    if (value == nullptr || *value == '\0') {
        return std::nullopt;
    }
    return std::string(value);
}

std::string with_database(const std::string& url, const std::string& database) {
    const auto scheme = url.find("://");
    const auto query = url.find('?');
    const auto path_end = query == std::string::npos ? url.size() : query;
    const auto search_from = scheme == std::string::npos ? 0 : scheme + 3;
    const auto slash = url.find('/', search_from);
    if (slash == std::string::npos || slash > path_end) {
        return url.substr(0, path_end) + "/" + database + url.substr(path_end);
    }
    return url.substr(0, slash + 1) + database + url.substr(path_end);
}

// --- blocking_connection ---------------------------------------------------------------------

blocking_connection::blocking_connection(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) {
        const std::string message = PQerrorMessage(conn_);
        PQfinish(conn_);
        throw std::runtime_error("cannot connect to " + url + ": " + message);
    }
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr
    );
}

blocking_connection::~blocking_connection() {
    PQfinish(conn_);
}

std::vector<row>
blocking_connection::sql(const std::string& text, const std::vector<std::optional<std::string>>& params) {
    std::vector<const char*> raw;
    for (const auto& p : params) {
        raw.push_back(p ? p->c_str() : nullptr);
    }
    std::unique_ptr<PGresult, decltype(&PQclear)> r(
        params.empty()
            ? PQexec(conn_, text.c_str())
            : PQexecParams(conn_, text.c_str(), static_cast<int>(raw.size()), nullptr, raw.data(), nullptr, nullptr, 0),
        &PQclear
    );
    const auto status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        const char* constraint = PQresultErrorField(r.get(), PG_DIAG_CONSTRAINT_NAME);
        throw std::runtime_error(
            std::string("SQL failed: ") + PQresultErrorMessage(r.get()) +
            (constraint != nullptr ? std::string(" [constraint ") + constraint + "]" : "") + " in: " + text
        );
    }
    std::vector<row> rows;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
        row cells;
        for (int j = 0; j < PQnfields(r.get()); ++j) {
            if (PQgetisnull(r.get(), i, j) != 0) {
                cells.emplace_back(std::nullopt);
            } else {
                cells.emplace_back(std::string(PQgetvalue(r.get(), i, j), PQgetlength(r.get(), i, j)));
            }
        }
        rows.push_back(std::move(cells));
    }
    return rows;
}

std::string
blocking_connection::scalar(const std::string& text, const std::vector<std::optional<std::string>>& params) {
    const auto rows = sql(text, params);
    if (rows.empty() || rows.front().empty() || !rows.front().front()) {
        throw std::runtime_error("expected one value from: " + text);
    }
    return *rows.front().front();
}

std::int64_t
blocking_connection::number(const std::string& text, const std::vector<std::optional<std::string>>& params) {
    return std::stoll(scalar(text, params));
}

// --- test_database ---------------------------------------------------------------------------

test_database::test_database(std::string maintenance)
    : maintenance_(std::move(maintenance)), name_(std::string(test_database_prefix) + random_suffix()),
      url_(with_database(maintenance_, name_)) {
    require_test_name(name_);
    {
        blocking_connection admin(maintenance_);
        admin.sql("CREATE DATABASE " + name_);
    }
    try {
        // The schema comes from the code under test: the same migrations ticketd runs.
        asio::io_context ctx;
        const pg::connection_options options{url_, std::chrono::seconds(10), std::chrono::minutes(2)};
        auto migrate = [&options]() -> awaitable<void> {
            auto conn = co_await pg::connection::open(options);
            co_await pg::migrate(*conn);
        };
        run_coro(ctx, migrate());
        inspect_ = std::make_unique<blocking_connection>(url_);
    } catch (...) {
        blocking_connection admin(maintenance_);
        admin.sql("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
        throw;
    }
}

test_database::~test_database() {
    inspect_.reset();
    try {
        require_test_name(name_);
        blocking_connection admin(maintenance_);
        // FORCE: a pool a failed test left behind must not keep the database alive.
        admin.sql("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (const std::exception& e) {
        std::cerr << "warning: could not drop test database " << name_ << ": " << e.what() << '\n';
    }
}

void test_database::truncate_all() {
    inspect_->sql("TRUNCATE idempotency_keys, ledger_entries, performance_seats, performance_staging_dates, "
                  "performances, stages, users");
}

pg::pool_options
pool_options_for(const std::string& url, std::size_t max_size, std::chrono::milliseconds acquire_timeout) {
    pg::pool_options options;
    options.connection.conninfo = url;
    options.connection.connect_timeout = std::chrono::seconds(10);
    options.connection.query_timeout = std::chrono::seconds(30);
    options.max_size = max_size;
    options.acquire_timeout = acquire_timeout;
    return options;
}

// --- pg_suite --------------------------------------------------------------------------------

std::unique_ptr<test_database> pg_suite::database_;
std::string pg_suite::setup_failure_;

void pg_suite::SetUpTestSuite() {
    setup_failure_.clear();
    const auto maintenance = maintenance_url();
    if (!maintenance) {
        return;
    }
    try {
        database_ = std::make_unique<test_database>(*maintenance);
    } catch (const std::exception& e) {
        setup_failure_ = e.what();
    }
}

void pg_suite::TearDownTestSuite() {
    database_.reset();
}

void pg_suite::SetUp() {
    if (!maintenance_url()) {
        TP_SKIP_OR_FAIL_WITHOUT_SERVER(
            "TEST_DATABASE_URL is not set: PostgreSQL tests need a server (scripts/test.sh starts one and sets it)"
        );
    }
    ASSERT_TRUE(database_) << "could not create the test database: " << setup_failure_;
    database_->truncate_all();
}

// --- seeding ---------------------------------------------------------------------------------

std::string insert_user(blocking_connection& db, const std::string& email, std::int64_t balance) {
    const auto id = db.scalar(
        "INSERT INTO users (email_address, password_hash, name) VALUES ($1, 'not-a-hash', 'Test Fan') RETURNING id",
        {email}
    );
    if (balance > 0) {
        // Through the ledger, so that I2 (balance == sum of ledger rows) holds from the start.
        db.sql("UPDATE users SET balance = balance + $2::bigint WHERE id = $1", {id, std::to_string(balance)});
        db.sql(
            "INSERT INTO ledger_entries (user_id, amount, cause) VALUES ($1, $2::bigint, 'CHARGED_BY_USER')",
            {id, std::to_string(balance)}
        );
    }
    return id;
}

seeded_schedule insert_schedule(blocking_connection& db, int seats, std::int64_t price, int started_seconds_ago) {
    seeded_schedule out;
    const auto stage = db.scalar("INSERT INTO stages (name, location) VALUES ('Main Hall', 'Seoul') RETURNING id");
    out.performance_id = db.scalar(
        "INSERT INTO performances (stage_id, title, ticketing_start_date) "
        "VALUES ($1, 'Test Concert', now() - make_interval(secs => $2::int)) RETURNING id",
        {stage, std::to_string(started_seconds_ago)}
    );
    out.schedule_id = db.scalar(
        "INSERT INTO performance_staging_dates (performance_id, staging_date) "
        "VALUES ($1, now() + interval '30 days') RETURNING id",
        {out.performance_id}
    );
    const auto rows = db.sql(
        "INSERT INTO performance_seats (staging_date_id, seat_number, price, position) "
        "SELECT $1, 'A' || n, $2::bigint, n - 1 FROM generate_series(1, $3::int) AS n RETURNING id",
        {out.schedule_id, std::to_string(price), std::to_string(seats)}
    );
    for (const auto& r : rows) {
        out.seat_ids.push_back(*r.front());
    }
    std::sort(out.seat_ids.begin(), out.seat_ids.end());
    return out;
}

// --- invariant checkers ----------------------------------------------------------------------

std::vector<std::string> users_breaking_the_ledger(blocking_connection& db) {
    std::vector<std::string> out;
    for (const auto& r :
         db.sql("SELECT u.id FROM users u "
                "LEFT JOIN (SELECT user_id, sum(amount) AS total FROM ledger_entries GROUP BY user_id) l "
                "  ON l.user_id = u.id "
                "WHERE u.balance <> coalesce(l.total, 0) OR u.balance < 0 ORDER BY u.id")) {
        out.push_back(*r.front());
    }
    return out;
}

std::vector<std::string> reserved_seats_without_one_payment(blocking_connection& db) {
    std::vector<std::string> out;
    for (const auto& r :
         db.sql("SELECT s.id FROM performance_seats s "
                "WHERE (s.reservation_status = 'RESERVED' AND ( "
                "         (SELECT count(*) FROM ledger_entries l WHERE l.performance_seat_id = s.id "
                "            AND l.cause = 'PAYMENT_PERFORMANCE_SEAT' AND l.amount = -s.price "
                "            AND l.user_id = s.holder_id) <> 1 "
                "      OR (SELECT count(*) FROM ledger_entries l WHERE l.performance_seat_id = s.id) <> 1)) "
                "   OR (s.reservation_status <> 'RESERVED' AND EXISTS "
                "         (SELECT 1 FROM ledger_entries l WHERE l.performance_seat_id = s.id)) "
                "ORDER BY s.id")) {
        out.push_back(*r.front());
    }
    return out;
}

} // namespace tp::test
