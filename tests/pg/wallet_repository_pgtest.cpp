// Points: charges and payments change a balance and write its ledger row in one transaction;
// a payment debits the seat's own price; retries with an Idempotency-Key replay the first
// answer. Invariant I2 (balance == sum of ledger rows, never negative) is checked under load.

#include "storage/pg/wallet_repository.hpp"
#include "support/typed_ids.hpp"
#include "test_database.hpp"

#include <thread>

namespace tp::test {
namespace {

using namespace std::chrono_literals;
using domain::errc;
using answer_result = domain::result<pg::stored_answer>;

pg::stored_answer render_charge(domain::krw balance) {
    return pg::stored_answer{201, R"({"result":"success","balance":)" + std::to_string(balance) + "}"};
}

pg::stored_answer render_payment(const pg::payment& p) {
    return pg::stored_answer{
        201,
        R"({"result":"success","performance_seat_id":")" + p.performance_seat_id + R"(","price":)" +
            std::to_string(p.price) + R"(,"balance":)" + std::to_string(p.balance) + "}"};
}

class wallet_repository_test : public pg_suite {
protected:
    answer_result
    charge(const std::string& user, domain::krw amount, std::optional<pg::idempotency_claim> claim = std::nullopt) {
        asio::io_context ctx;
        pg::pool pool(ctx.get_executor(), pool_options_for(url(), 2, 5s));
        pg::wallet_repository repo(pool);
        return run_coro(ctx, repo.charge(as_user(user), amount, claim, render_charge));
    }

    answer_result
    pay(const std::string& user,
        const std::string& seat,
        std::optional<pg::idempotency_claim> claim = std::nullopt,
        std::size_t pool_size = 2) {
        asio::io_context ctx;
        pg::pool pool(ctx.get_executor(), pool_options_for(url(), pool_size, 5s));
        pg::wallet_repository repo(pool);
        return run_coro(ctx, repo.pay(as_user(user), as_seat(seat), claim, render_payment));
    }

    std::int64_t balance_of(const std::string& user) {
        return inspect().number("SELECT balance FROM users WHERE id = $1", {user});
    }

    std::int64_t ledger_rows_of(const std::string& user) {
        return inspect().number("SELECT count(*) FROM ledger_entries WHERE user_id = $1", {user});
    }

    void hold(const std::string& seat, const std::string& user, const std::string& expires_in = "5 minutes") {
        inspect().sql(
            "UPDATE performance_seats SET reservation_status = 'TEMPORARY_RESERVED', holder_id = $2, "
            "hold_expires_at = now() + $3::interval WHERE id = $1",
            {seat, user, expires_in}
        );
    }

    std::string status_of(const std::string& seat) {
        return inspect().scalar("SELECT reservation_status::text FROM performance_seats WHERE id = $1", {seat});
    }

    static void expect_refused(const answer_result& r, errc code) {
        ASSERT_FALSE(r) << "accepted: " << r->body;
        EXPECT_EQ(r.error().code, code) << r.error().message;
    }

    void expect_ledger_consistent() {
        EXPECT_EQ(users_breaking_the_ledger(inspect()), std::vector<std::string>{});
        EXPECT_EQ(reserved_seats_without_one_payment(inspect()), std::vector<std::string>{});
    }
};

// --- charging ------------------------------------------------------------------------------

TEST_F(wallet_repository_test, a_charge_raises_the_balance_and_writes_a_ledger_row) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto r = charge(fan, 5000);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 201);
    EXPECT_EQ(r->body, R"({"result":"success","balance":5000})");
    EXPECT_EQ(balance_of(fan), 5000);
    const auto rows =
        inspect().sql("SELECT amount, cause::text, performance_seat_id FROM ledger_entries WHERE user_id = $1", {fan});
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0][0], "5000");
    EXPECT_EQ(rows[0][1], "CHARGED_BY_USER");
    EXPECT_EQ(rows[0][2], std::nullopt);
    ASSERT_TRUE(charge(fan, 2500));
    EXPECT_EQ(balance_of(fan), 7500);
    expect_ledger_consistent();
}

