#include "storage/pg/transaction.hpp"

namespace tp::pg {

awaitable<transaction> transaction::begin(pool& p) {
    auto conn = co_await p.acquire();
    co_await conn->execute_script("BEGIN");
    co_return transaction(std::move(conn));
}

awaitable<void> transaction::commit() { co_await lease_->execute_script("COMMIT"); }

awaitable<void> transaction::rollback() { co_await lease_->execute_script("ROLLBACK"); }

} // namespace tp::pg
