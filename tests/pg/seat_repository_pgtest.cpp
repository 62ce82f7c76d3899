// Holding seats: one guarded write decides, expired holds are free again at once, and under
// concurrency no seat ever has two holders (I1). Every check reads the database back.

#include "storage/pg/catalog_repository.hpp"
#include "storage/pg/seat_repository.hpp"
#include "support/typed_ids.hpp"
#include "test_database.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <thread>

namespace tp::test {
namespace {

using namespace std::chrono_literals;
using domain::errc;
using take_result = domain::result<std::vector<pg::held_seat>>;

const domain::hold_policy policy{300, 4};

class seat_repository_test : public pg_suite {
protected:
    take_result take(
        const std::string& user,
        std::vector<std::string> seats,
        domain::hold_policy p = policy,
        std::size_t pool_size = 2,
        const std::string& required_schedule = {}
    ) {
        std::sort(seats.begin(), seats.end());
        asio::io_context ctx;
        pg::pool pool(ctx.get_executor(), pool_options_for(url(), pool_size, 5s));
        pg::seat_repository repo(pool);
        return run_coro(
            ctx, repo.take(as_user(user), ids_of<domain::seat_id>(seats), p, as_schedule(required_schedule))
        );
    }

    std::string status_of(const std::string& seat) {
        return inspect().scalar("SELECT reservation_status::text FROM performance_seats WHERE id = $1", {seat});
    }

    std::optional<std::string> holder_of(const std::string& seat) {
        return inspect().sql("SELECT holder_id::text FROM performance_seats WHERE id = $1", {seat}).at(0).at(0);
    }

    void expire_hold(const std::string& seat) {
        inspect().sql(
            "UPDATE performance_seats SET hold_expires_at = now() - interval '1 second' WHERE id = $1", {seat}
        );
    }

    void mark_paid(const std::string& seat, const std::string& user) {
        inspect().sql(
            "UPDATE performance_seats SET reservation_status = 'RESERVED', holder_id = $2, "
            "hold_expires_at = NULL, reserved_at = now() WHERE id = $1",
            {seat, user}
        );
    }

    static void expect_refused(const take_result& r, errc code) {
        ASSERT_FALSE(r) << "the take succeeded";
        EXPECT_EQ(r.error().code, code) << r.error().message;
    }
};

TEST_F(seat_repository_test, takes_an_available_seat_for_the_hold_time) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto schedule = insert_schedule(inspect(), 3, 70'000);
    const auto seat = schedule.seat_ids[0];

    const auto r = take(fan, {seat});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ(r->front().id.str(), seat);
    EXPECT_EQ(r->front().price, 70'000);
    EXPECT_FALSE(r->front().seat_number.empty());

    EXPECT_EQ(status_of(seat), "TEMPORARY_RESERVED");
    EXPECT_EQ(holder_of(seat), fan);
    const auto expires_in = inspect().number(
        "SELECT extract(epoch FROM hold_expires_at - now())::bigint FROM performance_seats WHERE id = $1", {seat}
    );
    EXPECT_GE(expires_in, 290);
    EXPECT_LE(expires_in, 300);
    const auto expires_ms = inspect().number(
        "SELECT (extract(epoch FROM hold_expires_at) * 1000)::bigint FROM performance_seats WHERE id = $1", {seat}
    );
    EXPECT_EQ(r->front().hold_expire_timestamp, expires_ms);
}

TEST_F(seat_repository_test, the_hold_time_comes_from_the_policy) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto schedule = insert_schedule(inspect(), 1);
    ASSERT_TRUE(take(fan, {schedule.seat_ids[0]}, domain::hold_policy{60, 4}));
    const auto expires_in = inspect().number(
        "SELECT extract(epoch FROM hold_expires_at - now())::bigint FROM performance_seats WHERE id = $1",
        {schedule.seat_ids[0]}
    );
    EXPECT_GE(expires_in, 50);
    EXPECT_LE(expires_in, 60);
}

TEST_F(seat_repository_test, refuses_a_seat_held_by_another_user) {
    const auto first = insert_user(inspect(), "first@example.com");
    const auto second = insert_user(inspect(), "second@example.com");
    const auto schedule = insert_schedule(inspect(), 3);
    const auto seat = schedule.seat_ids[0];
    ASSERT_TRUE(take(first, {seat}));

    expect_refused(take(second, {seat}), errc::seat_taken);
    EXPECT_EQ(holder_of(seat), first);
}

TEST_F(seat_repository_test, refuses_a_seat_the_same_user_already_holds) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto schedule = insert_schedule(inspect(), 3);
    ASSERT_TRUE(take(fan, {schedule.seat_ids[0]}));
    const auto again = take(fan, {schedule.seat_ids[0]});
    expect_refused(again, errc::seat_taken);
}

TEST_F(seat_repository_test, refuses_a_seat_someone_bought) {
    const auto buyer = insert_user(inspect(), "buyer@example.com");
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto schedule = insert_schedule(inspect(), 3);
    mark_paid(schedule.seat_ids[0], buyer);
    expect_refused(take(fan, {schedule.seat_ids[0]}), errc::seat_taken);
    EXPECT_EQ(status_of(schedule.seat_ids[0]), "RESERVED");
}

TEST_F(seat_repository_test, takes_several_seats_at_once) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto schedule = insert_schedule(inspect(), 5);
    const std::vector<std::string> wanted{schedule.seat_ids[0], schedule.seat_ids[1], schedule.seat_ids[2]};
    const auto r = take(fan, wanted);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->size(), 3u);
    for (const auto& seat : wanted) {
        EXPECT_EQ(holder_of(seat), fan);
    }
}

