"""The seat list of a big hall (docs/seat-map.md): cached on every instance yet never stale,
in the operator's order, with an ETag (304 on If-None-Match) and gzip when asked."""

import gzip
import re
import time

import pytest
import requests

from conftest import server_group


def listed(fan, schedule_id, headers=None):
    """The fan's seat list through the gates of steps 1 and 2, as {seat id: status}."""
    r = fan.gated("GET", "/reservation/performances")
    assert r.status_code == 200, r.text
    r = fan.gated("GET", f"/reservation/performance_seats/{schedule_id}", headers=headers)
    assert r.status_code == 200, r.text
    return {s["id"]: s["reservation_status"] for s in r.json()}


def warm(instance, quick_user, schedule_id, rounds=6):
    """Lists on fresh connections, so that each I/O thread of `instance` caches the list."""
    for _ in range(rounds):
        fan = quick_user(base=instance)
        fan.http = requests.Session()
        assert set(listed(fan, schedule_id).values()) <= {"AVAILABLE", "TEMPORARY_RESERVED", "RESERVED"}


def stale_sightings(instances, quick_user, make_performance):
    """Takes a seat on the first instance and pays for it, reading the list on the others at
    once after each answer (their caches warm beforehand); returns every sighting that missed
    the change. The checker of the freshness rule: [] when lists are fresh."""
    first, *others = instances
    perf = make_performance(seats=300, price=1000)  # three blocks of the cached list
    seat = perf.seat_ids[200]
    for other in others:
        warm(other, quick_user, perf.schedule_id)
    watchers = [quick_user(base=other) for other in others]
    fan = quick_user(base=first, balance=10_000)
    missed = []

    def look(after, expected):
        for other, watcher in zip(others, watchers):
            seen = listed(watcher, perf.schedule_id)[seat]
            if seen != expected:
                missed.append((other.name, after, seen))

    r = fan.take(seat)
    assert r.status_code == 200, r.text
    look("after the take", "TEMPORARY_RESERVED")
    r = fan.pay(seat)
    assert r.status_code == 201, r.text
    look("after the payment", "RESERVED")
    return missed


def test_a_take_and_a_payment_show_at_once_on_every_instance(servers, quick_user, make_performance):
    assert stale_sightings(servers, quick_user, make_performance) == []


def counter(instance, name):
    text = requests.get(instance.url + "/metrics", timeout=10).text
    match = re.search(rf"^{name} (\d+)", text, re.M)
    assert match, f"{name} missing from /metrics"
    return int(match.group(1))


def test_a_change_reaches_other_instances_through_the_log_not_postgresql(servers, quick_user, make_performance):
    """The version read carries the changes logged since the cache's own version: a list on B
    after a take on A applies them (a logged update) instead of reading PostgreSQL."""
    a, b = servers[0], servers[1]
    perf = make_performance(seats=300)
    assert quick_user(base=a).take(perf.seat_ids[0]).status_code == 200  # the list has a version now
    warm(b, quick_user, perf.schedule_id)
    watcher = quick_user(base=b)
    listed(watcher, perf.schedule_id)  # this connection's thread is current now
    logged = counter(b, "ticketd_seat_list_logged_updates_total")
    seat = perf.seat_ids[123]
    assert quick_user(base=a).take(seat).status_code == 200
    assert listed(watcher, perf.schedule_id)[seat] == "TEMPORARY_RESERVED"
    assert counter(b, "ticketd_seat_list_logged_updates_total") > logged


def test_a_take_of_a_seat_gone_elsewhere_is_refused_from_the_seat_map(servers, quick_user, make_performance, db):
    """A fan on B whose thread's seat map is current takes a seat that a fan on A took: the
    refusal comes from the map (no transaction), with the database's own answer, and a free
    seat is still taken normally."""
    a, b = servers[0], servers[1]
    perf = make_performance(seats=300)
    assert quick_user(base=a).take(perf.seat_ids[0]).status_code == 200  # the list has a version now
    late = quick_user(base=b)
    listed(late, perf.schedule_id)  # this connection's thread has the map
    refused_before = counter(b, "ticketd_takes_refused_from_seat_map_total")
    seat = perf.seat_ids[42]
    assert quick_user(base=a).take(seat).status_code == 200
    r = late.take(seat)
    assert r.status_code == 409 and r.json()["code"] == "SEAT_TAKEN", r.text
    assert counter(b, "ticketd_takes_refused_from_seat_map_total") > refused_before
    assert late.take(perf.seat_ids[43]).status_code == 200
    assert db.value("SELECT count(*) FROM performance_seats WHERE id = %s AND holder_id = %s",
                    (seat, late.user_id)) == 0


def test_the_performances_count_comes_from_a_current_seat_map_and_is_never_stale(servers, quick_user,
                                                                                make_performance):
    """The performances list counts a schedule's seats from the thread's seat map when it is
    current (the same check as a list): a take on A shows in the count on B at once."""
    a, b = servers[0], servers[1]
    perf = make_performance(seats=300)
    assert quick_user(base=a).take(perf.seat_ids[0]).status_code == 200  # the list has a version now
    fan = quick_user(base=b)
    listed(fan, perf.schedule_id)  # this connection's thread has the map

    def count():
        r = fan.gated("GET", "/reservation/performances")
        assert r.status_code == 200, r.text
        mine = next(p for p in r.json() if p["id"] == perf.id)
        return mine["performance_staging_date"][0]["reserveable_seats_count"]

    assert count() == 299
    assert quick_user(base=a).take(perf.seat_ids[1]).status_code == 200
    assert count() == 298


def test_negative_control_a_cache_that_skips_its_check_is_caught(db, logdir, quick_user, make_performance):
    with server_group(db.url, logdir, "stale", 3, FAULT_INJECTION="stale_seat_lists") as stale:
        missed = stale_sightings(stale, quick_user, make_performance)
    assert missed, "the freshness checker did not notice seat lists that never refresh"