TEST_F(wallet_repository_test, a_charge_past_the_balance_ceiling_is_refused_and_changes_nothing) {
    const auto fan = insert_user(inspect(), "fan@example.com", domain::max_balance - 100);
    expect_refused(charge(fan, 101), errc::balance_limit_reached);
    EXPECT_EQ(balance_of(fan), domain::max_balance - 100);
    EXPECT_EQ(ledger_rows_of(fan), 1);
    EXPECT_TRUE(charge(fan, 100));
    EXPECT_EQ(balance_of(fan), domain::max_balance);
}

TEST_F(wallet_repository_test, balance_and_history_read_back_what_happened) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto schedule = insert_schedule(inspect(), 1, 3000);
    ASSERT_TRUE(charge(fan, 5000));
    hold(schedule.seat_ids[0], fan);
    ASSERT_TRUE(pay(fan, schedule.seat_ids[0]));

    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    pg::wallet_repository repo(pool);
    EXPECT_EQ(run_coro(ctx, repo.balance(as_user(fan))), 2000);
    const auto history = run_coro(ctx, repo.history(as_user(fan)));
    ASSERT_EQ(history.size(), 2u);
    EXPECT_EQ(history[0].amount, 5000);
    EXPECT_EQ(history[0].cause, domain::ledger_cause::charged_by_user);
    EXPECT_FALSE(history[0].performance_seat_id);
    EXPECT_EQ(history[1].amount, -3000);
    EXPECT_EQ(history[1].cause, domain::ledger_cause::payment_performance_seat);
    EXPECT_EQ(history[1].performance_seat_id, schedule.seat_ids[0]);
    EXPECT_LE(history[0].date_created, history[1].date_created);
    const auto now_ms = inspect().number("SELECT (extract(epoch FROM now()) * 1000)::bigint");
    EXPECT_NEAR(static_cast<double>(history[1].date_created), static_cast<double>(now_ms), 60'000.0);
}

// --- paying ----------------------------------------------------------------------------------

