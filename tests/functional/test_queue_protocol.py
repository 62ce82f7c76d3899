"""The waiting queue as a fan and an operator meet it (docs/api-contract.md: token info and
the 202 answer, the booking flow rule by rule, the admin gates), black-box over HTTP with
Redis read back directly.

These tests run against instances of their own whose gates are observable (capacity 3,
20 admissions per second, 20 ms ticks, tokens valid 4 s) on a Redis database of their own
(db 5), so the session's wide-open instances never mix into their gates. The database is
flushed before each test, so every test starts with empty lines and default settings."""

import time
import uuid

import pytest
import requests

import queue_keys
from conftest import (Admin, Client, Redis, SSE, Server, assert_error, gate_path, insert_users, scratch_redis, server_group,
                      open_stream, queue_headers, redis_url_with_db, token_for)

QUEUE_DB = 5
RETRY_DB = 6
CAPACITY = 3
RATE = 20
TTL = 4
HANG = 20  # generous guard for anything that should happen within a few ticks

TOKEN_INFO_KEYS = {"id", "requested_endpoint", "gate", "status", "issued_timestamp", "active_timestamp",
                   "expire_timestamp", "rank", "estimated_wait_seconds"}
WAITING_KEYS = {"id", "status", "issued_timestamp", "rank", "estimated_wait_seconds"}
STEP1 = "/reservation/performances"


# ---------------------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def qredis():
    with scratch_redis(QUEUE_DB) as r:
        yield r


@pytest.fixture(scope="module")
def qservers(db, logdir, qredis):
    """Two instances sharing the queue's Redis database: a token got from one is honoured by
    the other (nothing about the queue lives in one process)."""
    with server_group(db.url, logdir, "queue", 2, REDIS_URL=redis_url_with_db(QUEUE_DB),
                      GATE_DEFAULT_CAPACITY=CAPACITY, GATE_DEFAULT_RATE=RATE, QUEUE_TICK_MS=20,
                      QUEUE_TOKEN_TTL_SECONDS=TTL) as started:
        yield started


@pytest.fixture(autouse=True)
def fresh_queue(qredis, qservers):
    qredis("FLUSHDB")
    yield


@pytest.fixture
def qadmin(qservers):
    return Admin(qservers[0].url)


@pytest.fixture
def fan(qservers, db):
    """fan(i): a user inserted into the database, talking to queue instance i (mod 2)."""
    count = [0]

    def make(i=None, balance=0):
        (user_id,) = insert_users(db, 1, balance)
        s = qservers[(count[0] if i is None else i) % len(qservers)]
        count[0] += 1
        c = Client(s.url)
        c.user_id = user_id
        c.token = token_for(user_id)
        return c

    return make


def qh(token_id):
    return queue_headers(token_id) if token_id else None


def step1(c, qt=None):
    return c.get(STEP1, headers=qh(qt))


def step2(c, schedule_id, qt=None):
    return c.get(f"/reservation/performance_seats/{schedule_id}", headers=qh(qt))


def step3(c, seat_id, qt=None):
    return c.patch("/reservation/take_performance_seat", {"performance_seat_id": seat_id}, headers=qh(qt))


def info(c, qt):
    return c.get("/queue/queue", headers=qh(qt))


def leave(c, qt):
    return c.request("DELETE", "/queue/queue", headers=qh(qt))


def enter(c, endpoint):
    return c.post("/queue/queue", {"request_endpoint": endpoint})


def assert_token_id(token_id):
    """"<tag>.<uuid>": the gate's tag (performances, or the schedule) and a random UUID."""
    tag, _, rest = token_id.rpartition(".")
    uuid.UUID(rest)
    if tag != "performances":
        uuid.UUID(tag)


def waiting(r):
    """The documented 202 answer of a gated call; returns its queue_data."""
    assert r.status_code == 202, f"expected 202, got {r.status_code}: {r.text}"
    body = r.json()
    assert set(body) == {"message", "queue_data", "statusCode"}, body
    assert body["message"] == "Please wait for your order to arrive.", body
    assert body["statusCode"] == 202, body
    qd = body["queue_data"]
    assert set(qd) == WAITING_KEYS and qd["status"] == "WAITING", qd
    assert_token_id(qd["id"])
    assert isinstance(qd["issued_timestamp"], int) and qd["issued_timestamp"] > 1_600_000_000_000, qd
    assert isinstance(qd["rank"], int) and qd["rank"] >= 1, qd
    assert isinstance(qd["estimated_wait_seconds"], int) and qd["estimated_wait_seconds"] >= 0, qd
    ra = r.headers.get("Retry-After")
    assert ra is not None and ra.isdigit() and int(ra) >= 1, f"Retry-After {ra!r}"
    qd["retry_after"] = int(ra)
    return qd


def token_info(r, status=200):
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text}"
    body = r.json()
    assert set(body) == TOKEN_INFO_KEYS, body
    return body


def poll(fn, done, what, timeout=HANG, pause=0.02):
    """Calls fn() until done(result); fails after `timeout` seconds (a hang guard only)."""
    deadline = time.monotonic() + timeout
    while True:
        result = fn()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout}s; last: {getattr(result, 'text', result)}")
        time.sleep(pause)


def until_served(call, what):
    """Repeats a gated call while it answers 202; returns the first other answer."""
    return poll(call, lambda r: r.status_code != 202, f"not served: {what}")


def until_active(c, qt):
    r = poll(lambda: info(c, qt), lambda r: r.status_code != 200 or r.json()["status"] != "WAITING",
             f"token {qt} not admitted")
    body = token_info(r)
    assert body["status"] == "ACTIVE", body
    return body


def set_gate(admin, gate, **settings):
    r = admin.request("PUT", gate_path(gate), settings)
    assert r.status_code == 200, r.text
    return r.json()


