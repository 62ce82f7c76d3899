#!/usr/bin/python3
"""Checks a gate's line after a crowd joined it (scripts/bench.sh, part joins): the arrival
numbers the queue handed out, read back from Redis (docs/waiting-queue.md).

Arrival numbers come from `HINCRBY state seq`, so with no one admitted or leaving, a line that
N fans joined must hold exactly N entries (token id -> arrival number) whose numbers are
unique and contiguous, ending at the state's `seq`; each token's record must be WAITING at
that number in that gate, and each user must hold exactly that one token. Each checker returns
a list of human-readable violations (empty = it holds), so a negative control can plant a
violation and see it reported (tests/functional/test_invariant_checkers.py).

As a program:

    queue_line.py REDIS_URL GATE --joined N [--after-seq S]

reads the gate's line, the state's seq and every token's record and user index, checks
that N joins (the 202s answered) made the line, numbered S+1..S+N when --after-seq is given,
prints one line per check and exits 1 if any fails.
"""

import socket
import sys
import urllib.parse

import queue_keys


def check_arrivals(entries, seq, joined, first=None):
    """`entries`: (token id, arrival number) pairs as the line holds them; `seq`: the gate
    state's last number handed out; `joined`: joins answered; `first`: the number the run must
    start at (the state's seq before it, plus one), or None."""
    problems = []
    if len(entries) != joined:
        problems.append(f"the line holds {len(entries)} entries for {joined} joins answered")
    seen = {}
    for token_id, _ in entries:
        seen[token_id] = seen.get(token_id, 0) + 1
    for token_id, n in sorted(seen.items()):
        if n > 1:
            problems.append(f"token {token_id} is in line {n} times")
    numbers = []
    for token_id, number in entries:
        if float(number) != int(float(number)):
            problems.append(f"token {token_id} has arrival number {number}, not a whole number")
        numbers.append((int(float(number)), token_id))
    numbers.sort()
    for (a, id_a), (b, id_b) in zip(numbers, numbers[1:]):
        if a == b:
            problems.append(f"tokens {id_a} and {id_b} share arrival number {a}")
        elif b > a + 1:
            gap = f"{a + 1}" if b == a + 2 else f"{a + 1}..{b - 1}"
            problems.append(f"gap: no arrival number {gap} between tokens {id_a} and {id_b}")
    if numbers:
        if seq is None or int(seq) != numbers[-1][0]:
            problems.append(f"the state's seq is {seq}, the largest arrival number {numbers[-1][0]}")
        if first is not None and numbers[0][0] != first:
            problems.append(f"the line starts at arrival number {numbers[0][0]}, expected {first}")
    return problems


def check_records(gate, entries, records, holders):
    """Each token in line has its record, WAITING in this gate at its arrival number, and its
    user holds that token and no other. `records`: token id -> (user, gate, status, seq) (None
    for a missing record); `holders`: user -> the token the user holds in the gate's tag (None
    if absent)."""
    problems = []
    users = {}
    for token_id, number in entries:
        record = records.get(token_id)
        if record is None or record[0] is None:
            problems.append(f"token {token_id} is in line but has no record")
            continue
        user, token_gate, status, token_seq = record
        if token_gate != gate or status != "WAITING" or str(token_seq) != str(int(float(number))):
            problems.append(f"token {token_id} is in line at {int(float(number))} but its record says "
                            f"gate {token_gate}, {status}, arrival {token_seq}")
        users.setdefault(user, []).append(token_id)
        if holders.get(user) != token_id:
            problems.append(f"user {user} holds token {holders.get(user)}, not {token_id} which is in line")
    for user, tokens in sorted(users.items()):
        if len(tokens) > 1:
            problems.append(f"user {user} is in line {len(tokens)} times ({', '.join(sorted(tokens))})")
    return problems


class Redis:
    """Just enough RESP to read a line back (no redis package here), with pipelining: a line
    of a million fans is read in seconds, not a million round trips."""

    def __init__(self, url):
        parts = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=60)
        self.buf = b""
        db = parts.path.strip("/")
        if db and db != "0":
            self.pipeline([("SELECT", db)])

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("Redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind in (b"+", b":"):
            return int(rest) if kind == b":" else rest.decode()
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(1 << 20)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RuntimeError(f"unexpected RESP reply {line!r}")

    def pipeline(self, commands, batch=2000):
        out = []
        for start in range(0, len(commands), batch):
            chunk = commands[start:start + batch]
            wire = []
            for command in chunk:
                wire.append(b"*%d\r\n" % len(command))
                for arg in command:
                    arg = str(arg).encode()
                    wire.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
            self.sock.sendall(b"".join(wire))
            out += [self._reply() for _ in chunk]
        return out

    def __call__(self, *command):
        return self.pipeline([command])[0]


def read_line(redis, gate):
    """The line as entries, the state's seq, the token records and the user index."""
    flat = redis("ZRANGE", queue_keys.gate(gate, "waiting"), 0, -1, "WITHSCORES") or []
    entries = list(zip(flat[::2], flat[1::2]))
    seq = redis("HGET", queue_keys.gate(gate, "state"), "seq")
    fields = redis.pipeline([("HMGET", queue_keys.token(t), "user", "gate", "status", "seq") for t, _ in entries])
    records = {t: tuple(f) for (t, _), f in zip(entries, fields)}
    users = sorted({f[0] for f in fields if f[0] is not None})
    tag = queue_keys.tag_of_gate(gate)
    holders = dict(zip(users, redis.pipeline([("GET", queue_keys.user_in_tag(tag, u)) for u in users])))
    return entries, seq, records, holders


def main(argv):
    import argparse
    parser = argparse.ArgumentParser(description="Checks a gate's line after a crowd joined it.")
    parser.add_argument("redis_url")
    parser.add_argument("gate")
    parser.add_argument("--joined", type=int, required=True, help="joins answered (202)")
    parser.add_argument("--after-seq", type=int, help="the state's seq before the joins")
    args = parser.parse_args(argv)
    entries, seq, records, holders = read_line(Redis(args.redis_url), args.gate)
    first = None if args.after_seq is None else args.after_seq + 1
    numbers = sorted(int(float(n)) for _, n in entries)
    span = f"numbers {numbers[0]}..{numbers[-1]}, " if numbers else ""
    checks = [(f"arrival numbers: {len(entries)} in line for {args.joined} joins, {span}state seq {seq}",
               check_arrivals(entries, seq, args.joined, first)),
              (f"records: every token WAITING at its number, {len(holders)} users holding one token each",
               check_records(args.gate, entries, records, holders))]
    failed = False
    for name, problems in checks:
        print(f"{'ok  ' if not problems else 'FAIL'} {name}")
        for p in problems[:20]:
            print(f"     {p}")
        if len(problems) > 20:
            print(f"     ... and {len(problems) - 20} more")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
