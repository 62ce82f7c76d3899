"""Operations: health, readiness, metrics, the API document, graceful shutdown
(docs/api-contract.md, Operations)."""

import concurrent.futures
import re
import threading
import time

import pytest
import requests

from conftest import Server, assert_error


def test_healthz_and_readyz(servers):
    for s in servers:
        r = requests.get(s.url + "/healthz", timeout=10)
        assert r.status_code == 200 and r.json() == {"status": "ok"}
        r = requests.get(s.url + "/readyz", timeout=10)
        assert r.status_code == 200 and r.json() == {"status": "ready"}


def test_metrics(server, quick_user):
    user = quick_user()
    assert user.balance().status_code == 200
    assert user.get("/nope").status_code == 404
    r = requests.get(server.url + "/metrics", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    text = r.text
    assert "# TYPE ticketd_http_requests_total counter" in text
    assert re.search(r'^ticketd_http_requests_total\{method="GET",route="/payment/cash",status="2xx"\} [1-9]',
                     text, re.M), text[:3000]
    assert re.search(r'^ticketd_http_requests_total\{[^}]*route="unmatched"[^}]*status="4xx"\} [1-9]', text, re.M)
    assert "ticketd_http_request_duration_seconds" in text
    for name in ("ticketd_seats_held_total", "ticketd_seats_sold_total"):
        assert re.search(rf"^{name} \d+", text, re.M), name
    # Every sample line is "name{labels} value" (Prometheus text format).
    for line in text.splitlines():
        if line and not line.startswith("#"):
            assert re.match(r'^[a-zA-Z_:][a-zA-Z0-9_:]*'
                            r'(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+0-9.eEinfNa]+$', line), line


def counter_of(text, name):
    found = re.search(rf"^{name} (\d+)$", text, re.M)
    assert found, f"{name} missing from /metrics"
    return int(found.group(1))


def test_gated_calls_are_counted_with_the_runs_that_carried_them(server, quick_user):
    """ticketd_queue_gate_calls_total counts the gated calls gate_call.lua decided, and
    ticketd_queue_gate_call_runs_total the runs that carried them to Redis (docs/waiting-queue.md,
    "Batched gated calls"): a run carries one call or more. (That calls made together share
    runs is proven in tests/redis/batched_script_redistest.cpp.)"""
    fans = [quick_user() for _ in range(30)]
    before = requests.get(server.url + "/metrics", timeout=10).text
    with concurrent.futures.ThreadPoolExecutor(len(fans)) as pool:
        statuses = list(pool.map(lambda fan: fan.get("/reservation/performances").status_code, fans))
    assert all(s in (200, 202) for s in statuses), statuses
    after = requests.get(server.url + "/metrics", timeout=10).text
    def grew(name):
        return counter_of(after, name) - counter_of(before, name)

    calls, runs = grew("ticketd_queue_gate_calls_total"), grew("ticketd_queue_gate_call_runs_total")
    assert calls >= len(fans), (calls, runs)  # every first call is decided by the script
    assert 1 <= runs <= calls, (calls, runs)


def test_openapi_document(server):
    r = requests.get(server.url + "/api-docs/openapi.json", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    doc = r.json()
    assert str(doc.get("openapi", "")).startswith("3.")
    assert doc.get("info", {}).get("title")


# Every route the server has today (the waiting queue's routes come with that issue).
SERVED = [
    ("post", "/auth/signUp"), ("post", "/auth/signIn"),
    ("get", "/reservation/performances"),
    ("get", "/reservation/performance_seats/{performance_staging_date_id}"),
    ("patch", "/reservation/take_performance_seat"),
    ("get", "/reservation/reserved_performance_seats"),
    ("get", "/payment/cash"), ("post", "/payment/cash"),
    ("get", "/payment/payment_history"), ("post", "/payment/payment_performance_seat"),
    ("post", "/admin/performances"),
    ("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics"),
]


def test_openapi_document_agrees_with_the_server(server):
    """The OpenAPI document covers the whole API, and every path it documents is served."""
    doc = requests.get(server.url + "/api-docs/openapi.json", timeout=10).json()
    paths = doc.get("paths", {})
    documented = {(m, re.sub(r"\{[^}]+\}", "{}", p)) for p, ops in paths.items() for m in ops
                  if m in ("get", "post", "put", "patch", "delete")}
    missing = [(m, p) for m, p in SERVED if (m, re.sub(r"\{[^}]+\}", "{}", p)) not in documented]
    assert not missing, f"served but not documented in openapi.json: {missing}"
    for method, path in documented:
        if path.startswith(("/api/", "/static/")):
            continue  # static files: an unknown file name is a plain 404
        url = server.url + path.replace("{}", "00000000-0000-4000-8000-000000000000")
        with requests.request(method.upper(), url, timeout=10, stream=True) as r:
            if r.status_code in (404, 405):
                assert r.json().get("code") not in ("ROUTE_NOT_FOUND", "METHOD_NOT_ALLOWED"), (method, path)


def test_swagger_ui_page(server):
    r = requests.get(server.url + "/api", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert "<html" in r.text.lower() and "/api-docs/openapi.json" in r.text
    assert_error(requests.get(server.url + "/api/no-such-file.js", timeout=10), 404, "ROUTE_NOT_FOUND")


def test_graceful_shutdown_finishes_requests_in_flight(db, logdir, quick_user, make_performance):
    """SIGTERM while requests run: the process exits 0 within 15 s and a call already being
    served completes (the session fixtures check exit 0 for the main instances too)."""
    s = Server(db.url, logdir, "shutdown").start()
    user = quick_user(base=s)
    results = []

    def hammer():
        session = requests.Session()
        while True:
            try:
                r = session.get(s.url + "/payment/cash", headers={"Authorization": f"Bearer {user.token}"},
                                timeout=10)
                results.append(r.status_code)
            except requests.RequestException:
                return

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    code = s.stop(timeout=15)
    for t in threads:
        t.join(timeout=30)
    assert code == 0, f"exit code {code} (None = still running after 15 s): {s.log()}"
    assert results and all(c == 200 for c in results), set(results)


@pytest.mark.parametrize("path,content_type", [
    ("/", "text/html"), ("/console", "text/html"), ("/static/fan.js", "text/javascript"),
    ("/static/console.js", "text/javascript"), ("/static/api.js", "text/javascript"), ("/static/app.css", "text/css"),
])
def test_the_pages_are_served_with_validators(server, path, content_type):
    """The fan page, the console and their files: typed, revalidated (ETag, no-cache), gzip when asked."""
    r = requests.get(server.url + path, headers={"Accept-Encoding": "identity"}, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith(content_type)
    assert r.headers["Cache-Control"] == "no-cache"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    etag = r.headers["ETag"]
    again = requests.get(server.url + path, headers={"If-None-Match": etag}, timeout=10)
    assert (again.status_code, again.content, again.headers["ETag"]) == (304, b"", etag)
    zipped = requests.get(server.url + path, headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert zipped.headers["Content-Encoding"] == "gzip" and zipped.content == r.content  # requests inflates it


@pytest.mark.parametrize("path", ["/static/nope.js", "/static/index.html", "/static/..%2Fconsole.html"])
def test_an_unknown_static_file_is_not_found(server, path):
    assert_error(requests.get(server.url + path, timeout=10), 404, "ROUTE_NOT_FOUND")
