#!/usr/bin/python3
"""The draw of a large pre-queue (docs/waiting-queue.md, "The fair start"), measured:

    draw_bench.py TICKETD_URL REDIS_URL FANS [--open-in SECONDS] [--rate N]

Creates a performance whose ticketing starts OPEN_IN seconds later, fills its seat-list
gate's pre-queue with FANS entries written straight into Redis in the form the gate's script
writes them (a hundred thousand fans through the API would measure the API, which other
parts of the benchmark do), and lets the running instances draw it at the start. Prints one
JSON line: entrants, how long after the start the draw was published (by Redis's clock, the
tick's wait included), when the first fan was admitted, and whether the published draw checks
out (tools/verify_draw.py's rules). Exits 1 if it does not, or if the line is not the
published order.
"""

import argparse
import hashlib
import json
import os
import sys
import time
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

import queue_keys
from queue_line import Redis
from verify_draw import problems_of

ADMIN = {"Authorization": "Bearer dev-admin-key", "Content-Type": "application/json"}


def call(method, url, body=None):
    request = urllib.request.Request(url, method=method, headers=ADMIN,
                                     data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ticketd")
    parser.add_argument("redis")
    parser.add_argument("fans", type=int)
    parser.add_argument("--open-in", type=float, default=15.0)
    parser.add_argument("--rate", type=int, default=1000, help="the gate's admissions per second")
    args = parser.parse_args(argv)

    opens = (datetime.now(timezone.utc) + timedelta(seconds=args.open_in)).replace(microsecond=0)
    created = call("POST", args.ticketd + "/admin/performances", {
        "title": "The draw", "ticketing_start_date": iso(opens), "stage": {"name": "Arena", "location": "Seoul"},
        "schedules": [{"staging_date": iso(opens + timedelta(days=30)), "seat_count": 10, "price": 1000}]})
    schedule = created["performance_staging_date"][0]["id"]
    gate = f"performance_seats:{schedule}"
    call("PUT", f"{args.ticketd}/admin/gates/{urllib.parse.quote(gate, safe='')}", {"rate": args.rate})

    redis = Redis(args.redis)
    opens_ms = int(opens.timestamp() * 1000)
    seed = os.urandom(32)
    commitment = hashlib.sha256(seed).hexdigest()
    now_ms = int(time.time() * 1000)
    endpoint = f"/reservation/performance_seats/{schedule}"
    commands = [("HSET", queue_keys.gate(gate, "draw"), "opens_at", opens_ms, "commitment", commitment,
                 "seed", seed.hex())]
    tokens = []
    for n in range(1, args.fans + 1):
        token = f"{schedule}.{uuid.uuid4()}"
        user = str(uuid.uuid4())
        tokens.append(token)
        commands += [
            ("HSET", queue_keys.token(token), "user", user, "gate", gate, "endpoint", endpoint, "status", "PRE_QUEUE",
             "seq", n, "issued", now_ms, "opens", opens_ms),
            ("ZADD", queue_keys.gate(gate, "prequeue"), n, token),
            ("SET", queue_keys.user_in_tag(schedule, user), token)]
    commands += [("HSET", queue_keys.gate(gate, "state"), "seq", args.fans), ("SADD", queue_keys.GATES_IN_USE, gate)]
    filled = time.monotonic()
    redis.pipeline(commands)
    filled = time.monotonic() - filled
    if time.time() * 1000 >= opens_ms - 1000:
        sys.exit(f"the pre-queue took {filled:.1f} s to fill and the start came first: raise --open-in")

    draw_url = f"{args.ticketd}/queue/draws/{urllib.parse.quote(gate, safe='')}"
    while time.time() * 1000 < opens_ms:
        time.sleep(0.01)
    deadline = time.monotonic() + 120
    while "drawn_at" not in (draw := call("GET", draw_url)):
        if time.monotonic() > deadline:
            sys.exit("not drawn within 120 s of the start")
        time.sleep(0.02)
    drawn_ms = int(datetime.fromisoformat(draw["drawn_at"].replace("Z", "+00:00")).timestamp() * 1000)

    # The first place's token (the line's head may have been admitted by now: its record
    # has the moment of admission, set by Redis's clock).
    token_of = {hashlib.sha256(t.encode()).hexdigest(): t for t in tokens}
    head = token_of.get(draw["entrants"][0]) if draw["entrants"] else None
    deadline = time.monotonic() + 30
    while True:
        active = redis("HGET", queue_keys.token(head), "active") if head else None
        if active or time.monotonic() > deadline:
            break
        time.sleep(0.01)

    problems = problems_of(draw, commitment)
    if len(draw["entrants"]) != args.fans:
        problems.append(f"{len(draw['entrants'])} entrants published for {args.fans} pre-queued")
    line = redis("ZRANGE", queue_keys.gate(gate, "waiting"), 0, -1) or []
    placed = [hashlib.sha256(t.encode()).hexdigest() for t in line]
    if placed and placed != draw["entrants"][len(draw["entrants"]) - len(placed):]:
        problems.append("the line is not in the published order")
    print(json.dumps({
        "entrants": len(draw["entrants"]),
        "fill_seconds": round(filled, 2),
        "drawn_after_ms": drawn_ms - opens_ms,
        "first_admitted_after_ms": int(active) - opens_ms if active else None,
        "checks_out": not problems,
        "problems": problems[:5]}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
