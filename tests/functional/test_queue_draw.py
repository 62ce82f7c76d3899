"""The fair start (docs/waiting-queue.md, "The fair start"): before a performance's ticketing
start, a schedule's seat-list gate takes fans into its pre-queue; at the start it draws once,
and the draw is published so that anyone can check it.

Fans arrive through three instances, each ticking the gate; what is checked is read back
from Redis and from the published draw, never taken from the answers alone."""

import hashlib
import os
import subprocess
import sys
import time
import urllib.parse
from datetime import datetime, timedelta, timezone

import pytest
import requests

import queue_keys
import verify_draw
from conftest import (SSE, TOOLS, Admin, insert_users, iso, open_stream, redis_url_with_db, run_parallel,
                      scratch_redis, server_group, thread_session, through_gate, token_for)
from invariants import check_fifo

DRAW_DB = 14
PRE_FANS = 500
LATE_FANS = 30
OPEN_IN = 12  # seconds from creating the performance to its ticketing start
RATE = 200  # the seat-list gate's admissions per second, so admission order is observable


@pytest.fixture(scope="module")
def draw_redis():
    with scratch_redis(DRAW_DB) as r:
        yield r


@pytest.fixture(scope="module")
def draw_servers(db, logdir, draw_redis):
    with server_group(db.url, logdir, "draw", 3, REDIS_URL=redis_url_with_db(DRAW_DB), QUEUE_TICK_MS=20,
                      GATE_DEFAULT_CAPACITY=1_000_000, GATE_DEFAULT_RATE=1_000_000) as started:
        yield started


def create_performance(admin_url, opens):
    body = {"title": "The fair start", "ticketing_start_date": iso(opens),
            "stage": {"name": "Arena", "location": "Seoul"},
            "schedules": [{"staging_date": iso(opens + timedelta(days=30)), "seat_count": 50, "price": 1000}]}
    r = Admin(admin_url).create_performance(body)
    assert r.status_code == 201, r.text
    return r.json()["performance_staging_date"][0]["id"]


def draw_url(base, gate):
    return f"{base}/queue/draws/{urllib.parse.quote(gate, safe='')}"