def read_gate(admin, gate):
    r = admin.get(gate_path(gate))
    assert r.status_code == 200, r.text
    return r.json()


def walk_to_step2_token(c, schedule_id):
    """Step 1 served, then the hand-over to step 2: returns the step-2 token id (waiting)."""
    qt = waiting(step1(c))["id"]
    assert until_served(lambda: step1(c, qt), "step 1").status_code == 200
    return waiting(step2(c, schedule_id, qt))["id"]


def walk_to_active_step3(c, schedule_id):
    """Steps 1 and 2 served; returns the id of an ACTIVE step-3 token for the schedule."""
    qt2 = walk_to_step2_token(c, schedule_id)
    r = until_served(lambda: step2(c, schedule_id, qt2), "step 2")
    assert r.status_code == 200, r.text
    # Step 3's hand-over needs no seat yet: an empty body still passes the gate first.
    qt3 = waiting(c.patch("/reservation/take_performance_seat", {}, headers=qh(qt2)))["id"]
    until_active(c, qt3)
    return qt3


def seat_row(db, seat_id):
    return db.query("SELECT reservation_status::text, holder_id::text FROM performance_seats WHERE id = %s",
                    (seat_id,))[0]


# ---------------------------------------------------------------------------------------
# Step 1, token info, POST / GET / DELETE /queue/queue
# ---------------------------------------------------------------------------------------


def test_step1_without_token_waits_then_is_served(fan, qservers, qredis):
    """No token on step 1 → a token is issued and the call answers the documented 202 with a
    Retry-After hint; polling with Queue-Token: Bearer <id> ends in 200 (the list)."""
    c = fan(0)
    before = qredis.time_ms()
    qd = waiting(step1(c))
    assert qd["rank"] == 1, qd  # an empty line
    assert before - 1000 <= qd["issued_timestamp"] <= qredis.time_ms() + 1000, (before, qd)
    stored = qredis.hgetall(queue_keys.token(qd['id']))
    assert stored["user"] == c.user_id and stored["gate"] == "performances", stored
    assert queue_keys.held_by(qredis, c.user_id) == qd["id"]
    # The other instance honours the same token.
    other = c.with_base(qservers[1].url)
    r = until_served(lambda: step1(other, qd["id"]), "step 1")
    assert r.status_code == 200, r.text
    assert isinstance(r.json(), list)
    body = token_info(info(c, qd["id"]))
    assert body["status"] == "ACTIVE" and body["rank"] == 0 and body["id"] == qd["id"], body


def test_a_fan_in_line_without_queue_token_gets_the_token_held(fan, qadmin):
    set_gate(qadmin, "performances", rate=0)  # nobody is admitted: the state stays put
    c = fan()
    first = waiting(step1(c))
    again = waiting(step1(c))
    assert again["id"] == first["id"] and again["rank"] == first["rank"] == 1, (first, again)
    shown = waiting(step1(c, first["id"]))
    assert shown["id"] == first["id"]
    # POST /queue/queue for the same step answers the same token too.
    body = token_info(enter(c, STEP1), 201)
    assert body["id"] == first["id"]


def test_post_queue_issues_token_info(fan, qadmin):
    set_gate(qadmin, "performances", rate=0)
    c = fan()
    body = token_info(enter(c, STEP1), 201)
    assert_token_id(body["id"])
    assert body["requested_endpoint"] == STEP1 and body["gate"] == "performances", body
    assert body["status"] == "WAITING" and body["rank"] == 1, body
    assert isinstance(body["issued_timestamp"], int), body
    assert body["active_timestamp"] is None and body["expire_timestamp"] is None, body
    assert isinstance(body["estimated_wait_seconds"], int) and body["estimated_wait_seconds"] >= 1, body
    again = token_info(enter(c, STEP1), 201)
    assert again["id"] == body["id"], "a second POST for the same step must not issue a second token"
    # The seed's misspelt path names the same step.
    assert token_info(enter(c, "/reservation/performaces"), 201)["id"] == body["id"]
    # Admitted: rank 0, active and expiry times (valid TTL seconds from activation).
    set_gate(qadmin, "performances", rate=RATE)
    active = until_active(c, body["id"])
    assert active["rank"] == 0 and active["estimated_wait_seconds"] == 0, active
    assert active["expire_timestamp"] - active["active_timestamp"] == TTL * 1000, active
    assert active["issued_timestamp"] == body["issued_timestamp"], active


@pytest.mark.parametrize("body", [
    {"request_endpoint": "/reservation/nothing"},
    {"request_endpoint": "/payment/cash"},
    {"request_endpoint": "/reservation/performance_seats/not-a-uuid"},
    {"request_endpoint": ""},
    {"request_endpoint": 42},
    {},
])
def test_post_queue_bad_endpoint(fan, body, qredis):
    c = fan()
    assert_error(c.post("/queue/queue", body), 400, "BAD_REQUEST")
    assert queue_keys.held_by(qredis, c.user_id) is None, "a refused POST must not issue a token"


def test_post_queue_for_a_later_step_without_a_token_is_a_flow_violation(fan, make_performance):
    perf = make_performance(seats=1)
    c = fan()
    assert_error(enter(c, f"/reservation/performance_seats/{perf.schedule_id}"), 400, "QUEUE_FLOW_VIOLATED")
    assert_error(enter(c, "/reservation/take_performance_seat"), 400, "QUEUE_FLOW_VIOLATED")


