"""The waiting queue on a Redis Cluster (docs/waiting-queue.md, Redis Cluster): three ticketd
instances on a real cluster of 3 masters and 3 replicas that scripts/test.sh starts
(TEST_REDIS_CLUSTER_URL). The booking flow and the queue's rules hold
there as on one Redis, a gate's keys live on the master of its tag's slot, schedules' gates
spread over the masters, and the failover of the master holding a busy line keeps every
place in it."""

import os
import subprocess
import threading
import time
import urllib.parse

import pytest

import queue_keys
from conftest import (Admin, Client, GateSampler, Redis, gate_path, insert_users, performance_body, queue_headers,
                      server_group, token_for)
from invariants import check_capacity

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
FAILOVER_WITHIN = 30  # node timeout 2 s, then the election; room for a loaded machine
RECOVERY_WITHIN = 10  # once the replica took over


def _cluster_url():
    url = os.environ.get("TEST_REDIS_CLUSTER_URL")
    if not url:
        if os.environ.get("TEST_REQUIRE_SERVERS") == "1":
            pytest.fail("TEST_REDIS_CLUSTER_URL is not set (scripts/test.sh starts a cluster)")
        pytest.skip("TEST_REDIS_CLUSTER_URL is not set")
    return url


class Cluster:
    """Reads the cluster's own view of itself: which master serves a key's slot."""

    def __init__(self, url):
        netloc = urllib.parse.urlsplit(url).netloc
        self.seeds = [tuple(s.rsplit(":", 1)) for s in netloc.split(",")]

    def _any(self, *command):
        last = None
        for host, port in self.seeds + [("127.0.0.1", p) for p in self.ports()]:
            r = Redis(f"redis://{host}:{port}", timeout=2)
            try:
                return r(*command)
            except (OSError, ConnectionError) as e:
                last = e
            finally:
                r.close()
        raise last

    def ports(self):
        first = int(self.seeds[0][1])
        return [first + i for i in range(6)]

    def master_of_slot(self, slot):
        for start, end, master, *_ in self._any("CLUSTER", "SLOTS"):
            if int(start) <= slot <= int(end):
                return f"{master[0]}:{master[1]}"
        return None

    def master_of(self, key):
        return self.master_of_slot(int(self._any("CLUSTER", "KEYSLOT", key)))

    def __call__(self, *command):
        """One command on the master of its key's slot."""
        r = Redis(f"redis://{self.master_of(command[1])}")
        try:
            return r(*command)
        finally:
            r.close()


@pytest.fixture(scope="module")
def cluster():
    return Cluster(_cluster_url())


@pytest.fixture(scope="module")
def cservers(db, logdir, cluster):
    with server_group(db.url, logdir, "cluster", 3, REDIS_URL=_cluster_url(), QUEUE_TICK_MS=20) as group:
        yield group


def fan(db, base, balance=0):
    (user_id,) = insert_users(db, 1, balance=balance)
    c = Client(base, token_for(user_id))
    c.user_id = user_id
    return c


def test_the_booking_flow_runs_on_the_cluster_and_each_gate_keeps_to_its_slot(db, cservers, cluster):
    admin = Admin(cservers[0].url)
    made = admin.create_performance(performance_body(seats=2, price=1000))
    assert made.status_code == 201, made.text
    schedule = made.json()["performance_staging_date"][0]
    sid, seat = schedule["id"], schedule["seat_ids"][0]
    c = fan(db, cservers[1].url, balance=5000)
    r = c.take(seat, sid)  # steps 1 to 3, each through its gate, then the take
    assert r.status_code == 200, r.text
    paid = c.with_base(cservers[2].url)
    paid.user_id = c.user_id
    assert paid.pay(seat).status_code == 201
    # A schedule's gates, its tokens and its sold-out mark share the master of its slot.
    master = cluster.master_of(queue_keys.sold_out(sid))
    for gate in (f"performance_seats:{sid}", f"take_performance_seat:{sid}"):
        for part in ("state", "waiting", "active"):
            assert cluster.master_of(queue_keys.gate(gate, part)) == master, (gate, part)
    assert cluster.master_of(queue_keys.token(f"{sid}.00000000-0000-4000-8000-000000000000")) == master
    assert int(cluster("HGET", queue_keys.gate(f"performance_seats:{sid}", "state"), "admitted")) >= 1


def test_schedules_gates_spread_over_the_masters(db, cservers, cluster):
    admin = Admin(cservers[0].url)
    made = admin.create_performance(performance_body(schedules=12, seats=1))
    assert made.status_code == 201, made.text
    masters = {cluster.master_of(queue_keys.gate(f"performance_seats:{s['id']}", "waiting"))
               for s in made.json()["performance_staging_date"]}
    assert len(masters) >= 2, masters  # 12 random schedules on one master of three: (1/3)^11
    # A fan lines up for two schedules on different masters through different instances.
    by_master = {}
    for s in made.json()["performance_staging_date"]:
        by_master.setdefault(cluster.master_of(queue_keys.sold_out(s["id"])), s["id"])
    for n, sid in enumerate(list(by_master.values())[:2]):
        c = fan(db, cservers[n].url)
        r = c.seats(sid)
        assert r.status_code == 200, r.text


