// The catalog as operators create it and fans browse it.

#include "storage/pg/catalog_repository.hpp"
#include "test_database.hpp"

namespace tp::test {
namespace {

using namespace std::chrono_literals;

domain::new_performance sample_performance() {
    domain::new_performance p;
    p.title = "Spring Concert";
    p.ticketing_start_date = 1'714'557'600'123; // 2024-05-01T10:00:00.123Z: in the past
    p.stage_name = "Main Hall";
    p.stage_location = "Seoul";
    domain::new_schedule evening;
    evening.staging_date = 1'893'456'000'000; // 2030-01-01
    // Not sorted on purpose: the seat list keeps the operator's order.
    evening.seats = {domain::new_seat{"A10", 90'000}, domain::new_seat{"A2", 70'000}, domain::new_seat{"A1", 50'000}};
    domain::new_schedule matinee;
    matinee.staging_date = 1'893'430'000'000;
    matinee.seats = {domain::new_seat{"B1", 40'000}};
    p.schedules = {evening, matinee};
    return p;
}

class catalog_repository_test : public pg_suite {};

TEST_F(catalog_repository_test, create_writes_stage_performance_schedules_and_seats) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    pg::catalog_repository catalog(pool);
    const auto created = run_coro(ctx, catalog.create(sample_performance()));
    ASSERT_EQ(created.schedules.size(), 2u);
    EXPECT_EQ(created.schedules[0].seat_ids.size(), 3u);
    EXPECT_EQ(created.schedules[1].seat_ids.size(), 1u);
    EXPECT_EQ(inspect().number("SELECT count(*) FROM performance_seats"), 4);
    // Seat ids come back in input order.
    EXPECT_EQ(
        inspect().scalar("SELECT seat_number FROM performance_seats WHERE id = $1", {created.schedules[0].seat_ids[0]}),
        "A10"
    );
    EXPECT_EQ(inspect().scalar("SELECT title FROM performances WHERE id = $1", {created.id}), "Spring Concert");
    EXPECT_EQ(inspect().scalar("SELECT location FROM stages WHERE id = $1", {created.stage_id}), "Seoul");
}

TEST_F(catalog_repository_test, list_performances_shows_schedules_and_reservable_counts) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    pg::catalog_repository catalog(pool);
    const auto created = run_coro(ctx, catalog.create(sample_performance()));
    const auto fan = insert_user(inspect(), "fan@example.com");
    inspect().sql(
        "UPDATE performance_seats SET reservation_status = 'TEMPORARY_RESERVED', holder_id = $2, "
        "hold_expires_at = now() + interval '5 minutes' WHERE id = $1",
        {created.schedules[0].seat_ids[0], fan}
    );

    const auto performances = run_coro(ctx, catalog.list_performances());
    ASSERT_EQ(performances.size(), 1u);
    const auto& p = performances[0];
    EXPECT_EQ(p.id, created.id);
    EXPECT_EQ(p.title, "Spring Concert");
    EXPECT_EQ(p.ticketing_start_date, 1'714'557'600'123);
    EXPECT_EQ(p.stage_name, "Main Hall");
    EXPECT_EQ(p.stage_location, "Seoul");
    ASSERT_EQ(p.schedules.size(), 2u);
    // Ordered by staging date: the matinee first.
    EXPECT_EQ(p.schedules[0].id, created.schedules[1].id);
    EXPECT_EQ(p.schedules[0].staging_date, 1'893'430'000'000);
    EXPECT_EQ(p.schedules[0].reserveable_seats_count, 1);
    EXPECT_EQ(p.schedules[1].reserveable_seats_count, 2);
}

TEST_F(catalog_repository_test, a_failed_create_leaves_nothing_behind) {
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    pg::catalog_repository catalog(pool);
    auto broken = sample_performance();
    // Skipping validation on purpose: a duplicate seat number trips the UNIQUE constraint
    // halfway through, after the stage and performance rows were written.
    broken.schedules[1].seats.push_back(domain::new_seat{"B1", 1000});
    EXPECT_THROW(run_coro(ctx, catalog.create(broken)), std::exception);
    EXPECT_EQ(inspect().number("SELECT count(*) FROM stages"), 0);
    EXPECT_EQ(inspect().number("SELECT count(*) FROM performances"), 0);
    EXPECT_EQ(inspect().number("SELECT count(*) FROM performance_seats"), 0);
}

} // namespace
} // namespace tp::test
