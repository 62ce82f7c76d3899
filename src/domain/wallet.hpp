#pragma once
// Prepaid points: integer KRW. The bounds keep a typo (or an attacker) from creating absurd
// balances; the schema enforces the same ceiling and a floor of zero.

#include "domain/errc.hpp"

#include <cstdint>

namespace tp::domain {

using krw = std::int64_t;

inline constexpr krw max_charge_amount = 10'000'000; // one charge
inline constexpr krw max_balance = 1'000'000'000;    // any balance, also a CHECK
inline constexpr krw max_seat_price = 10'000'000;

result<krw> validate_charge_amount(krw amount);

enum class ledger_cause { charged_by_user, payment_performance_seat };

std::string_view to_string(ledger_cause cause);

} // namespace tp::domain
