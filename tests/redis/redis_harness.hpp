#pragma once
// What the Redis integration tests stand on:
//
// - `redis_suite`: a GoogleTest fixture on its own Redis database (1..15) of the throwaway
//   server named by TEST_REDIS_URL (scripts/test.sh sets it). Each suite passes its own
//   database number, so suites never share keys; every test starts with FLUSHDB of that
//   database. Skipped, with a message, when TEST_REDIS_URL is unset. Database 0 is never
//   used (a guard refuses it), so a URL pointing at a real server's data is left alone.
// - `redis_inspector`: a blocking hiredis connection for setting up and reading back state.
//   It bypasses the code under test on purpose: tests check what Redis holds, not answers.
// - `run_coro` / `run_all` / `run_on_threads`: run coroutines with a bounded run time, so a
//   deadlock or a lost reply fails the test instead of hanging the run.

#include "storage/redis/connection.hpp"
#include "support/asio.hpp"
#include "support/coroutines.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct redisContext;

// ASSERT_* returns from the function, which a coroutine cannot do: this co_returns instead.
// For coroutines returning awaitable<void> only.
#define CO_ASSERT_TRUE(condition)                                                                                      \
    if (!(condition)) {                                                                                                \
        ADD_FAILURE() << "expected true: " #condition;                                                                 \
        co_return;                                                                                                     \
    }

namespace tp::test {

// TEST_REDIS_URL, or nullopt when unset or empty.
std::optional<std::string> redis_url();

// The options of TEST_REDIS_URL with database `database`, which must be 1..15.
redis::connection_options redis_options_for(int database);

// --- a blocking connection for set-up and inspection -----------------------------------------

class redis_inspector {
public:
    explicit redis_inspector(const redis::connection_options& options);
    ~redis_inspector();
    redis_inspector(const redis_inspector&) = delete;
    redis_inspector& operator=(const redis_inspector&) = delete;

    // Any command; an error reply is returned as a reply of kind error. Throws
    // std::runtime_error when the connection fails.
    redis::reply command(const std::vector<std::string>& argv);
    // As `command`, but an error reply throws.
    redis::reply checked(const std::vector<std::string>& argv);

    std::int64_t integer(const std::vector<std::string>& argv);
    std::optional<std::string> text(const std::vector<std::string>& argv); // nullopt for nil
    bool exists(const std::string& key);
    std::map<std::string, std::string> hash(const std::string& key);        // HGETALL
    std::vector<std::string> strings(const std::vector<std::string>& argv); // array of strings
    std::int64_t client_id();

private:
    redisContext* context_;
};

// --- the fixture -----------------------------------------------------------------------------

class redis_suite : public ::testing::Test {
protected:
    explicit redis_suite(int database) : database_(database) {}

    // Skips without TEST_REDIS_URL; otherwise connects the inspector and empties the database.
    void SetUp() override;

    const redis::connection_options& options() const { return options_; }
    redis_inspector& inspect() { return *inspector_; }
    int database() const { return database_; }

    asio::io_context ctx_;

private:
    int database_;
    redis::connection_options options_;
    std::unique_ptr<redis_inspector> inspector_;
};

} // namespace tp::test
