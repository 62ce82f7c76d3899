#!/usr/bin/python3
"""Invariant checkers (docs/api-contract.md, Invariants): I1-I3 read PostgreSQL directly; I4
reads what was sampled from Redis during a run. Each returns a list of human-readable
violations (empty = the invariant holds), so a test can assert on it and a negative control
can show that a planted violation is reported (tests/functional/test_invariant_checkers.py).

`db` is anything with .query(sql, params) -> rows (tests: conftest.Database).

As a program, after an on-sale replay (scripts/bench.sh, tests/functional/test_onsale_replay.py):

    invariants.py DATABASE_URL [--observations FILE]

checks I1-I3 in that database and, with the replay's observations (tools/onsale: each gate's
capacity, its active count sampled from Redis, every admission's arrival number and time),
I4; prints one line per invariant and exits 1 if any is violated.
"""


def check_i1(db):
    """I1: no seat is ever held or sold to two users at once.

    The schema keeps one holder per seat row, so a double sale shows up as: a held/sold
    seat without a holder, more than one payment row for a seat, a payment row by someone
    other than the seat's holder, or a hold whose holder was charged for it while another
    user owns it."""
    problems = []
    for seat_id, status in db.query(
            """SELECT id, reservation_status FROM performance_seats
               WHERE reservation_status IN ('TEMPORARY_RESERVED', 'RESERVED') AND holder_id IS NULL"""):
        problems.append(f"I1: seat {seat_id} is {status} but has no holder")
    for seat_id, n, users in db.query(
            """SELECT performance_seat_id, count(*), array_agg(DISTINCT user_id::text)
               FROM ledger_entries WHERE cause = 'PAYMENT_PERFORMANCE_SEAT'
               GROUP BY performance_seat_id HAVING count(*) > 1"""):
        problems.append(f"I1: seat {seat_id} was paid for {n} times (by {sorted(users)})")
    for seat_id, payer, holder in db.query(
            """SELECT l.performance_seat_id, l.user_id, s.holder_id
               FROM ledger_entries l JOIN performance_seats s ON s.id = l.performance_seat_id
               WHERE l.cause = 'PAYMENT_PERFORMANCE_SEAT' AND s.holder_id IS DISTINCT FROM l.user_id"""):
        problems.append(f"I1: seat {seat_id} was paid for by {payer} but belongs to {holder}")
    return problems


def check_single_winner(db, seat_id, takers, winner):
    """I1 for 'one seat, many takers': exactly one of `takers` (user ids) holds the seat,
    and it is `winner` (the one the API said won)."""
    problems = []
    rows = db.query(
        """SELECT reservation_status::text, holder_id::text, hold_expires_at > now()
           FROM performance_seats WHERE id = %s""", (seat_id,))
    if len(rows) != 1:
        return [f"I1: seat {seat_id} not found"]
    status, holder, live = rows[0]
    if status not in ("TEMPORARY_RESERVED", "RESERVED") or holder is None:
        problems.append(f"I1: seat {seat_id} is {status}, held by nobody (expected exactly one holder)")
    elif holder not in set(takers):
        problems.append(f"I1: seat {seat_id} is held by {holder}, who is none of the takers")
    elif winner is not None and holder != winner:
        problems.append(f"I1: seat {seat_id} is held by {holder} but the API told {winner} it won")
    if status == "TEMPORARY_RESERVED" and not live:
        problems.append(f"I1: the hold on seat {seat_id} has already expired")
    paid = db.query("""SELECT DISTINCT user_id::text FROM ledger_entries
                       WHERE performance_seat_id = %s AND cause = 'PAYMENT_PERFORMANCE_SEAT'""", (seat_id,))
    if len(paid) > 1:
        problems.append(f"I1: seat {seat_id} was paid for by {len(paid)} users")
    return problems + check_i1(db)


