"""HTTP-level refusals: unknown routes, wrong methods, media types, malformed JSON, size
limits, slow clients, request ids (docs/api-contract.md, Errors and Limits). Every one in
the error shape."""

import json
import socket
import time

import pytest
import requests

from conftest import Client, assert_error, assert_error_shape


def raw_exchange(server, data, timeout=30, read_all=True):
    """Sends raw bytes, returns (status, headers, body bytes) of the answer (b'' status if closed)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if not read_all and parse(b"".join(chunks)) is not None:
                    break
        except (ConnectionResetError, socket.timeout):
            pass
    return parse(b"".join(chunks)) or (None, {}, b"".join(chunks))


def parse(raw):
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0"))
    if len(body) < length:
        return None
    return status, headers, body[:length]


def assert_raw_error(answer, status, code):
    got_status, headers, body = answer
    assert got_status == status, answer
    assert headers.get("content-type", "").startswith("application/json"), headers
    payload = json.loads(body)
    assert_error_shape(payload, status)
    assert payload["code"] == code, payload


def test_route_not_found(server, quick_user):
    c = quick_user()
    assert_error(c.get("/nope"), 404, "ROUTE_NOT_FOUND")
    assert_error(c.get("/reservation"), 404, "ROUTE_NOT_FOUND")
    assert_error(c.get("/reservation/performance_seats"), 404, "ROUTE_NOT_FOUND")
    assert_error(Client(server.url).post("/auth/signOut", {}), 404, "ROUTE_NOT_FOUND")


def test_method_not_allowed(server, quick_user):
    c = quick_user()
    assert_error(c.request("DELETE", "/payment/cash"), 405, "METHOD_NOT_ALLOWED")
    assert_error(c.request("GET", "/reservation/take_performance_seat"), 405, "METHOD_NOT_ALLOWED")
    assert_error(c.request("POST", "/reservation/take_performance_seat", {"performance_seat_id": "x"}),
                 405, "METHOD_NOT_ALLOWED")
    assert_error(c.request("PUT", "/payment/payment_performance_seat", {}), 405, "METHOD_NOT_ALLOWED")
    assert_error(Client(server.url).get("/auth/signIn"), 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize("route", [("POST", "/payment/cash"), ("PATCH", "/reservation/take_performance_seat"),
                                   ("POST", "/payment/payment_performance_seat"), ("POST", "/auth/signUp"),
                                   ("POST", "/auth/signIn")])
def test_malformed_json(quick_user, make_performance, db, route):
    user = quick_user()
    if route[1] == "/reservation/take_performance_seat":
        user.admit_take(make_performance(seats=1).schedule_id)  # past the gate of step 3
    for raw in ("{", '{"amount": }', "not json", '{"amount": 1000', "\x00\x01"):
        r = user.gated(route[0], route[1], raw=raw, headers={"Content-Type": "application/json"})
        assert_error(r, 400, "MALFORMED_JSON")
    # Valid JSON that is not an object is a bad request.
    for raw in ("[]", "42", '"text"', "null"):
        r = user.gated(route[0], route[1], raw=raw, headers={"Content-Type": "application/json"})
        assert_error(r, 400, "BAD_REQUEST")
    assert db.value("SELECT count(*) FROM ledger_entries WHERE user_id = %s", (user.user_id,)) == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_unsupported_media_type(quick_user, db, content_type):
    user = quick_user()
    r = user.request("POST", "/payment/cash", raw='{"amount": 1000}', headers={"Content-Type": content_type})
    assert_error(r, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert db.value("SELECT balance FROM users WHERE id = %s", (user.user_id,)) == 0


def test_json_with_charset_is_accepted(quick_user):
    user = quick_user()
    r = user.request("POST", "/payment/cash", raw='{"amount": 1000}',
                     headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 201, r.text


def test_body_too_large(server, quick_user, db):
    user = quick_user()
    big = json.dumps({"amount": 1000, "padding": "x" * (65 * 1024)})
    r = user.request("POST", "/payment/cash", raw=big, headers={"Content-Type": "application/json"})
    assert_error(r, 413, "BODY_TOO_LARGE")
    assert db.value("SELECT balance FROM users WHERE id = %s", (user.user_id,)) == 0
    # Just under the limit is fine.
    ok = json.dumps({"amount": 1000, "padding": "x" * (60 * 1024)})
    r = user.request("POST", "/payment/cash", raw=ok, headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text


def test_body_too_large_announced_by_content_length(server):
    """The limit applies to the announced length before any body arrives."""
    req = (b"POST /auth/signIn HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
           b"Content-Length: 10000000\r\n\r\n{")
    assert_raw_error(raw_exchange(server, req, read_all=False), 413, "BODY_TOO_LARGE")


def test_headers_too_large(server, quick_user):
    user = quick_user()
    r = user.request("GET", "/payment/cash", headers={"X-Padding": "y" * (9 * 1024)})
    assert_error(r, 431, "HEADERS_TOO_LARGE")
    # Many headers that add up past 8 KiB as well.
    many = {f"X-Pad-{i}": "z" * 100 for i in range(100)}
    assert_error(user.request("GET", "/payment/cash", headers=many), 431, "HEADERS_TOO_LARGE")
    # A normal request right after is served.
    assert user.balance().status_code == 200


def test_garbage_request_line(server):
    status, headers, body = raw_exchange(server, b"THIS IS NOT HTTP\r\n\r\n")
    assert status == 400, (status, body)
    assert_error_shape(json.loads(body), 400)


def test_slow_client_does_not_block_others(server, servers):
    """A client that sends half a request and stalls must not hold up anyone else; the
    server closes it once its head has not come within the header timeout."""
    stalled = []
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=60)
        s.sendall(b"POST /payment/cash HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100\r\n\r\n{\"amount\":")
        stalled.append(s)
    also_headers = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    also_headers.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")  # headers never finished
    stalled.append(also_headers)
    try:
        started = time.monotonic()
        for _ in range(20):
            r = requests.get(server.url + "/healthz", timeout=10)
            assert r.status_code == 200
            r = requests.get(server.url + "/readyz", timeout=10)
            assert r.status_code == 200
        assert time.monotonic() - started < 60  # hang guard
        # Now wait for the server's verdict on one stalled client: a close, never silence.
        s = stalled[0]
        s.settimeout(60)
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
        except socket.timeout:
            pytest.fail("the server kept a stalled request open for over 60 s (read timeout is 30 s)")
        assert data == b"", f"a stalled request was answered: {data[:200]!r}"
    finally:
        for s in stalled:
            s.close()


def test_request_id_is_echoed(server, quick_user):
    c = quick_user()
    r = c.get("/payment/cash", headers={"X-Request-Id": "test-req.42_abc"})
    assert r.headers.get("X-Request-Id") == "test-req.42_abc"
    # Also on errors.
    r = c.get("/nope", headers={"X-Request-Id": "err-1"})
    assert r.status_code == 404 and r.headers.get("X-Request-Id") == "err-1"
    # An unsafe id is replaced by a generated one; every answer carries one.
    r = c.get("/payment/cash", headers={"X-Request-Id": "bad id\twith spaces"})
    generated = r.headers.get("X-Request-Id")
    assert generated and generated != "bad id\twith spaces"
    r2 = c.get("/payment/cash")
    assert r2.headers.get("X-Request-Id") and r2.headers["X-Request-Id"] != generated


def test_keep_alive_serves_many_requests_on_one_connection(server, quick_user):
    user = quick_user()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        for i in range(5):
            s.sendall(f"GET /payment/cash HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {user.token}\r\n\r\n".encode())
            data = b""
            while parse(data) is None:
                chunk = s.recv(65536)
                assert chunk, f"connection closed after {i} requests"
                data += chunk
            status, _, body = parse(data)
            assert status == 200 and json.loads(body) == {"balance": 0}
