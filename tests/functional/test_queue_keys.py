"""Redis's memory follows the crowd, not the history of sales (docs/waiting-queue.md, What
the queue keeps): a small sale run to its end leaves no per-fan or per-gate key behind once
the tokens' lifetimes pass, and at every moment each such key either expires by itself or
belongs to a token still in a line (removed with it).

The instance runs on a Redis database of its own with short lifetimes (admissions valid
2 s, ended records kept 2 s), so "once the lifetimes pass" is seconds, not a day."""

import time

import queue_keys
from conftest import Admin, Client, Server, gate_path, insert_users, performance_body, queue_headers, \
    redis_url_with_db, scratch_redis, token_for

KEYS_DB = 10
TOKEN_TTL = 2
RETENTION = 2
GONE_WITHIN = 30  # the lifetimes (4 s) plus ticks, with room for a loaded machine


def per_fan_or_gate_keys(r):
    """Every queue key a sale creates, except the schedule's own (sold-out mark, seat list
    version and change log) and gate settings an operator set (configuration)."""
    keys = r("KEYS", "tp:*")
    return sorted(k for k in keys
                  if not k.startswith(("tp:soldout:", "tp:seatmap:")) and not k.endswith(":settings"))


def keys_that_never_expire(r):
    """Queue keys with no expiry, other than those of tokens still waiting in a line (which
    go with their token) and a gate's line itself while it holds someone."""
    waiting = set()
    for gate_key in r("KEYS", "tp:gate:*:waiting"):
        waiting.update(r("ZRANGE", gate_key, 0, -1))
    lasting = []
    for k in per_fan_or_gate_keys(r):
        if r("TTL", k) != -1:
            continue
        if k.startswith("tp:token:") and queue_keys.token_id_of(k) in waiting:
            continue
        if k.startswith("tp:user:") and r("GET", k) in waiting:
            continue
        if k.endswith((":waiting", ":active", ":seen", ":called", ":prequeue")) or k == queue_keys.GATES_IN_USE:
            continue  # deleted by Redis when empty (the last two follow the line and the admitted)
        if k.endswith(":state") and (r("ZCARD", k[:-len("state")] + "waiting") > 0
                                     or r("ZCARD", k[:-len("state")] + "active") > 0):
            continue  # the arrival numbers of a gate with someone in it
        lasting.append(k)
    return lasting


def test_a_sale_run_to_its_end_leaves_no_queue_key(db, logdir):
    with scratch_redis(KEYS_DB) as r:
        s = Server(db.url, logdir, "keys", REDIS_URL=redis_url_with_db(KEYS_DB), QUEUE_TOKEN_TTL_SECONDS=TOKEN_TTL,
                   QUEUE_RECORD_RETENTION_SECONDS=RETENTION).start()
        try:
            admin = Admin(s.url)
            made = admin.create_performance(performance_body(seats=2, price=1000))
            assert made.status_code == 201, made.text
            schedule = made.json()["performance_staging_date"][0]
            seats_path = f"/reservation/performance_seats/{schedule['id']}"

            def fan():
                (user_id,) = insert_users(db, 1, balance=5000)
                c = Client(s.url, token_for(user_id))
                c.user_id = user_id
                return c

            buyers = [fan(), fan()]
            leaver, idler, late_a, late_b = fan(), fan(), fan(), fan()

            # A fan who joins the line and leaves it; one admitted who never comes back.
            r_ = leaver.get("/reservation/performances")
            assert r_.status_code == 202, r_.text  # a first call always joins the line
            leave = leaver.request("DELETE", "/queue/queue", headers=queue_headers(r_.json()["queue_data"]["id"]))
            assert leave.status_code == 200, leave.text
            assert idler.gated("GET", "/reservation/performances").status_code == 200

            # The first buyer takes and pays; the seat gate is then paused, so two late fans
            # wait in its line when the last seat is paid for.
            first, last = buyers
            for b, seat in zip(buyers, schedule["seat_ids"]):
                r_ = b.take(seat, schedule["id"])
                assert r_.status_code == 200, r_.text
            assert first.pay(schedule["seat_ids"][0]).status_code == 201
            gate = f"performance_seats:{schedule['id']}"
            assert admin.request("PUT", gate_path(gate), {"rate": 0}).status_code == 200
            late_tokens = []
            for late in (late_a, late_b):
                assert late.gated("GET", "/reservation/performances").status_code == 200
                r_ = late.get(seats_path)
                assert r_.status_code == 202, r_.text
                late_tokens.append(r_.json()["queue_data"]["id"])
            assert last.pay(schedule["seat_ids"][1]).status_code == 201  # sold out

            deadline = time.monotonic() + GONE_WITHIN
            while any(late.get("/queue/queue", headers=queue_headers(t)).json()["status"] != "SOLD_OUT"
                      for late, t in zip((late_a, late_b), late_tokens)):
                assert time.monotonic() < deadline, "the late fans were not told the schedule sold out"
                time.sleep(0.05)

            # Right after the sale, records of ended tokens are still there (a late call can be
            # told what became of its token): the check below can fail. Each of them expires.
            left = per_fan_or_gate_keys(r)
            assert any(k.startswith("tp:token:") for k in left) and any(k.startswith("tp:user:") for k in left), left
            assert keys_that_never_expire(r) == []

            # Once the lifetimes pass, nothing of the sale's crowd is left.
            deadline = time.monotonic() + GONE_WITHIN
            while per_fan_or_gate_keys(r):
                assert time.monotonic() < deadline, f"queue keys left: {per_fan_or_gate_keys(r)}"
                time.sleep(0.2)
            assert r("EXISTS", queue_keys.sold_out(schedule["id"])) == 1  # the schedule's own state stays
        finally:
            assert s.stop() == 0


def test_the_check_finds_a_key_without_expiry(db, logdir):
    """Negative control: a per-fan key left without expiry is reported."""
    with scratch_redis(KEYS_DB) as r:
        r("SET", "tp:user:00000000-0000-0000-0000-000000000000", "11111111-1111-1111-1111-111111111111")
        assert keys_that_never_expire(r) == ["tp:user:00000000-0000-0000-0000-000000000000"]
        assert per_fan_or_gate_keys(r) == ["tp:user:00000000-0000-0000-0000-000000000000"]