def check_i2(db):
    """I2: every balance equals the sum of that user's ledger rows and is >= 0."""
    problems = []
    for user_id, balance, total in db.query(
            """SELECT u.id, u.balance, coalesce(sum(l.amount), 0)
               FROM users u LEFT JOIN ledger_entries l ON l.user_id = u.id
               GROUP BY u.id, u.balance
               HAVING u.balance <> coalesce(sum(l.amount), 0) OR u.balance < 0"""):
        if balance < 0:
            problems.append(f"I2: user {user_id} has a negative balance {balance}")
        if balance != total:
            problems.append(f"I2: user {user_id} has balance {balance} but ledger rows summing to {total}")
    return problems


def check_i3(db):
    """I3: every RESERVED seat has exactly one payment row of -price, and no seat that is
    not RESERVED has a payment row."""
    problems = []
    for seat_id, status, price, n, amounts in db.query(
            """SELECT s.id, s.reservation_status::text, s.price, count(l.id), array_agg(l.amount)
               FROM performance_seats s
               LEFT JOIN ledger_entries l
                 ON l.performance_seat_id = s.id AND l.cause = 'PAYMENT_PERFORMANCE_SEAT'
               WHERE s.reservation_status = 'RESERVED' OR l.id IS NOT NULL
               GROUP BY s.id, s.reservation_status, s.price"""):
        if status != "RESERVED":
            problems.append(f"I3: seat {seat_id} is {status} but has {n} payment row(s)")
        elif n != 1:
            problems.append(f"I3: RESERVED seat {seat_id} has {n} payment rows (expected 1)")
        elif amounts[0] != -price:
            problems.append(f"I3: RESERVED seat {seat_id} was paid {amounts[0]}, expected {-price}")
    return problems


def check_seat_limit(db, max_seats):
    """No user holds (unexpired) or bought more than `max_seats` seats of one schedule."""
    return [f"limit: user {u} has {n} live seats in schedule {d} (max {max_seats})"
            for u, d, n in db.query(
                """SELECT holder_id, staging_date_id, count(*) FROM performance_seats
                   WHERE holder_id IS NOT NULL
                     AND (reservation_status = 'RESERVED' OR hold_expires_at > now())
                   GROUP BY holder_id, staging_date_id HAVING count(*) > %s""", (max_seats,))]


def check_answered_payments(db, paid):
    """Every payment answered 201 is in the ledger: `paid` are (user id, seat id) pairs the API
    answered 201; each must have its payment row by that user, and the seat must be RESERVED
    to that user."""
    problems = []
    for user, seat in paid:
        rows = db.query(
            """SELECT s.reservation_status::text, s.holder_id::text, count(l.id)
               FROM performance_seats s
               LEFT JOIN ledger_entries l ON l.performance_seat_id = s.id AND l.user_id = %s
                                         AND l.cause = 'PAYMENT_PERFORMANCE_SEAT'
               WHERE s.id = %s GROUP BY s.id""", (user, seat))
        if not rows:
            problems.append(f"paid: seat {seat} answered 201 to {user} does not exist")
            continue
        status, holder, payments = rows[0]
        if payments != 1 or status != "RESERVED" or holder != str(user):
            problems.append(f"paid: seat {seat} answered 201 to {user} is {status} held by {holder} "
                            f"with {payments} payment row(s) of that user")
    return problems


def check_charges(db, expected):
    """Each user's charges in the ledger add up to what the caller expects: `expected` maps a
    user id to the sum of the charges that user's calls were answered 201 (each
    Idempotency-Key once, however many times its call was sent)."""
    rows = dict(db.query(
        """SELECT user_id::text, sum(amount) FROM ledger_entries
           WHERE cause = 'CHARGED_BY_USER' AND user_id = ANY(%s::uuid[]) GROUP BY user_id""",
        (list(expected),)))
    return [f"charges: user {user} was charged {rows.get(user, 0)} in the ledger, expected {total}"
            for user, total in expected.items() if rows.get(user, 0) != total]


