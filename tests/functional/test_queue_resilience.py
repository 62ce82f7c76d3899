"""The waiting queue fails closed (docs/api-contract.md, Booking flow): with Redis gone, a
gated call answers 503 QUEUE_UNAVAILABLE — never served unchecked, never a hang — while
calls that do not need the queue keep working; with Redis back on the same address, the
queue works again without restarting ticketd.

The test runs its own redis-server on a free port (the suite's shared Redis is never
touched) and one ticketd on it."""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import pytest
import requests

from conftest import (Admin, Client, Redis, RedisError, Server, assert_error, free_port, performance_body,
                      queue_headers, token_for)
from invariants import assert_invariants

OUTAGE_ANSWER_WITHIN = 15  # hang guard: 503s are expected at once, well within this
RECOVERY_WITHIN = 30


class RedisProcess:
    """A redis-server of our own on a loopback port: with an append-only file as the project's
    scripts start it (durable=True), or without persistence."""

    def __init__(self, durable=False):
        self.durable = durable
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="ticketd-redis-")
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.dir, "redis.log"), "ab")
        persistence = ["--appendonly", "yes", "--appendfsync", "everysec"] if self.durable else ["--appendonly", "no"]
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      *persistence, "--dir", self.dir], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                r = Redis(self.url, timeout=2)
                if r("PING") == "PONG":
                    r.close()
                    return self
            except (OSError, RedisError):  # not listening yet, or LOADING its file back
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}")
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None
        self.log.close()

    def cleanup(self):
        self.kill() if self.proc is not None else None
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def own_redis():
    r = RedisProcess().start()
    yield r
    r.cleanup()


def gated_until_served(c, method, path, body=None, timeout=RECOVERY_WITHIN):
    """A gated call repeated with the fan's token while it answers 202."""
    deadline = time.monotonic() + timeout
    while True:
        r = c.request(method, path, body)
        if r.status_code != 202:
            return r
        assert time.monotonic() < deadline, f"not served: {method} {path}"
        time.sleep(0.02)