def test_capacity_holds_across_instances_on_the_cluster(db, cservers, cluster):
    """I4 on the cluster: 60 fans through three instances, a gate of capacity 5; the active
    set, sampled on the master that holds it, never holds more than 5, and everyone is served."""
    capacity, fans = 5, 60
    admin = Admin(cservers[0].url)
    gate = "performances"
    assert admin.request("PUT", gate_path(gate), {"capacity": capacity, "rate": 50}).status_code == 200
    master = cluster.master_of(queue_keys.gate(gate, "active"))
    sampler = GateSampler(f"redis://{master}", queue_keys.gate(gate, "active"), interval=0.005)
    sampler.start()
    served, errors = [], []

    def one(n):
        c = fan(db, cservers[n % 3].url)
        deadline = time.monotonic() + 120
        token = None
        while time.monotonic() < deadline:
            r = c.get("/reservation/performances", headers=queue_headers(token) if token else None)
            if r.status_code == 200:
                served.append(n)
                c.request("DELETE", "/queue/queue", headers=queue_headers(token))
                return
            if r.status_code != 202:
                errors.append(r.text)
                return
            token = r.json()["queue_data"]["id"]
            time.sleep(0.05)
        errors.append(f"fan {n} not served in time")

    try:
        threads = [threading.Thread(target=one, args=(n,)) for n in range(fans)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sampler.stop()
        admin.request("PUT", gate_path(gate), {"capacity": 1000000, "rate": 1000000})
    assert errors == [], errors[:3]
    assert len(served) == fans
    assert max(count for _, count in sampler.samples) >= 2, "the sampler must see the gate busy"
    assert check_capacity(sampler.samples, capacity) == []


def _node(port, *command):
    r = Redis(f"redis://127.0.0.1:{port}", timeout=2)
    try:
        return r(*command)
    finally:
        r.close()


def _node_pid(port):
    info = _node(port, "INFO", "server")
    return int(next(line.split(":")[1] for line in info.splitlines() if line.startswith("process_id:")))


def _try_node(port, *command):
    try:
        return _node(port, *command)
    except (OSError, ConnectionError):
        return ""


def _restart_node(node_dir):
    """The killed node again, on its own files (scripts/lib.sh, start_redis_node): it rejoins
    the cluster from its nodes.conf, as a replica of the master that replaced it."""
    subprocess.run(["redis-server", os.path.join(node_dir, "redis.conf")], check=True, timeout=30)


def test_the_failover_of_a_busy_lines_master_keeps_every_place(db, cservers, cluster):
    """kill -9 of the master holding the performances line while 30 fans wait in it: once its
    replica has taken over (by itself), every fan is told the same place, in the same order;
    meanwhile the instances answer 503, never 500, and recover without a restart."""
    admin = Admin(cservers[0].url)
    gate = "performances"
    assert admin.request("PUT", gate_path(gate), {"rate": 0}).status_code == 200  # paused: the line stays
    fans, tokens = [], []
    for n in range(30):
        c = fan(db, cservers[n % 3].url)
        r = c.get("/reservation/performances")
        assert r.status_code == 202, r.text
        fans.append(c)
        tokens.append(r.json()["queue_data"]["id"])
    line = queue_keys.gate(gate, "waiting")
    before = cluster("ZRANGE", line, 0, -1)
    assert [t for t in before if t in tokens] == tokens, "joined in this order"
    master = cluster.master_of(line)
    port = int(master.rsplit(":", 1)[1])
    node_dir = _node(port, "CONFIG", "GET", "dir")[1]
    os.kill(_node_pid(port), 9)
    try:
        statuses = set()
        deadline = time.monotonic() + FAILOVER_WITHIN
        while True:
            r = fans[0].get("/queue/queue", headers=queue_headers(tokens[0]))
            statuses.add(r.status_code)
            if r.status_code == 200 and cluster.master_of(line) not in (None, master):
                break
            assert time.monotonic() < deadline, f"no failover within {FAILOVER_WITHIN}s: {statuses}"
            time.sleep(0.2)
        assert statuses <= {200, 503}, statuses
        # Every instance (each event loop learns the new master on its first failed command)
        # answers again within RECOVERY_WITHIN, without a restart.
        for n, (c, t) in enumerate(zip(fans, tokens)):
            deadline = time.monotonic() + RECOVERY_WITHIN
            while True:
                r = c.with_base(cservers[(n + 1) % 3].url).get("/queue/queue", headers=queue_headers(t))
                if r.status_code != 503 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["status"] == "WAITING", body
        after = cluster("ZRANGE", line, 0, -1)
        assert [t for t in after if t in tokens] == tokens, "every place kept, in order"
        ranks = [fans[n].get("/queue/queue", headers=queue_headers(t)).json()["rank"] for n, t in enumerate(tokens)]
        assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks), ranks
    finally:
        _restart_node(node_dir)
        for t, c in zip(tokens, fans):
            c.request("DELETE", "/queue/queue", headers=queue_headers(t))
        assert admin.request("PUT", gate_path(gate), {"rate": 1000000}).status_code == 200
    # The cluster is whole again: the restarted node is a replica of the new master.
    deadline = time.monotonic() + FAILOVER_WITHIN
    while "role:slave" not in _try_node(port, "INFO", "replication"):
        assert time.monotonic() < deadline, "the killed node did not rejoin as a replica"
        time.sleep(0.2)
