"""Concurrency across three instances of ticketd on one PostgreSQL (the invariants:
docs/api-contract.md, Invariants).

Every test states the invariant it proves and checks it by reading PostgreSQL back, not
by trusting the answers. Fans are inserted straight into the database and authenticated
with tokens signed by the dev secret, so that a thousand of them cost no Argon2id time.
"""

import random
import time
import uuid
from collections import Counter

from conftest import admit_to_take, http_call, insert_users, run_parallel, token_for
from invariants import assert_invariants, check_i1, check_seat_limit, check_single_winner

TAKE = "/reservation/take_performance_seat"
PAY = "/payment/payment_performance_seat"


call = http_call


def admit_all(servers, users, schedule_id):
    """Every user walks the waiting queue to an ACTIVE step-3 token for the schedule (the
    gates admit everyone at once in this suite), so that their takes can then be fired at
    the same moment."""
    run_parallel(lambda iu: admit_to_take(servers[iu[0] % 3].url, token_for(iu[1]), schedule_id),
                 list(enumerate(users)), workers=100, timeout=300)


def take_now(base_url, user, body):
    return call(base_url, "PATCH", TAKE, token_for(user), body)


def codes(results):
    return Counter((status, (body or {}).get("code")) if status >= 400 else (status, None)
                   for status, body in results)


def test_thousand_fans_one_seat(servers, make_performance, db):
    """I1: 1,000 concurrent takes of ONE seat by distinct users, spread over 3 instances →
    exactly one 200, every other answer 409 SEAT_TAKEN (never a 5xx), and the database
    shows that one winner as the only holder."""
    perf = make_performance(seats=3, price=50_000)  # other seats stay free: refusals are SEAT_TAKEN, not SOLD_OUT
    seat = perf.seat_ids[1]
    users = insert_users(db, 1000)
    tokens = {u: token_for(u) for u in users}
    admit_all(servers, users, perf.schedule_id)

    def take(i_user):
        i, user = i_user
        return user, call(servers[i % 3].url, "PATCH", TAKE, tokens[user], {"performance_seat_id": seat})

    results = run_parallel(take, list(enumerate(users)), workers=150, timeout=300)
    tally = codes(r for _, r in results)
    winners = [u for u, (status, _) in results if status == 200]
    assert tally == Counter({(200, None): 1, (409, "SEAT_TAKEN"): 999}), tally
    assert check_single_winner(db, seat, users, winners[0]) == []
    assert db.query("SELECT count(*) FROM performance_seats WHERE staging_date_id = %s AND holder_id IS NOT NULL",
                    (perf.schedule_id,)) == [(1,)]
    assert_invariants(db)


def test_multi_seat_takes_are_all_or_nothing(servers, make_performance, db):
    """I1 + all-or-nothing: 120 users race for 8 seats, each asking for 1–3 of them at
    once. Every winner holds exactly the seats it asked for, no loser holds any of its
    seats, and no seat is held by two users (the winners' sets are disjoint)."""
    perf = make_performance(seats=8, price=1000)
    users = insert_users(db, 120)
    rng = random.Random(42)
    asks = [(u, rng.sample(perf.seat_ids, rng.randint(1, 3))) for u in users]
    admit_all(servers, users, perf.schedule_id)

    def take(i_ask):
        i, (user, seats) = i_ask
        body = {"performance_seat_ids": seats} if len(seats) > 1 or i % 2 else {"performance_seat_id": seats[0]}
        return user, seats, call(servers[i % 3].url, "PATCH", TAKE, token_for(user), body)

    results = run_parallel(take, list(enumerate(asks)), workers=120)
    tally = codes(r for _, _, r in results)
    assert all(status in (200, 409) for status, _ in tally), tally
    assert set(code for (_, code) in tally if code) <= {"SEAT_TAKEN", "SOLD_OUT"}, tally
    holders = dict(db.query("SELECT id::text, holder_id::text FROM performance_seats WHERE staging_date_id = %s",
                            (perf.schedule_id,)))
    won_seats = []
    for user, seats, (status, body) in results:
        if status == 200:
            returned = body["data"] if isinstance(body["data"], list) else [body["data"]]
            assert sorted(d["id"] for d in returned) == sorted(seats)
            assert all(holders[s] == user for s in seats), (user, seats, holders)
            won_seats += seats
        else:
            assert not any(holders[s] == user for s in seats), f"refused user {user} holds one of {seats}"
    assert len(won_seats) == len(set(won_seats)), "a seat was won twice"
    assert set(won_seats) == {s for s, h in holders.items() if h is not None}
    assert won_seats, "nobody won anything"
    assert_invariants(db)