TEST_F(seat_repository_test, a_multi_seat_take_with_one_seat_taken_holds_nothing) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto rival = insert_user(inspect(), "rival@example.com");
    const auto schedule = insert_schedule(inspect(), 5);
    ASSERT_TRUE(take(rival, {schedule.seat_ids[2]}));

    expect_refused(take(fan, {schedule.seat_ids[0], schedule.seat_ids[1], schedule.seat_ids[2]}), errc::seat_taken);
    EXPECT_EQ(status_of(schedule.seat_ids[0]), "AVAILABLE");
    EXPECT_EQ(status_of(schedule.seat_ids[1]), "AVAILABLE");
    EXPECT_EQ(holder_of(schedule.seat_ids[2]), rival);
    EXPECT_EQ(inspect().number("SELECT count(*) FROM performance_seats WHERE holder_id = $1", {fan}), 0);
}

TEST_F(seat_repository_test, a_multi_seat_take_with_an_unknown_seat_holds_nothing) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto schedule = insert_schedule(inspect(), 2);
    const std::string unknown = "00000000-0000-4000-8000-000000000000";
    expect_refused(take(fan, {schedule.seat_ids[0], unknown}), errc::seat_not_found);
    EXPECT_EQ(status_of(schedule.seat_ids[0]), "AVAILABLE");
}

TEST_F(seat_repository_test, an_unknown_seat_is_seat_not_found) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    insert_schedule(inspect(), 2);
    expect_refused(take(fan, {"00000000-0000-4000-8000-000000000000"}), errc::seat_not_found);
}

TEST_F(seat_repository_test, refuses_before_ticketing_starts) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto schedule = insert_schedule(inspect(), 2, 50'000, -3600);
    expect_refused(take(fan, {schedule.seat_ids[0]}), errc::ticketing_not_started);
    EXPECT_EQ(status_of(schedule.seat_ids[0]), "AVAILABLE");
}

TEST_F(seat_repository_test, the_per_user_limit_is_seat_limit_reached) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto schedule = insert_schedule(inspect(), 6);
    for (int i = 0; i < 4; ++i) {
        ASSERT_TRUE(take(fan, {schedule.seat_ids[i]})) << i;
    }
    expect_refused(take(fan, {schedule.seat_ids[4]}), errc::seat_limit_reached);
    EXPECT_EQ(status_of(schedule.seat_ids[4]), "AVAILABLE");
}

TEST_F(seat_repository_test, the_limit_counts_the_seats_of_this_take) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto schedule = insert_schedule(inspect(), 6);
    ASSERT_TRUE(take(fan, {schedule.seat_ids[0], schedule.seat_ids[1]}));
    expect_refused(
        take(fan, {schedule.seat_ids[2], schedule.seat_ids[3], schedule.seat_ids[4]}), errc::seat_limit_reached
    );
    EXPECT_TRUE(take(fan, {schedule.seat_ids[2], schedule.seat_ids[3]}));
}

TEST_F(seat_repository_test, the_limit_counts_bought_seats_but_not_expired_holds) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto schedule = insert_schedule(inspect(), 6);
    mark_paid(schedule.seat_ids[0], fan);
    ASSERT_TRUE(take(fan, {schedule.seat_ids[1], schedule.seat_ids[2], schedule.seat_ids[3]}));
    expect_refused(take(fan, {schedule.seat_ids[4]}), errc::seat_limit_reached);
    expire_hold(schedule.seat_ids[1]);
    EXPECT_TRUE(take(fan, {schedule.seat_ids[4]}));
}