def test_post_queue_while_holding_another_steps_token(fan, make_performance):
    perf = make_performance(seats=1)
    c = fan()
    qt2 = walk_to_step2_token(c, perf.schedule_id)
    assert_error(enter(c, STEP1), 409, "QUEUE_TOKEN_EXISTS")
    # The same step as the token held: that token.
    body = token_info(enter(c, f"/reservation/performance_seats/{perf.schedule_id}"), 201)
    assert body["id"] == qt2 and body["gate"] == f"performance_seats:{perf.schedule_id}", body
    # Another schedule's step 2 is another step too.
    other = make_performance(seats=1)
    assert_error(enter(c, f"/reservation/performance_seats/{other.schedule_id}"), 409, "QUEUE_TOKEN_EXISTS")
    assert token_info(info(c, qt2))["id"] == qt2, "the refused POST must leave the token held alone"


def test_ranks_are_one_based_in_arrival_order(fan, qadmin, qredis):
    set_gate(qadmin, "performances", rate=0)
    fans = [fan() for _ in range(4)]
    ids = [waiting(step1(c))["id"] for c in fans]
    for n, (c, qt) in enumerate(zip(fans, ids), start=1):
        body = token_info(info(c, qt))
        assert body["rank"] == n and body["status"] == "WAITING", body
    seqs = [int(qredis.hgetall(queue_keys.token(qt))["seq"]) for qt in ids]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4, seqs
    # Reopened: capacity 3 admits the first three in arrival order, the fourth waits, first in line.
    set_gate(qadmin, "performances", rate=RATE)
    for c, qt in zip(fans[:3], ids[:3]):
        until_active(c, qt)
    body = token_info(info(fans[3], ids[3]))
    assert body["status"] == "WAITING" and body["rank"] == 1, body
    assert qredis("ZCARD", "tp:gate:{performances}:active") == CAPACITY


def test_queue_token_errors(fan):
    c = fan()
    assert_error(c.get("/queue/queue"), 400, "QUEUE_TOKEN_MISSING")
    assert_error(c.request("DELETE", "/queue/queue"), 400, "QUEUE_TOKEN_MISSING")
    assert_error(info(c, str(uuid.uuid4())), 404, "QUEUE_TOKEN_NOT_FOUND")
    assert_error(leave(c, str(uuid.uuid4())), 404, "QUEUE_TOKEN_NOT_FOUND")
    assert_error(info(c, "x" * 200), 404, "QUEUE_TOKEN_NOT_FOUND")
    assert_error(step1(c, str(uuid.uuid4())), 404, "QUEUE_TOKEN_NOT_FOUND")
    # The queue's calls need the fan's access token like every other call.
    assert_error(Client(c.base_url).get("/queue/queue", headers=queue_headers(str(uuid.uuid4()))), 401)


def test_another_users_token_is_refused(fan, qadmin, qredis):
    set_gate(qadmin, "performances", rate=0)
    owner, thief = fan(0), fan(1)
    qt = waiting(step1(owner))["id"]
    assert_error(info(thief, qt), 403, "QUEUE_TOKEN_NOT_YOURS")
    assert_error(leave(thief, qt), 403, "QUEUE_TOKEN_NOT_YOURS")
    assert_error(step1(thief, qt), 403, "QUEUE_TOKEN_NOT_YOURS")
    assert queue_keys.held_by(qredis, thief.user_id) is None, "the thief must not have got a token"
    body = token_info(info(owner, qt))
    assert body["status"] == "WAITING" and body["rank"] == 1, body
    # Admitted, it is still only the owner's.
    set_gate(qadmin, "performances", rate=RATE)
    until_active(owner, qt)
    assert_error(step1(thief, qt), 403, "QUEUE_TOKEN_NOT_YOURS")
    assert_error(info(thief, qt), 403, "QUEUE_TOKEN_NOT_YOURS")
    assert step1(owner, qt).status_code == 200


def test_delete_leaves_the_line_at_once(fan, qadmin, qredis):
    set_gate(qadmin, "performances", rate=0)
    a, b, c = fan(), fan(), fan()
    ta, tb, tc = (waiting(step1(x))["id"] for x in (a, b, c))
    r = leave(a, ta)
    assert r.status_code == 200 and r.json() == {"result": "success"}, r.text
    # No tick needed: the next fans' ranks drop with the answer.
    assert token_info(info(b, tb))["rank"] == 1
    assert token_info(info(c, tc))["rank"] == 2
    assert_error(info(a, ta), 404, "QUEUE_TOKEN_NOT_FOUND")
    assert_error(leave(a, ta), 404, "QUEUE_TOKEN_NOT_FOUND")
    assert qredis("ZSCORE", "tp:gate:{performances}:waiting", ta) is None
    assert queue_keys.held_by(qredis, a.user_id) is None
    # Having left, a fan may come back: at the back of the line, with a new token.
    back = waiting(step1(a))
    assert back["id"] != ta and back["rank"] == 3, back


def test_delete_of_an_admitted_token_frees_its_place(fan, qredis):
    fans = [fan() for _ in range(CAPACITY + 1)]
    ids = []
    for x in fans:
        ids.append(waiting(step1(x))["id"])
    for x, qt in zip(fans[:CAPACITY], ids[:CAPACITY]):
        until_active(x, qt)
    last = token_info(info(fans[-1], ids[-1]))
    assert last["status"] == "WAITING" and last["rank"] == 1, "capacity 3 must keep the fourth fan waiting"
    assert leave(fans[0], ids[0]).json() == {"result": "success"}
    assert qredis("ZSCORE", "tp:gate:{performances}:active", ids[0]) is None, "DELETE must free the place at once"
    until_active(fans[-1], ids[-1])
    assert qredis("ZCARD", "tp:gate:{performances}:active") == CAPACITY


# ---------------------------------------------------------------------------------------
# Steps 2 and 3: hand-overs, flow violations
# ---------------------------------------------------------------------------------------


