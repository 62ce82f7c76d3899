// Accounts: the UNIQUE index decides whether an e-mail address is taken.

#include "storage/pg/user_repository.hpp"
#include "test_database.hpp"

namespace tp::test {
namespace {

using namespace std::chrono_literals;

class user_repository_test : public pg_suite {};

domain::sign_up_form form(std::string email) {
    return domain::sign_up_form{std::move(email), "correct horse", std::string("Fan"), std::nullopt};
}

TEST_F(user_repository_test, create_stores_the_account_with_a_zero_balance) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    pg::user_repository users(pool);
    const auto id = run_coro(ctx, users.create(form("fan@example.com"), "$argon2id$hash"));
    ASSERT_TRUE(id) << id.error().message;
    const auto row = inspect().sql(
        "SELECT email_address, password_hash, name, phone_number, balance FROM users WHERE id = $1", {*id}
    );
    ASSERT_EQ(row.size(), 1u);
    EXPECT_EQ(row[0][0], "fan@example.com");
    EXPECT_EQ(row[0][1], "$argon2id$hash");
    EXPECT_EQ(row[0][2], "Fan");
    EXPECT_EQ(row[0][3], std::nullopt);
    EXPECT_EQ(row[0][4], "0");
}

TEST_F(user_repository_test, a_registered_email_is_email_taken) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    pg::user_repository users(pool);
    ASSERT_TRUE(run_coro(ctx, users.create(form("fan@example.com"), "h1")));
    const auto again = run_coro(ctx, users.create(form("fan@example.com"), "h2"));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, domain::errc::email_taken);
    EXPECT_EQ(inspect().number("SELECT count(*) FROM users"), 1);
}

TEST_F(user_repository_test, concurrent_sign_ups_with_one_email_create_one_account) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 4));
    pg::user_repository users(pool);
    int created = 0;
    int taken = 0;
    auto one = [&]() -> awaitable<void> {
        const auto r = co_await users.create(form("race@example.com"), "h");
        if (r) {
            ++created;
        } else if (r.error().code == domain::errc::email_taken) {
            ++taken;
        }
    };
    std::vector<awaitable<void>> ops;
    for (int i = 0; i < 10; ++i) {
        ops.push_back(one());
    }
    const auto report = run_all(ctx, std::move(ops));
    EXPECT_TRUE(report.failures.empty()) << report.failures.front();
    EXPECT_EQ(created, 1);
    EXPECT_EQ(taken, 9);
}

TEST_F(user_repository_test, find_credentials_by_email) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    pg::user_repository users(pool);
    const auto id = run_coro(ctx, users.create(form("fan@example.com"), "stored-hash"));
    ASSERT_TRUE(id);
    const auto found = run_coro(ctx, users.find_credentials("fan@example.com"));
    ASSERT_TRUE(found);
    EXPECT_EQ(found->user_id, *id);
    EXPECT_EQ(found->password_hash, "stored-hash");
    EXPECT_FALSE(run_coro(ctx, users.find_credentials("nobody@example.com")));
}

} // namespace
} // namespace tp::test