TEST_F(seat_repository_test, the_limit_is_per_schedule) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto first = insert_schedule(inspect(), 4);
    const auto second = insert_schedule(inspect(), 4);
    ASSERT_TRUE(take(fan, first.seat_ids));
    EXPECT_TRUE(take(fan, {second.seat_ids[0]}));
}

TEST_F(seat_repository_test, the_limit_comes_from_the_policy) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto schedule = insert_schedule(inspect(), 3);
    const domain::hold_policy one_seat{300, 1};
    ASSERT_TRUE(take(fan, {schedule.seat_ids[0]}, one_seat));
    expect_refused(take(fan, {schedule.seat_ids[1]}, one_seat), errc::seat_limit_reached);
}

TEST_F(seat_repository_test, a_schedule_with_no_seat_left_is_sold_out) {
    const auto a = insert_user(inspect(), "a@example.com");
    const auto b = insert_user(inspect(), "b@example.com");
    const auto late = insert_user(inspect(), "late@example.com");
    const auto schedule = insert_schedule(inspect(), 2);
    ASSERT_TRUE(take(a, {schedule.seat_ids[0]}));
    mark_paid(schedule.seat_ids[1], b);
    expect_refused(take(late, {schedule.seat_ids[0]}), errc::sold_out);
}

TEST_F(seat_repository_test, an_expired_hold_can_be_taken_by_another_user_at_once) {
    const auto first = insert_user(inspect(), "first@example.com");
    const auto second = insert_user(inspect(), "second@example.com");
    const auto schedule = insert_schedule(inspect(), 2);
    const auto seat = schedule.seat_ids[0];
    ASSERT_TRUE(take(first, {seat}));
    expire_hold(seat);

    const auto r = take(second, {seat});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(holder_of(seat), second);
    EXPECT_EQ(status_of(seat), "TEMPORARY_RESERVED");
}

TEST_F(seat_repository_test, an_expired_hold_counts_as_reservable_before_any_sweep) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto schedule = insert_schedule(inspect(), 2);
    ASSERT_TRUE(take(fan, {schedule.seat_ids[0], schedule.seat_ids[1]}));
    expire_hold(schedule.seat_ids[0]);

    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    pg::catalog_repository catalog(pool);
    const auto performances = run_coro(ctx, catalog.list_performances());
    ASSERT_EQ(performances.size(), 1u);
    ASSERT_EQ(performances[0].schedules.size(), 1u);
    EXPECT_EQ(performances[0].schedules[0].reserveable_seats_count, 1);

    pg::seat_repository seats_repo(pool);
    EXPECT_TRUE(run_coro(ctx, seats_repo.list_mine(as_user(fan))).size() == 1u)
        << "an expired hold is not the fan's any more";
}

TEST_F(seat_repository_test, the_sweeper_releases_expired_holds_only) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto schedule = insert_schedule(inspect(), 4);
    ASSERT_TRUE(take(fan, {schedule.seat_ids[0], schedule.seat_ids[1], schedule.seat_ids[2]}));
    expire_hold(schedule.seat_ids[0]);
    expire_hold(schedule.seat_ids[1]);

    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    pg::seat_repository repo(pool);
    EXPECT_EQ(run_coro(ctx, repo.release_expired_holds(100)), 2);
    for (const auto& seat : {schedule.seat_ids[0], schedule.seat_ids[1]}) {
        EXPECT_EQ(status_of(seat), "AVAILABLE");
        EXPECT_EQ(holder_of(seat), std::nullopt);
        EXPECT_EQ(
            inspect().sql("SELECT hold_expires_at FROM performance_seats WHERE id = $1", {seat}).at(0).at(0),
            std::nullopt
        );
    }
    EXPECT_EQ(holder_of(schedule.seat_ids[2]), fan);
    EXPECT_EQ(run_coro(ctx, repo.release_expired_holds(100)), 0);
}

TEST_F(seat_repository_test, the_sweeper_works_in_batches) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto schedule = insert_schedule(inspect(), 4);
    ASSERT_TRUE(take(fan, schedule.seat_ids));
    for (const auto& seat : schedule.seat_ids) {
        expire_hold(seat);
    }
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    pg::seat_repository repo(pool);
    EXPECT_EQ(run_coro(ctx, repo.release_expired_holds(3)), 3);
    EXPECT_EQ(run_coro(ctx, repo.release_expired_holds(3)), 1);
}