def test_step2_needs_an_active_step1_token(fan, qadmin, make_performance, db):
    perf = make_performance(seats=2)
    c = fan()
    assert_error(step2(c, perf.schedule_id), 400, "QUEUE_FLOW_VIOLATED")
    set_gate(qadmin, "performances", rate=0)
    qt = waiting(step1(c))["id"]
    # A step-1 token still waiting is not a pass to step 2, with or without the header.
    assert_error(step2(c, perf.schedule_id, qt), 400, "QUEUE_FLOW_VIOLATED")
    assert_error(step2(c, perf.schedule_id), 400, "QUEUE_FLOW_VIOLATED")
    assert token_info(info(c, qt))["status"] == "WAITING", "the refused call must leave the token alone"
    # Step 3 without any step-2 token is a violation too.
    assert_error(step3(c, perf.seat_ids[0], qt), 400, "QUEUE_FLOW_VIOLATED")
    assert seat_row(db, perf.seat_ids[0])[0] == "AVAILABLE"


def test_the_full_flow_hands_tokens_over(fan, qservers, make_performance, db, qredis):
    """Step 1 → step 2 → step 3, each behind its own gate, each hand-over consuming the
    previous step's token and issuing a new one; the step-3 token is consumed by the take.
    Every call goes to the other instance than the one before."""
    perf = make_performance(seats=3)
    c0 = fan(0)
    c1 = c0.with_base(qservers[1].url)
    t1 = waiting(step1(c0))["id"]
    assert until_served(lambda: step1(c1, t1), "step 1").status_code == 200
    # Step 2 with the active step-1 token: a new token, the old one consumed.
    r = step2(c0, perf.schedule_id, t1)
    t2 = waiting(r)["id"]
    assert t2 != t1
    assert_error(info(c1, t1), 404, "QUEUE_TOKEN_NOT_FOUND")
    assert qredis("HGET", queue_keys.token(t1), "status") == "HANDED"  # consumed
    body = token_info(info(c1, t2))
    assert body["gate"] == f"performance_seats:{perf.schedule_id}", body
    assert body["requested_endpoint"] == f"/reservation/performance_seats/{perf.schedule_id}", body
    r = until_served(lambda: step2(c1, perf.schedule_id, t2), "step 2")
    assert r.status_code == 200, r.text
    assert {s["id"] for s in r.json()} == set(perf.seat_ids)
    # Step 3 with the active step-2 token: again a new token.
    t3 = waiting(step3(c0, perf.seat_ids[0], t2))["id"]
    assert t3 not in (t1, t2)
    assert_error(info(c0, t2), 404, "QUEUE_TOKEN_NOT_FOUND")
    body = token_info(info(c0, t3))
    assert body["gate"] == f"take_performance_seat:{perf.schedule_id}", body
    assert seat_row(db, perf.seat_ids[0]) == ("AVAILABLE", None), "a 202 must not take the seat"
    r = until_served(lambda: step3(c1, perf.seat_ids[0], t3), "step 3")
    assert r.status_code == 200, r.text
    assert r.json()["data"]["reservation_status"] == "TEMPORARY_RESERVED"
    assert seat_row(db, perf.seat_ids[0]) == ("TEMPORARY_RESERVED", c0.user_id)
    # The take consumed the step-3 token and freed its place.
    assert_error(info(c0, t3), 404, "QUEUE_TOKEN_NOT_FOUND")
    assert qredis("ZSCORE", queue_keys.gate(f"take_performance_seat:{perf.schedule_id}", "active"), t3) is None
    assert queue_keys.held_by(qredis, c0.user_id) is None
    # A second take needs the whole walk again.
    assert_error(step3(c0, perf.seat_ids[1], t3), 404, "QUEUE_TOKEN_NOT_FOUND")
    assert_error(step3(c0, perf.seat_ids[1]), 400, "QUEUE_FLOW_VIOLATED")


def test_step2_for_an_unknown_schedule_keeps_the_step1_token(fan):
    c = fan()
    t1 = waiting(step1(c))["id"]
    assert until_served(lambda: step1(c, t1), "step 1").status_code == 200
    assert_error(step2(c, str(uuid.uuid4()), t1), 404, "SCHEDULE_NOT_FOUND")
    assert_error(step2(c, "not-a-uuid", t1), 400)
    # Step 3 straight from step 1 skips a step.
    assert_error(c.patch("/reservation/take_performance_seat", {}, headers=qh(t1)), 400, "QUEUE_FLOW_VIOLATED")
    body = token_info(info(c, t1))
    assert body["status"] == "ACTIVE" and body["gate"] == "performances", body


def test_step3_with_a_seat_of_another_schedule(fan, make_performance, db):
    perf = make_performance(schedules=2, seats=1)
    mine, other = perf.schedules[0], perf.schedules[1]
    c = fan()
    t3 = walk_to_active_step3(c, mine["id"])
    assert_error(step3(c, other["seat_ids"][0], t3), 400, "QUEUE_FLOW_VIOLATED")
    assert seat_row(db, other["seat_ids"][0]) == ("AVAILABLE", None)
    # The refusal cost nothing: the seat of the token's own schedule can still be taken.
    body = token_info(info(c, t3))
    assert body["status"] == "ACTIVE", body
    r = step3(c, mine["seat_ids"][0], t3)
    assert r.status_code == 200, r.text


def test_a_refused_take_keeps_the_step3_token(fan, make_performance, db):
    perf = make_performance(seats=2)
    first = fan()
    r = first.take(perf.seat_ids[0], perf.schedule_id)  # walks the queue with the token held
    assert r.status_code == 200, r.text
    c = fan()
    t3 = walk_to_active_step3(c, perf.schedule_id)
    assert_error(step3(c, perf.seat_ids[0], t3), 409, "SEAT_TAKEN")
    assert_error(step3(c, str(uuid.uuid4()), t3), 404, "SEAT_NOT_FOUND")
    body = token_info(info(c, t3))
    assert body["status"] == "ACTIVE" and body["id"] == t3, "a refused take must not consume the token"
    r = step3(c, perf.seat_ids[1], t3)
    assert r.status_code == 200, r.text
    assert seat_row(db, perf.seat_ids[1]) == ("TEMPORARY_RESERVED", c.user_id)
    assert_error(info(c, t3), 404, "QUEUE_TOKEN_NOT_FOUND")


