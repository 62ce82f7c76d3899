#pragma once
// What the PostgreSQL integration tests stand on:
//
// - `test_database`: a fresh database `tp_test_<random>` on the server named by
//   TEST_DATABASE_URL (a maintenance URL such as postgresql://postgres@127.0.0.1:5432/postgres),
//   migrated with pg::migrate, dropped afterwards. It refuses to create or drop any database
//   whose name does not start with tp_test_, so a test can never touch real data.
// - `pg_suite`: a GoogleTest fixture giving each test suite its own such database (skipped,
//   with a message, when TEST_DATABASE_URL is unset; scripts/test.sh always sets it).
// - `run_coro` (support/coroutines.hpp): runs a coroutine to completion with a bounded run time, so a
//   deadlock fails the test instead of hanging the run.
// - Blocking libpq helpers (`sql`, `scalar`) for setting up and inspecting state; they bypass
//   the code under test on purpose, so tests check the database, not the answers.

#include "storage/pg/pool.hpp"
#include "support/asio.hpp"
#include "support/coroutines.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

// ASSERT_* returns from the function, which a coroutine cannot do: this co_returns instead.
// For coroutines returning awaitable<void> only.
#define CO_ASSERT_TRUE(condition)                                                                                      \
    if (!(condition)) {                                                                                                \
        ADD_FAILURE() << "expected true: " #condition;                                                                 \
        co_return;                                                                                                     \
    }

namespace tp::test {

inline constexpr std::string_view test_database_prefix = "tp_test_";

// TEST_DATABASE_URL, or nullopt when unset or empty.
std::optional<std::string> maintenance_url();

// `url` with its database name replaced by `database` (query string kept).
std::string with_database(const std::string& url, const std::string& database);

// One row of a blocking query: text cells, nullopt for NULL.
using row = std::vector<std::optional<std::string>>;

// A blocking libpq connection for test set-up and inspection.
class blocking_connection {
public:
    explicit blocking_connection(const std::string& url);
    ~blocking_connection();
    blocking_connection(const blocking_connection&) = delete;
    blocking_connection& operator=(const blocking_connection&) = delete;

    // Runs SQL (parameters bound as text) and returns its rows; throws std::runtime_error
    // carrying the server's message on failure.
    std::vector<row> sql(const std::string& text, const std::vector<std::optional<std::string>>& params = {});
    // The first cell of the first row; throws if there is none or it is NULL.
    std::string scalar(const std::string& text, const std::vector<std::optional<std::string>>& params = {});
    std::int64_t number(const std::string& text, const std::vector<std::optional<std::string>>& params = {});

private:
    PGconn* conn_;
};

class test_database {
public:
    // Creates and migrates a new database on the server at `maintenance`.
    explicit test_database(std::string maintenance);
    ~test_database();
    test_database(const test_database&) = delete;
    test_database& operator=(const test_database&) = delete;

    const std::string& name() const { return name_; }
    const std::string& url() const { return url_; }
    blocking_connection& inspect() { return *inspect_; }

    // Removes every row (users, catalog, ledger, idempotency keys), keeping the schema.
    void truncate_all();

private:
    std::string maintenance_;
    std::string name_;
    std::string url_;
    std::unique_ptr<blocking_connection> inspect_;
};

// Options for a pool on the test database: small, with short deadlines so a failure shows
// up in seconds.
pg::pool_options pool_options_for(
    const std::string& url,
    std::size_t max_size = 4,
    std::chrono::milliseconds acquire_timeout = std::chrono::seconds(10)
);

// --- the fixture -----------------------------------------------------------------------------

// One fresh database per test suite (TEST_F suites deriving from this). Each test starts from
// an empty schema: SetUp truncates every table.
class pg_suite : public ::testing::Test {
public:
    static void SetUpTestSuite();
    static void TearDownTestSuite();

protected:
    void SetUp() override;

    static test_database& db() { return *database_; }
    static const std::string& url() { return database_->url(); }
    static blocking_connection& inspect() { return database_->inspect(); }

private:
    static std::unique_ptr<test_database> database_;
    static std::string setup_failure_;
};

// --- seeding through SQL, bypassing the code under test -------------------------------------

// A user with `balance` points; returns its id.
std::string insert_user(blocking_connection& db, const std::string& email, std::int64_t balance = 0);

struct seeded_schedule {
    std::string performance_id;
    std::string schedule_id;
    std::vector<std::string> seat_ids; // sorted, as validate_seat_selection would give them
};

// A stage, a performance whose ticketing started `started_seconds_ago` seconds ago (negative:
// starts in the future), one schedule and `seats` seats of `price` each.
seeded_schedule
insert_schedule(blocking_connection& db, int seats, std::int64_t price = 50'000, int started_seconds_ago = 3600);

// --- invariant checkers (docs/api-contract.md, Invariants), reading PostgreSQL only -------------

// I2: users whose balance differs from the sum of their ledger rows, or is negative.
std::vector<std::string> users_breaking_the_ledger(blocking_connection& db);

// I3: RESERVED seats without exactly one payment row (of -price, by their holder), and
// seats that are not RESERVED but were paid for.
std::vector<std::string> reserved_seats_without_one_payment(blocking_connection& db);

} // namespace tp::test
