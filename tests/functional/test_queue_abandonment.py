"""Abandonment (docs/waiting-queue.md, Abandonment): a waiting fan with no call, poll or open
event stream for QUEUE_IDLE_SECONDS leaves the line and the ranks behind move up; an admitted
fan with no gated call for QUEUE_ACTIVE_IDLE_SECONDS frees the place. Fans who poll, stream
or keep calling stay. Two instances with idle limits of 2 s; what is checked is read from
Redis as well as from the answers."""

import threading
import time

import pytest
import requests

import queue_keys
from conftest import (SSE, Admin, insert_users, open_stream, queue_headers, redis_url_with_db, scratch_redis,
                      server_group, token_for)

IDLE_DB = 12
IDLE = 2  # seconds, both limits


@pytest.fixture(scope="module")
def idle_redis():
    with scratch_redis(IDLE_DB) as r:
        yield r


@pytest.fixture(scope="module")
def idle_servers(db, logdir, idle_redis):
    with server_group(db.url, logdir, "idle", 2, REDIS_URL=redis_url_with_db(IDLE_DB), QUEUE_TICK_MS=20,
                      QUEUE_IDLE_SECONDS=IDLE, QUEUE_ACTIVE_IDLE_SECONDS=IDLE) as started:
        yield started


def set_gate(base, gate, **settings):
    r = Admin(base).request("PUT", f"/admin/gates/{gate}", settings)
    assert r.status_code == 200, r.text


class Poller(threading.Thread):
    """Polls GET /queue/queue every 300 ms, as a waiting page would, recording the ranks."""

    def __init__(self, base, user, token_id):
        super().__init__(daemon=True)
        self.base, self.user, self.token_id = base, user, token_id
        self.answers = []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            r = requests.get(self.base + "/queue/queue", timeout=10,
                             headers={"Authorization": f"Bearer {token_for(self.user)}", **queue_headers(self.token_id)})
            self.answers.append((r.status_code, r.json()))
            time.sleep(0.3)

    def stop(self):
        self.stopping.set()
        self.join(timeout=10)


def test_idle_waiting_fans_leave_the_line_while_polling_and_streaming_ones_stay(idle_servers, idle_redis, db):
    """Four fans wait in a paused line: A does nothing after joining, B polls, C has an event
    stream open, D does nothing either. After a few idle limits A and D are gone (their
    token reads as expired, 410, and is out of the line in Redis); B and C still wait, B's
    rank moved from 2 to 1, and C's stream told C its new place (2, from 3)."""
    a, b, c, d = insert_users(db, 4)
    set_gate(idle_servers[0].url, "performances", rate=0)  # nobody is admitted: the line only waits
    tokens = {}
    for i, user in enumerate((a, b, c, d)):
        r = requests.get(idle_servers[i % 2].url + "/reservation/performances", timeout=10,
                         headers={"Authorization": f"Bearer {token_for(user)}"})
        assert r.status_code == 202, r.text
        assert r.json()["queue_data"]["rank"] == i + 1, r.text
        tokens[user] = r.json()["queue_data"]["id"]
    poller = Poller(idle_servers[1].url, b, tokens[b])
    poller.start()
    stream = SSE(open_stream(idle_servers[0].url, tokens[c], timeout=30))
    try:
        event, data = stream.next()
        assert event == "rank" and data["rank"] == 3, (event, data)
        time.sleep(3 * IDLE)
        line = idle_redis("ZRANGE", queue_keys.gate("performances", "waiting"), 0, -1)
        assert line == [tokens[b], tokens[c]], "only the fans who showed presence are still in line"
        for gone in (a, d):
            r = requests.get(idle_servers[0].url + "/queue/queue", timeout=10,
                             headers={"Authorization": f"Bearer {token_for(gone)}", **queue_headers(tokens[gone])})
            assert r.status_code == 410 and r.json()["code"] == "QUEUE_TOKEN_EXPIRED", r.text
        event, data = stream.next()
        assert event == "rank" and data["rank"] == 2, (event, data)
    finally:
        stream.close()
        poller.stop()
        set_gate(idle_servers[0].url, "performances", rate=1_000_000)
    assert poller.answers[0][1]["rank"] == 2 and poller.answers[-1][1]["rank"] == 1, poller.answers
    assert all(status == 200 and body["status"] == "WAITING" for status, body in poller.answers), poller.answers


def test_an_idle_admitted_fan_frees_the_place(idle_servers, idle_redis, db):
    """With the performances gate's capacity 1, fan A is admitted and then calls nothing; after
    the active idle limit A's place is free (A's token expired, out of the active set) and B,
    waiting behind (and polling), is admitted. B, admitted in turn, keeps calling the step
    every 500 ms and keeps the place for longer than the limit."""
    a, b = insert_users(db, 2)
    set_gate(idle_servers[0].url, "performances", capacity=1, rate=1_000_000)
    try:
        heads = {u: {"Authorization": f"Bearer {token_for(u)}"} for u in (a, b)}
        first = requests.get(idle_servers[0].url + "/reservation/performances", headers=heads[a], timeout=10)
        token_a = first.json()["queue_data"]["id"]
        deadline = time.monotonic() + 10
        while requests.get(idle_servers[0].url + "/reservation/performances", timeout=10,
                           headers={**heads[a], **queue_headers(token_a)}).status_code != 200:
            assert time.monotonic() < deadline, "A was never admitted"
            time.sleep(0.05)
        r = requests.get(idle_servers[1].url + "/reservation/performances", headers=heads[b], timeout=10)
        assert r.status_code == 202, r.text
        token_b = r.json()["queue_data"]["id"]
        admitted_at = None
        deadline = time.monotonic() + 5 * IDLE
        while admitted_at is None:
            r = requests.get(idle_servers[1].url + "/reservation/performances", timeout=10,
                             headers={**heads[b], **queue_headers(token_b)})
            if r.status_code == 200:
                admitted_at = time.monotonic()
            assert time.monotonic() < deadline, "A's idle place was never freed for B"
            time.sleep(0.1)
        assert idle_redis("ZRANGE", queue_keys.gate("performances", "active"), 0, -1) == [token_b]
        assert idle_redis("HGET", queue_keys.token(token_a), "status") == "EXPIRED"
        # B keeps calling: the place stays B's past the idle limit.
        while time.monotonic() < admitted_at + 2 * IDLE:
            r = requests.get(idle_servers[0].url + "/reservation/performances", timeout=10,
                             headers={**heads[b], **queue_headers(token_b)})
            assert r.status_code == 200, r.text
            time.sleep(0.5)
        assert idle_redis("ZRANGE", queue_keys.gate("performances", "active"), 0, -1) == [token_b]
    finally:
        set_gate(idle_servers[0].url, "performances", capacity=1_000_000, rate=1_000_000)