def test_going_back_to_step1_starts_over_at_the_back(fan, qadmin, make_performance, qredis):
    perf = make_performance(seats=1)
    c = fan()
    t2 = walk_to_step2_token(c, perf.schedule_id)
    set_gate(qadmin, "performances", rate=0)
    others = [fan() for _ in range(2)]
    for x in others:
        waiting(step1(x))
    qd = waiting(step1(c))
    assert qd["id"] != t2 and qd["rank"] == 3, qd
    assert_error(info(c, t2), 404, "QUEUE_TOKEN_NOT_FOUND")
    assert qredis("ZSCORE", queue_keys.gate(f"performance_seats:{perf.schedule_id}", "waiting"), t2) is None
    assert qredis("ZSCORE", queue_keys.gate(f"performance_seats:{perf.schedule_id}", "active"), t2) is None
    assert queue_keys.held_by(qredis, c.user_id) == qd["id"], "one token per user"
    # With the old token shown, the same: it is gone.
    assert_error(step2(c, perf.schedule_id, t2), 404, "QUEUE_TOKEN_NOT_FOUND")


# ---------------------------------------------------------------------------------------
# Expiry, payment, sold out
# ---------------------------------------------------------------------------------------


def test_expired_tokens_free_their_places_and_are_requeued_only_by_their_owner(fan, qredis, qservers):
    """A failure seen in other implementations: expired admitted tokens never removed, so the
    queue stops admitting after the first N. Three admitted fans abandon their tokens; once
    those expire the next three are admitted. An expired token answers 410 on GET
    /queue/queue, is not re-queued by the tick, and a gated call with it puts it at the back
    of the line (202)."""
    first = [fan() for _ in range(CAPACITY)]
    first_ids = [waiting(step1(x))["id"] for x in first]
    for x, qt in zip(first, first_ids):
        until_active(x, qt)
    later = [fan() for _ in range(CAPACITY)]
    later_ids = [waiting(step1(x))["id"] for x in later]
    for x, qt in zip(later, later_ids):
        assert token_info(info(x, qt))["status"] == "WAITING"
    # The first three abandon theirs: after TTL seconds GET answers 410.
    poll(lambda: info(first[0], first_ids[0]), lambda r: r.status_code == 410, "token did not expire",
         timeout=TTL + HANG)
    assert_error(info(first[0], first_ids[0]), 410, "QUEUE_TOKEN_EXPIRED")
    # The stream of an expired token: 410 as well.
    r = open_stream(qservers[1].url, first_ids[0])
    assert_error(r, 410, "QUEUE_TOKEN_EXPIRED")
    for x, qt in zip(later, later_ids):
        until_active(x, qt)
    # The tick freed the places and did not put the expired tokens back in line.
    for qt in first_ids:
        assert qredis("ZSCORE", "tp:gate:{performances}:waiting", qt) is None
        assert qredis("ZSCORE", "tp:gate:{performances}:active", qt) is None
    assert qredis("ZCARD", "tp:gate:{performances}:active") == CAPACITY
    assert qredis("ZCARD", "tp:gate:{performances}:waiting") == 0
    # The owner comes back with the expired token: back of the line, same id.
    back_seq_floor = max(int(qredis.hgetall(queue_keys.token(qt))["seq"]) for qt in later_ids)
    qd = waiting(step1(first[0], first_ids[0]))
    assert qd["id"] == first_ids[0] and qd["rank"] == 1, qd
    assert int(qredis.hgetall(queue_keys.token(first_ids[0]))["seq"]) > back_seq_floor
    assert token_info(info(first[0], first_ids[0]))["status"] == "WAITING"
    # Without the header the same: the held token, re-queued (the second fan's).
    qd2 = waiting(step1(first[1]))
    assert qd2["id"] == first_ids[1] and qd2["rank"] == 2, qd2
    # A place frees: the re-queued token is admitted and served again.
    assert leave(later[0], later_ids[0]).status_code == 200
    assert until_served(lambda: step1(first[0], first_ids[0]), "re-queued token").status_code == 200


def test_paying_expires_any_token_left(fan, make_performance, qredis):
    perf = make_performance(seats=2, price=1000)
    c = fan(balance=5000)
    t3 = walk_to_active_step3(c, perf.schedule_id)
    assert step3(c, perf.seat_ids[0], t3).status_code == 200
    # Back to step 1 after the take: a new token...
    t1 = waiting(step1(c))["id"]
    r = c.pay(perf.seat_ids[0])
    assert r.status_code == 201, r.text
    # ...which the payment ended.
    assert_error(info(c, t1), 404, "QUEUE_TOKEN_NOT_FOUND")
    assert queue_keys.held_by(qredis, c.user_id) is None
    assert qredis("ZSCORE", "tp:gate:{performances}:waiting", t1) is None
    assert qredis("ZSCORE", "tp:gate:{performances}:active", t1) is None


