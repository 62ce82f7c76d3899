// The seat list as read whole and as changes: the operator's order, and a watermark that
// finds every change even when transactions commit out of order. Every statement of the
// code that changes a seat is shown to move the seat's changed_xid.

#include "storage/pg/catalog_repository.hpp"
#include "storage/pg/seat_map_repository.hpp"
#include "storage/pg/seat_repository.hpp"
#include "storage/pg/wallet_repository.hpp"
#include "support/typed_ids.hpp"
#include "test_database.hpp"

#include <algorithm>
#include <set>

namespace tp::test {
namespace {

using namespace std::chrono_literals;
using domain::seat_status;

class seat_map_repository_test : public pg_suite {
protected:
    pg::seat_list_read read_all(const std::string& schedule) {
        asio::io_context ctx;
        pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
        pg::seat_map_repository repo(pool);
        auto r = run_coro(ctx, repo.read_all(as_schedule(schedule)));
        if (!r) {
            throw std::runtime_error(r.error().message);
        }
        return std::move(*r);
    }

    pg::seat_changes_read read_changes(const std::string& schedule, const std::string& watermark) {
        asio::io_context ctx;
        pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
        pg::seat_map_repository repo(pool);
        return run_coro(ctx, repo.read_changes(as_schedule(schedule), watermark));
    }

    // Positions of the seats a read of changes reported.
    static std::set<std::size_t> positions(const pg::seat_changes_read& r) {
        std::set<std::size_t> out;
        for (const auto& c : r.changes) {
            out.insert(c.position);
        }
        return out;
    }

