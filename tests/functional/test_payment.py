"""Points: balance, charging, history, paying for a held seat, idempotent retries
(docs/api-contract.md, Payments and Idempotent retries)."""

import re
import uuid

import pytest

from conftest import assert_error
from invariants import assert_invariants

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")


def snapshot(db, user_id):
    """Everything a refused call must leave untouched for this user."""
    return (
        db.value("SELECT balance FROM users WHERE id = %s", (user_id,)),
        db.query("SELECT id, amount, cause::text, performance_seat_id FROM ledger_entries WHERE user_id = %s "
                 "ORDER BY id", (user_id,)),
        db.query("SELECT route, key, status_code, response_body FROM idempotency_keys WHERE user_id = %s "
                 "ORDER BY route, key", (user_id,)),
        db.query("SELECT id, reservation_status::text, hold_expires_at, reserved_at FROM performance_seats "
                 "WHERE holder_id = %s ORDER BY id", (user_id,)),
    )


def test_balance_and_charge(quick_user, db):
    user = quick_user()
    r = user.balance()
    assert r.status_code == 200 and r.json() == {"balance": 0}
    r = user.charge(50_000)
    assert r.status_code == 201, r.text
    assert r.json() == {"result": "success", "balance": 50_000}
    r = user.charge(1)
    assert r.json() == {"result": "success", "balance": 50_001}
    assert user.balance().json() == {"balance": 50_001}
    assert db.value("SELECT balance FROM users WHERE id = %s", (user.user_id,)) == 50_001
    assert db.query("SELECT amount, cause::text FROM ledger_entries WHERE user_id = %s ORDER BY id",
                    (user.user_id,)) == [(50_000, "CHARGED_BY_USER"), (1, "CHARGED_BY_USER")]
    assert_invariants(db)


@pytest.mark.parametrize("body", [
    {},
    {"amount": None},
    {"amount": 0},
    {"amount": -1},
    {"amount": -5000},
    {"amount": 5000.5},
    {"amount": 0.1},
    {"amount": "5000"},
    {"amount": True},
    {"amount": [5000]},
    {"amount": 10_000_001},
    {"amount": 1e300},
    {"amount": 2 ** 63},
    {"amount": -(2 ** 63)},
    {"amount": 99999999999999999999999999},
])
def test_charge_bad_amount_changes_nothing(quick_user, db, body):
    user = quick_user(balance=1000)
    before = snapshot(db, user.user_id)
    assert_error(user.post("/payment/cash", body), 400, "BAD_REQUEST")
    assert_error(user.post("/payment/cash", body, headers={"Idempotency-Key": "k1"}), 400, "BAD_REQUEST")
    assert snapshot(db, user.user_id) == before


def test_balance_limit_reached(quick_user, db):
    user = quick_user()
    for _ in range(100):
        assert user.charge(10_000_000).status_code == 201
    assert user.balance().json() == {"balance": 1_000_000_000}
    before = snapshot(db, user.user_id)
    assert_error(user.charge(1), 409, "BALANCE_LIMIT_REACHED")
    assert snapshot(db, user.user_id) == before
    assert_invariants(db)


def test_pay_happy_path_and_history(quick_user, make_performance, db):
    perf = make_performance(seats=3, price=30_000)
    user = quick_user()
    assert user.history().json() == []
    assert user.charge(100_000).status_code == 201
    assert user.take(perf.seat_ids[0]).status_code == 200
    r = user.pay(perf.seat_ids[0])
    assert r.status_code == 201, r.text
    assert r.json() == {"result": "success", "performance_seat_id": perf.seat_ids[0]}
    assert user.balance().json() == {"balance": 70_000}
    status, holder, expires, reserved = db.query(
        "SELECT reservation_status::text, holder_id::text, hold_expires_at, reserved_at FROM performance_seats "
        "WHERE id = %s", (perf.seat_ids[0],))[0]
    assert (status, holder, expires) == ("RESERVED", user.user_id, None) and reserved is not None
    # Seat lists show it sold.
    seats = {s["id"]: s["reservation_status"] for s in user.seats(perf.schedule_id).json()}
    assert seats[perf.seat_ids[0]] == "RESERVED"

    assert user.charge(5).status_code == 201
    r = user.history()
    assert r.status_code == 200
    history = r.json()
    assert [(h["amount"], h["cause"], h["performance_seat_id"]) for h in history] == [
        (100_000, "CHARGED_BY_USER", None),
        (-30_000, "PAYMENT_PERFORMANCE_SEAT", perf.seat_ids[0]),
        (5, "CHARGED_BY_USER", None),
    ]
    for h in history:
        assert set(h) == {"date_created", "amount", "cause", "performance_seat_id"}
        assert ISO.match(h["date_created"]), h
    dates = [h["date_created"] for h in history]
    assert dates == sorted(dates)
    assert_invariants(db)


