#pragma once
// Points: balance, charges, payments for held seats and the ledger behind them.
//
// Every change of a balance writes its ledger row in the same transaction, and every
// transaction that touches a fan's money locks the fan's row first: one fan's charges and
// payments run one after another (no lost update, no deadlock), different fans in parallel.
//
// Idempotency: when the caller passes a claim (Idempotency-Key), the first successful
// answer is stored in the same transaction as the effect; a retry replays it unchanged.

#include "domain/identifiers.hpp"
#include "domain/timestamp.hpp"
#include "domain/wallet.hpp"
#include "storage/pg/pool.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <vector>

namespace tp::pg {

struct idempotency_claim {
    std::string key;
    std::string route;
    // The call's meaning as text (a charge's amount, a payment's seat id), not its bytes: a
    // retry must carry the same one, or it is refused as a key reused with another request.
    std::string canonical_request;
};

// An HTTP answer as stored for replay: status and JSON body.
struct stored_answer {
    int status = 200;
    std::string body;
};

struct ledger_row {
    domain::epoch_ms date_created = 0;
    domain::krw amount = 0;
    domain::ledger_cause cause = domain::ledger_cause::charged_by_user;
    std::optional<std::string> performance_seat_id;
};

inline constexpr std::int64_t few_unsold_seats = 64;

struct payment {
    std::string performance_seat_id;
    domain::krw price = 0;
    domain::krw balance = 0;
    domain::schedule_id schedule_id;
    // Other seats of the schedule this payment's statement saw unsold, counted up to
    // `few_unsold_seats`: 0 means it sold the last one. Payments of the last seats at the
    // same moment each see the others' seats unsold (READ COMMITTED), so a small count is
    // checked again after commit (schedule_sold_out).
    std::int64_t unsold_seen = 0;
    std::size_t position = 0;      // the seat's, in the schedule's seat list
    std::int64_t change_count = 0; // the seat's, after this payment
};

class wallet_repository {
public:
    explicit wallet_repository(pool& p) : pool_(p) {}

    awaitable<domain::krw> balance(const domain::user_id& user_id);
    awaitable<std::vector<ledger_row>> history(const domain::user_id& user_id);

    awaitable<domain::result<stored_answer>> charge(
        const domain::user_id& user_id,
        domain::krw amount,
        const std::optional<idempotency_claim>& claim,
        std::function<stored_answer(domain::krw new_balance)> render
    );

    // The seat must be held by this user with an unexpired hold; it becomes RESERVED, the
    // price (the seat's, never the client's) is debited and a ledger row written.
    awaitable<domain::result<stored_answer>>
    pay(const domain::user_id& user_id,
        const domain::seat_id& seat_id,
        const std::optional<idempotency_claim>& claim,
        std::function<stored_answer(const payment&)> render);

    // Deletes up to `batch` stored answers older than `retention`; returns how many. A retry
    // later than that is a new call: the retention must outlast any client's retry window.
    awaitable<std::int64_t> forget_answers_older_than(std::chrono::hours retention, int batch);

    // Whether every seat of the schedule is paid for, as committed now.
    awaitable<bool> schedule_sold_out(const domain::schedule_id& schedule_id);
    // Schedules with a seat paid for within `window` that have no unsold seat left: what the
    // sweeper tells the queue again, in case a sold-out notice was lost (docs/waiting-queue.md).
    awaitable<std::vector<domain::schedule_id>> recently_sold_out(std::chrono::seconds window);

private:
    pool& pool_;
};

} // namespace tp::pg
