// Transactions: commit persists, anything else rolls back; nothing commits implicitly.

#include "storage/pg/error.hpp"
#include "storage/pg/transaction.hpp"
#include "test_database.hpp"

namespace tp::test {
namespace {

using namespace std::chrono_literals;

constexpr pg::query insert_stage{"tx_test_insert_stage", "INSERT INTO stages (name, location) VALUES ($1, 'x')"};
constexpr pg::query divide_by_zero{"tx_test_divide_by_zero", "SELECT 1 / $1::int"};

class transaction_test : public pg_suite {
protected:
    std::int64_t stages_named(const std::string& name) {
        return inspect().number("SELECT count(*) FROM stages WHERE name = $1", {name});
    }
};

TEST_F(transaction_test, runs_read_committed_whatever_the_server_default) {
    // A database whose default is SERIALIZABLE (as an operator might set it): the connections
    // still run READ COMMITTED, the level the transactions were designed for.
    inspect().sql("ALTER DATABASE " + db().name() + " SET default_transaction_isolation = 'serializable'");
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    constexpr pg::query isolation{"tx_test_isolation", "SELECT current_setting('transaction_isolation')"};
    std::string seen;
    auto op = [&]() -> awaitable<void> {
        auto tx = co_await pg::transaction::begin(pool);
        const auto r = co_await tx.execute(isolation);
        seen = r.string(0, 0);
        co_await tx.commit();
    };
    run_coro(ctx, op());
    EXPECT_EQ(blocking_connection(url()).scalar("SHOW default_transaction_isolation"), "serializable")
        << "the check below could not fail: the database default did not take";
    inspect().sql("ALTER DATABASE " + db().name() + " RESET default_transaction_isolation");
    EXPECT_EQ(seen, "read committed");
}

TEST_F(transaction_test, a_deadlocked_attempt_is_run_again_and_other_errors_are_not) {
    asio::io_context ctx;
    int attempts = 0;
    auto deadlocked_once = [&]() -> awaitable<int> {
        if (++attempts == 1) {
            throw pg::error(pg::error::kind::query, "deadlock detected", {.sqlstate = "40P01", .constraint = ""});
        }
        co_return 7;
    };
    EXPECT_EQ(run_coro(ctx, pg::run_with_retries(deadlocked_once)), 7);
    EXPECT_EQ(attempts, 2);

    attempts = 0;
    auto always_serialization = [&]() -> awaitable<int> {
        ++attempts;
        throw pg::error(pg::error::kind::query, "could not serialize access", {.sqlstate = "40001", .constraint = ""});
        co_return 0;
    };
    EXPECT_THROW(run_coro(ctx, pg::run_with_retries(always_serialization)), pg::error);
    EXPECT_EQ(attempts, 3) << "three attempts in all, then the error reaches the caller";

    attempts = 0;
    auto constraint = [&]() -> awaitable<int> {
        ++attempts;
        throw pg::error(
            pg::error::kind::query, "duplicate key", {.sqlstate = "23505", .constraint = "users_email_key"}
        );
        co_return 0;
    };
    EXPECT_THROW(run_coro(ctx, pg::run_with_retries(constraint)), pg::error);
    EXPECT_EQ(attempts, 1);
}

TEST_F(transaction_test, commit_persists_every_statement) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    auto op = [&pool]() -> awaitable<void> {
        auto tx = co_await pg::transaction::begin(pool);
        co_await tx.execute(insert_stage, std::string("committed-1"));
        co_await tx.execute(insert_stage, std::string("committed-2"));
        co_await tx.commit();
    };
    run_coro(ctx, op());
    EXPECT_EQ(stages_named("committed-1"), 1);
    EXPECT_EQ(stages_named("committed-2"), 1);
}

TEST_F(transaction_test, nothing_is_visible_to_others_before_commit) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    std::int64_t seen_before_commit = -1;
    auto op = [&]() -> awaitable<void> {
        auto tx = co_await pg::transaction::begin(pool);
        co_await tx.execute(insert_stage, std::string("pending"));
        seen_before_commit = stages_named("pending");
        co_await tx.commit();
    };
    run_coro(ctx, op());
    EXPECT_EQ(seen_before_commit, 0);
    EXPECT_EQ(stages_named("pending"), 1);
}

TEST_F(transaction_test, leaving_scope_without_commit_rolls_back) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    auto op = [&pool]() -> awaitable<void> {
        {
            auto tx = co_await pg::transaction::begin(pool);
            co_await tx.execute(insert_stage, std::string("abandoned"));
        }
        // The same (only) connection, after the pool rolled it back.
        const auto r = co_await pool.execute(insert_stage, pg::make_params(std::string("after")));
        EXPECT_EQ(r.affected(), 1);
    };
    run_coro(ctx, op());
    EXPECT_EQ(stages_named("abandoned"), 0);
    EXPECT_EQ(stages_named("after"), 1);
}