def instant(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def entrant(token_id):
    return hashlib.sha256(token_id.encode()).hexdigest()


def test_pre_queue_draw_and_audit(draw_servers, draw_redis, db):
    """500 fans pre-queued through 3 instances before the start: each told PRE_QUEUE with no
    rank and the opening time; the commitment is published (the same on every instance) and
    the seed is not. At the start the gate draws once: the published seed matches the
    commitment, the entrants are exactly the pre-queued tokens (not the one that left), the
    line's order is the published order (recomputed from the seed), every late fan comes after
    every pre-queued one, admissions follow that order, and the verifier agrees."""
    opens = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=OPEN_IN)
    schedule = create_performance(draw_servers[0].url, opens)
    gate = f"performance_seats:{schedule}"
    path = f"/reservation/performance_seats/{schedule}"
    r = Admin(draw_servers[0].url).request("PUT", f"/admin/gates/{urllib.parse.quote(gate, safe='')}",
                                           {"rate": RATE})
    assert r.status_code == 200, r.text
    users = insert_users(db, PRE_FANS + LATE_FANS)

    def pre_queue(i):
        base, token = draw_servers[i % 3].url, token_for(users[i])
        status, body = through_gate(base, "GET", "/reservation/performances", token)
        assert status == 200, body
        answer = thread_session().get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert answer.status_code == 202, answer.text
        data = answer.json()["queue_data"]
        assert data["status"] == "PRE_QUEUE" and data["rank"] is None, data
        assert instant(data["opens_at"]) == opens, data
        return data["id"]

    started = time.monotonic()
    tokens = run_parallel(pre_queue, range(PRE_FANS), workers=50, timeout=300)
    print(f"\n{PRE_FANS} fans pre-queued in {time.monotonic() - started:.1f} s")
    assert datetime.now(timezone.utc) < opens - timedelta(seconds=2), \
        "the pre-queue took too long to fill before the start: raise OPEN_IN"

    # Before the start: asking again keeps the same token; the poll shows PRE_QUEUE too.
    fan = {"Authorization": f"Bearer {token_for(users[0])}"}
    again = requests.get(draw_servers[1].url + path, headers=fan, timeout=30)
    assert again.status_code == 202 and again.json()["queue_data"]["id"] == tokens[0], again.text
    info = requests.get(draw_servers[2].url + "/queue/queue", timeout=30,
                        headers={**fan, "Queue-Token": f"Bearer {tokens[0]}"}).json()
    assert info["status"] == "PRE_QUEUE" and info["rank"] is None and instant(info["opens_at"]) == opens, info
    # One fan leaves before the start: not an entrant.
    leaver = {"Authorization": f"Bearer {token_for(users[1])}", "Queue-Token": f"Bearer {tokens[1]}"}
    assert requests.delete(draw_servers[0].url + "/queue/queue", headers=leaver, timeout=30).status_code == 200
    # The commitment, the same everywhere; no seed, no entrants.
    before = [requests.get(draw_url(s.url, gate), timeout=30).json() for s in draw_servers]
    assert all(b == before[0] for b in before), before
    assert set(before[0]) == {"gate", "opens_at", "commitment"}, before[0]
    assert instant(before[0]["opens_at"]) == opens and len(before[0]["commitment"]) == 64
    commitment = before[0]["commitment"]
    # A waiting fan's stream says PRE_QUEUE, then the rank once drawn.
    stream = SSE(open_stream(draw_servers[0].url, tokens[2], timeout=OPEN_IN + 30))
    event, data = stream.next()
    assert event == "rank" and data["status"] == "PRE_QUEUE" and data["rank"] is None, (event, data)

    while datetime.now(timezone.utc) < opens + timedelta(milliseconds=200):
        time.sleep(0.05)

    def late(i):
        base, token = draw_servers[i % 3].url, token_for(users[i])
        status, body = through_gate(base, "GET", "/reservation/performances", token)
        assert status == 200, body
        answer = thread_session().get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert answer.status_code in (200, 202), answer.text
        if answer.status_code == 202:
            assert answer.json()["queue_data"]["status"] == "WAITING", answer.text
            return answer.json()["queue_data"]["id"]
        return draw_redis("GET", queue_keys.user_in_tag(schedule, users[i]))

    late_tokens = run_parallel(late, range(PRE_FANS, PRE_FANS + LATE_FANS), workers=LATE_FANS, timeout=120)

    event, data = stream.next()
    assert event in ("rank", "admitted") and data["status"] in ("WAITING", "ACTIVE"), (event, data)
    assert event == "admitted" or data["rank"] >= 1, data
    stream.close()

    deadline = time.monotonic() + 30
    while "seed" not in (drawn := requests.get(draw_url(draw_servers[2].url, gate), timeout=30).json()):
        assert time.monotonic() < deadline, f"not drawn 30 s after the start: {drawn}"
        time.sleep(0.1)

    # Once drawn, a pre-queued fan's poll and gated call (on any instance) show a place in
    # line, at the number drawn, or the admission; the opening time is no longer shown.
    entrant_place = {e: i + 1 for i, e in enumerate(drawn["entrants"])}
    last = tokens[-1]  # some fan of the draw; at RATE a second, most are still in line
    fan = {"Authorization": f"Bearer {token_for(users[PRE_FANS - 1])}", "Queue-Token": f"Bearer {last}"}
    info = requests.get(draw_servers[1].url + "/queue/queue", headers=fan, timeout=30).json()
    assert info["status"] in ("WAITING", "ACTIVE") and info.get("opens_at") is None, info
    assert info["status"] == "ACTIVE" or 1 <= info["rank"] <= entrant_place[entrant(last)], info
    answer = thread_session().get(draw_servers[0].url + path, headers=fan, timeout=30)
    assert answer.status_code in (200, 202), answer.text
    if answer.status_code == 202:
        assert answer.json()["queue_data"]["status"] == "WAITING", answer.text
        assert answer.json()["queue_data"]["rank"] >= 1, answer.text

    # The audit: the seed is the one committed to, and the order follows from it.
    assert verify_draw.problems_of(drawn, commitment) == []
    stayed = [t for i, t in enumerate(tokens) if i != 1]
    assert sorted(drawn["entrants"]) == sorted(entrant(t) for t in stayed), "entrants are not the pre-queue"
    assert entrant(tokens[1]) not in drawn["entrants"]
    # Drawn once, although three instances tick the gate.
    assert draw_redis("LLEN", queue_keys.gate(gate, "entrants")) == len(stayed)
    assert int(draw_redis("HGET", queue_keys.gate(gate, "draw"), "entrants")) == len(stayed)

    # Everyone admitted in the end (the gate admits RATE a second).
    deadline = time.monotonic() + 60
    while draw_redis("ZCARD", queue_keys.gate(gate, "waiting")) > 0:
        assert time.monotonic() < deadline, "the line did not empty"
        time.sleep(0.2)
    records = {t: draw_redis.hgetall(queue_keys.token(t)) for t in stayed + late_tokens}
    seq = {t: int(r["seq"]) for t, r in records.items()}
    assert len(set(seq.values())) == len(seq), "arrival numbers must be unique"
    # The line's order is the published order; every late fan comes after every drawn one.
    assert [entrant(t) for t in sorted(stayed, key=seq.get)] == drawn["entrants"]
    assert min(seq[t] for t in late_tokens) > max(seq[t] for t in stayed)
    # Admissions in that order (FIFO by the admission times Redis recorded).
    assert all(r.get("active") for r in records.values()), "a fan was never admitted"
    assert check_fifo([(t, seq[t], int(r["active"])) for t, r in records.items()]) == []

    # The project's verifier, as a fan would run it: exit 0 and the fan's place.
    place = drawn["entrants"].index(entrant(tokens[0])) + 1
    checked = subprocess.run([sys.executable, os.path.join(TOOLS, "verify_draw.py"), draw_url(draw_servers[0].url, gate),
                              "--token", tokens[0], "--commitment", commitment],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"place {place}\n" in checked.stdout, checked.stdout

    # Negative controls: the verifier catches a tampered seed, order or commitment.
    other_seed = dict(drawn, seed=hashlib.sha256(b"another seed").hexdigest())
    assert any("commitment" in p for p in verify_draw.problems_of(other_seed, commitment))
    swapped = list(drawn["entrants"])
    swapped[0], swapped[1] = swapped[1], swapped[0]
    assert any("order" in p for p in verify_draw.problems_of(dict(drawn, entrants=swapped), commitment))
    assert verify_draw.problems_of(drawn, "0" * 64) != []


def test_draw_audit_refusals(draw_servers, draw_redis):
    """No pre-queue, no draw: 404 DRAW_NOT_FOUND; a bad gate name: 400."""
    r = requests.get(draw_url(draw_servers[0].url, "performance_seats:00000000-0000-4000-8000-000000000000"),
                     timeout=30)
    assert r.status_code == 404 and r.json()["code"] == "DRAW_NOT_FOUND", r.text
    r = requests.get(draw_url(draw_servers[0].url, "no-such-gate"), timeout=30)
    assert r.status_code == 400 and r.json()["code"] == "BAD_REQUEST", r.text
