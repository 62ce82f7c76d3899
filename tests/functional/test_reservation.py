"""Booking steps: performances, seats, taking seats, the fan's own seats
(docs/api-contract.md, Endpoints and Holds)."""

import re
import time
import uuid

import pytest

from conftest import assert_error, Client
from invariants import assert_invariants

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")


def find(items, id_):
    found = [x for x in items if x["id"] == id_]
    assert len(found) == 1, f"{id_} listed {len(found)} times"
    return found[0]


def seat_status(db, seat_id):
    return db.query("SELECT reservation_status::text, holder_id::text FROM performance_seats WHERE id = %s",
                    (seat_id,))[0]


@pytest.mark.parametrize("path", ["/reservation/performances", "/reservation/performaces"])
def test_list_performances(quick_user, make_performance, path):
    perf = make_performance(schedules=2, seats=3, price=5000)
    r = quick_user().performances(path)
    assert r.status_code == 200, r.text
    listed = r.json()
    assert isinstance(listed, list)
    p = find(listed, perf.id)
    assert set(p) == {"id", "title", "ticketing_start_date", "stage", "performance_staging_date"}
    assert p["title"] == perf.body["title"]
    assert ISO.match(p["ticketing_start_date"]), p
    assert p["ticketing_start_date"][:19] == perf.body["ticketing_start_date"][:19]
    assert p["stage"] == {"name": "Olympic Hall", "location": "Seoul"}
    assert len(p["performance_staging_date"]) == 2
    for listed_schedule, created in zip(p["performance_staging_date"], perf.schedules):
        assert set(listed_schedule) == {"id", "staging_date", "reserveable_seats_count"}
        assert listed_schedule["id"] == created["id"]
        assert listed_schedule["staging_date"] == created["staging_date"]
        assert ISO.match(listed_schedule["staging_date"])
        assert listed_schedule["reserveable_seats_count"] == 3


def test_list_seats(quick_user, make_performance):
    perf = make_performance(seats=12, price=7000)
    r = quick_user().seats(perf.schedule_id)
    assert r.status_code == 200, r.text
    seats = r.json()
    assert [s["seat_number"] for s in seats] == [str(n) for n in range(1, 13)]  # numeric order, not "1","10","11"
    for s in seats:
        assert set(s) == {"id", "seat_number", "price", "reservation_status"}
        assert s["price"] == 7000 and s["reservation_status"] == "AVAILABLE"
    assert {s["id"] for s in seats} == set(perf.seat_ids)


def test_list_seats_unknown_and_malformed_schedule(quick_user):
    user = quick_user()
    assert_error(user.seats(str(uuid.uuid4())), 404, "SCHEDULE_NOT_FOUND")
    assert_error(user.seats("not-a-uuid"), 400, "BAD_REQUEST")
    assert_error(user.seats("1; DROP TABLE users"), 400, "BAD_REQUEST")


def test_take_seat_happy_path(quick_user, make_performance, db):
    perf = make_performance(seats=3, price=12000)
    user = quick_user()
    before = time.time()
    r = user.take(perf.seat_ids[1])
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"result", "data"} and body["result"] == "success"
    data = body["data"]
    assert set(data) == {"id", "seat_number", "price", "reservation_status", "hold_expire_timestamp"}
    assert data["id"] == perf.seat_ids[1]
    assert data["seat_number"] == "2" and data["price"] == 12000
    assert data["reservation_status"] == "TEMPORARY_RESERVED"
    assert isinstance(data["hold_expire_timestamp"], int)
    # Epoch milliseconds, HOLD_TTL_SECONDS (300) from now (generous bounds: not a timing test).
    assert before * 1000 + 200_000 < data["hold_expire_timestamp"] < time.time() * 1000 + 400_000
    assert seat_status(db, perf.seat_ids[1]) == ("TEMPORARY_RESERVED", user.user_id)
    expires = db.value("SELECT (extract(epoch FROM hold_expires_at) * 1000)::bigint FROM performance_seats "
                       "WHERE id = %s", (perf.seat_ids[1],))
    assert expires == data["hold_expire_timestamp"]
    # Everyone now sees the seat held, and one fewer seat to take.
    other = quick_user()
    seats = {s["id"]: s for s in other.seats(perf.schedule_id).json()}
    assert seats[perf.seat_ids[1]]["reservation_status"] == "TEMPORARY_RESERVED"
    p = find(other.performances().json(), perf.id)
    assert p["performance_staging_date"][0]["reserveable_seats_count"] == 2
    assert_invariants(db)


