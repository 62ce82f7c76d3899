#include "storage/pg/wallet_repository.hpp"

#include "domain/seats.hpp"
#include "storage/pg/constraint_errors.hpp"
#include "storage/pg/transaction.hpp"

namespace tp::pg {
namespace {

constexpr query select_balance{"wallet_balance", R"sql(
    SELECT balance FROM users WHERE id = $1
)sql"};

constexpr query lock_user{"wallet_lock_user", R"sql(
    SELECT balance FROM users WHERE id = $1 FOR UPDATE
)sql"};

constexpr query find_answer{"wallet_find_answer", R"sql(
    SELECT canonical_request, status_code, response_body FROM idempotency_keys
    WHERE user_id = $1 AND route = $2 AND key = $3
)sql"};

constexpr query store_answer{"wallet_store_answer", R"sql(
    INSERT INTO idempotency_keys (user_id, route, key, canonical_request, status_code, response_body)
    VALUES ($1, $2, $3, $4, $5, $6)
)sql"};

// Oldest first, through the index on created_at; rows another instance is deleting are
// skipped rather than waited for.
constexpr query forget_old_answers{"wallet_forget_old_answers", R"sql(
    DELETE FROM idempotency_keys
    WHERE (user_id, route, key) IN (
        SELECT user_id, route, key FROM idempotency_keys
        WHERE created_at < now() - make_interval(hours => $1::int)
        ORDER BY created_at LIMIT $2
        FOR UPDATE SKIP LOCKED)
)sql"};

constexpr query credit{"wallet_charge", R"sql(
    WITH credited AS (
        UPDATE users SET balance = balance + $2 WHERE id = $1 RETURNING id, balance
    ), entry AS (
        INSERT INTO ledger_entries (user_id, amount, cause)
        SELECT id, $2, 'CHARGED_BY_USER' FROM credited
    )
    SELECT balance FROM credited
)sql"};

// Seat, balance and ledger in one statement; a balance below zero violates
// users_balance_not_negative and the whole statement (and transaction) is undone. The last
// column says whether this sold the schedule's last unsold seat: NOT EXISTS on the partial
// index performance_seats_unsold, not a count, so a payment costs the same in a hall of 50
// seats or 50,000. The expiry test is written so that it cannot be an index condition: with
// the statistics of a schedule analysed before its sale (no holds yet) the planner estimates
// one row for `hold_expires_at > now()` and walked the expiry index instead of the primary
// key, a scan of every live hold per payment (measured: 10x slower payments).
constexpr query debit_for_seat{"wallet_pay_seat", R"sql(
    WITH seat AS (
        UPDATE performance_seats
        SET reservation_status = 'RESERVED', hold_expires_at = NULL, reserved_at = now(),
            changed_xid = pg_current_xact_id(), change_count = change_count + 1
        WHERE id = $2 AND holder_id = $1
          AND reservation_status = 'TEMPORARY_RESERVED' AND (hold_expires_at > now()) IS TRUE
        RETURNING id, price, staging_date_id, position, change_count
    ), debited AS (
        UPDATE users SET balance = users.balance - seat.price
        FROM seat WHERE users.id = $1
        RETURNING users.balance
    ), entry AS (
        INSERT INTO ledger_entries (user_id, amount, cause, performance_seat_id)
        SELECT $1, -price, 'PAYMENT_PERFORMANCE_SEAT', id FROM seat
    )
    SELECT seat.id, seat.price, debited.balance, seat.staging_date_id,
           (SELECT count(*) FROM (SELECT 1 FROM performance_seats o
                                  WHERE o.staging_date_id = seat.staging_date_id AND o.id <> seat.id
                                    AND o.reservation_status <> 'RESERVED'
                                  LIMIT $3) AS unsold),
           seat.position, seat.change_count
    FROM seat, debited
)sql"};

constexpr query sold_out_now{"wallet_schedule_sold_out", R"sql(
    SELECT NOT EXISTS (SELECT 1 FROM performance_seats
                       WHERE staging_date_id = $1 AND reservation_status <> 'RESERVED')
)sql"};

// The schedules of recent payments first (the index on reserved_at), then one probe of the
// partial index of unsold seats per schedule.
constexpr query sold_out_lately{"wallet_recently_sold_out", R"sql(
    SELECT recent.staging_date_id FROM (
        SELECT DISTINCT staging_date_id FROM performance_seats
        WHERE reserved_at > now() - make_interval(secs => $1::int)) AS recent
    WHERE NOT EXISTS (SELECT 1 FROM performance_seats o
                      WHERE o.staging_date_id = recent.staging_date_id AND o.reservation_status <> 'RESERVED')
)sql"};

constexpr query inspect_seat{"wallet_inspect_seat", R"sql(
    SELECT s.id, s.staging_date_id,
           CASE WHEN s.reservation_status = 'TEMPORARY_RESERVED' AND s.hold_expires_at <= now()
                THEN 'AVAILABLE' ELSE s.reservation_status::text END,
           coalesce(s.holder_id = $1, false),
           coalesce(s.hold_expires_at <= now(), false),
           s.price,
           (SELECT balance FROM users WHERE id = $1)
    FROM performance_seats s
    WHERE s.id = $2
)sql"};

constexpr query select_history{"wallet_history", R"sql(
    SELECT (extract(epoch FROM created_at) * 1000)::bigint, amount, cause::text, performance_seat_id
    FROM ledger_entries WHERE user_id = $1 ORDER BY id
)sql"};

// A replay of a stored answer, or the refusal of a key reused with another body.
awaitable<std::optional<domain::result<stored_answer>>>
replay(transaction& tx, const domain::user_id& user_id, const idempotency_claim& claim) {
    const auto r = co_await tx.execute(find_answer, user_id, claim.route, claim.key);
    if (r.empty()) {
        co_return std::nullopt;
    }
    if (r.text(0, 0) != claim.canonical_request) {
        co_return domain::result<stored_answer>(domain::make_error(domain::errc::idempotency_key_reused));
    }
    co_return domain::result<stored_answer>(stored_answer{
        .status = static_cast<int>(r.int64(0, 1)), .body = r.string(0, 2)});
}

// The start of every money transaction: lock the user's row (one user's money moves one
// call at a time), then, for a retried call, find its stored answer (the transaction is
// then rolled back and the caller returns that answer as it is).
awaitable<std::optional<domain::result<stored_answer>>>
lock_and_replay(transaction& tx, const domain::user_id& user_id, const std::optional<idempotency_claim>& claim) {
    tx.send_ahead(lock_user, user_id); // travels with the next statement
    if (!claim) {
        co_return std::nullopt;
    }
    auto previous = co_await replay(tx, user_id, *claim);
    if (previous) {
        co_await tx.rollback();
    }
    co_return previous;
}

awaitable<void>
remember(transaction& tx, const domain::user_id& user_id, const idempotency_claim& claim, const stored_answer& answer) {
    co_await tx.execute(
        store_answer, user_id, claim.route, claim.key, claim.canonical_request, answer.status, answer.body
    );
}

} // namespace

awaitable<domain::krw> wallet_repository::balance(const domain::user_id& user_id) {
    const auto r = co_await pool_.execute(select_balance, make_params(user_id));
    co_return r.empty() ? 0 : r.int64(0, 0);
}

awaitable<std::vector<ledger_row>> wallet_repository::history(const domain::user_id& user_id) {
    const auto r = co_await pool_.execute(select_history, make_params(user_id));
    std::vector<ledger_row> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row) {
        out.push_back(ledger_row{
            .date_created = r.int64(row, 0),
            .amount = r.int64(row, 1),
            .cause = r.text(row, 2) == "CHARGED_BY_USER" ? domain::ledger_cause::charged_by_user
                                                         : domain::ledger_cause::payment_performance_seat,
            .performance_seat_id = r.optional_string(row, 3)});
    }
    co_return out;
}

