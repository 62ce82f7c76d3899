#include "storage/pg/transaction.hpp"

#include "storage/pg/error.hpp"

namespace tp::pg {

awaitable<transaction> transaction::begin(pool& p) {
    auto conn = co_await p.acquire();
    co_await conn->execute_script("BEGIN");
    co_return transaction(std::move(conn));
}

awaitable<void> transaction::commit() {
    const auto r = co_await lease_->execute_script("COMMIT");
    // PostgreSQL answers COMMIT of a failed transaction with a quiet ROLLBACK: say so.
    if (std::string_view(PQcmdStatus(r.get())) != "COMMIT") {
        throw error(error::kind::query, "the transaction was rolled back: a statement in it had failed");
    }
}

awaitable<void> transaction::rollback() {
    co_await lease_->execute_script("ROLLBACK");
}

} // namespace tp::pg
