"""The benchmark's on-sale replay (docs/benchmarks.md), small, as a correctness test: 300
fans for 100 seats through three `ticketd` instances, each fan signing in, queueing through
the three gates (half polling, half on the event stream), listing the seats, taking a random
available one (another on 409) and paying — then I1-I3 read back from PostgreSQL and I4 from
what the replay sampled from Redis. And the benchmark's hold/payment rush, small. No timing is
asserted: only outcomes and invariants.

The instances use a Redis database of their own (db 9), so the gates of the replay are this
module's alone."""

import json
import os
import subprocess

import pytest

from conftest import _require_env, redis_url_with_db, scratch_redis, server_group
from invariants import check_all, check_observations

REPLAY_DB = 9
FANS = 300
SEATS = 100
CAPACITY = 20


@pytest.fixture(scope="module")
def replay_servers(db, logdir):
    with scratch_redis(REPLAY_DB):
        with server_group(db.url, logdir, "onsale", 3, REDIS_URL=redis_url_with_db(REPLAY_DB),
                          QUEUE_TICK_MS=20) as started:
            yield started


def onsale(mode, servers, db, *args):
    """Runs tools/onsale; returns (exit code, report)."""
    binary = _require_env("ONSALE_BIN")
    command = [binary, mode, "--database-url", db.url, "--redis-url", redis_url_with_db(REPLAY_DB), *args]
    for s in servers:
        command += ["--url", s.url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.stdout.strip(), f"onsale printed no report (exit {done.returncode}):\n{done.stderr}"
    return done.returncode, json.loads(done.stdout)


def test_a_small_on_sale_sells_every_seat_once_in_order(replay_servers, db, tmp_path):
    observations = tmp_path / "observations.json"
    code, report = onsale("replay", replay_servers, db, "--fans", str(FANS), "--seats", str(SEATS),
                          "--arrival-seconds", "2", "--stream-share", "0.5", "--gate-capacity", str(CAPACITY),
                          "--gate-rate", "100", "--connections", "8", "--observations", str(observations))
    assert code == 0, {k: report.get(k) for k in ("outcomes", "server_errors", "wire_failures",
                                                  "unexpected_outcomes")}
    assert report["server_errors"] == 0 and report["wire_failures"] == 0 and report["unexpected_outcomes"] == 0
    # Every seat sold, each to one fan who paid for it; everyone else told it is gone.
    assert report["sold"] == SEATS and report["sold_out_seconds"] is not None, report
    assert report["outcomes"]["bought a seat"] == SEATS, report["outcomes"]
    assert sum(report["outcomes"].values()) == FANS, report["outcomes"]
    sold = db.value("SELECT count(*) FROM performance_seats WHERE staging_date_id = %s AND reservation_status = "
                    "'RESERVED'", (report["schedule_id"],))
    assert sold == SEATS
    # Both ways of waiting were used, and the take step saw conflicts that fans retried.
    endpoints = report["endpoints"]
    assert endpoints["GET /queue/queue"]["requests"] > 0
    assert endpoints["GET /queue/queue/stream (time in line)"]["requests"] > 0
    assert endpoints["PATCH /reservation/take_performance_seat"]["statuses"].get("409", 0) > 0
    # I1-I3 in PostgreSQL; I4 from the replay's Redis samples and admissions.
    assert check_all(db) == []
    seen = json.loads(observations.read_text())
    assert len(seen) == 3, seen.keys()
    assert check_observations(seen) == []
    # The checks had something to check: the gates filled up to capacity and admitted many.
    assert max(n for gate in seen.values() for _, n in gate["samples"]) == CAPACITY
    assert sum(len(gate["admissions"]) for gate in seen.values()) >= FANS


def test_the_invariant_program_fails_on_a_planted_fifo_violation(db, tmp_path):
    """Negative control for the program the benchmark runs: a FIFO violation in observations
    makes it exit 1 (I1-I3 hold in the database, so I4 is what fails)."""
    planted = {"performances": {"capacity": 5, "samples": [[0, 1], [1, 6]],
                                "admissions": [["a", 1, 200], ["b", 2, 100]]}}
    path = tmp_path / "planted.json"
    path.write_text(json.dumps(planted))
    tools = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools")
    done = subprocess.run(["/usr/bin/python3", os.path.join(tools, "invariants.py"), db.url, "--observations", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL I4" in done.stdout and "6 active tokens" in done.stdout and "token b" in done.stdout, done.stdout


def test_the_rush_holds_and_pays_for_a_seat_per_fan(replay_servers, db):
    code, report = onsale("rush", replay_servers, db, "--fans", "60", "--connections", "6")
    assert code == 0, report
    assert report["holds"]["count"] == 60 and report["payments"]["count"] == 60, report
    assert report["outcomes"] == {"held and paid": 60}
    assert check_all(db) == []