def test_sold_out_schedule_tells_its_lines(fan, qadmin, make_performance, qservers, db):
    """Once every seat of a schedule is paid, fans waiting in its step-2 and step-3 lines see
    SOLD_OUT (GET /queue/queue and the stream), its gated calls answer 409 SOLD_OUT, and its
    gates admit nobody."""
    perf = make_performance(seats=1, price=1000)
    sched, seat = perf.schedule_id, perf.seat_ids[0]
    buyer = fan(balance=5000)
    t3 = walk_to_active_step3(buyer, sched)
    assert step3(buyer, seat, t3).status_code == 200
    # C gets through step 2 before the gates of the schedule close; B only into its line.
    c = fan()
    c2 = walk_to_step2_token(c, sched)
    assert until_served(lambda: step2(c, sched, c2), "step 2").status_code == 200
    set_gate(qadmin, f"performance_seats:{sched}", rate=0)
    set_gate(qadmin, f"take_performance_seat:{sched}", rate=0)
    c3 = waiting(step3(c, seat, c2))["id"]
    b = fan()
    b2 = walk_to_step2_token(b, sched)
    assert token_info(info(b, b2))["status"] == "WAITING"
    assert waiting(step2(b, sched))["id"] == b2, "a fan in line calling without Queue-Token: the token held"
    stream = open_stream(qservers[1].url, b2)
    assert stream.status_code == 200
    events = SSE(stream)
    name, data = events.next()
    assert name == "rank" and data["id"] == b2 and data["status"] == "WAITING", (name, data)

    assert buyer.pay(seat).status_code == 201
    # Shortly after, without calling the gated step, the waiting fans are told.
    body = token_info(poll(lambda: info(b, b2), lambda r: r.status_code == 200 and r.json()["status"] == "SOLD_OUT",
                           "step-2 waiter not told SOLD_OUT"))
    assert body["id"] == b2, body
    token_info(poll(lambda: info(c, c3), lambda r: r.status_code == 200 and r.json()["status"] == "SOLD_OUT",
                    "step-3 waiter not told SOLD_OUT"))
    while True:
        event = events.next()
        assert event is not None, "the stream closed without a sold_out event"
        if event[0] != "rank":
            break
    assert event[0] == "sold_out" and event[1]["id"] == b2 and event[1]["status"] == "SOLD_OUT", event
    assert events.next() is None, "the stream must close after sold_out"
    events.close()
    # A stream opened after the fact says so at once.
    late = SSE(open_stream(qservers[0].url, c3, via="header"))
    assert [e[0] for e in (late.next(), late.next())] == ["rank", "sold_out"]
    assert late.next() is None
    late.close()
    # Gated calls for the schedule: 409 SOLD_OUT.
    assert_error(step2(b, sched, b2), 409, "SOLD_OUT")
    assert_error(step2(b, sched), 409, "SOLD_OUT")
    assert_error(step3(c, seat, c3), 409, "SOLD_OUT")
    d = fan()
    t1 = waiting(step1(d))["id"]
    assert until_served(lambda: step1(d, t1), "step 1").status_code == 200
    assert_error(step2(d, sched, t1), 409, "SOLD_OUT")
    assert token_info(info(d, t1))["status"] == "ACTIVE", "a refused step 2 must not consume the step-1 token"
    # Reopening the gates admits nobody: the line is empty and stays so.
    set_gate(qadmin, f"performance_seats:{sched}", rate=RATE)
    time.sleep(0.3)
    g = read_gate(qadmin, f"performance_seats:{sched}")
    assert g["active"] == 0 and g["waiting"] == 0, g
    assert token_info(info(b, b2))["status"] == "SOLD_OUT"


# ---------------------------------------------------------------------------------------
# Wait estimates
# ---------------------------------------------------------------------------------------


def test_estimates_grow_with_rank(fan, qadmin):
    set_gate(qadmin, "performances", rate=0)
    fans = [fan() for _ in range(6)]
    answers = [waiting(step1(x)) for x in fans]
    assert [a["rank"] for a in answers] == list(range(1, 7))
    waits = [token_info(info(x, a["id"]))["estimated_wait_seconds"] for x, a in zip(fans, answers)]
    assert waits == sorted(waits), waits
    assert all(w >= 1 for w in waits), waits


@pytest.fixture
def slow_gate_server(db, logdir):
    """An instance whose gates admit one fan at a time, one per second (own Redis db)."""
    r = Redis(redis_url_with_db(RETRY_DB))
    r("FLUSHDB")
    s = Server(db.url, logdir, "queue-slow", REDIS_URL=redis_url_with_db(RETRY_DB), GATE_DEFAULT_CAPACITY=1,
               GATE_DEFAULT_RATE=1, QUEUE_TICK_MS=20, QUEUE_TOKEN_TTL_SECONDS=TTL).start()
    yield s
    assert s.stop() == 0
    r("FLUSHDB")
    r.close()


def test_retry_after_grows_with_rank(slow_gate_server, db):
    """At one admission per second, the 10th in line is told to come back later than the 2nd,
    and neither the hint nor the estimate ever drops as the rank grows."""
    admin = Admin(slow_gate_server.url)
    set_gate(admin, "performances", capacity=0)  # nobody admitted while the line forms
    ids = insert_users(db, 10)
    fans = []
    for user_id in ids:
        c = Client(slow_gate_server.url, token_for(user_id))
        c.user_id = user_id
        fans.append(c)
    answers = [waiting(step1(c)) for c in fans]
    assert [a["rank"] for a in answers] == list(range(1, 11)), answers
    hints = [a["retry_after"] for a in answers]
    waits = [a["estimated_wait_seconds"] for a in answers]
    assert hints == sorted(hints), f"Retry-After dropped as rank grew: {hints}"
    assert waits == sorted(waits), f"estimate dropped as rank grew: {waits}"
    assert hints[-1] > hints[1], f"the 10th fan is told to come back no later than the 2nd: {hints}"
    assert waits[-1] > waits[1], waits
    # Polled again, the same ordering.
    hints2 = [waiting(step1(c, a["id"]))["retry_after"] for c, a in zip(fans, answers)]
    assert hints2 == sorted(hints2) and hints2[-1] > hints2[1], hints2
    # Opened: the first in line is admitted, the second still waits (capacity 1).
    set_gate(admin, "performances", capacity=1)
    until_active(fans[0], answers[0]["id"])
    assert token_info(info(fans[1], answers[1]["id"]))["rank"] == 1


