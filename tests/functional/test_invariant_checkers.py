"""Negative controls: each invariant checker is shown to catch a violation planted on
purpose with unsafe SQL in a throwaway database (the constraints that would block the
violation are dropped first). A checker that cannot fail proves nothing."""

import queue_keys
from conftest import GateSampler, Redis, insert_users, redis_url_with_db
from invariants import (check_all, check_answered_payments, check_capacity, check_charges, check_fifo, check_i1,
                        check_i2, check_i3, check_seat_limit, check_single_winner)
from queue_line import Redis as LineReader, check_arrivals, check_records, read_line

SCRATCH_REDIS_DB = 8  # a Redis database no ticketd of the suite uses


def make_seats(db, count=3, price=1000):
    stage = db.value("INSERT INTO stages (name, location) VALUES ('s', 'l') RETURNING id")
    perf = db.value("""INSERT INTO performances (stage_id, title, ticketing_start_date)
                       VALUES (%s, 't', now() - interval '1 hour') RETURNING id""", (stage,))
    sched = db.value("""INSERT INTO performance_staging_dates (performance_id, staging_date)
                        VALUES (%s, now() + interval '30 days') RETURNING id""", (perf,))
    rows = db.query("""INSERT INTO performance_seats (staging_date_id, seat_number, price, position)
                       SELECT %s, n::text, %s, n - 1 FROM generate_series(1, %s) n RETURNING id""",
                    (sched, price, count))
    return str(sched), [str(r[0]) for r in rows]


def sell(db, seat, user, price=1000):
    """A correct sale, written by hand: hold → RESERVED, debit, payment row."""
    db.query("""UPDATE performance_seats SET reservation_status = 'RESERVED', holder_id = %s, reserved_at = now()
                WHERE id = %s""", (user, seat))
    db.query("UPDATE users SET balance = balance - %s WHERE id = %s", (price, user))
    db.query("""INSERT INTO ledger_entries (user_id, amount, cause, performance_seat_id)
                VALUES (%s, %s, 'PAYMENT_PERFORMANCE_SEAT', %s)""", (user, -price, seat))


def test_checkers_pass_on_a_consistent_database(scratch_db):
    """Baseline for the controls below: correct data gives no report."""
    db = scratch_db
    a, b = insert_users(db, 2, balance=5000)
    _, seats = make_seats(db)
    sell(db, seats[0], a)
    db.query("""UPDATE performance_seats SET reservation_status = 'TEMPORARY_RESERVED', holder_id = %s,
                hold_expires_at = now() + interval '5 minutes' WHERE id = %s""", (b, seats[1]))
    assert check_all(db) == []
    assert check_single_winner(db, seats[1], [a, b], b) == []
    assert check_seat_limit(db, 1) == []


def test_i1_catches_a_double_sale(scratch_db):
    db = scratch_db
    a, b = insert_users(db, 2, balance=5000)
    _, seats = make_seats(db)
    sell(db, seats[0], a)
    # The unique index that makes this impossible goes first; then B "buys" A's seat too.
    db.query("DROP INDEX ledger_entries_one_payment_per_seat")
    db.query("UPDATE users SET balance = balance - 1000 WHERE id = %s", (b,))
    db.query("""INSERT INTO ledger_entries (user_id, amount, cause, performance_seat_id)
                VALUES (%s, -1000, 'PAYMENT_PERFORMANCE_SEAT', %s)""", (b, seats[0]))
    problems = check_i1(db)
    assert any("paid for 2 times" in p for p in problems), problems
    assert any(f"paid for by {b}" in p for p in problems), problems
    # I2 still holds (each user's ledger matches); I3 sees two payment rows.
    assert check_i2(db) == []
    assert any("2 payment rows" in p for p in check_i3(db))


def test_i1_catches_a_held_seat_without_holder(scratch_db):
    db = scratch_db
    _, seats = make_seats(db)
    db.query("ALTER TABLE performance_seats DROP CONSTRAINT performance_seats_state_coherent")
    db.query("""UPDATE performance_seats SET reservation_status = 'TEMPORARY_RESERVED',
                hold_expires_at = now() + interval '5 minutes' WHERE id = %s""", (seats[1],))
    problems = check_i1(db)
    assert any(seats[1] in p and "no holder" in p for p in problems), problems


