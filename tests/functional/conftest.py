"""Black-box fixtures: a fresh PostgreSQL database per session, real `ticketd` processes
speaking HTTP on free ports, and helpers to drive them.

Environment (set by scripts/test.sh and CTest):
  TICKETD_BIN         path to the ticketd binary
  TEST_DATABASE_URL   a maintenance database on a throwaway PostgreSQL server; this suite
                      creates (and drops) its own databases named tp_test_* there
  TEST_PG_DATA        that server's data folder (for the restart test)
  TEST_REDIS_URL      a throwaway Redis
"""

import base64
import contextlib
import hashlib
import hmac
import json
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from datetime import datetime, timedelta, timezone

import psycopg2
import pytest
import requests
import urllib3

# The invariant checkers live with the benchmark tools (tools/invariants.py), which run them too.
TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools")
sys.path.insert(0, TOOLS)

DEV_JWT_SECRET = "dev-only-jwt-secret-do-not-use-in-production"
ADMIN_KEY = "dev-admin-key"
DB_PREFIX = "tp_test_"
PASSWORD = "correct horse battery staple"
SHUTDOWN_TIMEOUT = 15
START_TIMEOUT = 60


# ---------------------------------------------------------------------------------------
# Environment and databases
# ---------------------------------------------------------------------------------------


def _require_env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the suite through scripts/test.sh (or export it yourself)",
                    pytrace=False)
    return value


def ticketd_bin():
    path = _require_env("TICKETD_BIN")
    if not os.access(path, os.X_OK):
        pytest.fail(f"TICKETD_BIN={path} is not an executable", pytrace=False)
    return path


def database_url(base_url, dbname):
    """The URL of database `dbname` on the server of `base_url`."""
    parts = urllib.parse.urlsplit(base_url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


def _check_name(dbname):
    if not dbname.startswith(DB_PREFIX) or not dbname.replace("_", "").isalnum():
        raise RuntimeError(f"refusing to touch database {dbname!r}: only {DB_PREFIX}* databases are ours")


def create_database(admin_url, dbname):
    _check_name(dbname)
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{dbname}"')
    finally:
        conn.close()


def drop_database(admin_url, dbname):
    _check_name(dbname)
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                        (dbname,))
            cur.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
    finally:
        conn.close()


