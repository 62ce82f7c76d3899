"""Faults: PostgreSQL going away and coming back, and bad configuration
(docs/api-contract.md, Many instances and faults, Operations)."""

import os
import shlex
import subprocess
import time

import pytest
import requests

from conftest import (ADMIN_KEY, Client, Server, assert_error, base_env, free_port, performance_body,
                      ticketd_bin)
from invariants import assert_invariants

PG_BIN = "/usr/lib/postgresql/15/bin"


def as_pg_owner(args, data_dir):
    if os.geteuid() == 0:
        owner = __import__("pwd").getpwuid(os.stat(data_dir).st_uid).pw_name
        return ["runuser", "-u", owner, "--"] + args
    return args


def pg_ctl(data_dir, *args, options=None):
    cmd = [f"{PG_BIN}/pg_ctl", "-D", data_dir, "-w", "-t", "60"] + list(args)
    if options is not None:
        cmd += ["-o", options]
    return subprocess.run(as_pg_owner(cmd, data_dir), capture_output=True, text=True, timeout=120)


def postmaster_options(data_dir):
    """The options PostgreSQL was started with (postmaster.opts), minus the binary and -D."""
    with open(os.path.join(data_dir, "postmaster.opts")) as f:
        argv = shlex.split(f.read().strip())
    out, skip = [], False
    for arg in argv[1:]:
        if skip:
            skip = False
            continue
        if arg == "-D":
            skip = True
            continue
        out.append(arg)
    return shlex.join(out)


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last is True:
                return
        except requests.RequestException as e:
            last = e
        time.sleep(0.2)
    pytest.fail(f"{what} within {timeout}s (last: {last})")


def test_database_outage_and_recovery(servers, start_server, quick_user, make_performance, db):
    """PostgreSQL stopped → DB-backed calls answer 503 DATABASE_UNAVAILABLE in the error
    shape within a bounded time, /healthz stays 200 and /readyz turns 503; PostgreSQL back
    → every instance serves again by itself, without a restart."""
    data_dir = os.environ.get("TEST_PG_DATA")
    if not data_dir:
        pytest.fail("TEST_PG_DATA is not set (the PostgreSQL data folder, for the restart test)", pytrace=False)
    s = start_server(DB_TIMEOUT_MS=2000)
    perf = make_performance(seats=2, price=1000)
    user = quick_user(base=s, balance=5000)
    assert user.balance().json() == {"balance": 5000}
    assert user.take(perf.seat_ids[0]).status_code == 200
    options = postmaster_options(data_dir)
    db.close()

    stopped = pg_ctl(data_dir, "-m", "fast", "stop")
    assert stopped.returncode == 0, stopped.stderr
    try:
        started = time.monotonic()
        for c in [user] + [user.with_base(x.url) for x in servers]:
            assert_error(c.balance(), 503, "DATABASE_UNAVAILABLE")
        assert_error(user.charge(1000), 503, "DATABASE_UNAVAILABLE")
        assert_error(user.pay(perf.seat_ids[0]), 503, "DATABASE_UNAVAILABLE")
        assert_error(user.performances(), 503, "DATABASE_UNAVAILABLE")
        assert_error(Client(s.url).sign_in("someone@example.com"), 503, "DATABASE_UNAVAILABLE")
        assert time.monotonic() - started < 60, "503 answers took too long (hang guard)"
        for x in [s] + servers:
            r = requests.get(x.url + "/healthz", timeout=30)
            assert r.status_code == 200, "liveness must not depend on the database"
            assert_error(requests.get(x.url + "/readyz", timeout=30), 503, "DATABASE_UNAVAILABLE")
            assert x.proc.poll() is None, "ticketd exited while the database was down"
    finally:
        restarted = pg_ctl(data_dir, "-l", os.path.join(data_dir, "server.log"), "start", options=options)
        assert restarted.returncode == 0, restarted.stderr

    # Back: every instance recovers by itself.
    for x in [s] + servers:
        c = user.with_base(x.url)
        wait_until(lambda: c.balance().status_code == 200, 30, f"{x.name} did not recover")
        wait_until(lambda: requests.get(x.url + "/readyz", timeout=10).status_code == 200, 30,
                   f"{x.name} /readyz did not recover")
    # Recovered for good: every thread of every instance serves (a fresh connection per call
    # spreads the calls over the instances' I/O threads and their connection pools).
    for x in [s] + servers:
        answers = [requests.get(x.url + "/payment/cash", headers={"Authorization": f"Bearer {user.token}",
                                                                  "Connection": "close"}, timeout=30).status_code
                   for _ in range(40)]
        assert answers == [200] * 40, f"{x.name} after recovery: {answers}"
    # The charge and payment refused during the outage changed nothing; now they work.
    assert user.balance().json() == {"balance": 5000}
    r = user.pay(perf.seat_ids[0])
    assert r.status_code == 201, r.text
    assert user.charge(1000).json() == {"result": "success", "balance": 5000}
    assert_invariants(db)