def test_single_winner_checker_catches_wrong_or_missing_holder(scratch_db):
    db = scratch_db
    a, b, c = insert_users(db, 3)
    _, seats = make_seats(db)
    # Nobody holds the seat although the API reported a winner.
    assert any("held by nobody" in p for p in check_single_winner(db, seats[0], [a, b], a))
    # Someone holds it, but not the user the API named.
    db.query("""UPDATE performance_seats SET reservation_status = 'TEMPORARY_RESERVED', holder_id = %s,
                hold_expires_at = now() + interval '5 minutes' WHERE id = %s""", (b, seats[0]))
    assert any("told" in p for p in check_single_winner(db, seats[0], [a, b], a))
    # Held by a user who never asked.
    assert any("none of the takers" in p for p in check_single_winner(db, seats[0], [a, c], a))


def test_i2_catches_a_balance_without_ledger_rows(scratch_db):
    db = scratch_db
    a, b = insert_users(db, 2, balance=5000)
    db.query("UPDATE users SET balance = balance + 777 WHERE id = %s", (a,))  # money from nowhere
    problems = check_i2(db)
    assert len(problems) == 1 and a in problems[0] and "5777" in problems[0], problems


def test_i2_catches_a_negative_balance(scratch_db):
    db = scratch_db
    (a,) = insert_users(db, 1, balance=500)
    _, seats = make_seats(db, price=1000)
    db.query("ALTER TABLE users DROP CONSTRAINT users_balance_not_negative")
    sell(db, seats[0], a, price=1000)  # ledger consistent, balance -500
    problems = check_i2(db)
    assert any("negative balance -500" in p for p in problems), problems


def test_i3_catches_a_reserved_seat_without_payment(scratch_db):
    db = scratch_db
    (a,) = insert_users(db, 1)
    _, seats = make_seats(db)
    db.query("""UPDATE performance_seats SET reservation_status = 'RESERVED', holder_id = %s, reserved_at = now()
                WHERE id = %s""", (a, seats[2]))
    problems = check_i3(db)
    assert any(seats[2] in p and "0 payment rows" in p for p in problems), problems


def test_i3_catches_a_wrong_payment_amount(scratch_db):
    db = scratch_db
    (a,) = insert_users(db, 1, balance=5000)
    _, seats = make_seats(db, price=1000)
    sell(db, seats[0], a, price=1)  # charged 1 KRW for a 1000 KRW seat
    problems = check_i3(db)
    assert any("paid -1, expected -1000" in p for p in problems), problems


def test_i3_catches_a_payment_for_a_seat_that_is_not_reserved(scratch_db):
    db = scratch_db
    (a,) = insert_users(db, 1, balance=5000)
    _, seats = make_seats(db, price=1000)
    sell(db, seats[0], a)
    db.query("""UPDATE performance_seats SET reservation_status = 'AVAILABLE', holder_id = NULL,
                reserved_at = NULL WHERE id = %s""", (seats[0],))  # sale undone, money kept
    problems = check_i3(db)
    assert any("is AVAILABLE but has 1 payment row" in p for p in problems), problems


def test_seat_limit_checker_catches_too_many_seats(scratch_db):
    db = scratch_db
    (a,) = insert_users(db, 1)
    _, seats = make_seats(db, count=3)
    db.query("""UPDATE performance_seats SET reservation_status = 'TEMPORARY_RESERVED', holder_id = %s,
                hold_expires_at = now() + interval '5 minutes'""", (a,))
    assert check_seat_limit(db, 3) == []
    problems = check_seat_limit(db, 2)
    assert len(problems) == 1 and "3 live seats" in problems[0], problems


# --- I4: the queue's checkers (fed with readings from Redis by test_queue_concurrency) ---


def test_answered_payments_checker_catches_a_lost_or_misplaced_payment(scratch_db):
    """A payment answered 201 but missing from the database, or on a seat held by someone
    else, is reported; the payment that is there is not."""
    db = scratch_db
    a, b = insert_users(db, 2, balance=5000)
    _, seats = make_seats(db)
    sell(db, seats[0], a)
    assert check_answered_payments(db, [(a, seats[0])]) == []
    problems = check_answered_payments(db, [(a, seats[1]), (b, seats[0])])
    assert len(problems) == 2 and seats[1] in problems[0] and b in problems[1], problems


