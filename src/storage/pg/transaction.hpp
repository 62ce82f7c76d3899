#pragma once
// The one way to run a multi-statement transaction:
//
//     auto tx = co_await transaction::begin(pool);
//     auto r = co_await tx.execute(queries::x, a, b);
//     co_await tx.commit();          // or tx.rollback(), or just leave scope
//
// Leaving scope without commit rolls back (the pool sends ROLLBACK before reuse); nothing is
// ever committed implicitly. READ COMMITTED: correctness comes from row locks and guarded
// writes, never from a snapshot (see docs/transactions.md).

#include "storage/pg/pool.hpp"

namespace tp::pg {

class transaction {
public:
    static awaitable<transaction> begin(pool& p);

    template <class... Args> awaitable<result> execute(const query& q, const Args&... args) {
        return lease_->execute(q, make_params(args...));
    }

    awaitable<void> commit();
    awaitable<void> rollback();

private:
    explicit transaction(lease l) : lease_(std::move(l)) {}

    lease lease_;
};

} // namespace tp::pg