def base_env(extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TICKETD_", "DATABASE_URL", "LISTEN", "JWT_",
                                                                     "ADMIN_API_KEY", "HOLD_TTL", "MAX_SEATS",
                                                                     "THREADS", "LOG_LEVEL", "DB_POOL", "DB_TIMEOUT",
                                                                     "SWEEP_", "GATE_", "QUEUE_", "REDIS_URL"))}
    env["TICKETD_ENV"] = "dev"
    if os.environ.get("TEST_REDIS_URL"):
        env["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
    source = os.environ.get("TICKETD_SOURCE_DIR")
    if source:
        env["SWAGGER_UI_DIR"] = os.path.join(source, "node_modules", "swagger-ui-dist")
    env.update(extra or {})
    return env


def run_migrate(url):
    result = subprocess.run([ticketd_bin(), "migrate"], env=base_env({"DATABASE_URL": url, "LOG_LEVEL": "warn"}),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"ticketd migrate failed ({result.returncode}): {result.stderr}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Database:
    """A migrated tp_test_* database and a psycopg2 connection (autocommit) to it."""

    def __init__(self, admin_url, dbname):
        self.admin_url = admin_url
        self.name = dbname
        self.url = database_url(admin_url, dbname)
        self._conn = None

    def connect(self):
        conn = psycopg2.connect(self.url)
        conn.autocommit = True
        return conn

    @property
    def conn(self):
        if self._conn is None or self._conn.closed:
            self._conn = self.connect()
        return self._conn

    def query(self, sql, params=None):
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []
        except psycopg2.OperationalError:
            # The server may have been restarted by the resilience test: reconnect once.
            self._conn = None
            with self.conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []

    def value(self, sql, params=None):
        rows = self.query(sql, params)
        assert len(rows) == 1 and len(rows[0]) == 1, rows
        return rows[0][0]

    def close(self):
        if self._conn is not None and not self._conn.closed:
            self._conn.close()


def new_database(admin_url):
    dbname = DB_PREFIX + secrets.token_hex(6)
    create_database(admin_url, dbname)
    db = Database(admin_url, dbname)
    run_migrate(db.url)
    return db


@pytest.fixture(scope="session")
def admin_db_url():
    return _require_env("TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def db(admin_db_url):
    """The session's database, shared by every ticketd instance below."""
    database = new_database(admin_db_url)
    yield database
    database.close()
    drop_database(admin_db_url, database.name)


@pytest.fixture
def scratch_db(admin_db_url):
    """A throwaway migrated database for tests that write unsafe SQL (negative controls)."""
    database = new_database(admin_db_url)
    yield database
    database.close()
    drop_database(admin_db_url, database.name)


@pytest.fixture(scope="session")
def logdir():
    path = tempfile.mkdtemp(prefix="ticketd-functional-")
    return path


# ---------------------------------------------------------------------------------------
# ticketd processes
# ---------------------------------------------------------------------------------------


class Server:
    """One `ticketd serve` process on a free loopback port."""

    def __init__(self, db_url, logdir, name, file_limit=None, **settings):
        _require_env("TEST_REDIS_URL")  # the waiting queue fails closed without Redis
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.name = name
        self.log_path = os.path.join(logdir, f"{name}-{self.port}.log")
        env = {"DATABASE_URL": db_url, "LISTEN": f"127.0.0.1:{self.port}", "THREADS": "2", "LOG_LEVEL": "warn",
               # Correctness must never depend on the sweeper: the session's instances sweep
               # only once at start, so expired holds stay in the table as the tests see them.
               "SWEEP_INTERVAL_MS": "3600000",
               # The waiting queue is not under test here: gates admit everyone at once, so
               # each booking step costs one hand-over and one tick.
               "GATE_DEFAULT_CAPACITY": "1000000", "GATE_DEFAULT_RATE": "1000000", "QUEUE_TICK_MS": "10",
               # A body that stalls is closed after this (test_transport's slow client waits for it).
               "BODY_TIMEOUT_SECONDS": "5"}
        env.update({k: str(v) for k, v in settings.items()})
        self.env = base_env(env)
        self.file_limit = file_limit  # RLIMIT_NOFILE of the process, as `ulimit -n` would set it
        self.proc = None
        self.returncode = None

    def start(self):
        self._log = open(self.log_path, "ab")
        limit = self.file_limit
        self.proc = subprocess.Popen(
            [ticketd_bin(), "serve"], env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
            preexec_fn=(lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))) if limit else None)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ticketd {self.name} exited with {self.proc.returncode}: {self.log()}")
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"ticketd {self.name} did not answer /healthz within {START_TIMEOUT}s: {self.log()}")

    def stop(self, timeout=SHUTDOWN_TIMEOUT):
        """SIGTERM, then the exit code (None if it had to be killed)."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.returncode = None
                self.proc = None
                self._log.close()
                return None
        self.returncode = self.proc.returncode
        self.proc = None
        self._log.close()
        return self.returncode

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-4000:].decode(errors="replace")
        except OSError:
            return ""

    def client(self, token=None):
        return Client(self.url, token)


@contextlib.contextmanager
def server_group(db_url, logdir, prefix, count, **settings):
    """`count` instances with the same settings; on leaving, each must stop cleanly on SIGTERM."""
    started = []
    try:
        for i in range(count):
            started.append(Server(db_url, logdir, f"{prefix}{i}", **settings).start())
        yield started
    finally:
        codes = {s.name: s.stop() for s in started}
        bad = {name: code for name, code in codes.items() if code != 0}
        assert not bad, f"ticketd instances did not shut down gracefully on SIGTERM within {SHUTDOWN_TIMEOUT}s " \
                        f"(exit codes, None = killed): {bad}"


@pytest.fixture(scope="session")
def servers(db, logdir):
    """Three instances against one database: nothing correctness needs lives in one process."""
    with server_group(db.url, logdir, "main", 3) as started:
        yield started


@pytest.fixture(scope="session")
def server(servers):
    return servers[0]


@pytest.fixture(scope="session")
def short_hold_server(db, logdir):
    """A fourth instance whose holds last 2 s (expiry tests)."""
    s = Server(db.url, logdir, "shorthold", HOLD_TTL_SECONDS=2).start()
    yield s
    assert s.stop() == 0, "the short-hold instance did not shut down gracefully"


@pytest.fixture
def start_server(db, logdir):
    """Starts extra instances with other settings for one test; stops them afterwards."""
    started = []

    def start(file_limit=None, **settings):
        s = Server(db.url, logdir, f"extra{len(started)}", file_limit=file_limit, **settings)
        started.append(s)
        return s.start()

    yield start
    for s in started:
        code = s.stop()
        assert code == 0, f"instance {s.name} exit code {code} on SIGTERM"


# ---------------------------------------------------------------------------------------
# HTTP client
# ---------------------------------------------------------------------------------------


class Client:
    """A fan (or an operator) talking to one instance."""

    def __init__(self, base_url, token=None, session=None):
        self.base_url = base_url
        self.token = token
        self.user_id = None
        self.email = None
        self.http = session or requests.Session()

    def with_base(self, base_url):
        other = Client(base_url, self.token)
        other.user_id, other.email = self.user_id, self.email
        return other

    def request(self, method, path, body=None, headers=None, token=None, raw=None, timeout=60):
        h = {}
        auth = token if token is not None else self.token
        if auth:
            h["Authorization"] = f"Bearer {auth}"
        data = None
        if body is not None:
            data = json.dumps(body)
            h["Content-Type"] = "application/json"
        if raw is not None:
            data = raw
        if headers:
            h.update(headers)
        return self.http.request(method, self.base_url + path, data=data, headers=h, timeout=timeout)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    # --- the API, one call each ---
    def sign_up(self, email, password=PASSWORD, **extra):
        return self.post("/auth/signUp", {"email_address": email, "password": password, **extra}, token="")

    def sign_in(self, email, password=PASSWORD):
        return self.post("/auth/signIn", {"email_address": email, "password": password}, token="")

    def charge(self, amount, key=None):
        return self.post("/payment/cash", {"amount": amount}, headers={"Idempotency-Key": key} if key else None)

    def balance(self):
        return self.get("/payment/cash")

    def history(self):
        return self.get("/payment/payment_history")

    def take(self, seat_id, schedule_id=None):
        schedule_id = schedule_id or SEAT_SCHEDULE[seat_id.lower()]
        return self.take_body({"performance_seat_id": seat_id}, schedule_id)

    def take_many(self, seat_ids, schedule_id=None):
        schedule_id = schedule_id or SEAT_SCHEDULE[seat_ids[0].lower()]
        return self.take_body({"performance_seat_ids": list(seat_ids)}, schedule_id)

    def pay(self, seat_id, key=None):
        return self.post("/payment/payment_performance_seat", {"performance_seat_id": seat_id},
                         headers={"Idempotency-Key": key} if key else None)

    # --- the booking steps, through the waiting queue (docs/api-contract.md, Booking flow) ---
    def gated(self, method, path, body=None, headers=None, raw=None, timeout=60):
        """A gated call, repeated while the queue answers 202 (the user's held token is
        used, so no Queue-Token header is needed)."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.request(method, path, body, headers=headers, raw=raw)
            if r.status_code != 202:
                return r
            assert "queue_data" in r.json(), r.text
            if time.monotonic() > deadline:
                raise AssertionError(f"not admitted to {method} {path} within {timeout}s")
            time.sleep(0.02)

    def performances(self, path="/reservation/performances"):
        return self.gated("GET", path)

    def seats(self, schedule_id):
        """Step 1, then step 2 for this schedule."""
        r = self.gated("GET", "/reservation/performances")
        assert r.status_code == 200, r.text
        return self.gated("GET", f"/reservation/performance_seats/{schedule_id}")

    def admit_take(self, schedule_id):
        """Walks steps 1 and 2 so that the next take for this schedule passes its gate."""
        r = self.seats(schedule_id)
        assert r.status_code == 200, r.text

    def take_body(self, body, schedule_id, raw=None, headers=None):
        self.admit_take(schedule_id)
        return self.gated("PATCH", "/reservation/take_performance_seat", body, raw=raw, headers=headers)

    def my_seats(self):
        return self.get("/reservation/reserved_performance_seats")