    std::size_t position_of(const std::string& seat) {
        return static_cast<std::size_t>(inspect().number("SELECT position FROM performance_seats WHERE id = $1", {seat})
        );
    }
};

TEST_F(seat_map_repository_test, read_all_keeps_the_operators_order_and_stored_states) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    pg::catalog_repository catalog(pool);
    domain::new_performance p;
    p.title = "Order";
    p.ticketing_start_date = 1'714'557'600'000;
    p.stage_name = "Hall";
    p.stage_location = "Seoul";
    domain::new_schedule s;
    s.staging_date = 1'893'456'000'000;
    s.seats = {domain::new_seat{"C3", 30'000}, domain::new_seat{"A10", 10'000}, domain::new_seat{"A2", 20'000}};
    p.schedules = {s};
    const auto created = run_coro(ctx, catalog.create(p));
    const auto fan = insert_user(inspect(), "fan@example.com");
    // An expired hold is stored as it is: whoever answers judges expiry at that moment.
    inspect().sql(
        "UPDATE performance_seats SET reservation_status = 'TEMPORARY_RESERVED', holder_id = $2, "
        "hold_expires_at = now() - interval '1 second' WHERE id = $1",
        {created.schedules[0].seat_ids[1], fan}
    );

    const auto all = read_all(created.schedules[0].id);
    ASSERT_EQ(all.seats.size(), 3u);
    EXPECT_EQ(all.seats[0].seat_number, "C3");
    EXPECT_EQ(all.seats[1].seat_number, "A10");
    EXPECT_EQ(all.seats[2].seat_number, "A2");
    EXPECT_EQ(all.seats[0].id, created.schedules[0].seat_ids[0]);
    EXPECT_EQ(all.seats[2].price, 20'000);
    EXPECT_EQ(all.seats[1].state.status, seat_status::temporary_reserved);
    ASSERT_TRUE(all.seats[1].state.hold_expires.has_value());
    EXPECT_FALSE(all.seats[0].state.hold_expires.has_value());
    EXPECT_FALSE(all.watermark.empty());
}

TEST_F(seat_map_repository_test, the_list_is_read_in_index_order_without_a_sort) {
    const auto schedule = insert_schedule(inspect(), 2000);
    inspect().sql("ANALYZE performance_seats");
    std::string plan;
    for (const auto& r : inspect().sql(
             "EXPLAIN SELECT id FROM performance_seats WHERE staging_date_id = $1 ORDER BY position",
             {schedule.schedule_id}
         )) {
        plan += *r.front() + "\n";
    }
    EXPECT_EQ(plan.find("Sort"), std::string::npos) << plan;
    EXPECT_NE(plan.find("performance_seats_position_unique"), std::string::npos) << plan;
}

TEST_F(seat_map_repository_test, an_unknown_schedule_is_schedule_not_found) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    pg::seat_map_repository repo(pool);
    const auto r = run_coro(ctx, repo.read_all(as_schedule("00000000-0000-4000-8000-000000000000")));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, domain::errc::schedule_not_found);
}

TEST_F(seat_map_repository_test, no_change_reads_nothing_but_a_watermark) {
    const auto schedule = insert_schedule(inspect(), 3);
    const auto all = read_all(schedule.schedule_id);
    const auto changed = read_changes(schedule.schedule_id, all.watermark);
    EXPECT_TRUE(changed.changes.empty());
    EXPECT_FALSE(changed.watermark.empty());
}

// T1 changes seat A and stays open; T2 changes seat B and commits; a read sees B only; T1
// commits; the next read from the first read's watermark finds A.
TEST_F(seat_map_repository_test, a_change_committed_after_a_newer_one_is_still_found) {
    const auto schedule = insert_schedule(inspect(), 3);
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto a = schedule.seat_ids[0];
    const auto b = schedule.seat_ids[1];
    const auto before = read_all(schedule.schedule_id);
    const std::string hold = "UPDATE performance_seats SET reservation_status = 'TEMPORARY_RESERVED', holder_id = $2, "
                             "hold_expires_at = now() + interval '5 minutes', changed_xid = pg_current_xact_id() "
                             "WHERE id = $1";

    blocking_connection slow(url());
    slow.sql("BEGIN");
    slow.sql(hold, {a, fan});      // the older transaction id, still open
    inspect().sql(hold, {b, fan}); // a newer one, committed at once

    const auto first = read_changes(schedule.schedule_id, before.watermark);
    EXPECT_EQ(positions(first), std::set<std::size_t>{position_of(b)});
    slow.sql("COMMIT");
    const auto second = read_changes(schedule.schedule_id, first.watermark);
    EXPECT_TRUE(positions(second).contains(position_of(a)));
    for (const auto& c : second.changes) {
        if (c.position == position_of(a)) {
            EXPECT_EQ(c.state.status, seat_status::temporary_reserved);
        }
    }
    // Why a watermark and not "after the newest change seen": that would have missed A.
    const auto newest_seen = inspect().scalar("SELECT changed_xid::text FROM performance_seats WHERE id = $1", {b});
    EXPECT_EQ(
        inspect().number(
            "SELECT count(*) FROM performance_seats WHERE id = $1 AND changed_xid > $2::xid8", {a, newest_seen}
        ),
        0
    );
}

TEST_F(seat_map_repository_test, takes_payments_and_releases_are_all_seen_as_changes) {
    const auto schedule = insert_schedule(inspect(), 3, 1'000);
    const auto fan = insert_user(inspect(), "fan@example.com", 10'000);
    const auto seat = schedule.seat_ids[0];
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 2));
    pg::seat_repository seats(pool);
    pg::wallet_repository wallet(pool);
    auto watermark = read_all(schedule.schedule_id).watermark;
    const auto expect_changed = [&](const char* what) {
        const auto changed = read_changes(schedule.schedule_id, watermark);
        EXPECT_TRUE(positions(changed).contains(position_of(seat))) << what << " was not seen";
        watermark = changed.watermark;
    };

    const domain::hold_policy policy{.hold_ttl_seconds = 300, .max_seats_per_user = 4};
    const domain::schedule_id any_schedule;
    ASSERT_TRUE(run_coro(ctx, seats.take(as_user(fan), {as_seat(seat)}, policy, any_schedule)));
    expect_changed("a take");
    const auto paid = run_coro(ctx, wallet.pay(as_user(fan), as_seat(seat), std::nullopt, [](const pg::payment&) {
        return pg::stored_answer{.status = 201, .body = "{}"};
    }));
    ASSERT_TRUE(paid);
    expect_changed("a payment");

    const auto other = schedule.seat_ids[1];
    ASSERT_TRUE(run_coro(ctx, seats.take(as_user(fan), {as_seat(other)}, policy, any_schedule)));
    inspect().sql("UPDATE performance_seats SET hold_expires_at = now() - interval '1 second' WHERE id = $1", {other});
    watermark = read_changes(schedule.schedule_id, watermark).watermark;
    EXPECT_EQ(run_coro(ctx, seats.release_expired_holds(10)), 1);
    const auto released = read_changes(schedule.schedule_id, watermark);
    EXPECT_TRUE(positions(released).contains(position_of(other))) << "a release was not seen";
}

} // namespace
} // namespace tp::test