def test_one_user_charges_and_pays_concurrently(servers, make_performance, db):
    """I2 + I3: 300 concurrent charges of random amounts by ONE user across 3 instances,
    mixed with payments of 4 held seats → no 5xx, every charge accepted (no lock-wait
    timeout answered as an error), the balance equals the starting balance plus accepted
    charges minus paid prices, equals the ledger sum, is ≥ 0, and each sold seat has one
    payment row of −price."""
    perf = make_performance(seats=6, price=25_000)
    (user,) = insert_users(db, 1, balance=40_000)
    token = token_for(user)
    held = perf.seat_ids[:4]
    admit_to_take(servers[0].url, token, perf.schedule_id)
    status, body = call(servers[0].url, "PATCH", TAKE, token, {"performance_seat_ids": held})
    assert status == 200, body
    rng = random.Random(7)
    jobs = [("charge", rng.randint(1, 9_999)) for _ in range(300)]
    jobs += [("pay", seat) for seat in held for _ in range(3)]  # each seat paid for 3 times at once
    rng.shuffle(jobs)

    def work(i_job):
        i, (kind, arg) = i_job
        base = servers[i % 3].url
        if kind == "charge":
            return kind, arg, call(base, "POST", "/payment/cash", token, {"amount": arg})
        # Pay, retrying while the charges have not yet brought enough money.
        deadline = time.monotonic() + 120
        while True:
            status, body = call(base, "POST", PAY, token, {"performance_seat_id": arg})
            if status == 409 and body["code"] == "INSUFFICIENT_BALANCE" and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            return kind, arg, (status, body)

    results = run_parallel(work, list(enumerate(jobs)), workers=100, timeout=300)
    charges = [(arg, r) for kind, arg, r in results if kind == "charge"]
    pays = [(arg, r) for kind, arg, r in results if kind == "pay"]
    assert codes(r for _, r in charges) == Counter({(201, None): 300}), codes(r for _, r in charges)
    pay_tally = codes(r for _, r in pays)
    assert set(pay_tally) <= {(201, None), (409, "SEAT_ALREADY_PAID")}, pay_tally
    paid = [arg for arg, (status, _) in pays if status == 201]
    assert sorted(paid) == sorted(held), "each held seat must be paid exactly once"
    expected = 40_000 + sum(arg for arg, _ in charges) - 25_000 * len(held)
    assert db.value("SELECT balance FROM users WHERE id = %s", (user,)) == expected
    assert db.value("SELECT count(*) FROM ledger_entries WHERE user_id = %s AND cause = 'CHARGED_BY_USER'",
                    (user,)) == 301
    assert db.query("SELECT reservation_status::text, count(*) FROM performance_seats WHERE id = ANY(%s::uuid[]) "
                    "GROUP BY 1", (held,)) == [("RESERVED", 4)]
    assert_invariants(db)


def test_concurrent_payments_with_a_tiny_pool_do_not_deadlock(servers, start_server, make_performance, db):
    """Pool deadlock guard (a failure seen in other implementations): 50 users each holding
    a seat pay at the same moment against an instance with DB_POOL_SIZE=2 → all 50 complete
    with 201 within a bounded time (a payment that held one pooled connection while waiting
    for a second would stall the pool); I2 and I3 hold afterwards."""
    s = start_server(DB_POOL_SIZE=2)
    perf = make_performance(seats=50, price=3000)
    users = insert_users(db, 50, balance=3000)
    admit_all(servers, users, perf.schedule_id)
    taken = run_parallel(lambda us: take_now(servers[0].url, us[0], {"performance_seat_id": us[1]}),
                         list(zip(users, perf.seat_ids)), workers=10)
    assert codes(taken) == Counter({(200, None): 50}), codes(taken)
    started = time.monotonic()
    results = run_parallel(lambda us: call(s.url, "POST", PAY, token_for(us[0]), {"performance_seat_id": us[1]}),
                           list(zip(users, perf.seat_ids)), workers=50, timeout=60)
    assert codes(results) == Counter({(201, None): 50}), codes(results)
    assert time.monotonic() - started < 60
    assert db.value("SELECT count(*) FROM performance_seats WHERE staging_date_id = %s "
                    "AND reservation_status = 'RESERVED'", (perf.schedule_id,)) == 50
    assert db.value("SELECT sum(balance) FROM users WHERE id = ANY(%s::uuid[])", (users,)) == 0
    assert_invariants(db)