TEST_F(seat_repository_test, the_sweeper_never_touches_bought_seats) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto schedule = insert_schedule(inspect(), 1);
    mark_paid(schedule.seat_ids[0], fan);
    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    pg::seat_repository repo(pool);
    EXPECT_EQ(run_coro(ctx, repo.release_expired_holds(100)), 0);
    EXPECT_EQ(status_of(schedule.seat_ids[0]), "RESERVED");
}

TEST_F(seat_repository_test, list_mine_shows_live_holds_and_purchases) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto other = insert_user(inspect(), "other@example.com");
    const auto schedule = insert_schedule(inspect(), 4, 30'000);
    ASSERT_TRUE(take(fan, {schedule.seat_ids[0]}));
    ASSERT_TRUE(take(other, {schedule.seat_ids[1]}));
    mark_paid(schedule.seat_ids[2], fan);

    asio::io_context ctx;
    pg::pool pool(ctx.get_executor(), pool_options_for(url(), 1));
    pg::seat_repository repo(pool);
    const auto mine = run_coro(ctx, repo.list_mine(as_user(fan)));
    ASSERT_EQ(mine.size(), 2u);
    std::map<std::string, pg::my_seat> by_id;
    for (const auto& s : mine) {
        by_id[s.seat_id] = s;
        EXPECT_EQ(s.schedule_id, schedule.schedule_id);
        EXPECT_EQ(s.performance_id, schedule.performance_id);
        EXPECT_EQ(s.price, 30'000);
        EXPECT_EQ(s.title, "Test Concert");
    }
    EXPECT_EQ(by_id.at(schedule.seat_ids[0]).status, domain::seat_status::temporary_reserved);
    EXPECT_TRUE(by_id.at(schedule.seat_ids[0]).hold_expire_timestamp);
    EXPECT_EQ(by_id.at(schedule.seat_ids[2]).status, domain::seat_status::reserved);
    EXPECT_FALSE(by_id.at(schedule.seat_ids[2]).hold_expire_timestamp);
}

// A failure seen in other implementations: a payment that holds one pooled connection while
// waiting for a second, so the pool deadlocks. The same must not happen to a refused take:
// explaining the refusal may not need a second connection while the first is still leased.
TEST_F(seat_repository_test, a_refused_take_needs_only_one_pooled_connection) {
    const auto first = insert_user(inspect(), "first@example.com");
    const auto second = insert_user(inspect(), "second@example.com");
    const auto schedule = insert_schedule(inspect(), 2);
    ASSERT_TRUE(take(first, {schedule.seat_ids[0]}, policy, 1));
    take_result r = domain::make_error(errc::bad_request);
    try {
        r = take(second, {schedule.seat_ids[0]}, policy, 1);
    } catch (const std::exception& e) {
        FAIL() << "a refused take on a one-connection pool threw: " << e.what();
    }
    expect_refused(r, errc::seat_taken);
}

TEST_F(seat_repository_test, seats_of_two_schedules_cannot_be_taken_in_one_request) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto first = insert_schedule(inspect(), 1);
    const auto second = insert_schedule(inspect(), 1);
    // The refusal explanation (domain::explain_refused_take) says one take is one schedule;
    // the guarded write must agree, whether or not the seats are free.
    expect_refused(take(fan, {first.seat_ids[0], second.seat_ids[0]}), errc::bad_request);
    EXPECT_EQ(status_of(first.seat_ids[0]), "AVAILABLE");
    EXPECT_EQ(status_of(second.seat_ids[0]), "AVAILABLE");
}

TEST_F(seat_repository_test, a_take_limited_to_one_schedule_refuses_seats_of_another) {
    const auto fan = insert_user(inspect(), "fan@example.com");
    const auto admitted = insert_schedule(inspect(), 2);
    const auto other = insert_schedule(inspect(), 2);
    expect_refused(take(fan, {other.seat_ids[0]}, policy, 2, admitted.schedule_id), errc::queue_flow_violated);
    EXPECT_EQ(status_of(other.seat_ids[0]), "AVAILABLE");
    EXPECT_TRUE(take(fan, {admitted.seat_ids[0]}, policy, 2, admitted.schedule_id));
}

