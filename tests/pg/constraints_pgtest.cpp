// The schema as the second line of defence: each invariant the code checks is also a
// constraint, so unsafe SQL that skips the code is refused, and the adapter turns those
// refusals into the same domain errors the code would have given.

#include "domain/wallet.hpp"
#include "storage/pg/constraint_errors.hpp"
#include "storage/pg/error.hpp"
#include "storage/pg/pool.hpp"
#include "test_database.hpp"

namespace tp::test {
namespace {

using namespace std::chrono_literals;
using domain::errc;

constexpr pg::query set_balance{"constraints_set_balance", "UPDATE users SET balance = $2::bigint WHERE id = $1"};
constexpr pg::query insert_payment{"constraints_insert_payment", R"sql(
    INSERT INTO ledger_entries (user_id, amount, cause, performance_seat_id)
    VALUES ($1, -$3::bigint, 'PAYMENT_PERFORMANCE_SEAT', $2)
)sql"};
constexpr pg::query insert_user_row{
    "constraints_insert_user", "INSERT INTO users (email_address, password_hash) VALUES ($1, 'x')"};
constexpr pg::query insert_seat{
    "constraints_insert_seat",
    "INSERT INTO performance_seats (staging_date_id, seat_number, price, position) "
    "SELECT $1, $2, 1000, count(*) FROM performance_seats WHERE staging_date_id = $1"};
constexpr pg::query reserve_without_holder{
    "constraints_reserve_without_holder",
    "UPDATE performance_seats SET reservation_status = 'RESERVED', "
    "reserved_at = now() WHERE id = $1"};
constexpr pg::query select_uuid{"constraints_select_uuid", "SELECT $1::uuid"};

class constraints_test : public pg_suite {
protected:
    // Runs `q` and returns the pg::error it must raise.
    pg::error refusal_of(const pg::query& q, pg::params values) {
        asio::io_context ctx;
        pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
        try {
            run_coro(ctx, pool.execute(q, std::move(values)));
        } catch (const pg::error& e) {
            return e;
        }
        ADD_FAILURE() << "the database accepted " << q.name;
        return pg::error(pg::error::kind::query, "accepted");
    }
};

TEST_F(constraints_test, a_negative_balance_is_refused_by_the_check) {
    const auto fan = insert_user(inspect(), "fan@example.com", 1000);
    EXPECT_THROW(inspect().sql("UPDATE users SET balance = -1 WHERE id = $1", {fan}), std::runtime_error);
    EXPECT_EQ(inspect().number("SELECT balance FROM users WHERE id = $1", {fan}), 1000);

    const auto e = refusal_of(set_balance, pg::make_params(fan, std::int64_t{-1}));
    EXPECT_EQ(e.what_kind(), pg::error::kind::query);
    EXPECT_EQ(e.sqlstate(), "23514");
    EXPECT_EQ(e.constraint(), "users_balance_not_negative");
    const auto mapped = pg::as_domain_error(e);
    ASSERT_TRUE(mapped);
    EXPECT_EQ(mapped->code, errc::insufficient_balance);
}

TEST_F(constraints_test, a_balance_over_the_ceiling_is_refused_by_the_check) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto e = refusal_of(set_balance, pg::make_params(fan, domain::max_balance + 1));
    EXPECT_EQ(e.constraint(), "users_balance_ceiling");
    const auto mapped = pg::as_domain_error(e);
    ASSERT_TRUE(mapped);
    EXPECT_EQ(mapped->code, errc::balance_limit_reached);
}

TEST_F(constraints_test, a_second_payment_row_for_one_seat_is_refused_by_the_unique_index) {
    const auto fan = insert_user(inspect(), "fan@example.com", 100'000);
    const auto schedule = insert_schedule(inspect(), 1, 1000);
    const auto seat = schedule.seat_ids[0];
    inspect().sql(
        "INSERT INTO ledger_entries (user_id, amount, cause, performance_seat_id) "
        "VALUES ($1, -1000, 'PAYMENT_PERFORMANCE_SEAT', $2)",
        {fan, seat}
    );

    const auto e = refusal_of(insert_payment, pg::make_params(fan, seat, std::int64_t{1000}));
    EXPECT_EQ(e.sqlstate(), "23505");
    EXPECT_EQ(e.constraint(), "ledger_entries_one_payment_per_seat");
    const auto mapped = pg::as_domain_error(e);
    ASSERT_TRUE(mapped);
    EXPECT_EQ(mapped->code, errc::seat_already_paid);
    EXPECT_EQ(inspect().number("SELECT count(*) FROM ledger_entries WHERE performance_seat_id = $1", {seat}), 1);
}

TEST_F(constraints_test, an_email_registered_twice_is_refused_by_the_unique_index) {
    insert_user(inspect(), "fan@example.com");
    const auto e = refusal_of(insert_user_row, pg::make_params(std::string("fan@example.com")));
    EXPECT_EQ(e.constraint(), "users_email_unique");
    EXPECT_EQ(pg::as_domain_error(e)->code, errc::email_taken);
}

TEST_F(constraints_test, a_seat_number_twice_in_one_schedule_is_refused) {
    const auto schedule = insert_schedule(inspect(), 1);
    const auto e = refusal_of(insert_seat, pg::make_params(schedule.schedule_id, std::string("A1")));
    EXPECT_EQ(e.constraint(), "performance_seats_number_unique");
    EXPECT_EQ(pg::as_domain_error(e)->code, errc::bad_request);
}

TEST_F(constraints_test, an_incoherent_seat_state_is_refused_and_is_not_a_business_outcome) {
    const auto schedule = insert_schedule(inspect(), 1);
    const auto e = refusal_of(reserve_without_holder, pg::make_params(schedule.seat_ids[0]));
    EXPECT_EQ(e.constraint(), "performance_seats_state_coherent");
    EXPECT_FALSE(pg::as_domain_error(e)) << "a broken state is a bug, answered 500";
    EXPECT_EQ(
        inspect().scalar(
            "SELECT reservation_status::text FROM performance_seats WHERE id = $1", {schedule.seat_ids[0]}
        ),
        "AVAILABLE"
    );
}

TEST_F(constraints_test, a_ledger_row_of_the_wrong_sign_is_refused) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    EXPECT_THROW(
        inspect().sql("INSERT INTO ledger_entries (user_id, amount, cause) VALUES ($1, -5, 'CHARGED_BY_USER')", {fan}),
        std::runtime_error
    );
    const auto schedule = insert_schedule(inspect(), 1);
    EXPECT_THROW(
        inspect().sql(
            "INSERT INTO ledger_entries (user_id, amount, cause, performance_seat_id) "
            "VALUES ($1, 5, 'PAYMENT_PERFORMANCE_SEAT', $2)",
            {fan, schedule.seat_ids[0]}
        ),
        std::runtime_error
    );
}

TEST_F(constraints_test, a_malformed_id_is_a_bad_request_not_a_crash) {
    const auto e = refusal_of(select_uuid, pg::make_params(std::string("not-a-uuid")));
    EXPECT_EQ(e.sqlstate(), "22P02");
    EXPECT_EQ(pg::as_domain_error(e)->code, errc::bad_request);
}

} // namespace
} // namespace tp::test