def test_refused_calls_with_a_one_connection_pool_answer_their_own_error(servers, start_server,
                                                                        make_performance, db):
    """Pool guard for refusals: with DB_POOL_SIZE=1 a refused take (SEAT_TAKEN) or payment
    (SEAT_NOT_HELD) must still answer its 4xx — a request that explains its refusal on a
    second pooled connection while keeping the first would wait for itself and end in 503."""
    s = start_server(DB_POOL_SIZE=1, THREADS=1, DB_TIMEOUT_MS=2000)
    perf = make_performance(seats=3, price=1000)
    users = insert_users(db, 12, balance=10_000)
    a, b, others = users[0], users[1], users[2:]
    admit_all(servers, [a, b], perf.schedule_id)
    status, body = take_now(s.url, a, {"performance_seat_id": perf.seat_ids[0]})
    assert status == 200, body
    status, body = take_now(s.url, b, {"performance_seat_id": perf.seat_ids[0]})
    assert (status, body["code"]) == (409, "SEAT_TAKEN")
    status, body = call(s.url, "POST", PAY, token_for(b), {"performance_seat_id": perf.seat_ids[0]})
    assert (status, body["code"]) == (403, "SEAT_NOT_HELD")
    # And many at once: ten refused takes by ten users, ten refused payments.
    admit_all(servers, others, perf.schedule_id)
    jobs = [("take", u) for u in others] + [("pay", b)] * 10
    results = run_parallel(
        lambda job: take_now(s.url, job[1], {"performance_seat_id": perf.seat_ids[0]}) if job[0] == "take" else
        call(s.url, "POST", PAY, token_for(job[1]), {"performance_seat_id": perf.seat_ids[0]}),
        jobs, workers=20, timeout=120)
    assert codes(results) == Counter({(409, "SEAT_TAKEN"): 10, (403, "SEAT_NOT_HELD"): 10}), codes(results)
    assert_invariants(db)


def test_same_idempotency_key_concurrently_charges_once(servers, db):
    """Idempotency under concurrency: 40 simultaneous charges by one user with the same
    Idempotency-Key, over 3 instances → every answer is 201 with the same body, exactly one
    ledger row and one stored key exist, and the balance is the amount once (I2)."""
    (user,) = insert_users(db, 1)
    token = token_for(user)
    key = "dup-" + uuid.uuid4().hex
    results = run_parallel(
        lambda i: call(servers[i % 3].url, "POST", "/payment/cash", token, {"amount": 12_345},
                       headers={"Idempotency-Key": key}),
        range(40), workers=40)
    assert codes(results) == Counter({(201, None): 40}), codes(results)
    assert {str(body) for _, body in results} == {str({"result": "success", "balance": 12_345})}
    assert db.value("SELECT count(*) FROM ledger_entries WHERE user_id = %s", (user,)) == 1
    assert db.value("SELECT count(*) FROM idempotency_keys WHERE user_id = %s", (user,)) == 1
    assert db.value("SELECT balance FROM users WHERE id = %s", (user,)) == 12_345
    assert_invariants(db)