def unique_email(tag="fan"):
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims, secret=DEV_JWT_SECRET, header=None):
    header = header or {"alg": "HS256", "typ": "JWT"}
    signing_input = b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + \
        b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(signature)


def token_for(user_id, ttl=3600, now=None):
    now = int(time.time()) if now is None else now
    return make_jwt({"sub": user_id, "iat": now, "exp": now + ttl})


def insert_users(db, count, balance=0):
    """Users written straight into the database (no Argon2id cost), with ledger rows
    matching any starting balance; returns their ids. For tests that need many fans and
    authenticate them with tokens signed by the dev secret."""
    tag = uuid.uuid4().hex[:10]
    rows = db.query(
        """INSERT INTO users (email_address, password_hash, balance)
           SELECT 'bulk-' || %s || '-' || n || '@example.com', 'not-a-real-hash', %s
           FROM generate_series(1, %s) AS n RETURNING id""", (tag, balance, count))
    ids = [str(r[0]) for r in rows]
    if balance > 0:
        db.query("""INSERT INTO ledger_entries (user_id, amount, cause)
                    SELECT unnest(%s::uuid[]), %s, 'CHARGED_BY_USER'""", (ids, balance))
    return ids


@pytest.fixture
def new_user(server):
    """Signs a fresh user up and in through the API; returns a Client carrying the token."""

    def make(base=None, password=PASSWORD, **extra):
        c = Client((base or server).url if not isinstance(base, str) else base)
        email = unique_email()
        r = c.sign_up(email, password, **extra)
        assert r.status_code == 201, r.text
        c.user_id = r.json()["id"]
        r = c.sign_in(email, password)
        assert r.status_code == 200, r.text
        c.token = r.json()["accessToken"]
        c.email = email
        return c

    return make


