#include "storage/pg/constraint_errors.hpp"

namespace tp::pg {

std::optional<domain::error> as_domain_error(const error& e) {
    using domain::errc;
    using domain::make_error;
    const auto& c = e.constraint();
    if (c == "users_email_unique") {
        return make_error(errc::email_taken);
    }
    if (c == "users_balance_not_negative") {
        return make_error(errc::insufficient_balance);
    }
    if (c == "users_balance_ceiling") {
        return make_error(errc::balance_limit_reached);
    }
    if (c == "ledger_entries_one_payment_per_seat") {
        return make_error(errc::seat_already_paid);
    }
    if (c == "performance_seats_number_unique") {
        return make_error(errc::bad_request, "seat_number must be unique within a schedule.");
    }
    if (e.sqlstate() == "22P02" || e.sqlstate() == "22003" || e.sqlstate() == "22008") {
        return make_error(errc::bad_request, "A value is out of range or malformed.");
    }
    return std::nullopt;
}

bool is_retryable(const error& e) {
    return e.sqlstate() == "40P01" || e.sqlstate() == "40001";
}

} // namespace tp::pg