def test_redis_outage_fails_closed_and_recovers(own_redis, db, logdir):
    s = Server(db.url, logdir, "redisfault", REDIS_URL=own_redis.url).start()
    try:
        admin = Admin(s.url)
        made = admin.create_performance(performance_body(seats=2, price=1000))
        assert made.status_code == 201, made.text
        schedule = made.json()["performance_staging_date"][0]
        seat_a, seat_b = schedule["seat_ids"]

        def user(balance):
            (user_id,) = db.query("""INSERT INTO users (email_address, password_hash, balance)
                                     VALUES (%s, 'x', %s) RETURNING id""", (f"rf-{uuid.uuid4().hex}@example.com",
                                                                          balance))[0]
            user_id = str(user_id)
            if balance:
                db.query("INSERT INTO ledger_entries (user_id, amount, cause) VALUES (%s, %s, 'CHARGED_BY_USER')",
                         (user_id, balance))
            c = Client(s.url, token_for(user_id))
            c.user_id = user_id
            return c

        # Mid-sale: one fan holds seat A (taken through the queue), another holds an ACTIVE
        # step-3 token, a third has an ACTIVE step-1 token.
        holder = user(5000)
        assert gated_until_served(holder, "GET", "/reservation/performances").status_code == 200
        assert gated_until_served(holder, "GET", f"/reservation/performance_seats/{schedule['id']}").status_code == 200
        r = gated_until_served(holder, "PATCH", "/reservation/take_performance_seat", {"performance_seat_id": seat_a})
        assert r.status_code == 200, r.text
        # ...and the only seat of a second schedule, whose payment will sell it out.
        made = admin.create_performance(performance_body(seats=1, price=1000))
        assert made.status_code == 201, made.text
        small = made.json()["performance_staging_date"][0]
        assert gated_until_served(holder, "GET", "/reservation/performances").status_code == 200
        assert gated_until_served(holder, "GET", f"/reservation/performance_seats/{small['id']}").status_code == 200
        r = gated_until_served(holder, "PATCH", "/reservation/take_performance_seat",
                               {"performance_seat_id": small["seat_ids"][0]})
        assert r.status_code == 200, r.text
        taker = user(5000)
        assert gated_until_served(taker, "GET", "/reservation/performances").status_code == 200
        assert gated_until_served(taker, "GET", f"/reservation/performance_seats/{schedule['id']}").status_code == 200
        r = taker.patch("/reservation/take_performance_seat", {})
        assert r.status_code == 202, r.text
        step3_token = r.json()["queue_data"]["id"]
        deadline = time.monotonic() + RECOVERY_WITHIN
        while taker.get("/queue/queue", headers=queue_headers(step3_token)).json()["status"] != "ACTIVE":
            assert time.monotonic() < deadline, "step-3 token not admitted"
            time.sleep(0.02)
        browser = user(0)
        assert gated_until_served(browser, "GET", "/reservation/performances").status_code == 200

        own_redis.kill()
        started = time.monotonic()
        # Gated calls: 503 in the error shape, even with an ACTIVE token; nothing served.
        assert_error(taker.patch("/reservation/take_performance_seat", {"performance_seat_id": seat_b},
                                 headers=queue_headers(step3_token)), 503, "QUEUE_UNAVAILABLE")
        assert_error(taker.patch("/reservation/take_performance_seat", {"performance_seat_id": seat_b}), 503,
                     "QUEUE_UNAVAILABLE")
        assert_error(browser.get("/reservation/performances"), 503, "QUEUE_UNAVAILABLE")
        assert_error(browser.get("/reservation/performaces"), 503, "QUEUE_UNAVAILABLE")
        assert_error(browser.get(f"/reservation/performance_seats/{schedule['id']}"), 503, "QUEUE_UNAVAILABLE")
        newcomer = user(0)
        for _ in range(5):
            assert_error(newcomer.get("/reservation/performances"), 503, "QUEUE_UNAVAILABLE")
        # The queue's own calls say so too.
        assert_error(taker.get("/queue/queue", headers=queue_headers(step3_token)), 503, "QUEUE_UNAVAILABLE")
        assert_error(newcomer.post("/queue/queue", {"request_endpoint": "/reservation/performances"}), 503,
                     "QUEUE_UNAVAILABLE")
        assert_error(taker.request("DELETE", "/queue/queue", headers=queue_headers(step3_token)), 503,
                     "QUEUE_UNAVAILABLE")
        assert_error(requests.get(s.url + "/queue/queue/stream?token=" + step3_token, timeout=30), 503,
                     "QUEUE_UNAVAILABLE")
        assert time.monotonic() - started < OUTAGE_ANSWER_WITHIN, "503 answers took too long (hang guard)"
        assert db.value("SELECT reservation_status::text FROM performance_seats WHERE id = %s", (seat_b,)) \
            == "AVAILABLE", "a take was served without the queue"

        # Calls that do not need the queue keep working, paying the last unsold seat of a
        # schedule included (its sold-out notice cannot reach Redis; the sale must not
        # depend on it).
        assert holder.balance().json() == {"balance": 5000}
        r = holder.charge(1000)
        assert r.status_code == 201 and r.json()["balance"] == 6000, r.text
        r = holder.pay(seat_a)
        assert r.status_code == 201, r.text
        r = holder.pay(small["seat_ids"][0])
        assert r.status_code == 201, r.text
        assert holder.balance().json() == {"balance": 4000}
        r = holder.history()
        assert r.status_code == 200 and [e["cause"] for e in r.json()].count("PAYMENT_PERFORMANCE_SEAT") == 2, r.text
        r = holder.my_seats()
        assert r.status_code == 200, r.text
        assert requests.get(s.url + "/healthz", timeout=30).status_code == 200
        assert s.proc.poll() is None, "ticketd exited while Redis was down"

        # Redis back on the same port, empty: the queue works again, no restart of ticketd.
        own_redis.start()
        deadline = time.monotonic() + RECOVERY_WITHIN
        while True:
            r = newcomer.get("/reservation/performances")
            if r.status_code in (200, 202):
                break
            assert_error(r, 503, "QUEUE_UNAVAILABLE")
            assert time.monotonic() < deadline, "the queue did not recover after Redis came back"
            time.sleep(0.2)
        assert gated_until_served(newcomer, "GET", "/reservation/performances").status_code == 200
        # The state before the outage is gone (non-persistent Redis): old tokens are unknown,
        # and their owners re-enter from step 1.
        assert_error(taker.get("/queue/queue", headers=queue_headers(step3_token)), 404, "QUEUE_TOKEN_NOT_FOUND")
        assert_error(taker.patch("/reservation/take_performance_seat", {"performance_seat_id": seat_b}), 400,
                     "QUEUE_FLOW_VIOLATED")
        assert gated_until_served(taker, "GET", "/reservation/performances").status_code == 200
        assert gated_until_served(taker, "GET", f"/reservation/performance_seats/{schedule['id']}").status_code == 200
        r = gated_until_served(taker, "PATCH", "/reservation/take_performance_seat", {"performance_seat_id": seat_b})
        assert r.status_code == 200, r.text
        assert taker.pay(seat_b).status_code == 201
        assert_invariants(db)
    finally:
        code = s.stop()
    assert code == 0, f"ticketd exit code {code} on SIGTERM"


