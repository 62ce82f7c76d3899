"""The sale events (SPEC §15, docs/sale-events.md): every hold, release, sale, charge and
payment appends an event in the transaction of the change; a consumer following
GET /admin/events (or its SSE stream) sees every committed event exactly once, in id order,
even while transactions commit out of id order; replaying the events gives the seats' states."""

import json
import threading
import time

import pytest
import requests

from conftest import ADMIN_KEY, Admin, assert_error, run_parallel, server_group

# ---------------------------------------------------------------------------------------
# The consumer and its checks
# ---------------------------------------------------------------------------------------


def page(base_url, after, limit=1000):
    r = requests.get(f"{base_url}/admin/events", params={"after": after, "limit": limit},
                     headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["next_after"] >= after, body
    return body["events"], body["next_after"]


def follow(base_url, after, until_id, timeout=30):
    """Pages from `after` until an event id at or past `until_id` has been read."""
    seen = []
    deadline = time.monotonic() + timeout
    while after < until_id:
        assert time.monotonic() < deadline, f"the feed did not reach {until_id} (at {after})"
        events, after = page(base_url, after)
        seen += events
        if not events:
            time.sleep(0.05)
    return seen


def check_exactly_once(seen_ids, committed_ids):
    """The consumer's ids are the committed ids, each once, ascending."""
    assert all(a < b for a, b in zip(seen_ids, seen_ids[1:])), "events out of order or repeated"
    missing = sorted(set(committed_ids) - set(seen_ids))
    extra = sorted(set(seen_ids) - set(committed_ids))
    assert not missing, f"{len(missing)} committed events never reached the consumer: {missing[:10]}"
    assert not extra, f"events that were never committed: {extra[:10]}"


def replay(events, now_ms):
    """Each seat's state from its events: a hold is TEMPORARY_RESERVED until its expiry."""
    state = {}
    for e in events:
        if e["kind"] == "hold":
            state[e["seat_id"]] = ("hold", e["user_id"], e["hold_expire_timestamp"])
        elif e["kind"] == "release":
            state[e["seat_id"]] = None
        elif e["kind"] == "sale":
            state[e["seat_id"]] = ("sale", e["user_id"], None)
    out = {}
    for seat, s in state.items():
        if s is None or (s[0] == "hold" and s[2] <= now_ms):
            out[seat] = ("AVAILABLE", None)
        else:
            out[seat] = ("TEMPORARY_RESERVED" if s[0] == "hold" else "RESERVED", s[1])
    return out


def seat_states(db, schedule_id, now_ms):
    rows = db.query("""
        SELECT id::text, reservation_status::text, holder_id::text,
               (extract(epoch FROM hold_expires_at) * 1000)::bigint
        FROM performance_seats WHERE staging_date_id = %s""", (schedule_id,))
    out = {}
    for seat, status, holder, expires in rows:
        if status == "AVAILABLE" or (status == "TEMPORARY_RESERVED" and expires <= now_ms):
            out[seat] = ("AVAILABLE", None)
        else:
            out[seat] = (status, holder)
    return out


def last_event_id(db):
    return db.value("SELECT coalesce(max(id), 0) FROM sale_events")


def test_the_checkers_catch_a_skipped_a_repeated_and_an_invented_event():
    check_exactly_once([1, 2, 4], [1, 2, 4])
    for seen in ([1, 4], [1, 2, 2, 4], [1, 2, 3, 4], [2, 1, 4]):
        with pytest.raises(AssertionError):
            check_exactly_once(seen, [1, 2, 4])
    hold = {"kind": "hold", "seat_id": "s", "user_id": "u", "hold_expire_timestamp": 2000}
    assert replay([hold], 1000) == {"s": ("TEMPORARY_RESERVED", "u")}
    assert replay([hold], 2000) == {"s": ("AVAILABLE", None)}
    assert replay([hold, {"kind": "sale", "seat_id": "s", "user_id": "u"}], 3000) == {"s": ("RESERVED", "u")}


# ---------------------------------------------------------------------------------------
# Each change, its event
# ---------------------------------------------------------------------------------------


def test_each_change_appends_its_event(server, db, quick_user, make_performance):
    perf = make_performance(seats=3, price=5000)
    fan = quick_user()
    start = last_event_id(db)
    assert fan.charge(20000).status_code == 201
    assert fan.take_many(perf.seat_ids[:2]).status_code == 200
    assert fan.pay(perf.seat_ids[0]).status_code == 201
    # The second hold expires (moved back in time) and the sweeper's statement releases it.
    db.query("UPDATE performance_seats SET hold_expires_at = now() - interval '1 second' WHERE id = %s",
             (perf.seat_ids[1],))
    db.query("""UPDATE performance_seats SET reservation_status = 'AVAILABLE', holder_id = NULL,
                       hold_expires_at = NULL WHERE id = %s""", (perf.seat_ids[1],))
    events = [e for e in follow(server.url, start, last_event_id(db)) if e["user_id"] == fan.user_id]
    kinds = [(e["kind"], e.get("seat_id"), e.get("amount")) for e in events]
    a, b = perf.seat_ids[0], perf.seat_ids[1]
    assert kinds[0] == ("charge", None, 20000)
    assert sorted(kinds[1:3]) == sorted([("hold", a, None), ("hold", b, None)])
    assert sorted(kinds[3:5]) == sorted([("sale", a, 5000), ("payment", a, -5000)])
    assert kinds[5:] == [("hold", b, None), ("release", b, None)]  # the expiry moved, then the release
    assert all(e["schedule_id"] == perf.schedule_id for e in events[1:])
    assert all(isinstance(e["occurred_timestamp"], int) for e in events)
    assert events[1]["hold_expire_timestamp"] > time.time() * 1000


def test_a_refused_change_appends_nothing(server, db, quick_user, make_performance):
    perf = make_performance(seats=1)
    fan, rival = quick_user(), quick_user()
    assert fan.take(perf.seat_ids[0]).status_code == 200
    start = last_event_id(db)
    assert rival.take(perf.seat_ids[0]).status_code == 409
    assert rival.pay(perf.seat_ids[0]).status_code in (400, 403, 409)
    assert last_event_id(db) == start
    assert db.value("SELECT count(*) FROM sale_events WHERE user_id = %s", (rival.user_id,)) == 0


# ---------------------------------------------------------------------------------------
# Out-of-order commits
# ---------------------------------------------------------------------------------------


def late_commit_seen(base_url, db, quick_user, make_performance):
    """A transaction takes an event id and stays open while a later one commits; returns
    whether a consumer paging meanwhile still sees both (False: the early one was skipped)."""
    perf = make_performance(seats=1)
    fan, other = quick_user(), quick_user()
    start = last_event_id(db)
    conn = db.connect()
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            cur.execute("""UPDATE performance_seats SET reservation_status = 'TEMPORARY_RESERVED', holder_id = %s,
                                  hold_expires_at = now() + interval '5 minutes' WHERE id = %s""",
                        (fan.user_id, perf.seat_ids[0]))
            cur.execute("SELECT max(id) FROM sale_events")  # its own, not yet committed
            (early,) = cur.fetchone()
        assert other.charge(1000).status_code == 201
        late = db.value("SELECT max(id) FROM sale_events")
        assert late > early
        events, after = page(base_url, start)
        seen = [e["id"] for e in events]
        # While the early transaction is open, the feed may not pass it.
        conn.commit()
    finally:
        conn.close()
    seen += [e["id"] for e in follow(base_url, after, late)]
    return early in seen and late in seen and seen == sorted(set(seen))


def test_an_event_committed_late_is_not_skipped(server, db, quick_user, make_performance):
    assert late_commit_seen(server.url, db, quick_user, make_performance)


def test_negative_control_a_feed_that_does_not_wait_skips_a_late_commit(db, logdir, quick_user,
                                                                          make_performance):
    with server_group(db.url, logdir, "unproven", 1, FAULT_INJECTION="unproven_event_pages") as (unproven,):
        assert not late_commit_seen(unproven.url, db, quick_user, make_performance), \
            "the late-commit check passed against a feed that serves ids it has not proven"


# ---------------------------------------------------------------------------------------
# Exactly once under load, across instances, and the replay
# ---------------------------------------------------------------------------------------


def test_a_consumer_sees_every_event_once_while_three_instances_sell(servers, db, logdir, quick_user,
                                                                      make_performance, start_server):
    # A fourth instance holds seats for one second and sweeps often: releases join the mix.
    sweeping = start_server(HOLD_TTL_SECONDS=1, SWEEP_INTERVAL_MS=200)
    instances = list(servers) + [sweeping]
    perf = make_performance(seats=120, price=1000)
    start = last_event_id(db)
    stop = threading.Event()
    consumed = []

    def consume():
        after = start
        while not stop.is_set():
            events, after = page(servers[2].url, after, limit=50)
            consumed.extend(events)
            if not events:
                time.sleep(0.01)
        consumed.extend(follow(servers[2].url, after, last_event_id(db)))

    consumer = threading.Thread(target=consume)
    consumer.start()

    def buy(i):
        fan = quick_user(base=instances[i % len(instances)], balance=10_000)
        seats = perf.seat_ids[2 * i:2 * i + 2]
        if fan.take_many(seats).status_code != 200:
            return
        if i % 3 != 2:  # two in three fans pay for their first seat; the rest let it go
            fan.pay(seats[0])

    try:
        run_parallel(buy, range(60), workers=24)
        time.sleep(1.5)  # the short holds expire and the sweeper releases them
    finally:
        stop.set()
        consumer.join(timeout=60)
    assert not consumer.is_alive()
    committed = [row[0] for row in db.query("SELECT id FROM sale_events WHERE id > %s ORDER BY id", (start,))]
    check_exactly_once([e["id"] for e in consumed], committed)
    kinds = {e["kind"] for e in consumed}
    assert {"hold", "sale", "payment", "release"} <= kinds, kinds

    mine = [e for e in consumed if e.get("schedule_id") == perf.schedule_id]
    now_ms = db.value("SELECT (extract(epoch FROM now()) * 1000)::bigint")
    replayed = replay(mine, now_ms)
    actual = seat_states(db, perf.schedule_id, now_ms)
    assert {seat: replayed.get(seat, ("AVAILABLE", None)) for seat in actual} == actual


# ---------------------------------------------------------------------------------------
# The stream, the sales, the retention, bad requests
# ---------------------------------------------------------------------------------------


def read_frames(resp, count):
    frames, current = [], {}
    for line in resp.iter_lines(chunk_size=1, decode_unicode=True):  # each line as it comes
        if line.startswith("id: "):
            current["id"] = int(line[4:])
        elif line.startswith("data: "):
            current["data"] = json.loads(line[6:])
        elif line == "" and current:
            frames.append(current)
            current = {}
            if len(frames) == count:
                break
    return frames


def test_the_stream_follows_and_resumes_from_the_last_event_id(server, db, quick_user):
    start = last_event_id(db)
    fans = [quick_user() for _ in range(4)]
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with requests.get(f"{server.url}/admin/events/stream", params={"after": start}, headers=headers,
                      stream=True, timeout=30) as r:
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/event-stream")
        for fan in fans[:2]:
            assert fan.charge(1000).status_code == 201
        first = read_frames(r, 2)
    assert [f["data"]["user_id"] for f in first] == [fan.user_id for fan in fans[:2]]
    assert all(f["id"] == f["data"]["id"] for f in first)
    for fan in fans[2:]:
        assert fan.charge(1000).status_code == 201
    with requests.get(f"{server.url}/admin/events/stream", headers={**headers, "Last-Event-ID": str(first[-1]["id"])},
                      stream=True, timeout=30) as r:
        rest = read_frames(r, 2)
    assert [f["data"]["user_id"] for f in rest] == [fan.user_id for fan in fans[2:]]


def test_sales_count_each_schedules_seats(server, admin, quick_user, make_performance):
    perf = make_performance(schedules=2, seats=4, price=3000)
    fan = quick_user(balance=10_000)
    assert fan.take_many(perf.seat_ids[:2]).status_code == 200
    assert fan.pay(perf.seat_ids[0]).status_code == 201
    r = admin.get("/admin/sales")
    assert r.status_code == 200, r.text
    mine = [s for s in r.json() if s["performance_id"] == perf.id]
    assert [s["schedule_id"] for s in mine] == [s["id"] for s in perf.schedules]
    first, second = mine
    assert (first["available"], first["held"], first["sold"], first["revenue"]) == (2, 1, 1, 3000)
    assert (second["available"], second["held"], second["sold"], second["revenue"]) == (4, 0, 0, 0)
    assert first["title"] == perf.body["title"] and first["staging_date"].endswith("Z")


def test_events_past_their_retention_are_deleted(db, logdir, quick_user):
    with server_group(db.url, logdir, "retention", 1, SWEEP_INTERVAL_MS=200, EVENT_RETENTION_HOURS=1) as (s,):
        fan = quick_user(base=s)
        assert fan.charge(1000).status_code == 201
        assert fan.charge(2000).status_code == 201
        old, recent = [r[0] for r in db.query("SELECT id FROM sale_events WHERE user_id = %s ORDER BY id",
                                              (fan.user_id,))]
        db.query("UPDATE sale_events SET occurred_at = now() - interval '61 minutes' WHERE id = %s", (old,))
        deadline = time.monotonic() + 10
        while db.value("SELECT count(*) FROM sale_events WHERE id = %s", (old,)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert db.value("SELECT count(*) FROM sale_events WHERE id = %s", (old,)) == 0
        assert db.value("SELECT count(*) FROM sale_events WHERE id = %s", (recent,)) == 1


@pytest.mark.parametrize("query", ["after=-1", "after=x", "limit=0", "limit=1001", "after=99999999999999999999"])
def test_a_bad_page_request_is_refused(server, query):
    assert_error(Admin(server.url).get(f"/admin/events?{query}"), 400, "BAD_REQUEST")


@pytest.mark.parametrize("path", ["/admin/events", "/admin/events/stream", "/admin/sales"])
def test_the_sale_is_for_operators_only(server, quick_user, path):
    assert requests.get(server.url + path, timeout=10).status_code == 401
    assert quick_user().get(path).status_code in (401, 403)
