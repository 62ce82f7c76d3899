// Negative controls (docs/style.md, Tests): each invariant checker the concurrency tests rely
// on is shown to fail when the invariant is broken on purpose with unsafe SQL.

#include "test_database.hpp"

namespace tp::test {
namespace {

class invariant_checkers : public pg_suite {};

TEST_F(invariant_checkers, a_consistent_database_passes) {
    const auto fan = insert_user(inspect(), "fan@example.com", 5000);
    const auto schedule = insert_schedule(inspect(), 1, 3000);
    inspect().sql(
        "UPDATE performance_seats SET reservation_status = 'RESERVED', holder_id = $2, reserved_at = now() "
        "WHERE id = $1",
        {schedule.seat_ids[0], fan}
    );
    inspect().sql("UPDATE users SET balance = balance - 3000 WHERE id = $1", {fan});
    inspect().sql(
        "INSERT INTO ledger_entries (user_id, amount, cause, performance_seat_id) "
        "VALUES ($1, -3000, 'PAYMENT_PERFORMANCE_SEAT', $2)",
        {fan, schedule.seat_ids[0]}
    );
    EXPECT_TRUE(users_breaking_the_ledger(inspect()).empty());
    EXPECT_TRUE(reserved_seats_without_one_payment(inspect()).empty());
}

TEST_F(invariant_checkers, i2_catches_a_balance_changed_without_a_ledger_row) {
    const auto fan = insert_user(inspect(), "fan@example.com", 5000);
    const auto honest = insert_user(inspect(), "honest@example.com", 5000);
    inspect().sql("UPDATE users SET balance = balance + 1 WHERE id = $1", {fan});
    EXPECT_EQ(users_breaking_the_ledger(inspect()), std::vector<std::string>{fan});
    (void)honest;
}

TEST_F(invariant_checkers, i2_catches_a_ledger_row_without_its_balance_change) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    inspect().sql("INSERT INTO ledger_entries (user_id, amount, cause) VALUES ($1, 100, 'CHARGED_BY_USER')", {fan});
    EXPECT_EQ(users_breaking_the_ledger(inspect()), std::vector<std::string>{fan});
}

TEST_F(invariant_checkers, i3_catches_a_seat_sold_without_a_payment) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto schedule = insert_schedule(inspect(), 2);
    inspect().sql(
        "UPDATE performance_seats SET reservation_status = 'RESERVED', holder_id = $2, reserved_at = now() "
        "WHERE id = $1",
        {schedule.seat_ids[0], fan}
    );
    EXPECT_EQ(reserved_seats_without_one_payment(inspect()), std::vector<std::string>{schedule.seat_ids[0]});
}

TEST_F(invariant_checkers, i3_catches_a_payment_of_the_wrong_amount_or_by_someone_else) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto other = insert_user(inspect(), "other@example.com");
    const auto schedule = insert_schedule(inspect(), 2, 3000);
    for (const auto& seat : schedule.seat_ids) {
        inspect().sql(
            "UPDATE performance_seats SET reservation_status = 'RESERVED', holder_id = $2, "
            "reserved_at = now() WHERE id = $1",
            {seat, fan}
        );
    }
    inspect().sql(
        "INSERT INTO ledger_entries (user_id, amount, cause, performance_seat_id) "
        "VALUES ($1, -1, 'PAYMENT_PERFORMANCE_SEAT', $2)",
        {fan, schedule.seat_ids[0]}
    );
    inspect().sql(
        "INSERT INTO ledger_entries (user_id, amount, cause, performance_seat_id) "
        "VALUES ($1, -3000, 'PAYMENT_PERFORMANCE_SEAT', $2)",
        {other, schedule.seat_ids[1]}
    );
    EXPECT_EQ(reserved_seats_without_one_payment(inspect()), schedule.seat_ids);
}

TEST_F(invariant_checkers, i3_catches_a_paid_seat_that_was_given_back) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto schedule = insert_schedule(inspect(), 1, 3000);
    inspect().sql(
        "INSERT INTO ledger_entries (user_id, amount, cause, performance_seat_id) "
        "VALUES ($1, -3000, 'PAYMENT_PERFORMANCE_SEAT', $2)",
        {fan, schedule.seat_ids[0]}
    );
    EXPECT_EQ(reserved_seats_without_one_payment(inspect()), schedule.seat_ids);
}

} // namespace
} // namespace tp::test