def test_take_upper_case_uuid(quick_user, make_performance, db):
    perf = make_performance(seats=2)
    user = quick_user()
    r = user.take(perf.seat_ids[0].upper())
    assert r.status_code == 200, r.text
    assert r.json()["data"]["id"] == perf.seat_ids[0]


def test_take_many_seats(quick_user, make_performance, db):
    perf = make_performance(seats=5, price=1000)
    user = quick_user()
    wanted = [perf.seat_ids[3], perf.seat_ids[0], perf.seat_ids[2]]
    r = user.take_many(wanted)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert isinstance(data, list) and len(data) == 3
    assert {d["id"] for d in data} == set(wanted)
    for d in data:
        assert d["reservation_status"] == "TEMPORARY_RESERVED"
        assert set(d) == {"id", "seat_number", "price", "reservation_status", "hold_expire_timestamp"}
    for sid in wanted:
        assert seat_status(db, sid) == ("TEMPORARY_RESERVED", user.user_id)


def test_take_many_is_all_or_nothing(quick_user, make_performance, db):
    perf = make_performance(seats=5)
    a, b = quick_user(), quick_user()
    assert a.take(perf.seat_ids[2]).status_code == 200
    r = b.take_many([perf.seat_ids[0], perf.seat_ids[1], perf.seat_ids[2]])
    assert_error(r, 409, "SEAT_TAKEN")
    # Neither of the free seats was held on the way.
    assert seat_status(db, perf.seat_ids[0]) == ("AVAILABLE", None)
    assert seat_status(db, perf.seat_ids[1]) == ("AVAILABLE", None)
    assert seat_status(db, perf.seat_ids[2]) == ("TEMPORARY_RESERVED", a.user_id)


def test_seat_taken(quick_user, make_performance, db):
    perf = make_performance(seats=3)
    a, b = quick_user(), quick_user()
    assert a.take(perf.seat_ids[0]).status_code == 200
    assert_error(b.take(perf.seat_ids[0]), 409, "SEAT_TAKEN")
    # Taking one's own seat again is refused too, and changes nothing.
    expires = db.value("SELECT hold_expires_at FROM performance_seats WHERE id = %s", (perf.seat_ids[0],))
    assert_error(a.take(perf.seat_ids[0]), 409, "SEAT_TAKEN")
    assert db.value("SELECT hold_expires_at FROM performance_seats WHERE id = %s", (perf.seat_ids[0],)) == expires
    assert seat_status(db, perf.seat_ids[0]) == ("TEMPORARY_RESERVED", a.user_id)


def test_sold_out_when_every_seat_is_held(quick_user, make_performance, db):
    perf = make_performance(seats=2)
    a, b = quick_user(), quick_user()
    assert a.take(perf.seat_ids[0]).status_code == 200
    assert b.take(perf.seat_ids[1]).status_code == 200
    c = quick_user()
    assert_error(c.take(perf.seat_ids[0]), 409, "SOLD_OUT")
    p = find(c.performances().json(), perf.id)
    assert p["performance_staging_date"][0]["reserveable_seats_count"] == 0


def test_seat_limit_reached(quick_user, make_performance, db):
    perf = make_performance(seats=9)
    user = quick_user()
    assert user.take_many(perf.seat_ids[:3]).status_code == 200
    assert user.take(perf.seat_ids[3]).status_code == 200
    assert_error(user.take(perf.seat_ids[4]), 409, "SEAT_LIMIT_REACHED")
    assert seat_status(db, perf.seat_ids[4]) == ("AVAILABLE", None)
    # More than the limit in one call is refused outright.
    other = quick_user()
    assert len(perf.seat_ids[4:]) == 5
    assert_error(other.take_many(perf.seat_ids[4:]), 409, "SEAT_LIMIT_REACHED")
    assert db.value("SELECT count(*) FROM performance_seats WHERE holder_id = %s", (other.user_id,)) == 0


def test_seat_limit_is_per_schedule(quick_user, make_performance):
    perf = make_performance(schedules=2, seats=5)
    user = quick_user()
    assert user.take_many(perf.schedules[0]["seat_ids"][:4]).status_code == 200
    assert user.take(perf.schedules[1]["seat_ids"][0]).status_code == 200