def test_a_hold_shows_available_everywhere_from_its_expiry(db, logdir, quick_user, make_performance):
    with server_group(db.url, logdir, "expiry", 3, HOLD_TTL_SECONDS=2) as group:
        perf = make_performance(seats=10)
        seat = perf.seat_ids[4]
        for instance in group[1:]:
            warm(instance, quick_user, perf.schedule_id, rounds=4)
        r = quick_user(base=group[0]).take(seat)
        assert r.status_code == 200, r.text
        expires_ms = r.json()["data"]["hold_expire_timestamp"]
        watchers = [quick_user(base=instance) for instance in group]
        assert all(listed(w, perf.schedule_id)[seat] == "TEMPORARY_RESERVED" for w in watchers)
        time.sleep(max(0.0, expires_ms / 1000 - time.time()) + 0.05)
        # Nothing changed in the database (no sweeper runs): the lists judge expiry themselves.
        assert [listed(w, perf.schedule_id)[seat] for w in watchers] == ["AVAILABLE"] * 3


def test_seats_come_in_the_operators_order(quick_user, make_performance):
    numbers = ["B2", "A10", "A2", "C1", "A1"]
    perf = make_performance(seat_list=[{"seat_number": n, "price": 1000} for n in numbers])
    fan = quick_user()
    fan.gated("GET", "/reservation/performances")
    r = fan.gated("GET", f"/reservation/performance_seats/{perf.schedule_id}")
    assert [s["seat_number"] for s in r.json()] == numbers
    assert [s["id"] for s in r.json()] == perf.seat_ids


def test_the_etag_is_one_per_list_everywhere_and_304_keeps_the_flow(servers, quick_user, make_performance):
    perf = make_performance(seats=50)
    path = f"/reservation/performance_seats/{perf.schedule_id}"
    tags = set()
    for instance in servers:
        fan = quick_user(base=instance)
        fan.gated("GET", "/reservation/performances")
        r = fan.gated("GET", path)
        assert r.status_code == 200
        tags.add(r.headers["ETag"])
    assert len(tags) == 1, tags
    (tag,) = tags
    assert tag.startswith('W/"')

    fan = quick_user(base=servers[1])
    fan.gated("GET", "/reservation/performances")
    r = fan.gated("GET", path, headers={"If-None-Match": tag})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["ETag"] == tag
    # A 304 is a served step 2: the fan goes on to take a seat.
    r = fan.gated("PATCH", "/reservation/take_performance_seat", {"performance_seat_id": perf.seat_ids[0]})
    assert r.status_code == 200, r.text

    other = quick_user(base=servers[2])
    other.gated("GET", "/reservation/performances")
    r = other.gated("GET", path, headers={"If-None-Match": tag})
    assert r.status_code == 200, "the take did not move the tag"
    assert r.headers["ETag"] != tag
    assert {s["id"]: s["reservation_status"] for s in r.json()}[perf.seat_ids[0]] == "TEMPORARY_RESERVED"


def test_if_none_match_without_a_turn_in_line_is_not_answered(quick_user, make_performance):
    perf = make_performance(seats=5)
    fan = quick_user()
    fan.gated("GET", "/reservation/performances")
    tag = fan.gated("GET", f"/reservation/performance_seats/{perf.schedule_id}").headers["ETag"]
    stranger = quick_user()
    r = stranger.get(f"/reservation/performance_seats/{perf.schedule_id}", headers={"If-None-Match": tag})
    assert r.status_code == 400, r.text  # no step-1 token: the flow comes first
    assert r.json()["code"] == "QUEUE_FLOW_VIOLATED"


def raw_get(fan, path, accept_encoding):
    """The bytes on the wire (requests would inflate them)."""
    r = fan.http.get(fan.base_url + path, stream=True, timeout=30,
                     headers={"Authorization": f"Bearer {fan.token}", "Accept-Encoding": accept_encoding})
    return r, r.raw.read(decode_content=False)


@pytest.mark.parametrize("seats", [3, 2000])
def test_a_list_is_gzipped_when_asked_and_large_enough(quick_user, make_performance, seats):
    perf = make_performance(seats=seats)
    fan = quick_user()
    path = f"/reservation/performance_seats/{perf.schedule_id}"
    fan.gated("GET", "/reservation/performances")
    fan.gated("GET", path)  # admitted to step 2; its token serves the raw calls below
    plain, plain_body = raw_get(fan, path, "identity")
    packed, packed_body = raw_get(fan, path, "gzip")
    assert plain.status_code == packed.status_code == 200
    assert plain.headers["Vary"] == packed.headers["Vary"] == "Accept-Encoding"
    assert plain.headers["ETag"] == packed.headers["ETag"]
    assert "Content-Encoding" not in plain.headers
    if len(plain_body) >= 1024:
        assert packed.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(packed_body) == plain_body
        assert len(packed_body) * 3 < len(plain_body), (len(packed_body), len(plain_body))
    else:
        assert "Content-Encoding" not in packed.headers
        assert packed_body == plain_body


def test_other_json_answers_are_gzipped_over_1_kib(quick_user):
    fan = quick_user()
    small, small_body = raw_get(fan, "/payment/cash", "gzip")
    assert small.status_code == 200 and "Content-Encoding" not in small.headers
    for _ in range(20):
        assert fan.charge(1000).status_code == 201
    big, big_body = raw_get(fan, "/payment/payment_history", "gzip")
    assert big.status_code == 200
    assert big.headers["Content-Encoding"] == "gzip"
    assert big.headers["Vary"] == "Accept-Encoding"
    assert len(gzip.decompress(big_body)) >= 1024