def test_pay_upper_case_seat_id(quick_user, make_performance):
    perf = make_performance(seats=1, price=100)
    user = quick_user(balance=100)
    assert user.take(perf.seat_ids[0]).status_code == 200
    r = user.pay(perf.seat_ids[0].upper())
    assert r.status_code == 201, r.text
    assert r.json()["performance_seat_id"] == perf.seat_ids[0]


def test_insufficient_balance_changes_nothing(quick_user, make_performance, db):
    perf = make_performance(seats=2, price=30_000)
    user = quick_user(balance=29_999)
    assert user.take(perf.seat_ids[0]).status_code == 200
    before = snapshot(db, user.user_id)
    assert_error(user.pay(perf.seat_ids[0]), 409, "INSUFFICIENT_BALANCE")
    assert_error(user.pay(perf.seat_ids[0], key="pay-1"), 409, "INSUFFICIENT_BALANCE")
    assert snapshot(db, user.user_id) == before
    # The refusal stored nothing under its key: after a charge, the same key pays.
    assert user.charge(1).status_code == 201
    r = user.pay(perf.seat_ids[0], key="pay-1")
    assert r.status_code == 201, r.text
    assert user.balance().json() == {"balance": 0}
    assert_invariants(db)


def test_seat_already_paid(quick_user, make_performance, db):
    perf = make_performance(seats=2, price=1000)
    user = quick_user(balance=5000)
    assert user.take(perf.seat_ids[0]).status_code == 200
    assert user.pay(perf.seat_ids[0]).status_code == 201
    before = snapshot(db, user.user_id)
    assert_error(user.pay(perf.seat_ids[0]), 409, "SEAT_ALREADY_PAID")
    assert_error(user.pay(perf.seat_ids[0], key="other-key"), 409, "SEAT_ALREADY_PAID")
    assert snapshot(db, user.user_id) == before
    assert_invariants(db)


def test_seat_not_held(quick_user, make_performance, db):
    perf = make_performance(seats=3, price=1000)
    a, b = quick_user(balance=5000), quick_user(balance=5000)
    assert a.take(perf.seat_ids[0]).status_code == 200
    before_b = snapshot(db, b.user_id)
    before_a = snapshot(db, a.user_id)
    # Held by someone else.
    assert_error(b.pay(perf.seat_ids[0]), 403, "SEAT_NOT_HELD")
    # Held by nobody.
    assert_error(b.pay(perf.seat_ids[1]), 403, "SEAT_NOT_HELD")
    # Bought by someone else.
    assert a.pay(perf.seat_ids[0]).status_code == 201
    assert_error(b.pay(perf.seat_ids[0]), 403, "SEAT_NOT_HELD")
    assert snapshot(db, b.user_id) == before_b
    assert snapshot(db, a.user_id)[0] == before_a[0] - 1000
    assert_invariants(db)


def test_pay_unknown_or_malformed_seat(quick_user, db):
    user = quick_user(balance=5000)
    before = snapshot(db, user.user_id)
    assert_error(user.pay(str(uuid.uuid4())), 404, "SEAT_NOT_FOUND")
    for body in ({}, {"performance_seat_id": "abc"}, {"performance_seat_id": 5}, {"performance_seat_id": None},
                 {"performance_seat_id": ["x"]}):
        assert_error(user.post("/payment/payment_performance_seat", body), 400, "BAD_REQUEST")
    assert snapshot(db, user.user_id) == before


def test_payment_amount_comes_from_the_seat_not_the_client(quick_user, make_performance, db):
    """A failure seen in other implementations: a payment amount taken from the client (a
    negative one raised the balance). The price is the seat's, whatever the body says."""
    perf = make_performance(seats=1, price=4000)
    user = quick_user(balance=10_000)
    assert user.take(perf.seat_ids[0]).status_code == 200
    r = user.post("/payment/payment_performance_seat",
                  {"performance_seat_id": perf.seat_ids[0], "amount": -1_000_000, "price": 1})
    assert r.status_code == 201, r.text
    assert user.balance().json() == {"balance": 6000}
    assert_invariants(db)