@pytest.fixture
def quick_user(server, db):
    """A user inserted into the database with a dev-secret token: for tests about things
    other than signing in, where Argon2id's cost would only slow the suite down."""

    def make(base=None, balance=0):
        (user_id,) = insert_users(db, 1, balance)
        c = Client((base or server).url)
        c.user_id = user_id
        c.token = token_for(user_id)
        return c

    return make


# ---------------------------------------------------------------------------------------
# Catalog
# ---------------------------------------------------------------------------------------


def iso(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Admin(Client):
    def __init__(self, base_url):
        super().__init__(base_url, ADMIN_KEY)

    def create_performance(self, body):
        return self.post("/admin/performances", body)


@pytest.fixture(scope="session")
def admin(server):
    return Admin(server.url)


def performance_body(schedules=1, seats=5, price=10_000, started=True, title=None, seat_list=None):
    now = datetime.now(timezone.utc)
    start = now - timedelta(hours=1) if started else now + timedelta(days=30)
    sched = []
    for i in range(schedules):
        s = {"staging_date": iso(now + timedelta(days=60 + i))}
        if seat_list is not None:
            s["seats"] = seat_list
        else:
            s["seat_count"] = seats
            s["price"] = price
        sched.append(s)
    return {
        "title": title or f"Concert {uuid.uuid4().hex[:8]}",
        "ticketing_start_date": iso(start),
        "stage": {"name": "Olympic Hall", "location": "Seoul"},
        "schedules": sched,
    }


SEAT_SCHEDULE = {}  # seat id -> schedule id, for every seat the suite created


class Performance:
    def __init__(self, body, answer):
        self.body = body
        self.id = answer["id"]
        self.stage_id = answer["stage_id"]
        self.schedules = answer["performance_staging_date"]
        self.schedule_id = self.schedules[0]["id"]
        self.seat_ids = self.schedules[0]["seat_ids"]
        for sched in self.schedules:
            for sid in sched["seat_ids"]:
                SEAT_SCHEDULE[sid] = sched["id"]


@pytest.fixture
def make_performance(admin):
    """Creates a performance through the admin API (ticketing already started unless
    started=False); returns ids of its schedules and seats."""

    def make(**kw):
        body = performance_body(**kw)
        r = admin.create_performance(body)
        assert r.status_code == 201, r.text
        return Performance(body, r.json())

    return make


# ---------------------------------------------------------------------------------------
# Assertions
# ---------------------------------------------------------------------------------------

REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           408: "Request Timeout", 409: "Conflict", 410: "Gone", 413: "Payload Too Large",
           415: "Unsupported Media Type", 422: "Unprocessable Entity", 431: "Request Header Fields Too Large",
           500: "Internal Server Error", 503: "Service Unavailable"}


def assert_error_shape(body, status):
    assert isinstance(body, dict), body
    assert set(body) == {"message", "error", "statusCode", "code"}, body
    assert body["statusCode"] == status, body
    assert isinstance(body["message"], str) and body["message"], body
    assert isinstance(body["code"], str) and body["code"], body
    if status in REASONS:
        assert body["error"] == REASONS[status], body


def assert_error(resp, status, code=None):
    """The response is the documented error: status, machine code and the 4-field shape."""
    try:
        body = resp.json()
    except ValueError:
        raise AssertionError(f"expected a JSON error body, got {resp.status_code}: {resp.text[:300]!r}")
    assert resp.status_code == status, f"expected {status} {code}, got {resp.status_code}: {body}"
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.headers
    assert_error_shape(body, status)
    if code is not None:
        assert body["code"] == code, body
    return body