def test_same_idempotency_key_concurrent_payments_pay_once(servers, make_performance, db):
    """The same for payments: 30 simultaneous payments of one seat with one key → one
    payment row, one debit, every answer the same 201."""
    perf = make_performance(seats=2, price=8000)
    (user,) = insert_users(db, 1, balance=20_000)
    token = token_for(user)
    admit_to_take(servers[0].url, token, perf.schedule_id)
    status, body = call(servers[0].url, "PATCH", TAKE, token, {"performance_seat_id": perf.seat_ids[0]})
    assert status == 200, body
    results = run_parallel(
        lambda i: call(servers[i % 3].url, "POST", PAY, token, {"performance_seat_id": perf.seat_ids[0]},
                       headers={"Idempotency-Key": "pay-once"}),
        range(30), workers=30)
    assert codes(results) == Counter({(201, None): 30}), codes(results)
    assert db.value("SELECT balance FROM users WHERE id = %s", (user,)) == 12_000
    assert_invariants(db)


def test_one_user_cannot_exceed_the_seat_limit_concurrently(servers, make_performance, db):
    """MAX_SEATS_PER_USER (4) under concurrency: one user, admitted once per round, fires 24
    takes of different seats at once over 3 instances (singles and pairs). Whatever gets
    past the gate, the database never shows more than 4 live seats for the user, the seats
    it shows are exactly those answered 200, and after a few rounds the user has exactly 4.
    Refusals are SEAT_LIMIT_REACHED, or the gate's own refusal once the round's step-3
    token has been used up."""
    perf = make_performance(seats=30, price=1000)
    (user,) = insert_users(db, 1)
    token = token_for(user)
    singles = [[sid] for sid in perf.seat_ids[:16]]
    pairs = [perf.seat_ids[16 + 2 * i:18 + 2 * i] for i in range(4)]
    asks = singles + pairs
    allowed = {(200, None), (409, "SEAT_LIMIT_REACHED"), (409, "SEAT_TAKEN"), (400, "QUEUE_FLOW_VIOLATED"),
               (404, "QUEUE_TOKEN_NOT_FOUND"), (202, None)}
    won = []
    for _ in range(6):
        admit_to_take(servers[0].url, token, perf.schedule_id)

        def take(i_seats):
            i, seats = i_seats
            body = {"performance_seat_ids": seats} if len(seats) > 1 else {"performance_seat_id": seats[0]}
            return seats, call(servers[i % 3].url, "PATCH", TAKE, token, body)

        results = run_parallel(take, list(enumerate(asks)), workers=len(asks))
        tally = codes(r for _, r in results)
        assert set(tally) <= allowed, tally
        won += [s for seats, (status, _) in results if status == 200 for s in seats]
        held = [r[0] for r in db.query("SELECT id::text FROM performance_seats WHERE holder_id = %s", (user,))]
        assert sorted(won) == sorted(held)
        assert len(held) <= 4, f"{len(held)} seats held, limit 4"
        assert check_seat_limit(db, 4) == []
        if len(held) == 4:
            break
    assert len(won) == 4, f"the user ended with {len(won)} seats"
    assert check_i1(db) == []


def test_sold_out_race_across_instances(servers, make_performance, db):
    """I1 when the schedule runs out: 300 users race for 20 seats (15 per seat, one seat
    each) → exactly 20 winners, everyone else 409 SEAT_TAKEN or SOLD_OUT, and the database
    shows the 20 winners as 20 distinct holders."""
    perf = make_performance(seats=20, price=1000)
    users = insert_users(db, 300)
    admit_all(servers, users, perf.schedule_id)

    def take(i_user):
        i, user = i_user
        return user, call(servers[i % 3].url, "PATCH", TAKE, token_for(user),
                          {"performance_seat_id": perf.seat_ids[i % 20]})

    results = run_parallel(take, list(enumerate(users)), workers=150)
    tally = codes(r for _, r in results)
    assert set(tally) <= {(200, None), (409, "SEAT_TAKEN"), (409, "SOLD_OUT")}, tally
    winners = [u for u, (status, _) in results if status == 200]
    holders = [r[0] for r in db.query("SELECT holder_id::text FROM performance_seats WHERE staging_date_id = %s "
                                      "AND holder_id IS NOT NULL", (perf.schedule_id,))]
    assert len(winners) == 20, tally
    assert sorted(winners) == sorted(holders)
    assert len(set(holders)) == len(holders)
    assert_invariants(db)
