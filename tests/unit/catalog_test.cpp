#include "domain/catalog.hpp"
#include "domain_printers.hpp"

#include <gtest/gtest.h>

using namespace tp::domain;

namespace {

new_performance valid_performance() {
    new_performance p;
    p.title = "Spring Concert";
    p.ticketing_start_date = 1'714'557'600'000;
    p.stage_name = "Main Hall";
    p.stage_location = "Seoul";
    new_schedule s;
    s.staging_date = 1'715'000'000'000;
    s.seats = {new_seat{"A1", 50'000}, new_seat{"A2", 70'000}};
    p.schedules.push_back(s);
    return p;
}

void expect_refused(const new_performance& p, std::string_view words) {
    const auto r = validate_new_performance(p);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::bad_request);
    EXPECT_NE(r.error().message.find(words), std::string::npos) << r.error().message;
}

} // namespace

TEST(new_performance, accepts_a_valid_performance_unchanged) {
    const auto r = validate_new_performance(valid_performance());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->title, "Spring Concert");
    ASSERT_EQ(r->schedules.size(), 1u);
    EXPECT_EQ(r->schedules[0].seats.size(), 2u);
}

TEST(new_performance, title_must_be_1_to_200_characters) {
    auto p = valid_performance();
    p.title = "";
    expect_refused(p, "title");
    p.title = std::string(200, 't');
    EXPECT_TRUE(validate_new_performance(p));
    p.title = std::string(201, 't');
    expect_refused(p, "title");
}

TEST(new_performance, stage_name_and_location_must_be_1_to_200_characters) {
    auto p = valid_performance();
    p.stage_name = "";
    expect_refused(p, "stage");
    p = valid_performance();
    p.stage_location = std::string(201, 'l');
    expect_refused(p, "stage");
    p.stage_location = std::string(200, 'l');
    EXPECT_TRUE(validate_new_performance(p));
}

TEST(new_performance, needs_1_to_100_schedules) {
    auto p = valid_performance();
    const auto one = p.schedules.front();
    p.schedules.clear();
    expect_refused(p, "schedules");
    p.schedules.assign(max_schedules_per_performance, one);
    EXPECT_TRUE(validate_new_performance(p));
    p.schedules.push_back(one);
    expect_refused(p, "schedules");
}

TEST(new_performance, each_schedule_needs_1_to_20000_seats) {
    auto p = valid_performance();
    p.schedules.front().seats.clear();
    expect_refused(p, "seats");

    std::vector<new_seat> many;
    for (std::size_t i = 0; i < max_seats_per_schedule + 1; ++i) {
        many.push_back(new_seat{"S" + std::to_string(i), 1000});
    }
    p.schedules.front().seats = many;
    expect_refused(p, "seats");
    many.pop_back();
    p.schedules.front().seats = many;
    EXPECT_TRUE(validate_new_performance(p));
}

TEST(new_performance, seat_number_must_be_1_to_20_characters) {
    auto p = valid_performance();
    p.schedules.front().seats.front().seat_number = "";
    expect_refused(p, "seat_number");
    p.schedules.front().seats.front().seat_number = std::string(21, '9');
    expect_refused(p, "seat_number");
    p.schedules.front().seats.front().seat_number = std::string(20, '9');
    EXPECT_TRUE(validate_new_performance(p));
}

TEST(new_performance, price_must_be_1_to_the_maximum_seat_price) {
    auto p = valid_performance();
    auto& price = p.schedules.front().seats.front().price;
    for (const krw bad : {krw{0}, krw{-1}, max_seat_price + 1}) {
        price = bad;
        expect_refused(p, "price");
    }
    price = 1;
    EXPECT_TRUE(validate_new_performance(p));
    price = max_seat_price;
    EXPECT_TRUE(validate_new_performance(p));
}

TEST(new_performance, refuses_a_seat_number_twice_in_one_schedule) {
    auto p = valid_performance();
    p.schedules.front().seats.push_back(new_seat{"A1", 1000});
    expect_refused(p, "A1");
}

TEST(new_performance, the_same_seat_number_in_two_schedules_is_fine) {
    auto p = valid_performance();
    p.schedules.push_back(p.schedules.front());
    EXPECT_TRUE(validate_new_performance(p));
}