def run_config(extra, command="serve", timeout=30):
    env = base_env({"DATABASE_URL": "postgresql://127.0.0.1:1/none", "LISTEN": f"127.0.0.1:{free_port()}",
                    "THREADS": "1", "LOG_LEVEL": "warn"})
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    try:
        return subprocess.run([ticketd_bin(), command], env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"ticketd started with bad configuration {extra} instead of refusing")


@pytest.mark.parametrize("name, value", [
    ("HOLD_TTL_SECONDS", "abc"),
    ("HOLD_TTL_SECONDS", "0"),
    ("HOLD_TTL_SECONDS", "-5"),
    ("HOLD_TTL_SECONDS", "10s"),
    ("LISTEN", "nonsense"),
    ("LISTEN", "127.0.0.1:99999"),
    ("LISTEN", ":8080"),
    ("MAX_SEATS_PER_USER", "0"),
    ("JWT_TTL_SECONDS", "10"),
    ("THREADS", "many"),
    ("DB_POOL_SIZE", "0"),
    ("DB_TIMEOUT_MS", "1"),
    ("LOG_LEVEL", "loud"),
    ("TICKETD_ENV", "staging"),
    ("REDIS_URL", "localhost:6379"),
])
def test_bad_config_exits_78_naming_the_variable(name, value):
    for command in ("serve", "migrate"):
        result = run_config({name: value}, command)
        assert result.returncode == 78, (command, result.returncode, result.stderr)
        assert name in result.stderr, result.stderr


@pytest.mark.parametrize("extra, named", [
    ({"JWT_SECRET": None, "ADMIN_API_KEY": "a-long-enough-admin-key"}, "JWT_SECRET"),
    ({"JWT_SECRET": "too-short", "ADMIN_API_KEY": "a-long-enough-admin-key"}, "JWT_SECRET"),
    ({"JWT_SECRET": "dev-only-jwt-secret-do-not-use-in-production", "ADMIN_API_KEY": "a-long-enough-admin-key"},
     "JWT_SECRET"),
    ({"JWT_SECRET": "x" * 40, "ADMIN_API_KEY": None}, "ADMIN_API_KEY"),
    ({"JWT_SECRET": "x" * 40, "ADMIN_API_KEY": ADMIN_KEY}, "ADMIN_API_KEY"),
])
def test_production_mode_refuses_default_secrets(extra, named):
    result = run_config({"TICKETD_ENV": "production", **extra})
    assert result.returncode == 78, (result.returncode, result.stderr)
    assert named in result.stderr, result.stderr


def test_production_mode_with_real_secrets(db, logdir, quick_user):
    """Outside dev mode the dev secret and dev admin key are worthless."""
    secret = "production-secret-" + "s" * 30
    s = Server(db.url, logdir, "production", TICKETD_ENV="production", JWT_SECRET=secret,
               ADMIN_API_KEY="production-admin-key-123").start()
    try:
        user = quick_user(base=s)
        assert_error(user.balance(), 401, "TOKEN_INVALID")  # signed with the dev secret
        from conftest import make_jwt
        now = int(time.time())
        good = make_jwt({"sub": user.user_id, "iat": now, "exp": now + 600}, secret=secret)
        assert user.get("/payment/cash", token=good).status_code == 200
        assert_error(Client(s.url).post("/admin/performances", performance_body(), token=ADMIN_KEY),
                     401, "ADMIN_KEY_INVALID")
        r = Client(s.url).post("/admin/performances", performance_body(), token="production-admin-key-123")
        assert r.status_code == 201, r.text
    finally:
        assert s.stop() == 0


def test_unknown_command():
    result = subprocess.run([ticketd_bin(), "frobnicate"], env=base_env(), capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "usage" in (result.stderr + result.stdout).lower()
