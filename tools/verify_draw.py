#!/usr/bin/python3
"""Checks a published pre-queue draw (docs/waiting-queue.md, "The fair start"), as any fan
can: the answer of GET /queue/draws/{gate}, read from a URL, a file, or standard input.

    verify_draw.py http://host:8080/queue/draws/performance_seats:<schedule>
    verify_draw.py draw.json --token <your queue token id>
    verify_draw.py draw.json --commitment <the commitment you read before the start>

It checks that the seed is the one committed to (SHA-256 of its 32 bytes equals the
commitment, and the commitment equals the one given, if any), that the entrants are distinct
SHA-256 hex digests, and that they are in ascending order of HMAC-SHA256(key = the seed's
bytes, message = the entrant's hex text). With --token it prints that token's place (the
entrant of a token is the SHA-256 of its id). Exit status 0 when every check holds, 1
otherwise, 2 when the draw has not happened yet (only the commitment is published).
"""

import argparse
import hashlib
import hmac
import json
import re
import sys
import urllib.request

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def read_draw(source):
    if source == "-":
        return json.load(sys.stdin)
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as answer:
            return json.load(answer)
    with open(source) as f:
        return json.load(f)


def entrant_of(token_id):
    return hashlib.sha256(token_id.encode()).hexdigest()


def draw_key(seed, entrant):
    return hmac.new(seed, entrant.encode(), hashlib.sha256).digest()


def problems_of(draw, commitment=None):
    """Everything wrong with a published draw (empty: it checks out)."""
    problems = []
    if commitment is not None and draw.get("commitment") != commitment:
        problems.append(f"the commitment changed: {draw.get('commitment')} published now, {commitment} before")
    seed_hex = draw.get("seed", "")
    if not HEX64.match(seed_hex):
        return problems + ["the seed is not 64 lowercase hex digits"]
    seed = bytes.fromhex(seed_hex)
    if hashlib.sha256(seed).hexdigest() != draw.get("commitment"):
        problems.append("SHA-256 of the seed is not the commitment: this is not the seed committed to")
    entrants = draw.get("entrants", [])
    bad = [e for e in entrants if not isinstance(e, str) or not HEX64.match(e)]
    if bad:
        problems.append(f"{len(bad)} entrant(s) are not SHA-256 hex digests, e.g. {bad[0]!r}")
        return problems
    if len(set(entrants)) != len(entrants):
        problems.append("an entrant appears twice")
    keys = [(draw_key(seed, e), e) for e in entrants]
    for place, (before, after) in enumerate(zip(keys, keys[1:]), start=1):
        if before > after:
            problems.append(f"places {place} and {place + 1} are out of the seed's order")
            break
    return problems


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="URL of GET /queue/draws/{gate}, a file with its answer, or - for stdin")
    parser.add_argument("--token", help="a queue token id: print its place in the draw")
    parser.add_argument("--commitment", help="the commitment read before the start, to compare")
    args = parser.parse_args(argv)
    draw = read_draw(args.source)
    if "seed" not in draw:
        print(f"{draw.get('gate')}: not drawn yet; commitment {draw.get('commitment')}, opens at {draw.get('opens_at')}")
        return 2
    problems = problems_of(draw, args.commitment)
    for p in problems:
        print(f"FAILED: {p}")
    if not problems:
        print(f"{draw.get('gate')}: the draw of {len(draw['entrants'])} entrants checks out "
              f"(seed committed to, order follows from it)")
    if args.token:
        entrant = entrant_of(args.token)
        try:
            print(f"token {args.token}: entrant {entrant}, place {draw['entrants'].index(entrant) + 1}")
        except ValueError:
            print(f"token {args.token}: entrant {entrant} is not among the entrants")
            problems.append("token not found")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
