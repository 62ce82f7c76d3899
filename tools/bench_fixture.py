#!/usr/bin/python3
"""Prepares the fans of a benchmark run and writes one line of headers per fan.

Fans are inserted straight into PostgreSQL (sign-up hashing would dominate otherwise) and get
access tokens signed with the server's JWT secret. With --queue-step N each fan is then walked
through the waiting queue up to an ACTIVE token of step N (1: performances, 2: the seats of
--schedule), so that gated calls are served; with --waiting the last step is only entered, and the
token is left WAITING (behind a paused gate: one that never admits). Output lines:
"Authorization: Bearer ..|Queue-Token: Bearer .."

With --no-users the fans exist only in their access tokens (random user ids, nothing written
anywhere): enough for a gated call, which checks the token's signature and never reads the
users table (src/api/authentication.cpp), so a crowd joining a line costs no setup but the
signing. Output lines: "Authorization: Bearer ..".

usage: bench_fixture.py DATABASE_URL BASE_URL JWT_SECRET COUNT OUT_FILE [--queue-step N --schedule ID [--waiting]]
                        [--balance KRW] [--no-users]
"""
import argparse, base64, hashlib, hmac, json, sys, time, uuid
import psycopg2, requests


def jwt(secret, sub):
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    now = int(time.time())
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64(json.dumps({"sub": sub, "iat": now, "exp": now + 7200}, separators=(",", ":")).encode())
    sig = b64(hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


def walk(session, base, headers, path, served=True):
    """Calls a gated path until it is served (or once, to enter its line); returns the queue token."""
    token = None
    for _ in range(600):
        h = dict(headers)
        if token:
            h["Queue-Token"] = f"Bearer {token}"
        r = session.get(base + path, headers=h, timeout=10)
        if r.status_code == 200:
            return token
        if r.status_code != 202:
            sys.exit(f"{path}: {r.status_code} {r.text}")
        token = r.json()["queue_data"]["id"]
        if not served:
            return token
        time.sleep(0.02)
    sys.exit(f"{path}: never admitted")


def main():
    p = argparse.ArgumentParser()
    for name in ("database_url", "base_url", "secret", "count", "out"):
        p.add_argument(name)
    p.add_argument("--queue-step", type=int, default=0)
    p.add_argument("--schedule")
    p.add_argument("--waiting", action="store_true")
    p.add_argument("--balance", type=int, default=0)
    p.add_argument("--no-users", action="store_true")
    a = p.parse_args()
    ids = [str(uuid.uuid4()) for _ in range(int(a.count))]
    if a.no_users:
        if a.queue_step or a.balance:
            sys.exit("--no-users fans have no rows: no queue walk, no balance")
        with open(a.out, "w") as out:
            out.writelines(f"Authorization: Bearer {jwt(a.secret, i)}\n" for i in ids)
        return
    with psycopg2.connect(a.database_url) as db, db.cursor() as cur:
        cur.executemany(
            "INSERT INTO users (id, email_address, password_hash, balance) VALUES (%s, %s, 'not-a-hash', 0)",
            [(i, f"bench-{i}@example.com") for i in ids])
        if a.balance:
            cur.executemany(
                "WITH u AS (UPDATE users SET balance = %s WHERE id = %s RETURNING id) "
                "INSERT INTO ledger_entries (user_id, amount, cause) SELECT id, %s, 'CHARGED_BY_USER' FROM u",
                [(a.balance, i, a.balance) for i in ids])
    session = requests.Session()
    with open(a.out, "w") as out:
        for i in ids:
            headers = {"Authorization": f"Bearer {jwt(a.secret, i)}"}
            line = f"Authorization: {headers['Authorization']}"
            if a.queue_step >= 1:
                last = a.queue_step == 1
                token = walk(session, a.base_url, headers, "/reservation/performances", not (last and a.waiting))
                if a.queue_step >= 2:
                    headers["Queue-Token"] = f"Bearer {token}"
                    token = walk(session, a.base_url, headers, f"/reservation/performance_seats/{a.schedule}",
                                 not a.waiting)
                line += f"|Queue-Token: Bearer {token}"
            out.write(line + "\n")


if __name__ == "__main__":
    main()