def check_all(db):
    return check_i1(db) + check_i2(db) + check_i3(db)


def assert_invariants(db):
    problems = check_all(db)
    assert not problems, "invariants violated:\n" + "\n".join(problems)


# ---------------------------------------------------------------------------------------
# I4, read from Redis by the caller: a gate never has more active tokens than its capacity,
# and admits in FIFO order.
# ---------------------------------------------------------------------------------------


def check_capacity(samples, capacity):
    """I4 (capacity): `samples` are readings of one gate's active set, each either a count
    (ZCARD tp:gate:{G}:active) or a (when, count) pair; every one must be <= capacity."""
    problems = []
    for i, sample in enumerate(samples):
        when, count = sample if isinstance(sample, (tuple, list)) else (i, sample)
        if count > capacity:
            problems.append(f"I4: {count} active tokens at sample {when} (capacity {capacity})")
    return problems


def check_fifo(admissions):
    """I4 (FIFO): `admissions` are (token id, arrival number, admitted at) triples, the
    arrival number being the token's `seq` in line and `admitted at` anything ordered (the
    token's `active` time in Redis ms, or the sample in which it was first seen active).
    Admitted in the same instant counts as in order; a token admitted strictly before one
    that arrived ahead of it is a violation. Arrival numbers must be unique."""
    problems = []
    by_arrival = sorted(admissions, key=lambda a: a[1])
    for (id_a, seq_a, _), (id_b, seq_b, _) in zip(by_arrival, by_arrival[1:]):
        if seq_a == seq_b:
            problems.append(f"I4: tokens {id_a} and {id_b} share arrival number {seq_a}")
    latest = None  # (admitted at, id, seq) of the latest admission among earlier arrivals
    for token_id, seq, admitted_at in by_arrival:
        if latest is not None and admitted_at < latest[0]:
            problems.append(f"I4: token {token_id} (arrival {seq}) was admitted at {admitted_at}, before token "
                            f"{latest[1]} (arrival {latest[2]}, admitted at {latest[0]}) which arrived ahead of it")
        if latest is None or admitted_at >= latest[0]:
            latest = (admitted_at, token_id, seq)
    return problems


def check_observations(observations):
    """I4 for every gate of an on-sale replay's observations (see the module's docstring)."""
    problems = []
    for gate, seen in sorted(observations.items()):
        problems += [f"{gate}: {p}" for p in check_capacity(seen["samples"], seen["capacity"])]
        problems += [f"{gate}: {p}" for p in check_fifo([tuple(a) for a in seen["admissions"]])]
    return problems


class _Database:
    def __init__(self, url):
        import psycopg2
        self.conn = psycopg2.connect(url)
        self.conn.autocommit = True

    def query(self, sql, params=None):
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()


def main(argv):
    import argparse
    import json
    parser = argparse.ArgumentParser(description="Checks I1-I4 after an on-sale replay.")
    parser.add_argument("database_url")
    parser.add_argument("--observations", help="the replay's queue observations (onsale --observations)")
    args = parser.parse_args(argv)
    db = _Database(args.database_url)
    checks = [("I1 no seat held or sold twice", check_i1(db)),
              ("I2 balances equal their ledgers, none negative", check_i2(db)),
              ("I3 every sold seat paid exactly once, at its price", check_i3(db))]
    if args.observations:
        with open(args.observations) as f:
            observations = json.load(f)
        admissions = sum(len(g["admissions"]) for g in observations.values())
        samples = sum(len(g["samples"]) for g in observations.values())
        checks.append((f"I4 capacity and FIFO ({len(observations)} gates, {samples} samples, {admissions} admissions)",
                       check_observations(observations)))
    failed = False
    for name, problems in checks:
        print(f"{'ok  ' if not problems else 'FAIL'} {name}")
        for p in problems[:20]:
            print(f"     {p}")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    import sys
    sys.exit(main(sys.argv[1:]))