awaitable<domain::result<stored_answer>> wallet_repository::charge(
    const domain::user_id& user_id,
    domain::krw amount,
    const std::optional<idempotency_claim>& claim,
    std::function<stored_answer(domain::krw)> render
) {
    try {
        co_return co_await run_with_retries([&]() -> awaitable<domain::result<stored_answer>> {
            auto tx = co_await transaction::begin(pool_);
            if (auto previous = co_await lock_and_replay(tx, user_id, claim)) {
                co_return std::move(*previous);
            }
            const auto r = co_await tx.execute(credit, user_id, amount);
            auto answer = render(r.int64(0, 0));
            if (claim) {
                co_await remember(tx, user_id, *claim, answer);
            }
            co_await tx.commit();
            co_return answer;
        });
    } catch (const error& e) {
        if (auto refused = as_domain_error(e)) {
            co_return *refused;
        }
        throw;
    }
}

awaitable<domain::result<stored_answer>> wallet_repository::pay(
    const domain::user_id& user_id,
    const domain::seat_id& seat_id,
    const std::optional<idempotency_claim>& claim,
    std::function<stored_answer(const payment&)> render
) {
    try {
        // The transaction's connection goes back to the pool when the attempt ends, before a
        // refusal is explained: a request never holds two connections.
        auto paid = co_await run_with_retries([&]() -> awaitable<std::optional<domain::result<stored_answer>>> {
            auto tx = co_await transaction::begin(pool_);
            if (auto previous = co_await lock_and_replay(tx, user_id, claim)) {
                co_return std::move(*previous);
            }
            const auto r = co_await tx.execute(debit_for_seat, user_id, seat_id, few_unsold_seats);
            if (r.empty()) {
                co_await tx.rollback();
                co_return std::nullopt;
            }
            auto answer = render(payment{
                .performance_seat_id = r.string(0, 0),
                .price = r.int64(0, 1),
                .balance = r.int64(0, 2),
                .schedule_id = r.id<domain::schedule_id>(0, 3),
                .unsold_seen = r.int64(0, 4),
                .position = static_cast<std::size_t>(r.int64(0, 5)),
                .change_count = r.int64(0, 6)});
            if (claim) {
                co_await remember(tx, user_id, *claim, answer);
            }
            co_await tx.commit();
            co_return answer;
        });
        if (paid) {
            co_return std::move(*paid);
        }
        {
            const auto seen = co_await pool_.execute(inspect_seat, make_params(user_id, seat_id));
            domain::payment_context context;
            if (!seen.empty()) {
                context.seat = domain::seat_view{
                    .id = seen.id<domain::seat_id>(0, 0),
                    .schedule_id = seen.id<domain::schedule_id>(0, 1),
                    .status = domain::parse_seat_status(seen.text(0, 2)).value_or(domain::seat_status::available),
                    .held_by_me = seen.boolean(0, 3),
                    .hold_expired = seen.boolean(0, 4),
                    .ticketing_started = true,
                    .price = seen.int64(0, 5)};
                context.balance = seen.optional_int64(0, 6).value_or(0);
            }
            co_return domain::explain_refused_payment(context);
        }
    } catch (const error& e) {
        if (auto refused = as_domain_error(e)) {
            co_return *refused;
        }
        throw;
    }
}

awaitable<std::int64_t> wallet_repository::forget_answers_older_than(std::chrono::hours retention, int batch) {
    const auto r = co_await pool_.execute(
        forget_old_answers, make_params(static_cast<std::int64_t>(retention.count()), static_cast<std::int64_t>(batch))
    );
    co_return r.affected();
}

awaitable<bool> wallet_repository::schedule_sold_out(const domain::schedule_id& schedule_id) {
    const auto r = co_await pool_.execute(sold_out_now, make_params(schedule_id));
    co_return r.boolean(0, 0);
}

awaitable<std::vector<domain::schedule_id>> wallet_repository::recently_sold_out(std::chrono::seconds window) {
    const auto r = co_await pool_.execute(sold_out_lately, make_params(static_cast<std::int64_t>(window.count())));
    std::vector<domain::schedule_id> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row) {
        out.push_back(r.id<domain::schedule_id>(row, 0));
    }
    co_return out;
}

} // namespace tp::pg
