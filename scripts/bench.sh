#!/usr/bin/env bash
# The benchmark, first part: the machine's ceilings and ticketd's read/charge rates measured
# in the same run with the same load generator, printed as ratios (SPEC §7).
#   scripts/bench.sh                      # 50 connections, 10 s per figure
#   CONNECTIONS=100 DURATION=20 scripts/bench.sh
# Starts its own PostgreSQL and Redis (throwaway, free loopback ports) and one ticketd
# (release build, THREADS=2). The on-sale replay (holds, payments, time to sell out, I1-I4
# checks) is still to come; see docs/benchmarks.md.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONNECTIONS="${CONNECTIONS:-50}"
DURATION="${DURATION:-10}"
FANS="${FANS:-200}"

install_dependencies
log "Building (release)"
build release ticketd loadgen hello_server
BIN="$ROOT/build/release/src/ticketd"
LOADGEN="$ROOT/build/release/tools/loadgen"

WORK="$(mktemp -d /tmp/ticketd-bench.XXXXXX)"
[ "$(id -u)" -eq 0 ] && chmod 755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  stop_postgres "$WORK/pg"; stop_redis "$WORK/redis"; rm -rf "$WORK"
}
trap cleanup EXIT

PG_PORT="$(free_port)"; REDIS_PORT="$(free_port)"; HTTP_PORT="$(free_port)"; HELLO_PORT="$(free_port)"
PG_FSYNC=off start_postgres "$WORK/pg" "$PG_PORT"
start_redis "$WORK/redis" "$REDIS_PORT"
export DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/ticketing"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export TICKETD_ENV=dev LOG_LEVEL=warn THREADS=2 LISTEN="127.0.0.1:$HTTP_PORT"
export GATE_DEFAULT_CAPACITY=1000000 GATE_DEFAULT_RATE=1000000 QUEUE_TOKEN_TTL_SECONDS=3600 QUEUE_TICK_MS=20
B="http://$LISTEN"

"$BIN" migrate >/dev/null
"$BIN" serve > "$WORK/ticketd.log" 2>&1 & PIDS+=($!)
"$ROOT/build/release/tools/hello_server" "127.0.0.1:$HELLO_PORT" 2 & PIDS+=($!)
for _ in $(seq 100); do curl -fs "$B/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

SCHEDULE=$(curl -fsS -X POST "$B/admin/performances" -H 'Authorization: Bearer dev-admin-key' \
  -H 'Content-Type: application/json' --data '{"title":"Benchmark","ticketing_start_date":"2025-01-01T00:00:00Z",
  "stage":{"name":"Hall","location":"Seoul"},"schedules":[{"staging_date":"2030-01-01T19:00:00Z","seat_count":50,"price":1000}]}' |
  jq -r '.performance_staging_date[0].id')

log "Preparing $FANS fans with active step-2 queue tokens"
/usr/bin/python3 "$ROOT/tools/bench_fixture.py" "$DATABASE_URL" "$B" dev-only-jwt-secret-do-not-use-in-production \
  "$FANS" "$WORK/fans.txt" --queue-step 2 --schedule "$SCHEDULE" --balance 100000

measure() { # name, loadgen arguments...
  local name="$1"; shift
  local out
  out=$("$LOADGEN" --connections "$CONNECTIONS" --duration "$DURATION" "$@")
  printf '%-34s %s\n' "$name" "$out" >&2
  echo "$out" | jq -r .rate
}

log "Ceilings ($CONNECTIONS connections, ${DURATION}s each, load generator on this machine)"
HELLO=$(measure "bare HTTP (hello_server)" --url "http://127.0.0.1:$HELLO_PORT/")
REDIS_PING=$(redis-benchmark -p "$REDIS_PORT" -c "$CONNECTIONS" -n 300000 -t ping -q 2>/dev/null |
  awk '/PING_MBULK/ {print $2}')
printf '%-34s %s requests/s\n' "raw Redis round trip (PING)" "$REDIS_PING" >&2

log "ticketd"
POLL=$(measure "GET /queue/queue (status poll)" --url "$B/queue/queue" --headers-file "$WORK/fans.txt")
SEATS=$(measure "GET /reservation/performance_seats (50)" --url "$B/reservation/performance_seats/$SCHEDULE" \
  --headers-file "$WORK/fans.txt")
BALANCE=$(measure "GET /payment/cash" --url "$B/payment/cash" --headers-file "$WORK/fans.txt")
CHARGE=$(measure "POST /payment/cash" --url "$B/payment/cash" --method POST --body '{"amount":1}' \
  --headers-file "$WORK/fans.txt")

log "Ratios"
ratio() { python3 -c "print(f'{$1 / $2:.0%}')"; }
printf '%-34s %8.0f/s  = %s of bare HTTP (target >= 50%%)\n' "queue status polls" "$POLL" "$(ratio "$POLL" "$HELLO")"
printf '%-34s %8.0f/s  = %s of bare HTTP\n' "seat list (50 seats)" "$SEATS" "$(ratio "$SEATS" "$HELLO")"
printf '%-34s %8.0f/s  = %s of bare HTTP\n' "balance reads" "$BALANCE" "$(ratio "$BALANCE" "$HELLO")"
printf '%-34s %8.0f/s  = %s of bare HTTP\n' "charges" "$CHARGE" "$(ratio "$CHARGE" "$HELLO")"
printf '%-34s %8s KiB\n' "ticketd resident memory" "$(ps -o rss= -p "${PIDS[0]}")"

log "Ledger check after the charges (I2: every balance equals its ledger sum)"
BAD=$(psql "$DATABASE_URL" -qtAc "SELECT count(*) FROM users u WHERE balance <> (SELECT coalesce(sum(amount),0) FROM ledger_entries l WHERE l.user_id = u.id) OR balance < 0")
if [ "$BAD" != "0" ]; then die "I2 violated for $BAD users"; fi
echo "I2 holds" >&2
