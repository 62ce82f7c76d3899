"""HTTP-level refusals: unknown routes, wrong methods, media types, malformed JSON, size
limits, slow clients, request ids (docs/api-contract.md, Errors and Limits); then requests
malformed or oversized in every other way the transport can meet (request line, target,
version, headers, framing, chunks, bodies that are not JSON), each a charge or a take that
must leave the balance and the seat as they were. Every one in the error shape."""

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
    server closes it once its head has not come within the header timeout, or its body within
    the body timeout (BODY_TIMEOUT_SECONDS, 5 s for the suite's instances)."""
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
        waited = time.monotonic()
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
            pytest.fail("the server kept a stalled request open for over 60 s (its body timeout is 5 s)")
        assert data == b"", f"a stalled request was answered: {data[:200]!r}"
        assert time.monotonic() - waited < 25, "closed at the default 30 s, not at BODY_TIMEOUT_SECONDS"
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


# ---------------------------------------------------------------------------------------
# Malformed and oversized requests of the other kinds, sent raw. Each is a charge of 1,000
# by a real user, broken in one way: were it taken for a request, the balance would move.
# ---------------------------------------------------------------------------------------

CHARGE = b'{"amount":1000}'


def charge_request(user, line=b"POST /payment/cash HTTP/1.1", headers=(), body=CHARGE, length=True):
    """The raw bytes of a charge: its request line, its headers (and `headers`), its body."""
    fields = [b"Host: t", f"Authorization: Bearer {user.token}".encode(), b"Content-Type: application/json"]
    if length:
        fields.append(f"Content-Length: {len(body)}".encode())
    return line + b"\r\n" + b"\r\n".join(fields + list(headers)) + b"\r\n\r\n" + body


def chunked_charge(user, chunks, headers=()):
    return charge_request(user, headers=(b"Transfer-Encoding: chunked", *headers), body=chunks, length=False)


def assert_refused_and_unchanged(server, db, user, data, status, code):
    """Refused with the error shape, and the user's balance and ledger are as they were."""
    assert_raw_error(raw_exchange(server, data, read_all=False), status, code)
    assert db.value("SELECT balance FROM users WHERE id = %s", (user.user_id,)) == 0
    assert db.value("SELECT count(*) FROM ledger_entries WHERE user_id = %s", (user.user_id,)) == 0


def answer(s):
    """The next answer on a connection; fails if the server closes it first."""
    data = b""
    while parse(data) is None:
        chunk = s.recv(65536)
        assert chunk, f"the connection closed after {data!r}"
        data += chunk
    return parse(data)


def test_a_well_formed_raw_charge_is_taken(server, db, quick_user):
    """The control for the tests below: the same bytes, unbroken, do charge."""
    user = quick_user()
    status, _, body = raw_exchange(server, charge_request(user), read_all=False)
    assert (status, json.loads(body)) == (201, {"result": "success", "balance": 1000})
    status, _, body = raw_exchange(server, chunked_charge(user, b"f\r\n" + CHARGE + b"\r\n0\r\n\r\n"), read_all=False)
    assert (status, json.loads(body)) == (201, {"result": "success", "balance": 2000})


def test_a_chunked_body_over_the_limit_is_refused(server, db, quick_user):
    """No Content-Length to refuse up front: the limit counts the chunks as they come."""
    user = quick_user()
    chunks = b"".join(b"4000\r\n" + b" " * 0x4000 + b"\r\n" for _ in range(5)) + b"0\r\n\r\n"  # 80 KiB
    assert_refused_and_unchanged(server, db, user, chunked_charge(user, chunks), 413, "BODY_TOO_LARGE")


def test_an_empty_chunked_body_arriving_byte_by_byte_is_answered(server, db, quick_user):
    """The last chunk's CRLF in pieces ("0\\r\\n", "\\r", "\\n"): Boost 1.81's parser asserts on
    the second piece (boostorg/beast#2861), which killed a debug or sanitizer build of ticketd.
    An empty body is no charge; the same connection then serves the next request."""
    user = quick_user()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for piece in (chunked_charge(user, b"0\r\n"), b"\r", b"\n"):
            s.sendall(piece)
            time.sleep(0.2)  # each piece is read by the server on its own
        assert_raw_error(answer(s), 400, "MALFORMED_JSON")
        s.sendall(charge_request(user))
        status, _, body = answer(s)
    assert (status, json.loads(body)) == (201, {"result": "success", "balance": 1000})


def test_a_head_in_pieces_is_answered_once_whole(server, db, quick_user):
    """The server has the kernel wake it only once enough of a head has come to end it (a
    receive low-water mark, docs/architecture.md, "Reading a request"). A head cut anywhere,
    down to its last byte or its final CRLF alone, and one sent a byte at a time, must be
    answered as soon as it is whole: a mark set too high would leave it unanswered until the
    header timeout closes the connection, and answer() fails on that close."""
    user = quick_user()
    whole = charge_request(user)
    head = whole[:-len(CHARGE)]
    cuts = [
        [whole[:-len(CHARGE) - 1], whole[-len(CHARGE) - 1:]],            # all but the head's last byte
        [head[:-2], b"\r\n", CHARGE],                                     # the final CRLF alone
        [head[:-3], b"\n", b"\r", b"\n" + CHARGE],                        # its last three bytes one by one
        [b"POST /payment/cash HTTP/1.1\r\n", whole[29:]],                 # the request line, then the rest
        [b"P", b"OST", whole[4:]],                                         # a short start
        [bytes([b]) for b in head] + [CHARGE],                             # every byte alone
    ]
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for pieces in cuts:
            assert b"".join(pieces) == whole
            for piece in pieces:
                s.sendall(piece)
                time.sleep(0.2 if len(pieces) < 10 else 0.002)  # read by the server on its own
            status, _, body = answer(s)
            assert status == 201, body
        # The shortest head there is: 16 bytes, its final CRLF alone (refused: "*" is no path).
        s.sendall(b"A * HTTP/1.1\r\n")
        time.sleep(0.2)
        s.sendall(b"\r\n")
        assert_raw_error(answer(s), 400, "BAD_REQUEST")
    assert db.value("SELECT balance FROM users WHERE id = %s", (user.user_id,)) == 1000 * len(cuts)


@pytest.mark.parametrize("chunks", [
    b"zz\r\n" + CHARGE + b"\r\n0\r\n\r\n",                    # a size that is not hexadecimal
    b"f\r\n" + CHARGE + b"XX0\r\n\r\n",                       # no CRLF after the chunk's data
    b"ffffffffffffffffffff\r\n" + CHARGE + b"\r\n0\r\n\r\n",  # a size past 64 bits
    b"-f\r\n" + CHARGE + b"\r\n0\r\n\r\n",                    # a negative size
], ids=["size-not-hex", "no-crlf-after-data", "size-overflow", "negative-size"])
def test_bad_chunk_encoding_is_refused(server, db, quick_user, chunks):
    user = quick_user()
    assert_refused_and_unchanged(server, db, user, chunked_charge(user, chunks), 400, "BAD_REQUEST")


@pytest.mark.parametrize("line", [
    b"P@ST /payment/cash HTTP/1.1",       # not a method token
    b"POST /payment/cash HTTP/2.0",       # an HTTP/1 message claiming another version
    b"POST /payment/cash HTTP/1.x",
    b"POST /payment/cash HTTX/1.1",
    b"POST /payment/cash HTTP/0.9",
    b"POST /payment/cash HTTP/1.10",
    b"POST /payment/cash",                # no version at all
    b"POST /payment/cash\x01 HTTP/1.1",   # a control character in the target
    b"POST /payment/cash  HTTP/1.1",      # two spaces
], ids=["bad-method", "version-2.0", "version-1.x", "version-httx", "version-0.9", "version-1.10", "no-version",
        "control-in-target", "double-space"])
def test_a_malformed_request_line_is_refused(server, db, quick_user, line):
    user = quick_user()
    assert_refused_and_unchanged(server, db, user, charge_request(user, line), 400, "BAD_REQUEST")


@pytest.mark.parametrize("target", [b"/payment/%ZZ", b"http://t/payment/cash", b"*", b"payment/cash"],
                         ids=["bad-percent-encoding", "absolute-form", "asterisk", "no-leading-slash"])
def test_a_target_that_is_not_a_path_is_refused(server, db, quick_user, target):
    user = quick_user()
    data = charge_request(user, b"POST " + target + b" HTTP/1.1")
    assert_refused_and_unchanged(server, db, user, data, 400, "BAD_REQUEST")


def test_an_unknown_method_on_a_known_path_is_refused(server, db, quick_user):
    """A well-formed method token no route has (and methods are case-sensitive)."""
    user = quick_user()
    for line in (b"BREW /payment/cash HTTP/1.1", b"post /payment/cash HTTP/1.1"):
        assert_refused_and_unchanged(server, db, user, charge_request(user, line), 405, "METHOD_NOT_ALLOWED")


def test_an_oversized_request_line_is_refused(server, db, quick_user):
    """The request line counts towards the 8 KiB of the head."""
    user = quick_user()
    data = charge_request(user, b"POST /payment/cash?" + b"a" * (9 * 1024) + b" HTTP/1.1")
    assert_refused_and_unchanged(server, db, user, data, 431, "HEADERS_TOO_LARGE")


@pytest.mark.parametrize("lengths", [
    [b"abc"], [b"-15"], [b"+15"], [b"99999999999999999999999"], [b"15", b"16"], [b"15, 16"],
], ids=["not-a-number", "negative", "signed", "overflow", "two-that-differ", "a-list-that-differs"])
def test_a_bad_content_length_is_refused(server, db, quick_user, lengths):
    user = quick_user()
    headers = [b"Content-Length: " + value for value in lengths]
    assert_refused_and_unchanged(server, db, user, charge_request(user, headers=headers, length=False), 400,
                                 "BAD_REQUEST")


def test_content_length_beside_chunked_is_refused(server, db, quick_user):
    """Two framings at once (the request smuggling shape): neither is guessed."""
    user = quick_user()
    data = charge_request(user, headers=[b"Transfer-Encoding: chunked"], body=b"f\r\n" + CHARGE + b"\r\n0\r\n\r\n")
    assert_refused_and_unchanged(server, db, user, data, 400, "BAD_REQUEST")


def test_a_content_length_repeated_with_the_same_value_frames_one_body(server, db, quick_user):
    """RFC 9112 (6.3) lets a recipient take identical repeats as one: there is only one way to
    read the body, so it is one charge, taken once."""
    user = quick_user()
    for headers in ([b"Content-Length: 15", b"Content-Length: 15"], [b"Content-Length: 15, 15"]):
        status, _, body = raw_exchange(server, charge_request(user, headers=headers, length=False), read_all=False)
        assert status == 201, body
    assert db.value("SELECT count(*) FROM ledger_entries WHERE user_id = %s", (user.user_id,)) == 2


@pytest.mark.parametrize("header", [b"NoColonHere", b"Bad Name: x", b"X-Nul: a\x00b", b"X-Cr: a\rb", b": empty-name"],
                         ids=["no-colon", "space-in-name", "nul-in-value", "bare-cr-in-value", "empty-name"])
def test_a_malformed_header_line_is_refused(server, db, quick_user, header):
    user = quick_user()
    assert_refused_and_unchanged(server, db, user, charge_request(user, headers=[header]), 400, "BAD_REQUEST")


def test_bare_line_feeds_are_refused(server, db, quick_user):
    user = quick_user()
    data = charge_request(user).replace(b"\r\n", b"\n")
    assert_refused_and_unchanged(server, db, user, data, 400, "BAD_REQUEST")


# Bodies that are not JSON in ways the parser must catch, beyond test_malformed_json's.
NOT_JSON = {
    "invalid-utf8": b'{"amount":1000,"note":"\xff\xfe"}',
    "overlong-utf8": b'{"amount":1000,"note":"\xc0\xaf"}',
    "utf8-encoded-surrogate": b'{"amount":1000,"note":"\xed\xa0\x80"}',
    "lone-surrogate-escape": b'{"amount":1000,"note":"\\ud800"}',
    "nested-5000-deep": b'{"amount":1000,"note":' + b"[" * 5000 + b"]" * 5000 + b"}",
    "empty": b"",
    "byte-order-mark": b'\xef\xbb\xbf{"amount":1000}',
    "trailing-data": b'{"amount":1000} x',
    "two-objects": b'{"amount":1000}{"amount":1000}',
    "comment": b'{"amount":1000 /* more */}',
}


@pytest.mark.parametrize("raw", NOT_JSON.values(), ids=NOT_JSON.keys())
def test_a_body_that_is_not_json_changes_no_balance(server, db, quick_user, raw):
    user = quick_user()
    assert_refused_and_unchanged(server, db, user, charge_request(user, body=raw), 400, "MALFORMED_JSON")


@pytest.mark.parametrize("raw", NOT_JSON.values(), ids=NOT_JSON.keys())
def test_a_body_that_is_not_json_takes_no_seat(quick_user, make_performance, db, raw):
    perf = make_performance(seats=1)
    user = quick_user()
    seat = perf.seat_ids[0]
    raw = raw.replace(b'"amount":1000', f'"performance_seat_id":"{seat}"'.encode())
    r = user.take_body(None, perf.schedule_id, raw=raw, headers={"Content-Type": "application/json"})
    assert_error(r, 400, "MALFORMED_JSON")
    assert db.query("SELECT reservation_status::text, holder_id FROM performance_seats WHERE id = %s",
                    (seat,)) == [("AVAILABLE", None)]
