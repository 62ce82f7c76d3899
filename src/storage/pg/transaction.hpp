#pragma once
// The one way to run a multi-statement transaction:
//
//     auto tx = co_await transaction::begin(pool);
//     tx.send_ahead(queries::lock, a);          // result not needed: goes with the next call
//     auto r = co_await tx.execute(queries::x, a, b);
//     co_await tx.commit();          // or tx.rollback(), or just leave scope
//
// BEGIN, and any statement sent ahead, travel in the same round trip as the next statement
// executed (libpq pipeline mode): a hold or a payment is two round trips (BEGIN + lock +
// statement, then COMMIT), not four. PostgreSQL still runs them one after the other, each
// with its own snapshot, so nothing about their meaning changes.
//
// Leaving scope without commit rolls back (the pool sends ROLLBACK before reuse); nothing is
// ever committed implicitly. READ COMMITTED (set on every connection, whatever the server's
// default): correctness comes from row locks and guarded writes, never from a snapshot (see
// docs/transactions.md). A transaction PostgreSQL aborts for a deadlock or a serialization
// failure is run again by `run_with_retries`.

#include "storage/pg/constraint_errors.hpp"
#include "storage/pg/pool.hpp"

#include <vector>

namespace tp::pg {

class transaction {
public:
    static awaitable<transaction> begin(pool& p);

    template <class... Args> void send_ahead(const query& q, const Args&... args) {
        ahead_.push_back({&q, make_params(args...)});
    }

    template <class... Args> awaitable<result> execute(const query& q, const Args&... args) {
        return run(q, make_params(args...));
    }

    awaitable<void> commit();
    awaitable<void> rollback();

private:
    explicit transaction(lease l);

    awaitable<result> run(const query& q, params values);

    lease lease_;
    std::vector<connection::statement> ahead_; // not sent yet; BEGIN first until it is
    bool started_ = false;                     // BEGIN has been sent
};

// Runs `attempt` (a function returning an awaitable that begins and ends its own transaction)
// again when PostgreSQL aborted it with a deadlock or a serialization failure, up to
// `attempts` times in all: an aborted transaction changed nothing, so running it again is
// safe. Any other error, or the last attempt's, reaches the caller.
template <class Attempt> auto run_with_retries(Attempt attempt, int attempts = 3) -> decltype(attempt()) {
    for (int n = 1;; ++n) {
        try {
            co_return co_await attempt();
        } catch (const error& e) {
            if (!is_retryable(e) || n >= attempts) {
                throw;
            }
        }
    }
}

} // namespace tp::pg
