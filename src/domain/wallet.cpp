#include "domain/wallet.hpp"

#include <string>

namespace tp::domain {

result<krw> validate_charge_amount(krw amount) {
    if (amount <= 0 || amount > max_charge_amount) {
        return make_error(
            errc::bad_request,
            "amount must be a whole number of KRW from 1 to " + std::to_string(max_charge_amount) + "."
        );
    }
    return amount;
}

std::string_view to_string(ledger_cause cause) {
    switch (cause) {
    case ledger_cause::charged_by_user: return "CHARGED_BY_USER";
    case ledger_cause::payment_performance_seat: return "PAYMENT_PERFORMANCE_SEAT";
    }
    return "UNKNOWN";
}

} // namespace tp::domain
