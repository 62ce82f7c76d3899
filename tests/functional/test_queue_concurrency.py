"""I4 across instances (docs/api-contract.md, Invariants): a gate never has more active
tokens than its capacity, and admits in FIFO order — with three `ticketd` processes ticking
the same gate at once and a few hundred fans arriving, polling and leaving through all of
them.

The instances have a Redis database of their own (db 7), so the session's instances and
their wide-open gates never touch this gate. What is checked is read back from Redis: a
sampler thread reads the gate's active set while the sale runs, and each fan reads its own
token's record (arrival number `seq`, admission time `active`) when it is served."""

import random
import threading
import time

import pytest

import queue_keys
from conftest import (SSE, GateSampler, Redis, insert_users, open_stream, redis_url_with_db, scratch_redis, server_group,
                      run_parallel, thread_session, token_for)
from invariants import check_capacity, check_fifo

QUEUE_DB = 7
CAPACITY = 5
RATE = 50
FANS = 200
GATE = "performances"
ACTIVE_KEY = "tp:gate:{performances}:active"
WAITING_KEY = "tp:gate:{performances}:waiting"


@pytest.fixture(scope="module")
def gate_redis():
    with scratch_redis(QUEUE_DB) as r:
        yield r


@pytest.fixture(scope="module")
def gate_servers(db, logdir, gate_redis):
    # Tokens valid 2 s: an admitted fan who stalls frees the place by itself.
    with server_group(db.url, logdir, "gate", 3, REDIS_URL=redis_url_with_db(QUEUE_DB),
                      GATE_DEFAULT_CAPACITY=CAPACITY, GATE_DEFAULT_RATE=RATE, QUEUE_TICK_MS=20,
                      QUEUE_TOKEN_TTL_SECONDS=2) as started:
        yield started


def test_gate_capacity_and_fifo_across_instances(gate_servers, gate_redis, db, make_performance):
    """I4: with 3 instances ticking the same gates (capacity 5, 50 admissions/s each) and 200
    fans arriving at random moments through all of them, polling and leaving after a short
    hold — half of them by DELETE, half by the hand-over to step 2 of one schedule, whose
    line they then wait in and leave by DELETE — ZCARD of each gate's active set, sampled
    from Redis every ~20 ms, never exceeds 5; every fan is admitted to each step it queued
    for; and in each gate the order of admission (each token's `active` time in Redis, ties
    broken by arrival number; and separately the sample in which the sampler first saw it
    active) equals the order of arrival (the token's `seq` in that gate's line)."""
    redis_url = redis_url_with_db(QUEUE_DB)
    schedule = make_performance(seats=1).schedule_id
    step2_gate = f"performance_seats:{schedule}"
    step2_path = f"/reservation/performance_seats/{schedule}"
    ids = insert_users(db, FANS)
    lock = threading.Lock()
    reader = Redis(redis_url)
    rng = random.Random(4)
    plan = [(i, user_id, rng.uniform(0, 2.0), rng.uniform(0.02, 0.15)) for i, user_id in enumerate(ids)]

    def read_token(token_id):
        with lock:
            return reader.hgetall(queue_keys.token(token_id))

    def through(http, i, path, headers, r):
        """From a 202, polls the gated call with the token it names until served; returns
        the admission as recorded in Redis at that moment."""
        assert r.status_code == 202, (r.status_code, r.text)
        token_id = r.json()["queue_data"]["id"]
        arrival = int(read_token(token_id)["seq"])
        headers["Queue-Token"] = f"Bearer {token_id}"
        polls = 0
        while r.status_code == 202:
            # Polls spread over the instances, slower further back in line (Retry-After, loosely).
            rank = r.json()["queue_data"]["rank"]
            time.sleep(min(int(r.headers["Retry-After"]), 0.05 + 0.01 * rank))
            polls += 1
            r = http.get(gate_servers[(i + polls) % 3].url + path, headers=headers, timeout=60)
        assert r.status_code == 200, (r.status_code, r.text)
        record = read_token(token_id)
        # Served while active; by the time it is read back (2 s tokens, a slow sanitizer build)
        # a tick may have marked the admission EXPIRED: it keeps its admission time either way.
        assert record["status"] in ("ACTIVE", "EXPIRED") and record.get("active"), record
        assert record["user"] == plan[i][1], record
        return {"id": token_id, "arrival": arrival, "seq": int(record["seq"]), "active": int(record["active"])}

    def fan(item):
        i, user_id, arrive_after, hold = item
        base = gate_servers[i % 3].url
        headers = {"Authorization": f"Bearer {token_for(user_id)}"}
        http = thread_session()
        time.sleep(arrive_after)
        first = through(http, i, "/reservation/performances", headers,
                        http.get(base + "/reservation/performances", headers=headers, timeout=60))
        time.sleep(hold)
        second = None
        if i % 2:
            # The hand-over consumes the step-1 token (its place frees) for a step-2 one.
            second = through(http, i, step2_path, headers, http.get(base + step2_path, headers=headers, timeout=60))
            time.sleep(hold)
        left = http.delete(base + "/queue/queue", headers=headers, timeout=60)
        assert left.status_code == 200, left.text
        return first, second

    samplers = {gate: GateSampler(redis_url, queue_keys.gate(gate, "active")) for gate in (GATE, step2_gate)}
    for sampler in samplers.values():
        sampler.start()
    try:
        results = run_parallel(fan, plan, workers=FANS, timeout=240)
    finally:
        for sampler in samplers.values():
            sampler.stop()
        reader.close()

    by_gate = {GATE: [first for first, _ in results], step2_gate: [second for _, second in results if second]}
    assert len(by_gate[step2_gate]) == FANS // 2
    for gate, admissions in by_gate.items():
        sampler = samplers[gate]
        # Capacity, as sampled from Redis during the whole run.
        problems = check_capacity(sampler.samples, CAPACITY)
        assert not problems, f"{gate}:\n" + "\n".join(problems[:20])
        peak = max(count for _, count in sampler.samples)
        assert peak == CAPACITY, f"{gate} was never full (peak {peak}): the run did not press on its capacity"
        # Everyone admitted, each token once, and nobody left in line or admitted.
        assert len({a["id"] for a in admissions}) == len(admissions)
        assert gate_redis("ZCARD", queue_keys.gate(gate, "active")) == 0, gate
        assert gate_redis("ZCARD", queue_keys.gate(gate, "waiting")) == 0, gate
        assert int(gate_redis("HGET", queue_keys.gate(gate, "state"), "admitted")) >= len(admissions)
        # FIFO by the admission times Redis recorded. A fan whose admission expired before
        # it polled was re-queued with a new arrival number: its admission is the later one.
        assert len({a["seq"] for a in admissions}) == len(admissions), f"{gate}: arrival numbers must be unique"
        problems = check_fifo([(a["id"], a["seq"], a["active"]) for a in admissions])
        assert not problems, f"{gate}:\n" + "\n".join(problems[:20])
        # FIFO by what the sampler saw (only tokens it caught while admitted, and only those
        # admitted once: a re-queued token's first sighting belongs to its first arrival).
        once = {a["id"]: a["seq"] for a in admissions if a["seq"] == a["arrival"]}
        seen = [(token_id, once[token_id], n) for token_id, n in sampler.first_seen.items() if token_id in once]
        assert len(seen) >= len(admissions) // 2, f"{gate}: the sampler saw only {len(seen)} admitted tokens"
        problems = check_fifo(seen)
        assert not problems, f"{gate}:\n" + "\n".join(problems[:20])