TEST_F(transaction_test, an_exception_inside_the_transaction_rolls_it_back) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    auto op = [&pool]() -> awaitable<void> {
        auto tx = co_await pg::transaction::begin(pool);
        co_await tx.execute(insert_stage, std::string("before-the-error"));
        co_await tx.execute(divide_by_zero, 0);
        co_await tx.commit();
    };
    EXPECT_THROW(run_coro(ctx, op()), pg::error);
    EXPECT_EQ(stages_named("before-the-error"), 0);
    // And the pool is usable afterwards.
    EXPECT_EQ(run_coro(ctx, pool.execute(divide_by_zero, pg::make_params(1))).int64(0, 0), 1);
}

TEST_F(transaction_test, rollback_undoes_every_statement) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    auto op = [&pool]() -> awaitable<void> {
        auto tx = co_await pg::transaction::begin(pool);
        co_await tx.execute(insert_stage, std::string("rolled-back"));
        co_await tx.rollback();
    };
    run_coro(ctx, op());
    EXPECT_EQ(stages_named("rolled-back"), 0);
}

// PostgreSQL answers COMMIT of a failed transaction with "ROLLBACK" and no error. A commit()
// that returns normally must mean the data is there.
TEST_F(transaction_test, commit_of_a_failed_transaction_does_not_report_success) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    bool statement_failed = false;
    bool commit_threw = false;
    auto op = [&]() -> awaitable<void> {
        auto tx = co_await pg::transaction::begin(pool);
        co_await tx.execute(insert_stage, std::string("lost"));
        try {
            co_await tx.execute(divide_by_zero, 0);
        } catch (const pg::error&) {
            statement_failed = true; // a caller that handles the error and carries on
        }
        try {
            co_await tx.commit();
        } catch (const pg::error&) {
            commit_threw = true;
        }
    };
    run_coro(ctx, op());
    EXPECT_TRUE(statement_failed);
    EXPECT_EQ(stages_named("lost"), 0);
    EXPECT_TRUE(commit_threw) << "transaction::commit() returned normally but nothing was committed";
}

// BEGIN and statements sent ahead travel with the next statement (one round trip), run
// before it in the same transaction, and are undone with it.
TEST_F(transaction_test, statements_sent_ahead_run_first_in_the_same_transaction) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    constexpr pg::query count_named{"tx_test_count_named", "SELECT count(*) FROM stages WHERE name = $1"};
    std::int64_t seen_by_next = -1;
    auto op = [&]() -> awaitable<void> {
        auto tx = co_await pg::transaction::begin(pool);
        tx.send_ahead(insert_stage, std::string("ahead-1"));
        tx.send_ahead(insert_stage, std::string("ahead-1"));
        seen_by_next = (co_await tx.execute(count_named, std::string("ahead-1"))).int64(0, 0);
        co_await tx.rollback();
    };
    run_coro(ctx, op());
    EXPECT_EQ(seen_by_next, 2) << "the statements sent ahead did not run before the next one";
    EXPECT_EQ(stages_named("ahead-1"), 0) << "rollback must undo the statements sent ahead too";
}

TEST_F(transaction_test, a_failure_ahead_fails_the_call_that_carried_it_and_stops_the_rest) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    auto op = [&pool]() -> awaitable<void> {
        auto tx = co_await pg::transaction::begin(pool);
        tx.send_ahead(divide_by_zero, 0);
        co_await tx.execute(insert_stage, std::string("after-a-failure-ahead"));
        co_await tx.commit();
    };
    try {
        run_coro(ctx, op());
        ADD_FAILURE() << "a failed statement sent ahead went unnoticed";
    } catch (const pg::error& e) {
        EXPECT_EQ(e.sqlstate(), "22012"); // division by zero: the statement that failed, not "aborted"
    }
    EXPECT_EQ(stages_named("after-a-failure-ahead"), 0);
    // The only connection left pipeline mode cleanly and is usable at once.
    EXPECT_EQ(run_coro(ctx, pool.execute(divide_by_zero, pg::make_params(1))).int64(0, 0), 1);
}

TEST_F(transaction_test, statements_sent_ahead_of_commit_are_committed) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    auto op = [&pool]() -> awaitable<void> {
        {
            auto tx = co_await pg::transaction::begin(pool);
            tx.send_ahead(insert_stage, std::string("ahead-of-commit"));
            co_await tx.commit();
        }
        auto empty = co_await pg::transaction::begin(pool); // the same, only connection
        co_await empty.commit();                            // nothing sent: nothing to do, and no error
    };
    run_coro(ctx, op());
    EXPECT_EQ(stages_named("ahead-of-commit"), 1);
}

TEST_F(transaction_test, two_transactions_run_side_by_side_on_two_connections) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 2));
    auto op = [&pool]() -> awaitable<void> {
        auto first = co_await pg::transaction::begin(pool);
        auto second = co_await pg::transaction::begin(pool);
        co_await first.execute(insert_stage, std::string("first"));
        co_await second.execute(insert_stage, std::string("second"));
        co_await second.commit();
        co_await first.rollback();
    };
    run_coro(ctx, op());
    EXPECT_EQ(stages_named("first"), 0);
    EXPECT_EQ(stages_named("second"), 1);
}

} // namespace
} // namespace tp::test