# ---------------------------------------------------------------------------------------
# The stream
# ---------------------------------------------------------------------------------------


def test_stream_tells_rank_changes_then_admission(fan, qadmin, qservers):
    set_gate(qadmin, "performances", capacity=0)
    a, b = fan(0), fan(0)
    ta = waiting(step1(a))["id"]
    tb = waiting(step1(b))["id"]
    r = open_stream(qservers[1].url, tb)  # no access token needed
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/event-stream"), r.headers
    events = SSE(r)
    name, data = events.next()
    assert name == "rank", (name, data)
    assert set(data) == TOKEN_INFO_KEYS and data["id"] == tb, data
    assert data["status"] == "WAITING" and data["rank"] == 2, data
    # One place opens: A is admitted, B moves up to 1.
    set_gate(qadmin, "performances", capacity=1)
    name, data = events.next()
    assert name == "rank" and data["rank"] == 1 and data["status"] == "WAITING", (name, data)
    # A leaves: B is admitted; the stream says so and closes.
    assert leave(a, ta).status_code == 200
    name, data = events.next()
    assert name == "admitted", (name, data)
    assert data["id"] == tb and data["status"] == "ACTIVE" and data["rank"] == 0, data
    assert isinstance(data["active_timestamp"], int) and isinstance(data["expire_timestamp"], int), data
    assert events.next() is None, "the stream must close after admitted"
    events.close()


def test_stream_with_header_of_an_admitted_token(fan, qservers):
    c = fan()
    qt = waiting(step1(c))["id"]
    until_active(c, qt)
    r = open_stream(qservers[0].url, qt, via="header")
    assert r.status_code == 200, r.text
    events = SSE(r)
    name, data = events.next()
    assert name == "rank" and data["id"] == qt and data["rank"] == 0, (name, data)
    name, data = events.next()
    assert name == "admitted" and data["status"] == "ACTIVE", (name, data)
    assert events.next() is None
    events.close()


def test_stream_errors(qservers):
    url = qservers[0].url
    assert_error(open_stream(url, None), 400, "QUEUE_TOKEN_MISSING")
    assert_error(open_stream(url, str(uuid.uuid4())), 404, "QUEUE_TOKEN_NOT_FOUND")
    assert_error(open_stream(url, str(uuid.uuid4()), via="header"), 404, "QUEUE_TOKEN_NOT_FOUND")
    assert_error(open_stream(url, "y" * 300), 404, "QUEUE_TOKEN_NOT_FOUND")


def test_streams_of_waiting_fans_end_when_their_server_stops(db, logdir, fan, qadmin):
    """SIGTERM while fans wait on streams (docs/architecture.md#shutdown): each stream ends,
    the connection closed after its last event, and the process exits 0 at once, without
    waiting for a stream's pause or heartbeat to run out."""
    set_gate(qadmin, "performances", capacity=0)
    s = Server(db.url, logdir, "stream-stop", REDIS_URL=redis_url_with_db(QUEUE_DB), GATE_DEFAULT_CAPACITY=CAPACITY,
               GATE_DEFAULT_RATE=RATE, QUEUE_TICK_MS=20, QUEUE_TOKEN_TTL_SECONDS=TTL).start()
    try:
        streams = []
        for _ in range(3):
            qt = waiting(step1(fan(0)))["id"]
            events = SSE(open_stream(s.url, qt))
            name, data = events.next()
            assert name == "rank" and data["status"] == "WAITING", (name, data)
            streams.append(events)
        started = time.monotonic()
        code = s.stop(timeout=HANG)
        took = time.monotonic() - started
        assert code == 0, f"exit code {code} (None = killed): {s.log()}"
        assert took < 5, f"stopping took {took:.1f} s with streams open"
        for events in streams:
            assert events.next() is None, "the stream must end when the server stops"
            events.close()
    finally:
        s.stop()


# ---------------------------------------------------------------------------------------
# Admin: gates
# ---------------------------------------------------------------------------------------


def test_admin_lists_and_reads_gates(fan, qadmin, make_performance):
    r = qadmin.get("/admin/gates")
    assert r.status_code == 200 and r.json() == [], r.text  # nothing in line anywhere yet
    set_gate(qadmin, "performances", rate=0)
    fans = [fan() for _ in range(2)]
    ids = [waiting(step1(c))["id"] for c in fans]
    r = qadmin.get("/admin/gates")
    assert r.status_code == 200, r.text
    gates = {g["gate"]: g for g in r.json()}
    assert set(gates) == {"performances"}, gates
    g = gates["performances"]
    assert {"gate", "capacity", "rate", "active", "waiting"} <= set(g), g
    assert (g["capacity"], g["rate"], g["active"], g["waiting"]) == (CAPACITY, 0, 0, 2), g
    assert read_gate(qadmin, "performances") == g
    # A gate nobody is in yet can be read (the defaults) and set.
    perf = make_performance(seats=1)
    name = f"performance_seats:{perf.schedule_id}"
    g = read_gate(qadmin, name)
    assert (g["gate"], g["capacity"], g["rate"], g["active"], g["waiting"]) == (name, CAPACITY, RATE, 0, 0), g
    g = set_gate(qadmin, name, capacity=7)
    assert (g["capacity"], g["rate"]) == (7, RATE), "a field left out keeps its value"
    g = set_gate(qadmin, name, rate=9)
    assert (g["capacity"], g["rate"]) == (7, 9), g
    assert read_gate(qadmin, name)["capacity"] == 7
    assert {x["gate"] for x in qadmin.get("/admin/gates").json()} == {"performances"}
    # Once its line and active set are empty, a gate leaves the list.
    for c, qt in zip(fans, ids):
        assert leave(c, qt).status_code == 200
    poll(lambda: qadmin.get("/admin/gates").json(), lambda gates: gates == [], "an empty gate stayed listed")


