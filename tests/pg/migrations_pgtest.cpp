// Migrations: versioned, each applied once, safe to run from several instances at once.

#include "storage/pg/connection.hpp"
#include "storage/pg/migrations.hpp"
#include "test_database.hpp"

namespace tp::test {
namespace {

using namespace std::chrono_literals;

class migrations_test : public pg_suite {
protected:
    pg::connection_options options() const { return pg::connection_options{url(), 10s, 60s}; }

    pg::migration_report migrate_once(asio::io_context& ctx) {
        const auto opts = options();
        auto op = [&opts]() -> awaitable<pg::migration_report> {
            auto conn = co_await pg::connection::open(opts);
            co_return co_await pg::migrate(*conn);
        };
        return run_coro(ctx, op());
    }

    // Back to an empty database: no tables, no types, no migration record.
    void wipe_schema() { inspect().sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public"); }

    void TearDown() override {
        // Leave a migrated schema for whatever runs next in this suite.
        asio::io_context ctx;
        migrate_once(ctx);
    }
};

TEST_F(migrations_test, a_migrated_database_applies_nothing_the_second_time) {
    asio::io_context ctx;
    // The fixture already migrated this database once.
    const auto report = migrate_once(ctx);
    EXPECT_TRUE(report.applied.empty());
    EXPECT_FALSE(report.already_present.empty());
    EXPECT_EQ(report.already_present.front(), "0001_core_schema.sql");
}

TEST_F(migrations_test, an_empty_database_gets_every_migration_once) {
    wipe_schema();
    asio::io_context ctx;
    const auto first = migrate_once(ctx);
    EXPECT_FALSE(first.applied.empty());
    EXPECT_TRUE(first.already_present.empty());
    EXPECT_EQ(first.applied.front(), "0001_core_schema.sql");
    EXPECT_TRUE(std::is_sorted(first.applied.begin(), first.applied.end()));

    const auto second = migrate_once(ctx);
    EXPECT_TRUE(second.applied.empty());
    EXPECT_EQ(second.already_present, first.applied);
    EXPECT_EQ(
        inspect().number("SELECT count(*) FROM schema_migrations"), static_cast<std::int64_t>(first.applied.size())
    );
    EXPECT_EQ(
        inspect().number("SELECT count(*) FROM information_schema.tables WHERE table_name = 'ledger_entries'"), 1
    );
}

TEST_F(migrations_test, instances_migrating_at_once_apply_each_file_once) {
    wipe_schema();
    asio::io_context ctx;
    const auto opts = options();
    std::vector<pg::migration_report> reports;
    auto one = [&opts, &reports]() -> awaitable<void> {
        auto conn = co_await pg::connection::open(opts);
        reports.push_back(co_await pg::migrate(*conn));
    };
    std::vector<awaitable<void>> ops;
    for (int i = 0; i < 4; ++i) {
        ops.push_back(one());
    }
    const auto report = run_all(ctx, std::move(ops));
    ASSERT_TRUE(report.failures.empty()) << report.failures.front();
    ASSERT_EQ(reports.size(), 4u);
    std::size_t applied = 0;
    for (const auto& r : reports) {
        applied += r.applied.size();
    }
    EXPECT_EQ(applied, static_cast<std::size_t>(inspect().number("SELECT count(*) FROM schema_migrations")));
}

TEST_F(migrations_test, a_database_migrated_before_the_rename_keeps_its_stored_answers) {
    // As a database that ran up to 0004 left it: the column under its old name, with a
    // stored answer in it.
    inspect().sql("ALTER TABLE idempotency_keys RENAME COLUMN canonical_request TO request_hash");
    inspect().sql("DELETE FROM schema_migrations WHERE name = '0005_idempotency_canonical_request.sql'");
    const auto fan = insert_user(inspect(), "fan@example.com");
    inspect().sql(
        "INSERT INTO idempotency_keys (user_id, route, key, request_hash, status_code, response_body)"
        " VALUES ($1, 'POST /payment/cash', 'key-1', '5000', 201, '{}')",
        {fan}
    );

    asio::io_context ctx;
    const auto report = migrate_once(ctx);
    EXPECT_EQ(report.applied, std::vector<std::string>{"0005_idempotency_canonical_request.sql"});
    EXPECT_EQ(inspect().scalar("SELECT canonical_request FROM idempotency_keys WHERE user_id = $1", {fan}), "5000");
    EXPECT_EQ(
        inspect().number("SELECT count(*) FROM information_schema.columns"
                         " WHERE table_name = 'idempotency_keys' AND column_name = 'request_hash'"),
        0
    );
}

TEST_F(migrations_test, the_lock_is_released_so_the_next_instance_does_not_wait) {
    asio::io_context ctx;
    migrate_once(ctx);
    EXPECT_EQ(inspect().number("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), 0);
}

} // namespace
} // namespace tp::test
