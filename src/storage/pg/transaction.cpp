#include "storage/pg/transaction.hpp"

#include "storage/pg/error.hpp"

namespace tp::pg {
namespace {

// Unnamed: sent as they are, with the statements they travel with.
constexpr query begin_statement{"", "BEGIN"};
constexpr query commit_statement{"", "COMMIT"};

} // namespace

transaction::transaction(lease l) : lease_(std::move(l)) {
    ahead_.push_back({&begin_statement, {}});
}

awaitable<transaction> transaction::begin(pool& p) {
    auto conn = co_await p.acquire();
    co_return transaction(std::move(conn));
}

awaitable<result> transaction::run(const query& q, params values) {
    const std::vector<connection::statement> ahead = std::move(ahead_);
    ahead_.clear();
    started_ = true;
    const std::span<const connection::statement> sent_ahead(ahead);
    co_return co_await lease_->execute(sent_ahead, q, std::move(values));
}

awaitable<void> transaction::commit() {
    if (!started_ && ahead_.size() == 1) {
        co_return; // only BEGIN is waiting: nothing was done, so there is nothing to commit
    }
    const auto r = co_await run(commit_statement, {});
    // PostgreSQL answers COMMIT of a failed transaction with a quiet ROLLBACK: say so.
    if (std::string_view(PQcmdStatus(r.get())) != "COMMIT") {
        throw error(error::kind::query, "the transaction was rolled back: a statement in it had failed");
    }
}

awaitable<void> transaction::rollback() {
    ahead_.clear();
    if (started_) {
        co_await lease_->execute_script("ROLLBACK");
    }
}

} // namespace tp::pg