def test_before_ticketing_starts_the_seat_list_is_a_pre_queue(quick_user, make_performance, db):
    """Before the on-sale, the seat list's gate takes the fan into its pre-queue (202
    PRE_QUEUE, no rank, the opening time: docs/waiting-queue.md, The fair start), and nothing
    can be taken: a take needs an admission to the seat list, which comes only after the
    draw. (The take's own TICKETING_NOT_STARTED refusal stands behind the gate: tests/pg.)"""
    perf = make_performance(seats=2, started=False)
    user = quick_user()
    assert user.performances().status_code == 200
    r = user.get(f"/reservation/performance_seats/{perf.schedule_id}")
    assert r.status_code == 202, r.text
    data = r.json()["queue_data"]
    assert data["status"] == "PRE_QUEUE" and data["rank"] is None, data
    assert data["opens_at"].startswith(perf.body["ticketing_start_date"][:19]), (data, perf.body)
    assert_error(user.patch("/reservation/take_performance_seat", {"performance_seat_id": perf.seat_ids[0]}),
                 400, "QUEUE_FLOW_VIOLATED")
    assert seat_status(db, perf.seat_ids[0]) == ("AVAILABLE", None)


def test_take_unknown_seat(quick_user, make_performance):
    perf = make_performance(seats=2)
    user = quick_user()
    assert_error(user.take(str(uuid.uuid4()), perf.schedule_id), 404, "SEAT_NOT_FOUND")
    assert_error(user.take_many([perf.seat_ids[0], str(uuid.uuid4())]), 404, "SEAT_NOT_FOUND")


def test_take_seats_of_two_schedules_is_refused(quick_user, make_performance, db):
    perf = make_performance(schedules=2, seats=2)
    user = quick_user()
    r = user.take_many([perf.schedules[0]["seat_ids"][0], perf.schedules[1]["seat_ids"][0]])
    assert_error(r, 400, "BAD_REQUEST")
    assert db.value("SELECT count(*) FROM performance_seats WHERE holder_id = %s", (user.user_id,)) == 0


@pytest.mark.parametrize("body", [
    {},
    {"performance_seat_id": None},
    {"performance_seat_id": 12},
    {"performance_seat_id": "not-a-uuid"},
    {"performance_seat_id": "00000000-0000-0000-0000-00000000000g"},
    {"performance_seat_ids": []},
    {"performance_seat_ids": "abc"},
    {"performance_seat_ids": [1, 2]},
    {"performance_seat_ids": ["not-a-uuid"]},
    {"performance_seat_id": "00000000-0000-4000-8000-000000000001",
     "performance_seat_ids": ["00000000-0000-4000-8000-000000000001"]},  # both forms at once
])
def test_take_bad_input(quick_user, make_performance, body):
    perf = make_performance(seats=1)
    assert_error(quick_user().take_body(body, perf.schedule_id), 400, "BAD_REQUEST")


def test_take_duplicate_ids(quick_user, make_performance, db):
    perf = make_performance(seats=2)
    user = quick_user()
    sid = perf.seat_ids[0]
    assert_error(user.take_many([sid, sid]), 400, "BAD_REQUEST")
    assert_error(user.take_many([sid, sid.upper()]), 400, "BAD_REQUEST")
    assert seat_status(db, sid) == ("AVAILABLE", None)


def test_reserved_seats_grouping(quick_user, make_performance, db):
    first = make_performance(schedules=2, seats=3, price=1000)
    second = make_performance(schedules=1, seats=3, price=2000)
    user = quick_user(balance=100_000)
    assert quick_user().get("/reservation/reserved_performance_seats").json() == []
    s1 = first.schedules[0]["seat_ids"]
    s2 = first.schedules[1]["seat_ids"]
    s3 = second.schedules[0]["seat_ids"]
    assert user.take_many([s1[2], s1[0]]).status_code == 200
    assert user.take(s2[1]).status_code == 200
    assert user.take(s3[0]).status_code == 200
    assert user.pay(s1[0]).status_code == 201
    r = user.my_seats()
    assert r.status_code == 200, r.text
    listed = r.json()
    mine = [p for p in listed if p["id"] in (first.id, second.id)]
    assert len(listed) == 2 and len(mine) == 2
    by_id = {p["id"]: p for p in listed}
    p1 = by_id[first.id]
    assert set(p1) == {"id", "title", "ticketing_start_date", "stage", "performance_staging_date"}
    assert p1["title"] == first.body["title"] and p1["stage"] == {"name": "Olympic Hall", "location": "Seoul"}
    assert [s["id"] for s in p1["performance_staging_date"]] == [first.schedules[0]["id"], first.schedules[1]["id"]]
    sched = p1["performance_staging_date"][0]
    assert set(sched) == {"id", "staging_date", "seat"}
    assert ISO.match(sched["staging_date"])
    assert [s["id"] for s in sched["seat"]] == [s1[0], s1[2]]
    paid, held = sched["seat"]
    assert set(paid) == {"id", "seat_number", "price", "reservation_status", "hold_expire_timestamp"}
    assert paid["reservation_status"] == "RESERVED" and paid["hold_expire_timestamp"] is None
    assert paid["seat_number"] == "1" and paid["price"] == 1000
    assert held["reservation_status"] == "TEMPORARY_RESERVED" and isinstance(held["hold_expire_timestamp"], int)
    assert [s["id"] for s in p1["performance_staging_date"][1]["seat"]] == [s2[1]]
    p2 = by_id[second.id]
    assert [[s["id"] for s in d["seat"]] for d in p2["performance_staging_date"]] == [[s3[0]]]
    # Another user's view holds none of it.
    assert quick_user().my_seats().json() == []