def line_after_a_redis_crash(redis, db, logdir):
    """Fans waiting in a line that admits no one; Redis is killed (SIGKILL) and started again
    on the same files. Returns each fan's token, its place before, and its answer after."""
    s = Server(db.url, logdir, "redisrestart", REDIS_URL=redis.url, GATE_DEFAULT_CAPACITY=0,
               GATE_DEFAULT_RATE=0).start()
    try:
        fans = []
        for _ in range(30):
            (user_id,) = db.query("INSERT INTO users (email_address, password_hash) VALUES (%s, 'x') RETURNING id",
                                  (f"rr-{uuid.uuid4().hex}@example.com",))[0]
            fans.append(Client(s.url, token_for(str(user_id))))
        places = []
        for fan in fans:
            r = fan.get("/reservation/performances")
            assert r.status_code == 202, r.text
            places.append((fan, r.json()["queue_data"]["id"], r.json()["queue_data"]["rank"]))
        assert [rank for _, _, rank in places] == list(range(1, len(fans) + 1))

        redis.kill()
        assert_error(fans[0].get("/queue/queue", headers=queue_headers(places[0][1])), 503, "QUEUE_UNAVAILABLE")
        redis.start()

        # ticketd finds Redis again by itself: no restart.
        deadline = time.monotonic() + RECOVERY_WITHIN
        while fans[0].get("/queue/queue", headers=queue_headers(places[0][1])).status_code == 503:
            assert time.monotonic() < deadline, "ticketd did not reconnect to Redis"
            time.sleep(0.1)
        return [(token, rank, fan.get("/queue/queue", headers=queue_headers(token))) for fan, token, rank in places]
    finally:
        code = s.stop()
        assert code == 0, f"ticketd exit code {code} on SIGTERM"


def test_a_redis_crash_keeps_every_place_in_line(db, logdir):
    redis = RedisProcess(durable=True).start()
    try:
        for token, rank, answer in line_after_a_redis_crash(redis, db, logdir):
            assert answer.status_code == 200, answer.text
            assert answer.json()["id"] == token
            assert answer.json()["status"] == "WAITING"
            assert answer.json()["rank"] == rank, "a place in line moved across the restart"
    finally:
        redis.cleanup()


def test_negative_control_a_redis_without_persistence_loses_the_line(db, logdir):
    """The check above can fail: without the append-only file, the same crash loses every place."""
    redis = RedisProcess(durable=False).start()
    try:
        answers = line_after_a_redis_crash(redis, db, logdir)
        assert all(answer.status_code == 404 for _, _, answer in answers), [a.status_code for _, _, a in answers]
    finally:
        redis.cleanup()