// I1 under load: many fans on three event loops (three "instances", each with its own pool)
// race for one seat. Exactly one wins, every other gets seat_taken, and the database agrees.
TEST_F(seat_repository_test, concurrent_takes_of_one_seat_across_instances_have_exactly_one_winner) {
    constexpr int instances = 3;
    constexpr int fans_per_instance = 100;
    const auto schedule = insert_schedule(inspect(), 2);
    const auto seat = schedule.seat_ids[0];
    std::vector<std::vector<std::string>> fans(instances);
    for (int i = 0; i < instances; ++i) {
        for (int f = 0; f < fans_per_instance; ++f) {
            fans[i].push_back(
                insert_user(inspect(), "fan" + std::to_string(i) + "_" + std::to_string(f) + "@example.com")
            );
        }
    }

    std::vector<std::vector<std::string>> winners(instances);
    std::vector<int> refused(instances, 0);
    std::vector<std::vector<std::string>> oddities(instances);
    std::vector<run_report> reports(instances);
    const std::string database = url();
    auto instance = [&](int i) {
        asio::io_context ctx;
        pg::pool pool(ctx.get_executor(), pool_options_for(database, 4, 30s));
        pg::seat_repository repo(pool);
        const std::vector<domain::seat_id> wanted{as_seat(seat)};
        const domain::schedule_id no_schedule;
        auto one = [&](std::string fan) -> awaitable<void> {
            const auto taker = as_user(fan);
            const auto r = co_await repo.take(taker, wanted, policy, no_schedule);
            if (r) {
                winners[i].push_back(fan);
            } else if (r.error().code == errc::seat_taken) {
                ++refused[i];
            } else {
                oddities[i].push_back(r.error().message);
            }
        };
        std::vector<awaitable<void>> ops;
        for (const auto& fan : fans[i]) {
            ops.push_back(one(fan));
        }
        reports[i] = run_all(ctx, std::move(ops), 120s);
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < instances; ++i) {
        threads.emplace_back(instance, i);
    }
    for (auto& t : threads) {
        t.join();
    }

    std::vector<std::string> all_winners;
    int all_refused = 0;
    for (int i = 0; i < instances; ++i) {
        EXPECT_TRUE(reports[i].failures.empty()) << reports[i].failures.front();
        EXPECT_TRUE(oddities[i].empty()) << oddities[i].front();
        all_winners.insert(all_winners.end(), winners[i].begin(), winners[i].end());
        all_refused += refused[i];
    }
    ASSERT_EQ(all_winners.size(), 1u);
    EXPECT_EQ(all_refused, instances * fans_per_instance - 1);
    EXPECT_EQ(holder_of(seat), all_winners.front());
    EXPECT_EQ(status_of(seat), "TEMPORARY_RESERVED");
    EXPECT_EQ(status_of(schedule.seat_ids[1]), "AVAILABLE");
}

// Overlapping multi-seat takes lock rows in one order: no deadlock, and no seat is ever
// reported to two fans.
TEST_F(seat_repository_test, overlapping_multi_seat_takes_never_share_a_seat) {
    const auto schedule = insert_schedule(inspect(), 6);
    std::vector<std::string> fans;
    for (int f = 0; f < 60; ++f) {
        fans.push_back(insert_user(inspect(), "fan" + std::to_string(f) + "@example.com"));
    }
    std::vector<std::vector<std::string>> won(2);
    std::vector<run_report> reports(2);
    const std::string database = url();
    auto instance = [&](int i) {
        asio::io_context ctx;
        pg::pool pool(ctx.get_executor(), pool_options_for(database, 4, 30s));
        pg::seat_repository repo(pool);
        const domain::schedule_id no_schedule;
        auto one = [&](std::string fan, std::vector<std::string> wanted) -> awaitable<void> {
            std::sort(wanted.begin(), wanted.end());
            const auto taker = as_user(fan);
            const auto seats = ids_of<domain::seat_id>(wanted);
            const auto r = co_await repo.take(taker, seats, policy, no_schedule);
            if (r) {
                for (const auto& s : *r) {
                    won[i].push_back(s.id.str());
                }
            }
        };
        std::vector<awaitable<void>> ops;
        for (int f = i; f < 60; f += 2) {
            // Pairs that overlap their neighbours: {0,1}, {1,2}, ... {5,0}.
            const auto a = schedule.seat_ids[f % 6];
            const auto b = schedule.seat_ids[(f + 1) % 6];
            ops.push_back(one(fans[f], {a, b}));
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
    std::multiset<std::string> reported(won[0].begin(), won[0].end());
    reported.insert(won[1].begin(), won[1].end());
    for (const auto& seat : reported) {
        EXPECT_EQ(reported.count(seat), 1u) << "seat " << seat << " was given to two fans";
    }
    EXPECT_EQ(
        static_cast<std::int64_t>(reported.size()),
        inspect().number("SELECT count(*) FROM performance_seats WHERE holder_id IS NOT NULL")
    );
}

} // namespace
} // namespace tp::test