def test_charge_idempotency(quick_user, db):
    user = quick_user()
    first = user.charge(7000, key="charge-abc")
    assert first.status_code == 201, first.text
    assert first.json() == {"result": "success", "balance": 7000}
    before = snapshot(db, user.user_id)
    # Same key, same body (written differently): the identical answer, and nothing changes.
    again = user.request("POST", "/payment/cash", raw='{ "amount" : 7000.0 }',
                         headers={"Content-Type": "application/json", "Idempotency-Key": "charge-abc"})
    assert again.status_code == 201
    assert again.json() == first.json()
    assert user.charge(7000, key="charge-abc").json() == first.json()
    assert snapshot(db, user.user_id) == before
    # Same key, another body: 422, nothing changes.
    assert_error(user.charge(8000, key="charge-abc"), 422, "IDEMPOTENCY_KEY_REUSED")
    assert snapshot(db, user.user_id) == before
    # A new key is a new charge; the replay still answers the old balance.
    assert user.charge(7000, key="charge-def").json() == {"result": "success", "balance": 14000}
    assert user.charge(7000, key="charge-abc").json() == {"result": "success", "balance": 7000}
    # Keys are scoped to the user: another user's same key is their own charge.
    other = quick_user()
    assert other.charge(7000, key="charge-abc").json() == {"result": "success", "balance": 7000}
    assert db.value("SELECT count(*) FROM ledger_entries WHERE user_id = %s", (user.user_id,)) == 2
    assert_invariants(db)


def test_pay_idempotency(quick_user, make_performance, db):
    perf = make_performance(seats=3, price=1000)
    user = quick_user(balance=10_000)
    assert user.take_many(perf.seat_ids[:2]).status_code == 200
    first = user.pay(perf.seat_ids[0], key="pay-xyz")
    assert first.status_code == 201, first.text
    before = snapshot(db, user.user_id)
    again = user.pay(perf.seat_ids[0], key="pay-xyz")
    assert (again.status_code, again.json()) == (201, first.json())
    assert snapshot(db, user.user_id) == before
    assert_error(user.pay(perf.seat_ids[1], key="pay-xyz"), 422, "IDEMPOTENCY_KEY_REUSED")
    assert snapshot(db, user.user_id) == before
    # Keys are scoped to the route: the same key on a charge is a separate call.
    assert user.charge(500, key="pay-xyz").status_code == 201
    assert_invariants(db)


@pytest.mark.parametrize("key", ["", "a" * 256, "has space", "tab\there"])
def test_bad_idempotency_key(quick_user, db, key):
    user = quick_user()
    r = user.request("POST", "/payment/cash", {"amount": 1000}, headers={"Idempotency-Key": key})
    assert_error(r, 400, "BAD_REQUEST")
    assert db.value("SELECT balance FROM users WHERE id = %s", (user.user_id,)) == 0


def test_paying_the_last_seats_at_once_on_two_instances_tells_the_line_sold_out(servers, quick_user, make_performance,
                                                                                 admin):
    """The last two seats paid at the same moment on two instances: each payment's statement
    sees the other seat unsold, yet the schedule's waiting line must be told SOLD_OUT
    (docs/waiting-queue.md, Sold out). Several tries, for the payments to overlap."""
    import threading
    import time

    from conftest import gate_path, queue_headers

    for attempt in range(4):
        perf = make_performance(seats=2, price=1000)
        a, b, waiting = (quick_user(servers[i % len(servers)], balance=5000) for i in range(3))
        for fan, seat in ((a, perf.seat_ids[0]), (b, perf.seat_ids[1])):
            r = fan.take(seat, perf.schedule_id)
            assert r.status_code == 200, r.text
        # A fan in the schedule's line behind a paused gate, when the last seats go.
        assert admin.request("PUT", gate_path(f"performance_seats:{perf.schedule_id}"), {"rate": 0}).status_code == 200
        assert waiting.gated("GET", "/reservation/performances").status_code == 200
        r = waiting.get(f"/reservation/performance_seats/{perf.schedule_id}")
        assert r.status_code == 202, r.text
        token = r.json()["queue_data"]["id"]

        start = threading.Barrier(2)
        answers = {}

        def pay(fan, seat):
            start.wait()
            answers[seat] = fan.pay(seat).status_code

        threads = [threading.Thread(target=pay, args=(fan, seat))
                   for fan, seat in ((a, perf.seat_ids[0]), (b, perf.seat_ids[1]))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(answers.values()) == [201, 201], answers

        deadline = time.monotonic() + 5
        while waiting.get("/queue/queue", headers=queue_headers(token)).json()["status"] != "SOLD_OUT":
            assert time.monotonic() < deadline, f"try {attempt}: the line was not told the schedule sold out"
            time.sleep(0.05)
        assert_error(waiting.get(f"/reservation/performance_seats/{perf.schedule_id}"), 409, "SOLD_OUT")