def test_streams_follow_one_line_across_instances(gate_servers, gate_redis, db):
    """I4 seen by the streams: 20 fans wait in a paused line, each with an SSE stream open on
    one of the 3 instances; when the gate opens (capacity 5), every stream ends with
    `admitted` in arrival order (the `active` time each stream reports, ties by `seq`), and
    no more than 5 tokens are ever active (sampled from Redis)."""
    gate_redis("FLUSHDB")
    admin_url = gate_servers[0].url
    http = thread_session()
    admin = {"Authorization": "Bearer dev-admin-key"}
    r = http.put(admin_url + "/admin/gates/performances", json={"capacity": 0}, headers=admin, timeout=30)
    assert r.status_code == 200, r.text
    ids = insert_users(db, 20)
    tokens = []
    for i, user_id in enumerate(ids):
        r = http.get(gate_servers[i % 3].url + "/reservation/performances",
                     headers={"Authorization": f"Bearer {token_for(user_id)}"}, timeout=30)
        assert r.status_code == 202, r.text
        tokens.append(r.json()["queue_data"]["id"])
    seqs = {t: int(gate_redis("HGET", queue_keys.token(t), "seq")) for t in tokens}
    streams = []
    try:
        for i, t in enumerate(tokens):
            s = open_stream(gate_servers[(i + 1) % 3].url, t, timeout=30)
            assert s.status_code == 200, s.text
            streams.append((t, SSE(s)))
            name, data = streams[-1][1].next()
            assert name == "rank" and data["rank"] == i + 1, (name, data)

        def follow(item):
            token_id, events = item
            while True:
                event = events.next()
                assert event is not None, f"stream of {token_id} closed before admission"
                if event[0] == "admitted":
                    return token_id, event[1]
                assert event[0] == "rank", event

        sampler = GateSampler(redis_url_with_db(QUEUE_DB), ACTIVE_KEY)
        sampler.start()
        try:
            r = http.put(admin_url + "/admin/gates/performances", json={"capacity": CAPACITY}, headers=admin,
                         timeout=30)
            assert r.status_code == 200, r.text

            # The admitted leave, so the rest move up; each follower leaves once admitted.
            def follow_and_leave(item):
                token_id, data = follow(item)  # data: the token info of the admission
                idx = tokens.index(token_id)
                left = thread_session().delete(
                    admin_url + "/queue/queue",
                    headers={"Authorization": f"Bearer {token_for(ids[idx])}", "Queue-Token": f"Bearer {token_id}"},
                    timeout=30)
                assert left.status_code == 200, left.text
                return token_id, data

            admitted = run_parallel(follow_and_leave, streams, workers=len(streams), timeout=120)
        finally:
            sampler.stop()
    finally:
        for _, events in streams:
            events.close()
    for token_id, data in admitted:
        assert data["id"] == token_id and data["status"] == "ACTIVE" and data["rank"] == 0, data
    problems = check_capacity(sampler.samples, CAPACITY)
    assert not problems, "\n".join(problems[:20])
    problems = check_fifo([(t, seqs[t], data["active_timestamp"]) for t, data in admitted])
    assert not problems, "\n".join(problems[:20])