def test_admin_pauses_and_resumes_a_gate_while_fans_wait(fan, qadmin, qredis):
    set_gate(qadmin, "performances", rate=0)
    fans = [fan() for _ in range(3)]
    ids = [waiting(step1(x))["id"] for x in fans]
    time.sleep(1.0)  # many ticks: a paused gate admits nobody
    for x, qt in zip(fans, ids):
        assert token_info(info(x, qt))["status"] == "WAITING"
    assert qredis("ZCARD", "tp:gate:{performances}:active") == 0
    assert read_gate(qadmin, "performances")["waiting"] == 3
    set_gate(qadmin, "performances", rate=50)
    for x, qt in zip(fans, ids):
        until_active(x, qt)
    g = read_gate(qadmin, "performances")
    assert (g["active"], g["waiting"], g["rate"]) == (3, 0, 50), g
    # Admissions per second over the last 10 whole seconds: these 3 count once their second ends.
    poll(lambda: read_gate(qadmin, "performances")["admissions_per_second"], lambda v: v >= 0.3,
         "the three admissions never showed in admissions_per_second")


def test_admin_capacity_limits_active_tokens(fan, qadmin, qredis):
    set_gate(qadmin, "performances", capacity=1)
    fans = [fan() for _ in range(3)]
    ids = [waiting(step1(x))["id"] for x in fans]
    until_active(fans[0], ids[0])
    time.sleep(0.5)
    assert [token_info(info(x, qt))["status"] for x, qt in zip(fans[1:], ids[1:])] == ["WAITING", "WAITING"]
    assert qredis("ZCARD", "tp:gate:{performances}:active") == 1
    set_gate(qadmin, "performances", capacity=3)
    for x, qt in zip(fans[1:], ids[1:]):
        until_active(x, qt)
    assert read_gate(qadmin, "performances")["active"] == 3


@pytest.mark.parametrize("body", [{"capacity": -1}, {"rate": -5}, {"capacity": 2, "rate": -1}, {},
                                  {"capacity": "3"}, {"rate": 1.5},
                                  {"capacity": 10_000_001}])
def test_admin_gate_bad_settings(qadmin, body):
    assert_error(qadmin.request("PUT", gate_path("performances"), body), 400)
    g = read_gate(qadmin, "performances")
    assert (g["capacity"], g["rate"]) == (CAPACITY, RATE), "a refused change must change nothing"


@pytest.mark.parametrize("gate", ["nope", "performance_seats:not-a-uuid", "performances:x",
                                  "take_performance_seat:", "performance_seats"])
def test_admin_malformed_gate_name(qadmin, gate):
    assert_error(qadmin.get(gate_path(gate)), 400, "BAD_REQUEST")
    assert_error(qadmin.request("PUT", gate_path(gate), {"capacity": 1}), 400, "BAD_REQUEST")


def test_admin_gates_need_the_admin_key(qservers, fan):
    url = qservers[0].url
    c = fan()
    for key in (None, "wrong-key", c.token):
        h = {"Authorization": f"Bearer {key}"} if key else {}
        assert_error(requests.get(url + "/admin/gates", headers=h, timeout=30), 401, "ADMIN_KEY_INVALID")
        assert_error(requests.get(url + gate_path("performances"), headers=h, timeout=30), 401, "ADMIN_KEY_INVALID")
        assert_error(requests.put(url + gate_path("performances"), json={"rate": 0}, headers=h, timeout=30), 401,
                     "ADMIN_KEY_INVALID")
    assert read_gate(Admin(url), "performances")["rate"] == RATE, "a refused PUT must change nothing"


def test_estimate_follows_the_gates_own_rate(fan, qadmin):
    """The wait estimate uses the gate's rate as the operator set it (PUT /admin/gates/{gate};
    docs/waiting-queue.md: the gate's own configured rate before any admission was
    measured), not the instances' default: at one admission per second the 6th in line
    cannot be in within a second, and a paused gate (rate 0) cannot promise a wait of a
    second either."""
    set_gate(qadmin, "performances", capacity=0, rate=1)  # no admission: nothing measured
    fans = [fan() for _ in range(6)]
    answers = [waiting(step1(x)) for x in fans]
    assert answers[-1]["rank"] == 6
    assert answers[-1]["estimated_wait_seconds"] >= 5, \
        f"6th in line at 1 admission/s told {answers[-1]['estimated_wait_seconds']} s"
    assert token_info(info(fans[-1], answers[-1]["id"]))["estimated_wait_seconds"] >= 5
    set_gate(qadmin, "performances", rate=0)
    paused = token_info(info(fans[0], answers[0]["id"]))
    assert paused["estimated_wait_seconds"] > 60, f"a paused gate promised {paused['estimated_wait_seconds']} s"


def test_rate_limits_admissions_per_second(fan, qadmin, qredis):
    """A gate admits at most R per second. With capacity out of the way (1000) and
    rate 20, the admission times Redis records put no more than R (+1 for the boundary) in
    any one-second window, and every fan is admitted."""
    set_gate(qadmin, "performances", capacity=1000, rate=0)  # rate 0 empties the allowance
    fans = [fan() for _ in range(30)]
    ids = [waiting(step1(x))["id"] for x in fans]
    time.sleep(0.1)
    set_gate(qadmin, "performances", rate=RATE)
    for x, qt in zip(fans, ids):
        until_active(x, qt)
    times = sorted(int(qredis.hgetall(queue_keys.token(qt))["active"]) for qt in ids)
    worst = max(sum(1 for t in times if start <= t < start + 1000) for start in times)
    assert worst <= RATE + 1, f"{worst} admissions within one second at rate {RATE}: {times}"
