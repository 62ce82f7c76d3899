"""Connections a server must survive: more than its file limit allows, and clients that
never finish a request head (docs/api-contract.md, Limits; docs/architecture.md, The file
limit). The server neither spins nor floods its log, keeps serving the connections it has,
takes new ones once descriptors free up, and closes heads that do not arrive in time."""

import os
import select
import socket
import time

import requests

from test_transport import parse

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def log_lines(server, needle):
    with open(server.log_path, "rb") as f:
        return sum(1 for line in f if needle in line)


def get_on(sock, path="/healthz"):
    """One keep-alive request on an open socket; the parsed answer."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    data = b""
    while parse(data) is None:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return parse(data)


def test_over_the_file_limit_the_server_waits_instead_of_spinning(start_server):
    server = start_server(file_limit=96, THREADS="1", DB_POOL_SIZE="2")
    kept = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    assert get_on(kept)[0] == 200

    # Far more connections than descriptors: the rest wait in the listen backlog.
    crowd = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(300)]
    try:
        time.sleep(0.5)
        cpu_before, lines_before = cpu_seconds(server.proc.pid), log_lines(server, b"accept failed")
        time.sleep(3)
        cpu_used = cpu_seconds(server.proc.pid) - cpu_before
        lines = log_lines(server, b"accept failed") - lines_before
        assert lines >= 1, "the test did not reach the file limit (nothing was refused)"
        assert lines <= 5, f"{lines} lines about one repeated condition in 3 s (at most one a second)"
        # A loop retrying accept at once would use the whole 3 s of a core.
        assert cpu_used < 1.5, f"the server used {cpu_used:.2f} s of CPU in 3 s while out of descriptors"

        assert get_on(kept)[0] == 200, "a connection it already had is no longer served"
        metrics = get_on(kept, "/metrics")
        assert metrics[0] == 200
        assert b"ticketd_accept_pauses_total" in metrics[2]
    finally:
        for s in crowd:
            s.close()

    # Descriptors free up: a new connection is taken and served again.
    deadline = time.monotonic() + 15
    while True:
        try:
            r = requests.get(server.url + "/healthz", timeout=2)
            assert r.status_code == 200
            break
        except requests.RequestException:
            assert time.monotonic() < deadline, "no new connection was served after descriptors freed up"
            time.sleep(0.2)
    kept.close()


def test_a_head_that_does_not_arrive_in_time_is_closed(start_server):
    server = start_server(HEADER_TIMEOUT_SECONDS="1")
    trickler = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    idle = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    started = time.monotonic()
    answer = b""
    # One byte every 0.2 s: the head never completes, however long the client keeps at it.
    # It stops once the server has answered (writing on would reset the connection).
    for byte in b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 200:
        if select.select([trickler], [], [], 0)[0]:
            break
        trickler.sendall(bytes([byte]))
        time.sleep(0.2)
    trickler.settimeout(5)
    try:
        while chunk := trickler.recv(65536):
            answer += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    closed_after = time.monotonic() - started
    assert closed_after < 10, f"a trickled head was kept open for {closed_after:.1f} s (header timeout 1 s)"
    assert answer == b"", f"a trickled head was answered: {answer[:200]!r}"

    # A connection that never sends a byte is closed without a word.
    idle.settimeout(5)
    assert idle.recv(1) == b""
    idle.close()
    trickler.close()

    # A client that sends its head in time is unaffected.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        assert get_on(s)[0] == 200
        time.sleep(0.5)
        assert get_on(s)[0] == 200, "a keep-alive connection was closed before its idle timeout"