TEST_F(wallet_repository_test, paying_debits_the_seats_price_and_reserves_it) {
    const auto fan = insert_user(inspect(), "fan@example.com", 100'000);
    const auto schedule = insert_schedule(inspect(), 2, 70'000);
    const auto seat = schedule.seat_ids[0];
    hold(seat, fan);

    const auto r = pay(fan, seat);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_NE(r->body.find(R"("price":70000)"), std::string::npos) << r->body;
    EXPECT_NE(r->body.find(R"("balance":30000)"), std::string::npos) << r->body;
    EXPECT_EQ(balance_of(fan), 30'000);
    EXPECT_EQ(status_of(seat), "RESERVED");
    const auto state = inspect().sql(
        "SELECT holder_id::text, hold_expires_at, reserved_at IS NOT NULL FROM performance_seats WHERE id = $1", {seat}
    );
    EXPECT_EQ(state[0][0], fan);
    EXPECT_EQ(state[0][1], std::nullopt);
    EXPECT_EQ(state[0][2], "t");
    const auto payment = inspect().sql(
        "SELECT amount, cause::text FROM ledger_entries WHERE user_id = $1 AND performance_seat_id = $2", {fan, seat}
    );
    ASSERT_EQ(payment.size(), 1u);
    EXPECT_EQ(payment[0][0], "-70000");
    EXPECT_EQ(payment[0][1], "PAYMENT_PERFORMANCE_SEAT");
    expect_ledger_consistent();
}

TEST_F(wallet_repository_test, too_little_money_is_insufficient_balance_and_changes_nothing) {
    const auto fan = insert_user(inspect(), "fan@example.com", 69'999);
    const auto schedule = insert_schedule(inspect(), 1, 70'000);
    const auto seat = schedule.seat_ids[0];
    hold(seat, fan);

    expect_refused(pay(fan, seat), errc::insufficient_balance);
    EXPECT_EQ(balance_of(fan), 69'999);
    EXPECT_EQ(status_of(seat), "TEMPORARY_RESERVED");
    EXPECT_EQ(ledger_rows_of(fan), 1);
    expect_ledger_consistent();
}

TEST_F(wallet_repository_test, exactly_enough_money_pays) {
    const auto fan = insert_user(inspect(), "fan@example.com", 70'000);
    const auto schedule = insert_schedule(inspect(), 1, 70'000);
    hold(schedule.seat_ids[0], fan);
    ASSERT_TRUE(pay(fan, schedule.seat_ids[0]));
    EXPECT_EQ(balance_of(fan), 0);
}

TEST_F(wallet_repository_test, paying_twice_is_seat_already_paid) {
    const auto fan = insert_user(inspect(), "fan@example.com", 200'000);
    const auto schedule = insert_schedule(inspect(), 1, 70'000);
    hold(schedule.seat_ids[0], fan);
    ASSERT_TRUE(pay(fan, schedule.seat_ids[0]));
    expect_refused(pay(fan, schedule.seat_ids[0]), errc::seat_already_paid);
    EXPECT_EQ(balance_of(fan), 130'000);
    EXPECT_EQ(ledger_rows_of(fan), 2);
}

TEST_F(wallet_repository_test, paying_for_a_seat_held_by_someone_else_is_seat_not_held) {
    const auto fan = insert_user(inspect(), "fan@example.com", 200'000);
    const auto holder = insert_user(inspect(), "holder@example.com");
    const auto schedule = insert_schedule(inspect(), 1);
    hold(schedule.seat_ids[0], holder);
    expect_refused(pay(fan, schedule.seat_ids[0]), errc::seat_not_held);
    EXPECT_EQ(balance_of(fan), 200'000);
    EXPECT_EQ(status_of(schedule.seat_ids[0]), "TEMPORARY_RESERVED");
}

TEST_F(wallet_repository_test, paying_for_a_seat_nobody_holds_is_seat_not_held) {
    const auto fan = insert_user(inspect(), "fan@example.com", 200'000);
    const auto schedule = insert_schedule(inspect(), 1);
    expect_refused(pay(fan, schedule.seat_ids[0]), errc::seat_not_held);
    EXPECT_EQ(status_of(schedule.seat_ids[0]), "AVAILABLE");
}

TEST_F(wallet_repository_test, paying_after_the_hold_expired_is_hold_expired) {
    const auto fan = insert_user(inspect(), "fan@example.com", 200'000);
    const auto schedule = insert_schedule(inspect(), 1);
    hold(schedule.seat_ids[0], fan, "-1 second");
    expect_refused(pay(fan, schedule.seat_ids[0]), errc::hold_expired);
    EXPECT_EQ(balance_of(fan), 200'000);
    EXPECT_EQ(ledger_rows_of(fan), 1);
}

TEST_F(wallet_repository_test, paying_for_an_unknown_seat_is_seat_not_found) {
    const auto fan = insert_user(inspect(), "fan@example.com", 200'000);
    expect_refused(pay(fan, "00000000-0000-4000-8000-000000000000"), errc::seat_not_found);
}

// A payment must never hold one pooled connection while waiting for a second (in other
// implementations of this scenario, the pool deadlocked at 10 concurrent payments).
TEST_F(wallet_repository_test, a_refused_payment_needs_only_one_pooled_connection) {
    const auto fan = insert_user(inspect(), "fan@example.com", 200'000);
    const auto schedule = insert_schedule(inspect(), 1);
    answer_result r = domain::make_error(errc::bad_request);
    try {
        r = pay(fan, schedule.seat_ids[0], std::nullopt, 1);
    } catch (const std::exception& e) {
        FAIL() << "a refused payment on a one-connection pool threw: " << e.what();
    }
    expect_refused(r, errc::seat_not_held);
}

TEST_F(wallet_repository_test, ten_concurrent_refused_payments_on_two_connections_all_get_their_answer) {
    const auto schedule = insert_schedule(inspect(), 10, 70'000);
    std::vector<std::string> fans;
    for (int i = 0; i < 10; ++i) {
        fans.push_back(insert_user(inspect(), "fan" + std::to_string(i) + "@example.com", 1000));
        hold(schedule.seat_ids[i], fans.back());
    }
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 2, 5s));
    pg::wallet_repository repo(pool);
    int insufficient = 0;
    auto one = [&](int i) -> awaitable<void> {
        const auto payer = as_user(fans[i]);
        const auto seat = as_seat(schedule.seat_ids[i]);
        const auto r = co_await repo.pay(payer, seat, std::nullopt, render_payment);
        if (!r && r.error().code == errc::insufficient_balance) {
            ++insufficient;
        }
    };
    std::vector<awaitable<void>> ops;
    for (int i = 0; i < 10; ++i) {
        ops.push_back(one(i));
    }
    const auto report = run_all(ctx, std::move(ops), 60s);
    EXPECT_TRUE(report.failures.empty()) << report.failures.size() << " failed, e.g. " << report.failures.front();
    EXPECT_EQ(insufficient, 10);
    expect_ledger_consistent();
}

TEST_F(wallet_repository_test, the_price_is_the_seats_whatever_the_caller_believes) {
    // The repository takes no amount at all: a client cannot name its own price.
    const auto fan = insert_user(inspect(), "fan@example.com", 100'000);
    const auto schedule = insert_schedule(inspect(), 1, 1);
    inspect().sql("UPDATE performance_seats SET price = 90000 WHERE id = $1", {schedule.seat_ids[0]});
    hold(schedule.seat_ids[0], fan);
    ASSERT_TRUE(pay(fan, schedule.seat_ids[0]));
    EXPECT_EQ(balance_of(fan), 10'000);
    expect_ledger_consistent();
}

// --- idempotency -----------------------------------------------------------------------------

// The canonical request is the call's meaning, as the handlers write it: the amount of a
// charge, the seat id of a payment.
pg::idempotency_claim claim(std::string key, std::string canonical_request, std::string route = "POST /payment/cash") {
    return pg::idempotency_claim{std::move(key), std::move(route), std::move(canonical_request)};
}

TEST_F(wallet_repository_test, a_charge_retried_with_its_key_replays_the_first_answer_and_changes_nothing) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto first = charge(fan, 5000, claim("key-1", "5000"));
    ASSERT_TRUE(first);
    const auto retry = charge(fan, 5000, claim("key-1", "5000"));
    ASSERT_TRUE(retry);
    EXPECT_EQ(retry->status, first->status);
    EXPECT_EQ(retry->body, first->body);
    EXPECT_EQ(balance_of(fan), 5000);
    EXPECT_EQ(ledger_rows_of(fan), 1);
    EXPECT_EQ(inspect().number("SELECT count(*) FROM idempotency_keys WHERE user_id = $1", {fan}), 1);
}

TEST_F(wallet_repository_test, a_replay_answers_as_the_first_time_even_after_other_changes) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto first = charge(fan, 5000, claim("key-1", "5000"));
    ASSERT_TRUE(first);
    ASSERT_TRUE(charge(fan, 1000));
    const auto retry = charge(fan, 5000, claim("key-1", "5000"));
    ASSERT_TRUE(retry);
    EXPECT_EQ(retry->body, R"({"result":"success","balance":5000})");
    EXPECT_EQ(balance_of(fan), 6000);
}

TEST_F(wallet_repository_test, a_key_reused_with_another_request_is_refused_and_changes_nothing) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    ASSERT_TRUE(charge(fan, 5000, claim("key-1", "5000")));
    expect_refused(charge(fan, 9000, claim("key-1", "9000")), errc::idempotency_key_reused);
    EXPECT_EQ(balance_of(fan), 5000);
    EXPECT_EQ(ledger_rows_of(fan), 1);
}

TEST_F(wallet_repository_test, keys_belong_to_one_user_and_one_route) {
    const auto fan = insert_user(inspect(), "fan@example.com", 100'000);
    const auto other = insert_user(inspect(), "other@example.com");
    const auto schedule = insert_schedule(inspect(), 1, 1000);
    ASSERT_TRUE(charge(fan, 5000, claim("shared", "5000")));
    ASSERT_TRUE(charge(other, 7000, claim("shared", "7000")));
    EXPECT_EQ(balance_of(other), 7000);
    hold(schedule.seat_ids[0], fan);
    const auto paid =
        pay(fan, schedule.seat_ids[0], claim("shared", schedule.seat_ids[0], "POST /payment/payment_performance_seat"));
    ASSERT_TRUE(paid) << paid.error().message;
    EXPECT_EQ(status_of(schedule.seat_ids[0]), "RESERVED");
}

TEST_F(wallet_repository_test, a_payment_retried_with_its_key_replays_instead_of_already_paid) {
    const auto fan = insert_user(inspect(), "fan@example.com", 100'000);
    const auto schedule = insert_schedule(inspect(), 1, 70'000);
    hold(schedule.seat_ids[0], fan);
    const auto route = "POST /payment/payment_performance_seat";
    const auto first = pay(fan, schedule.seat_ids[0], claim("pay-1", schedule.seat_ids[0], route));
    ASSERT_TRUE(first);
    const auto retry = pay(fan, schedule.seat_ids[0], claim("pay-1", schedule.seat_ids[0], route));
    ASSERT_TRUE(retry) << retry.error().message;
    EXPECT_EQ(retry->body, first->body);
    EXPECT_EQ(balance_of(fan), 30'000);
    EXPECT_EQ(ledger_rows_of(fan), 2);
}

TEST_F(wallet_repository_test, a_refused_call_stores_nothing_so_its_key_can_succeed_later) {
    const auto fan = insert_user(inspect(), "fan@example.com", 1000);
    const auto schedule = insert_schedule(inspect(), 1, 70'000);
    hold(schedule.seat_ids[0], fan);
    const auto route = "POST /payment/payment_performance_seat";
    expect_refused(
        pay(fan, schedule.seat_ids[0], claim("pay-1", schedule.seat_ids[0], route)), errc::insufficient_balance
    );
    EXPECT_EQ(inspect().number("SELECT count(*) FROM idempotency_keys"), 0);
    ASSERT_TRUE(charge(fan, 69'000));
    const auto later = pay(fan, schedule.seat_ids[0], claim("pay-1", schedule.seat_ids[0], route));
    ASSERT_TRUE(later) << later.error().message;
    EXPECT_EQ(balance_of(fan), 0);
}

// --- I2 under concurrency --------------------------------------------------------------------

// 200 charges of one fan from two event loops (two instances, two pools) at once: none is
// lost or refused, and balance == sum(ledger).
TEST_F(wallet_repository_test, concurrent_charges_of_one_user_keep_the_balance_equal_to_the_ledger) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    constexpr int instances = 2;
    constexpr int charges_per_instance = 100;
    std::vector<run_report> reports(instances);
    std::vector<int> refused(instances, 0);
    const std::string database = url();
    auto instance = [&](int i) {
        asio::io_context ctx;
        pg::pool pool(ctx.get_executor(), pool_options_for(database, 4, 30s));
        pg::wallet_repository repo(pool);
        auto one = [&](domain::krw amount) -> awaitable<void> {
            const auto payer = as_user(fan);
            const auto r = co_await repo.charge(payer, amount, std::nullopt, render_charge);
            if (!r) {
                ++refused[i];
            }
        };
        std::vector<awaitable<void>> ops;
        for (int n = 1; n <= charges_per_instance; ++n) {
            ops.push_back(one(n + i * charges_per_instance));
        }
        reports[i] = run_all(ctx, std::move(ops), 120s);
    };
    std::thread t0(instance, 0);
    std::thread t1(instance, 1);
    t0.join();
    t1.join();

    for (int i = 0; i < instances; ++i) {
        EXPECT_TRUE(reports[i].failures.empty()) << reports[i].failures.front();
        EXPECT_EQ(refused[i], 0);
    }
    const int total = instances * charges_per_instance;
    EXPECT_EQ(balance_of(fan), static_cast<std::int64_t>(total) * (total + 1) / 2);
    EXPECT_EQ(ledger_rows_of(fan), total);
    expect_ledger_consistent();
}

// Charges and payments of one fan interleaved across two instances: I2 and I3 hold.
TEST_F(wallet_repository_test, concurrent_charges_and_payments_of_one_user_keep_the_ledger_exact) {
    const auto fan = insert_user(inspect(), "fan@example.com", 100'000);
    const auto schedule = insert_schedule(inspect(), 4, 30'000);
    for (const auto& seat : schedule.seat_ids) {
        hold(seat, fan);
    }
    std::vector<run_report> reports(2);
    std::vector<int> paid(2, 0);
    const std::string database = url();
    auto instance = [&](int i) {
        asio::io_context ctx;
        pg::pool pool(ctx.get_executor(), pool_options_for(database, 3, 30s));
        pg::wallet_repository repo(pool);
        auto charge_one = [&]() -> awaitable<void> {
            const auto payer = as_user(fan);
            co_await repo.charge(payer, 1000, std::nullopt, render_charge);
        };
        auto pay_one = [&](std::string seat) -> awaitable<void> {
            const auto payer = as_user(fan);
            const auto paid_seat = as_seat(seat);
            const auto r = co_await repo.pay(payer, paid_seat, std::nullopt, render_payment);
            if (r) {
                ++paid[i];
            }
        };
        std::vector<awaitable<void>> ops;
        for (int n = 0; n < 20; ++n) {
            ops.push_back(charge_one());
        }
        // Both instances try to pay every seat: each seat is paid exactly once.
        for (const auto& seat : schedule.seat_ids) {
            ops.push_back(pay_one(seat));
        }
        reports[i] = run_all(ctx, std::move(ops), 120s);
    };
    std::thread t0(instance, 0);
    std::thread t1(instance, 1);
    t0.join();
    t1.join();

    for (const auto& r : reports) {
        EXPECT_TRUE(r.failures.empty()) << r.failures.front();
    }
    EXPECT_EQ(paid[0] + paid[1], 4);
    EXPECT_EQ(balance_of(fan), 100'000 + 40 * 1000 - 4 * 30'000);
    EXPECT_EQ(inspect().number("SELECT count(*) FROM performance_seats WHERE reservation_status = 'RESERVED'"), 4);
    expect_ledger_consistent();
}

TEST_F(wallet_repository_test, stored_answers_are_forgotten_after_the_retention_oldest_first) {
    const auto fan = insert_user(inspect(), "keys@example.com");
    const auto store = [&](const std::string& key, const std::string& age) {
        inspect().sql(
            "INSERT INTO idempotency_keys (user_id, route, key, canonical_request, status_code, response_body, "
            "created_at)"
            " VALUES ($1, 'POST /payment/cash', $2, '1000', 201, '{}', now() - $3::interval)",
            {fan, key, age}
        );
    };
    store("recent", "1 hour");
    store("old", "25 hours");
    store("older", "30 hours");
    store("oldest", "40 days");
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1, 5s));
    pg::wallet_repository repo(pool);
    EXPECT_EQ(run_coro(ctx, repo.forget_answers_older_than(std::chrono::hours(24), 2)), 2);
    EXPECT_EQ(inspect().number("SELECT count(*) FROM idempotency_keys WHERE key IN ('oldest', 'older')"), 0);
    EXPECT_EQ(run_coro(ctx, repo.forget_answers_older_than(std::chrono::hours(24), 2)), 1);
    EXPECT_EQ(run_coro(ctx, repo.forget_answers_older_than(std::chrono::hours(24), 2)), 0);
    EXPECT_EQ(inspect().scalar("SELECT string_agg(key, ',') FROM idempotency_keys"), "recent");
}

TEST_F(wallet_repository_test, the_schedules_sold_out_by_recent_payments_are_found_again) {
    const auto sold = insert_schedule(inspect(), 2);
    const auto open = insert_schedule(inspect(), 2);
    const auto long_ago = insert_schedule(inspect(), 1);
    const auto fan = insert_user(inspect(), "reconcile@example.com");
    const auto reserve = [&](const std::string& seat, const std::string& when) {
        inspect().sql(
            "UPDATE performance_seats SET reservation_status = 'RESERVED', holder_id = $1,"
            " reserved_at = now() - $3::interval WHERE id = $2",
            {fan, seat, when}
        );
    };
    reserve(sold.seat_ids[0], "1 second");
    reserve(sold.seat_ids[1], "2 minutes");
    reserve(open.seat_ids[0], "1 second"); // one seat of this schedule is still for sale
    reserve(long_ago.seat_ids[0], "2 hours");
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1, 5s));
    pg::wallet_repository repo(pool);
    const auto found = run_coro(ctx, repo.recently_sold_out(std::chrono::minutes(10)));
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].str(), sold.schedule_id);
    EXPECT_TRUE(run_coro(ctx, repo.schedule_sold_out(domain::schedule_id(sold.schedule_id))));
    EXPECT_FALSE(run_coro(ctx, repo.schedule_sold_out(domain::schedule_id(open.schedule_id))));
    EXPECT_TRUE(run_coro(ctx, repo.schedule_sold_out(domain::schedule_id(long_ago.schedule_id))))
        << "sold out, only outside the window the sweeper looks at";
}

} // namespace
} // namespace tp::test