def run_parallel(fn, items, workers=100, timeout=180):
    """Runs fn(item) for every item on a thread pool; each worker thread gets its own
    requests.Session (thread_session()). Returns results in item order. Fails (instead of
    hanging) if the whole batch takes longer than `timeout` seconds."""
    from concurrent.futures import ThreadPoolExecutor, wait

    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        futures = [pool.submit(fn, item) for item in items]
        done, not_done = wait(futures, timeout=timeout)
        if not_done:
            raise AssertionError(f"{len(not_done)} of {len(futures)} calls did not finish within {timeout}s (hang)")
        return [f.result() for f in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


_local = threading.local()


def thread_session():
    s = getattr(_local, "session", None)
    if s is None:
        s = requests.Session()
        # A kept-alive connection the server closes at HEADER_TIMEOUT_SECONDS may be closed
        # just as a request goes out on it; as any HTTP client does (RFC 9112, 9.3.1), an
        # idempotent request is then sent again once on a new connection. Nothing else is
        # retried: a PATCH or POST cut off this way fails the test.
        retry = urllib3.util.Retry(total=1, connect=1, read=1, status=0, redirect=0, other=0,
                                   raise_on_status=False)
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=4, max_retries=retry)
        s.mount("http://", adapter)
        _local.session = s
    return s


def http_call(base_url, method, path, token, body=None, headers=None):
    """One request on this thread's session: (status, json body or None); any error answer
    must have the error shape."""
    h = {"Authorization": f"Bearer {token}"}
    if headers:
        h.update(headers)
    r = thread_session().request(method, base_url + path, json=body, headers=h, timeout=120)
    try:
        payload = r.json()
    except ValueError:
        payload = None
    if r.status_code >= 400:
        assert_error_shape(payload, r.status_code)
    return r.status_code, payload


def through_gate(base_url, method, path, token, body=None, timeout=120):
    """A gated call repeated while the queue answers 202."""
    deadline = time.monotonic() + timeout
    while True:
        status, payload = http_call(base_url, method, path, token, body)
        if status != 202:
            return status, payload
        if time.monotonic() > deadline:
            raise AssertionError(f"not admitted to {method} {path} within {timeout}s")
        time.sleep(0.02)


def admit_to_take(base_url, token, schedule_id, timeout=120):
    """Walks a user through steps 1 and 2 and into an ACTIVE step-3 token for the schedule,
    without taking anything yet; returns that token's id. The take itself can then be fired
    at the same moment for many users."""
    status, body = through_gate(base_url, "GET", "/reservation/performances", token)
    assert status == 200, body
    status, body = through_gate(base_url, "GET", f"/reservation/performance_seats/{schedule_id}", token)
    assert status == 200, body
    # With an active step-2 token, the first step-3 call is the hand-over: 202 and a new token.
    status, body = http_call(base_url, "PATCH", "/reservation/take_performance_seat", token, {})
    assert status == 202, (status, body)
    queue_token = body["queue_data"]["id"]
    deadline = time.monotonic() + timeout
    while True:
        status, info = http_call(base_url, "GET", "/queue/queue", token,
                                 headers={"Queue-Token": f"Bearer {queue_token}"})
        assert status == 200, info
        if info["status"] == "ACTIVE":
            return queue_token
        assert info["status"] == "WAITING", info
        if time.monotonic() > deadline:
            raise AssertionError(f"step-3 token not admitted within {timeout}s")
        time.sleep(0.02)


# ---------------------------------------------------------------------------------------
# The waiting queue: Redis read directly, instances with observable gates, SSE
# ---------------------------------------------------------------------------------------


class RedisError(Exception):
    pass


