#include "domain/wallet.hpp"
#include "domain_printers.hpp"

#include <gtest/gtest.h>

#include <limits>

using namespace tp::domain;

TEST(charge_amount, accepts_1_to_the_maximum_charge) {
    EXPECT_EQ(validate_charge_amount(1), 1);
    EXPECT_EQ(validate_charge_amount(5000), 5000);
    EXPECT_EQ(validate_charge_amount(max_charge_amount), max_charge_amount);
}

TEST(charge_amount, refuses_zero_negative_and_absurd_amounts) {
    for (const krw amount :
         {krw{0},
          krw{-1},
          krw{-5000},
          max_charge_amount + 1,
          max_balance,
          std::numeric_limits<krw>::max(),
          std::numeric_limits<krw>::min()}) {
        const auto r = validate_charge_amount(amount);
        ASSERT_FALSE(r) << amount;
        EXPECT_EQ(r.error().code, errc::bad_request);
        EXPECT_NE(r.error().message.find("amount"), std::string::npos);
    }
}

TEST(wallet_bounds, one_charge_and_one_seat_fit_under_the_balance_ceiling) {
    EXPECT_GT(max_charge_amount, 0);
    EXPECT_LE(max_charge_amount, max_balance);
    EXPECT_LE(max_seat_price, max_balance);
    // The schema's ceiling (users_balance_ceiling) must match.
    EXPECT_EQ(max_balance, 1'000'000'000);
}

TEST(ledger_cause, spells_causes_as_the_seed_api) {
    EXPECT_EQ(to_string(ledger_cause::charged_by_user), "CHARGED_BY_USER");
    EXPECT_EQ(to_string(ledger_cause::payment_performance_seat), "PAYMENT_PERFORMANCE_SEAT");
}