def test_expired_hold_is_free_at_once(short_hold_server, server, quick_user, make_performance, db):
    """With HOLD_TTL_SECONDS=2 (and no sweeper run in between) an expired hold counts as
    available for listing, counting and taking by another user, and its old holder can
    no longer pay for it."""
    perf = make_performance(seats=2, price=1000)
    a = quick_user(base=short_hold_server, balance=10_000)
    r = a.take(perf.seat_ids[0])
    assert r.status_code == 200, r.text
    b = quick_user()
    assert {s["id"]: s["reservation_status"] for s in b.seats(perf.schedule_id).json()}[perf.seat_ids[0]] \
        == "TEMPORARY_RESERVED"
    deadline = time.time() + 30
    while db.value("SELECT hold_expires_at > now() FROM performance_seats WHERE id = %s", (perf.seat_ids[0],)):
        assert time.time() < deadline, "the hold never expired"
        time.sleep(0.2)
    # Still in the table as held (the sweeper has not run), yet free to everyone.
    assert seat_status(db, perf.seat_ids[0]) == ("TEMPORARY_RESERVED", a.user_id)
    assert {s["id"]: s["reservation_status"] for s in b.seats(perf.schedule_id).json()}[perf.seat_ids[0]] \
        == "AVAILABLE"
    assert find(b.performances().json(), perf.id)["performance_staging_date"][0]["reserveable_seats_count"] == 2
    assert a.my_seats().json() == []
    assert_error(a.with_base(server.url).pay(perf.seat_ids[0]), 409, "HOLD_EXPIRED")
    assert db.value("SELECT balance FROM users WHERE id = %s", (a.user_id,)) == 10_000
    r = b.take(perf.seat_ids[0])
    assert r.status_code == 200, r.text
    assert seat_status(db, perf.seat_ids[0]) == ("TEMPORARY_RESERVED", b.user_id)
    assert_error(a.pay(perf.seat_ids[0]), 403, "SEAT_NOT_HELD")
    assert_invariants(db)


def test_expired_hold_does_not_count_against_the_limit(short_hold_server, quick_user, make_performance, db):
    perf = make_performance(seats=6)
    a = quick_user(base=short_hold_server)
    assert a.take_many(perf.seat_ids[:4]).status_code == 200
    assert_error(a.take(perf.seat_ids[4]), 409, "SEAT_LIMIT_REACHED")
    deadline = time.time() + 30
    while db.value("SELECT bool_or(hold_expires_at > now()) FROM performance_seats WHERE holder_id = %s",
                   (a.user_id,)):
        assert time.time() < deadline
        time.sleep(0.2)
    assert a.take(perf.seat_ids[4]).status_code == 200


def test_sweeper_releases_expired_holds(start_server, quick_user, make_performance, db):
    """The background sweeper (here every 200 ms) turns expired holds back into AVAILABLE rows."""
    s = start_server(HOLD_TTL_SECONDS=1, SWEEP_INTERVAL_MS=200)
    perf = make_performance(seats=2)
    a = quick_user(base=s)
    assert a.take(perf.seat_ids[0]).status_code == 200
    deadline = time.time() + 30
    while seat_status(db, perf.seat_ids[0]) != ("AVAILABLE", None):
        assert time.time() < deadline, "the sweeper never released the expired hold"
        time.sleep(0.2)
    assert db.value("SELECT hold_expires_at FROM performance_seats WHERE id = %s", (perf.seat_ids[0],)) is None
    metrics = Client(s.url).get("/metrics").text
    assert re.search(r"^ticketd_holds_released_total [1-9]", metrics, re.M), metrics[-2000:]