class Redis:
    """A tiny RESP client over a socket (no python redis package here), to read the queue's
    state straight from Redis: the tests check what the server stored, not what it says."""

    def __init__(self, url, timeout=10):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 6379
        self.db = int(parts.path.strip("/") or 0)
        self.timeout = timeout
        self._sock = None
        self._buf = b""

    def _connect(self):
        self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self._buf = b""
        if self.db:
            self._send("SELECT", str(self.db))
            self._reply()

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _send(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self._sock.sendall(b"".join(out))

    def _line(self):
        while b"\r\n" not in self._buf:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise ConnectionError("Redis closed the connection")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self._buf) < n + 2:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise ConnectionError("Redis closed the connection")
            self._buf += chunk
        data, self._buf = self._buf[:n], self._buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RedisError(f"unexpected RESP reply {line!r}")

    def __call__(self, *args):
        """One command; returns the decoded reply (str, int, None or list)."""
        if self._sock is None:
            self._connect()
        try:
            self._send(*args)
            return self._reply()
        except (OSError, ConnectionError):
            self.close()
            raise

    def hgetall(self, key):
        flat = self("HGETALL", key) or []
        return dict(zip(flat[::2], flat[1::2]))

    def time_ms(self):
        sec, usec = self("TIME")
        return int(sec) * 1000 + int(usec) // 1000


def redis_url_with_db(db_number):
    """TEST_REDIS_URL's server, another logical database: instances started on it keep their
    gates apart from the session's instances (which use TEST_REDIS_URL's own database)."""
    parts = urllib.parse.urlsplit(_require_env("TEST_REDIS_URL"))
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, f"/{db_number}", "", ""))


def queue_headers(token_id):
    return {"Queue-Token": f"Bearer {token_id}"}


def gate_path(gate):
    return "/admin/gates/" + urllib.parse.quote(gate, safe="")


class SSE:
    """Server-Sent Events read from a streamed requests.Response, event by event. Every read
    is bounded by the socket timeout given to requests (no test hangs on a silent stream)."""

    def __init__(self, response):
        self.response = response
        self.raw = response.raw

    def _readline(self):
        out = bytearray()
        while True:
            b = self.raw.read(1)
            if not b:
                return None if not out else out.decode()
            if b == b"\n":
                return out.decode()
            out += b

    def next(self):
        """The next event as (name, data parsed as JSON); None when the stream closed.
        Comment lines (heartbeats) are skipped."""
        name, data = None, []
        while True:
            line = self._readline()
            if line is None:
                return None if name is None and not data else (name or "message", _json_or_text("\n".join(data)))
            if line == "":
                if name is None and not data:
                    continue
                return name or "message", _json_or_text("\n".join(data))
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)

    def close(self):
        self.response.close()


def _json_or_text(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def open_stream(base_url, token_id=None, via="query", timeout=10, headers=None):
    """GET /queue/queue/stream without an access token; the queue token in ?token= or in
    the Queue-Token header. Returns the response (stream=True); wrap it in SSE()."""
    h = dict(headers or {})
    path = "/queue/queue/stream"
    if token_id is not None and via == "query":
        path += "?token=" + urllib.parse.quote(token_id)
    elif token_id is not None:
        h.update(queue_headers(token_id))
    return requests.get(base_url + path, headers=h, stream=True, timeout=(5, timeout))


class GateSampler(threading.Thread):
    """Reads the gate's active set from Redis every ~20 ms: its size (capacity) and which
    tokens are in it (the sample in which each was first seen = an admission order)."""

    def __init__(self, redis_url, active_key, interval=0.02):
        super().__init__(daemon=True)
        self.redis = Redis(redis_url)
        self.active_key = active_key
        self.interval = interval
        self.samples = []  # (monotonic time, ZCARD)
        self.first_seen = {}  # token id -> sample number
        self.error = None
        self._stop_event = threading.Event()

    def sample(self):
        n = len(self.samples)
        count = self.redis("ZCARD", self.active_key)
        self.samples.append((round(time.monotonic(), 3), count))
        members = self.redis("ZRANGE", self.active_key, 0, -1)
        # The set read separately from ZCARD: its size is a second capacity reading.
        self.samples.append((round(time.monotonic(), 3), len(members)))
        for token_id in members:
            self.first_seen.setdefault(token_id, n)

    def run(self):
        try:
            while not self._stop_event.is_set():
                self.sample()
                time.sleep(self.interval)
            self.sample()
        except Exception as e:  # reported by the test, never swallowed
            self.error = e
        finally:
            self.redis.close()

    def stop(self):
        self._stop_event.set()
        self.join(timeout=30)
        assert not self.is_alive(), "the sampler did not stop"
        if self.error is not None:
            raise self.error


@contextlib.contextmanager
def scratch_redis(db_number):
    """A Redis database of the test server for one module's instances, emptied before and after."""
    r = Redis(redis_url_with_db(db_number))
    r("FLUSHDB")
    try:
        yield r
    finally:
        r("FLUSHDB")
        r.close()
