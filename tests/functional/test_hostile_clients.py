"""Hundreds of clients that never finish a request head, at once (docs/api-contract.md,
Limits): every one is closed by the header timeout without an answer, while the instance
keeps answering everyone else. The trickling is done by tools/trickle when TRICKLE_BIN
names it (CTest does), else by Python sockets doing the same. No rate is asserted (the
benchmark's hostile part measures it): closes are checked against the timeout with a wide
margin, and every normal request made meanwhile must be answered."""

import json
import os
import resource
import selectors
import socket
import subprocess
import threading
import time

import requests

HEADER_TIMEOUT = 2  # seconds: HEADER_TIMEOUT_SECONDS of the instance under test
MARGIN = 8  # seconds after the timeout a close may still come on a loaded 2-core machine (ASan)
INTERVAL = 0.5  # seconds between two bytes of one trickling head
GIVE_UP = HEADER_TIMEOUT + MARGIN + 5  # a trickler still open then has outlived the timeout
NORMAL_REQUESTS = 200  # at least this many, and more for as long as the tricklers last


class SocketTrickle(threading.Thread):
    """tools/trickle's job in Python: `count` connections, each sent one byte of a head that
    never ends every INTERVAL; its report has the tool's keys."""

    def __init__(self, port, count):
        super().__init__(daemon=True)
        self.port, self.count = port, count
        self.ready = threading.Event()
        self.report = None

    def run(self):
        head = b"GET /payment/cash HTTP/1.1\r\nHost: t\r\nX-Trickle: "
        selector = selectors.DefaultSelector()
        live = {}  # socket -> [opened at, bytes sent, bytes received]
        failed, closed_after, answered, outlived = 0, [], 0, 0
        for _ in range(self.count):
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            except OSError:
                failed += 1
                continue
            s.setblocking(False)
            live[s] = [time.monotonic(), 0, 0]
            selector.register(s, selectors.EVENT_READ)
        opened = len(live)
        self.ready.set()
        next_byte = time.monotonic()
        while live:
            now = time.monotonic()
            if now >= next_byte:
                for s, state in list(live.items()):
                    if now - state[0] > GIVE_UP:
                        outlived += 1
                        selector.unregister(s)
                        s.close()
                        del live[s]
                        continue
                    try:
                        state[1] += s.send(head[state[1]:state[1] + 1] or b"a")
                    except OSError:
                        pass  # closed by the server: its read below says so
                next_byte += INTERVAL
            for key, _ in selector.select(timeout=max(0.0, next_byte - time.monotonic())):
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""  # reset
                if data:
                    live[s][2] += len(data)
                    continue
                closed_after.append(time.monotonic() - live[s][0])
                answered += live[s][2] > 0
                selector.unregister(s)
                s.close()
                del live[s]
        closed_after.sort()
        at = lambda p: closed_after[int(p * (len(closed_after) - 1))] if closed_after else 0  # noqa: E731
        self.report = {"connections": self.count, "opened": opened, "failed_to_open": failed,
                       "closed_by_server": len(closed_after), "answered": answered, "outlived": outlived,
                       "closed_after": {"p50_s": at(0.5), "p99_s": at(0.99), "max_s": at(1)}}


class ToolTrickle:
    """tools/trickle in a process of its own, with the same interface as SocketTrickle."""

    def __init__(self, binary, port, count, ready_file):
        self.ready_file = ready_file
        self.proc = subprocess.Popen(
            [binary, "--url", f"http://127.0.0.1:{port}/payment/cash", "--connections", str(count),
             "--ramp-seconds", "1", "--interval-seconds", str(INTERVAL), "--give-up-seconds", str(GIVE_UP),
             "--ready-file", str(ready_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.report = None

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.ready_file):
            assert self.proc.poll() is None, f"trickle exited early: {self.proc.communicate()}"
            assert time.monotonic() < deadline, "trickle did not open its connections in time"
            time.sleep(0.05)

    def is_alive(self):
        return self.proc.poll() is None

    def join(self, timeout):
        out, err = self.proc.communicate(timeout=timeout)
        assert self.proc.returncode == 0, err
        self.report = json.loads(out)


def test_trickling_heads_are_all_closed_by_the_header_timeout_while_others_are_served(
        start_server, quick_user, tmp_path):
    # Each trickler is a descriptor here and in the instance: both get enough, within the hard limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = min(hard, 4096)
    tricklers = min(800, limit // 2 - 100)
    server = start_server(file_limit=limit, HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT))
    user = quick_user(base=server)
    kept = requests.Session()
    assert kept.get(server.url + "/payment/cash", headers={"Authorization": f"Bearer {user.token}"},
                    timeout=10).status_code == 200

    binary = os.environ.get("TRICKLE_BIN")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, limit), hard))
    try:
        if binary:
            trickle = ToolTrickle(binary, server.port, tricklers, tmp_path / "ready")
            trickle.wait_ready(timeout=60)
        else:
            trickle = SocketTrickle(server.port, tricklers)
            trickle.start()
            assert trickle.ready.wait(timeout=60), "the trickling connections were not opened in time"

        # Balance reads while they trickle: on the kept connection, and one in four on a new
        # one (accepted among the tricklers). Every one must be answered.
        statuses, during = [], 0
        while len(statuses) < NORMAL_REQUESTS or trickle.is_alive():
            http = kept if len(statuses) % 4 else requests
            r = http.get(server.url + "/payment/cash", headers={"Authorization": f"Bearer {user.token}"}, timeout=10)
            statuses.append(r.status_code)
            during += trickle.is_alive()
        trickle.join(timeout=GIVE_UP + 30)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    report = trickle.report

    assert statuses == [200] * len(statuses), {s: statuses.count(s) for s in set(statuses)}
    assert during > 0, "no normal request was answered while the tricklers were open"
    assert report["opened"] == tricklers and report["failed_to_open"] == 0, report
    # Closed, every one, by the instance, and without a word.
    assert report["closed_by_server"] == tricklers and report["outlived"] == 0, report
    assert report["answered"] == 0, report
    # By the header timeout, and not long after it. (Not "never before it": a trickler's
    # clock starts when its own busy loop sees the connect done, which may be late.)
    assert report["closed_after"]["p50_s"] >= HEADER_TIMEOUT / 2, report
    assert report["closed_after"]["max_s"] <= HEADER_TIMEOUT + MARGIN, report
    # And the instance serves as before.
    assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