def test_charges_checker_catches_a_charge_applied_twice_or_lost(scratch_db):
    """A user whose ledger holds one charge more (a retried key applied twice) or one less (a
    201 answer not kept) than the answers is reported."""
    db = scratch_db
    a, b = insert_users(db, 2, balance=5000)
    assert check_charges(db, {a: 5000, b: 5000}) == []
    db.query("INSERT INTO ledger_entries (user_id, amount, cause) VALUES (%s, 1000, 'CHARGED_BY_USER')", (a,))
    problems = check_charges(db, {a: 5000, b: 6000})
    assert len(problems) == 2 and any(a in p and "6000" in p for p in problems), problems


def test_capacity_checker_catches_an_over_full_gate():
    assert check_capacity([0, 3, 5, 5, 2], 5) == []
    assert check_capacity([(0.00, 4), (0.02, 5)], 5) == []
    problems = check_capacity([0, 3, 6, 5, 7], 5)
    assert len(problems) == 2, problems
    assert "6 active tokens at sample 2" in problems[0] and "7 active tokens at sample 4" in problems[1], problems
    problems = check_capacity([(1.25, 5), (1.27, 9)], 5)
    assert problems == ["I4: 9 active tokens at sample 1.27 (capacity 5)"], problems


def test_fifo_checker_catches_an_out_of_order_admission():
    in_order = [("a", 1, 100), ("b", 2, 100), ("c", 3, 120), ("d", 4, 140), ("e", 5, 140)]
    assert check_fifo(in_order) == []
    assert check_fifo(list(reversed(in_order))) == [], "the log's own order does not matter, arrival does"
    # "d" (arrival 4) let in at 110, ahead of "c" (arrival 3) let in at 120.
    jumped = [("a", 1, 100), ("b", 2, 100), ("c", 3, 120), ("d", 4, 110), ("e", 5, 140)]
    problems = check_fifo(jumped)
    assert len(problems) == 1 and "token d (arrival 4)" in problems[0] and "token c" in problems[0], problems
    # A late fan let in ahead of the whole line.
    problems = check_fifo([("a", 1, 300), ("b", 2, 310), ("c", 3, 320), ("z", 9, 50)])
    assert len(problems) == 1 and "token z (arrival 9)" in problems[0], problems
    # The first fan held back while the ones behind go in: each of them is reported.
    problems = check_fifo([("a", 1, 500), ("b", 2, 100), ("c", 3, 110)])
    assert len(problems) == 2 and "token b" in problems[0] and "token c" in problems[1], problems
    # Two tokens with one arrival number: the line itself is broken.
    problems = check_fifo([("a", 1, 100), ("b", 1, 100)])
    assert any("share arrival number 1" in p for p in problems), problems


def test_gate_sampler_reports_a_gate_over_capacity_planted_in_redis():
    """The whole I4 path as test_queue_concurrency uses it — the sampler reading Redis, then
    the checkers — shown to fail on a gate broken on purpose in a scratch Redis database:
    more tokens written straight into the active set than the capacity, and a token of a
    later arrival put there before one of an earlier arrival."""
    url = redis_url_with_db(SCRATCH_REDIS_DB)
    r = Redis(url)
    key = "tp:gate:{performances}:active"
    try:
        r("FLUSHDB")
        sampler = GateSampler(url, key)
        sampler.sample()
        r("ZADD", key, 1, "late-comer")  # arrival 9, admitted first
        sampler.sample()
        for n in range(6):
            r("ZADD", key, 1, f"token-{n}")  # arrivals 1..6, admitted after it
        sampler.sample()
        sampler.redis.close()
        assert check_capacity(sampler.samples[:2], 5) == []
        problems = check_capacity(sampler.samples, 5)
        assert len(problems) == 2 and all("7 active tokens" in p for p in problems), problems
        seqs = {"late-comer": 9, **{f"token-{n}": n + 1 for n in range(6)}}
        admissions = [(t, seqs[t], n) for t, n in sampler.first_seen.items()]
        problems = check_fifo(admissions)
        assert len(problems) == 1 and "token late-comer (arrival 9)" in problems[0], problems
        assert "before token token-5 (arrival 6" in problems[0], problems
    finally:
        r("FLUSHDB")
        r.close()


# --- The arrival numbers of a line that a crowd joined (tools/queue_line.py, bench part joins) ---


def test_arrival_checker_catches_a_gap_a_shared_number_and_a_lost_join():
    good = [("a", "11"), ("b", "12"), ("c", "13"), ("d", "14")]
    assert check_arrivals(good, "14", 4, first=11) == []
    assert check_arrivals(list(reversed(good)), 14, 4) == [], "the order read does not matter, the numbers do"
    # "c" lost: a gap at 13, and one entry fewer than the joins answered.
    problems = check_arrivals([("a", "11"), ("b", "12"), ("d", "14")], "14", 4, first=11)
    assert any("gap: no arrival number 13 between tokens b and d" in p for p in problems), problems
    assert any("holds 3 entries for 4 joins" in p for p in problems), problems
    # Two fans given one number, and a token twice.
    problems = check_arrivals([("a", "11"), ("b", "12"), ("c", "12"), ("a", "13")], "13", 4)
    assert any("tokens b and c share arrival number 12" in p for p in problems), problems
    assert any("token a is in line 2 times" in p for p in problems), problems
    # The counter ran past the line (a number handed out and lost), or the line does not start
    # where the run began.
    problems = check_arrivals(good, "15", 4, first=10)
    assert any("the state's seq is 15, the largest arrival number 14" in p for p in problems), problems
    assert any("starts at arrival number 11, expected 10" in p for p in problems), problems
    assert any("gap: no arrival number 3..9" in p for p in check_arrivals([("a", 2), ("b", 10)], 10, 2))


def test_record_checker_catches_a_second_token_and_a_stale_record():
    entries = [("t1", "1"), ("t2", "2")]
    records = {"t1": ("u1", "performances", "WAITING", "1"), "t2": ("u2", "performances", "WAITING", "2")}
    assert check_records("performances", entries, records, {"u1": "t1", "u2": "t2"}) == []
    # One user in line twice (the index keeps only the second token), a record at another
    # number, a token whose record is gone.
    records = {"t1": ("u1", "performances", "WAITING", "1"), "t2": ("u1", "performances", "WAITING", "7")}
    problems = check_records("performances", entries + [("t3", "3")], records, {"u1": "t2"})
    assert any("user u1 holds token t2, not t1" in p for p in problems), problems
    assert any("user u1 is in line 2 times (t1, t2)" in p for p in problems), problems
    assert any("token t2 is in line at 2 but its record says gate performances, WAITING, arrival 7" in p
               for p in problems), problems
    assert any("token t3 is in line but has no record" in p for p in problems), problems


def test_line_checker_reports_a_broken_line_planted_in_redis():
    """The whole path as the bench runs it (read the line back from Redis, then check), shown
    to pass on a line written the way gate_call.lua writes one and to fail on the same line
    with a number skipped and two fans sharing one."""
    url = redis_url_with_db(SCRATCH_REDIS_DB)
    r = Redis(url)
    gate = "performances"
    line, state = queue_keys.gate(gate, "waiting"), queue_keys.gate(gate, "state")

    def join(token, user, seq):
        r("HSET", queue_keys.token(token), "user", user, "gate", gate, "endpoint", "/reservation/performances",
          "status", "WAITING", "seq", seq, "issued", 1)
        r("ZADD", line, seq, token)
        r("SET", queue_keys.user_in_tag(gate, user), token)

    try:
        r("FLUSHDB")
        for n in range(1, 6):
            r("HINCRBY", state, "seq", 1)
            join(f"performances.t{n}", f"u{n}", n)
        reader = LineReader(url)
        entries, seq, records, holders = read_line(reader, gate)
        assert check_arrivals(entries, seq, 5, first=1) == []
        assert check_records(gate, entries, records, holders) == []
        # t3's number handed to t4 as well (a duplicate), so 4 is never used (a gap).
        r("ZADD", line, 3, "performances.t4")
        r("HSET", queue_keys.token("performances.t4"), "seq", 3)
        entries, seq, records, holders = read_line(reader, gate)
        problems = check_arrivals(entries, seq, 5, first=1)
        assert any("tokens performances.t3 and performances.t4 share arrival number 3" in p for p in problems), problems
        assert any("gap: no arrival number 4" in p for p in problems), problems
        assert check_records(gate, entries, records, holders) == []
        reader.sock.close()
    finally:
        r("FLUSHDB")
        r.close()
