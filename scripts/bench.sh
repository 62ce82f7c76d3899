#!/usr/bin/env bash
# The benchmark (docs/benchmarks.md): this machine's ceilings and ticketd's figures measured
# in the same run with the same load generators, printed as ratios; then an on-sale replay
# against several instances, with I1-I4 checked at the end (a violation makes this exit
# non-zero).
#
#   scripts/bench.sh                                 # defaults below
#   FANS=2000 SEATS=500 RUSH_FANS=5000 DURATION=5 scripts/bench.sh   # a quicker run
#   ARENA=1 scripts/bench.sh                         # the arena replay: 60,000 fans, 15,000 seats
#   PARTS="ceilings biglist" scripts/bench.sh        # some parts only (the ratios need "ceilings")
#   PARTS="ceilings joins" scripts/bench.sh          # a crowd joining one gate's line, and Redis's bytes per fan
#   PARTS=streams scripts/bench.sh                   # the waiting streams: memory per stream, updates
#   PARTS="ceilings cluster" scripts/bench.sh        # joins on a Redis Cluster, with and without WAIT
#   PARTS=draw scripts/bench.sh                      # a pre-queue of DRAW_FANS drawn at the ticketing start
#   PARTS="ceilings hostile" scripts/bench.sh        # balance reads alone, then beside 10,000 trickling heads
#
# Parts: ceilings, reads, joins (JOIN_FANS fans, each joining the paused performances gate's
# line once through the INSTANCES instances; every answer must be a 202, the line's arrival
# numbers are then checked from Redis with tools/queue_line.py, Redis's bytes per waiting fan
# and the join script's own rate on Redis alone are reported; the line is removed afterwards),
# biglist, rush, replay, streams, cluster (not in the defaults: a Redis Cluster of 6 nodes,
# INSTANCES more instances on it, CLUSTER_FANS joins with REDIS_WAIT_REPLICAS=0 and again with 1),
# draw (not in the defaults: a pre-queue of DRAW_FANS fans written into Redis, drawn by the
# instances at the ticketing start; how long the draw and the first admission took after it,
# and the published draw checked by tools/verify_draw.py's rules),
# hostile (not in the defaults: one more instance, THREADS threads, with
# HEADER_TIMEOUT_SECONDS=HOSTILE_HEADER_TIMEOUT; balance reads on it for DURATION seconds
# alone, then again while tools/trickle (under SCHED_IDLE) holds HOSTILE_CLIENTS
# connections sending request heads one byte a second, each replaced when the instance
# closes it, then alone again, for HOSTILE_ROUNDS rounds; each trickled rate as a share of
# the mean of the windows alone around it, the median of the rounds (target >= 80%); every
# trickling connection must have been closed by the instance without an answer, and the
# trickle must have kept its pace).
#
# Starts its own PostgreSQL (fsync=off: the figures are about the service, not the disk) and
# Redis on free loopback ports, INSTANCES ticketd processes (release build, THREADS each)
# and hello_server; everything runs on this machine, load generators included.
#
# `streams` starts one more instance
# (THREADS=2, 65,536 file descriptors), puts STREAM_FANS fans in the line of a paused gate,
# each with an open event stream on that instance, and reports its resident memory per
# stream, then how soon the streams hear of an admission (p50/p99) and how many failed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONNECTIONS="${CONNECTIONS:-50}"       # concurrent requests of every rate figure
DURATION="${DURATION:-10}"             # seconds per read/charge figure
INSTANCES="${INSTANCES:-3}"            # ticketd processes
THREADS="${THREADS:-1}"                # event loops per ticketd
READ_FANS="${READ_FANS:-200}"          # fans whose tokens the read figures cycle through
RUSH_FANS="${RUSH_FANS:-20000}"        # holds and payments timed at saturation (and raw SQL ones)
if [ "${ARENA:-0}" = 1 ]; then          # an arena instead of a hall
  FANS="${FANS:-60000}"; SEATS="${SEATS:-15000}"; ARRIVAL_SECONDS="${ARRIVAL_SECONDS:-10}"
fi
FANS="${FANS:-20000}"                  # the on-sale replay: fans ...
SEATS="${SEATS:-5000}"                 # ... for this many seats ...
ARRIVAL_SECONDS="${ARRIVAL_SECONDS:-5}" # ... arriving within this many seconds
STREAM_SHARE="${STREAM_SHARE:-0.5}"    # share of fans waiting on the event stream, not polling
GATE_CAPACITY="${GATE_CAPACITY:-5000}" # each gate of the replay (admitted fans at once)
GATE_RATE="${GATE_RATE:-1000}"         # admissions per second at each gate
SIGN_IN="${SIGN_IN:-before}"           # replay fans sign in before the doors open, or on "arrival"
REPLAY_DEADLINE="${REPLAY_DEADLINE:-1800}" # seconds: a replay still running then has failed
BIG_SEATS="${BIG_SEATS:-5000}"         # the big hall's seat list figure: seats ...
CHURN_RATE="${CHURN_RATE:-500}"        # ... changing this many times a second ...
BIG_THREADS="${BIG_THREADS:-$(nproc)}" # ... served by one instance with this many threads
JOIN_FANS="${JOIN_FANS:-200000}"       # the joins figure: fans joining one gate's line, once each ...
JOIN_CONNECTIONS="${JOIN_CONNECTIONS:-$CONNECTIONS}" # ... at this many concurrent requests
JOIN_THREADS="${JOIN_THREADS:-1}"      # event loops of the load generator for the joins
CLUSTER_FANS="${CLUSTER_FANS:-50000}"  # the cluster part: fans joining one gate, per round
STREAM_FANS="${STREAM_FANS:-18000}"    # the waiting streams: fans on streams of one instance ...
STREAM_ADMIT_RATE="${STREAM_ADMIT_RATE:-1000}" # ... admitted at this rate for 2 s once they all wait
DRAW_FANS="${DRAW_FANS:-100000}"       # the draw: fans in one gate's pre-queue at the ticketing start
HOSTILE_CLIENTS="${HOSTILE_CLIENTS:-10000}" # the hostile part: connections trickling request heads ...
HOSTILE_HEADER_TIMEOUT="${HOSTILE_HEADER_TIMEOUT:-10}" # ... at an instance with this HEADER_TIMEOUT_SECONDS (the default) ...
HOSTILE_RAMP="${HOSTILE_RAMP:-$HOSTILE_HEADER_TIMEOUT}" # ... opened over this many seconds (as long as the timeout: an even churn) ...
HOSTILE_ROUNDS="${HOSTILE_ROUNDS:-5}"  # ... in this many rounds, each between two windows alone
PARTS="${PARTS:-ceilings reads joins biglist rush replay streams}"
part() { [[ " $PARTS " == *" $1 "* ]]; }

install_dependencies
log "Building (release)"
build release ticketd loadgen hello_server onsale trickle
BIN="$ROOT/build/release/src/ticketd"
TOOLS="$ROOT/build/release/tools"

WORK="$(mktemp -d /tmp/ticketd-bench.XXXXXX)"
[ "$(id -u)" -eq 0 ] && chmod 755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  stop_postgres "$WORK/pg"; stop_redis "$WORK/redis"; stop_redis_cluster "$WORK/redis-cluster"; rm -rf "$WORK"
}
trap cleanup EXIT

PG_PORT="$(free_port)"; REDIS_PORT="$(free_port)"; HELLO_PORT="$(free_port)"
PG_FSYNC=off start_postgres "$WORK/pg" "$PG_PORT"
start_redis "$WORK/redis" "$REDIS_PORT"
PG="postgresql://postgres@127.0.0.1:$PG_PORT"
export DATABASE_URL="$PG/ticketing"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export TICKETD_ENV=dev LOG_LEVEL=warn THREADS
export GATE_DEFAULT_CAPACITY=1000000 GATE_DEFAULT_RATE=1000000 QUEUE_TOKEN_TTL_SECONDS=3600 QUEUE_TICK_MS=20
# The joins part's fans join once and never call again: with the default QUEUE_IDLE_SECONDS
# (60) a long run (JOIN_FANS=400000 takes about 45 s here) would see its first joiners leave
# the line as abandoned while the line is being read back.
export QUEUE_IDLE_SECONDS=3600
# Every open connection is a descriptor of the load generator and of an instance: the arena
# keeps tens of thousands of fans on event streams at once. Root may raise the hard limit.
ulimit -Hn "$(cat /proc/sys/fs/nr_open)" 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"

"$BIN" migrate >/dev/null
URLS=(); URL_ARGS=(); TICKETD_PIDS=()
for i in $(seq "$INSTANCES"); do
  port="$(free_port)"
  LISTEN="127.0.0.1:$port" "$BIN" serve > "$WORK/ticketd-$i.log" 2>&1 &
  PIDS+=($!); TICKETD_PIDS+=($!); URLS+=("http://127.0.0.1:$port"); URL_ARGS+=(--url "http://127.0.0.1:$port")
done
"$TOOLS/hello_server" "127.0.0.1:$HELLO_PORT" 2 & PIDS+=($!)
for url in "${URLS[@]}"; do
  for _ in $(seq 100); do curl -fs "$url/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
done
B="${URLS[0]}"

# Two schedules: the read figures' fans are admitted to the first; the second's seat gate is
# paused, so the polling fans wait in its line (a poll of a waiting fan reads its place).
SCHEDULES=$(curl -fsS -X POST "$B/admin/performances" -H 'Authorization: Bearer dev-admin-key' \
  -H 'Content-Type: application/json' --data '{"title":"Benchmark","ticketing_start_date":"2025-01-01T00:00:00Z",
  "stage":{"name":"Hall","location":"Seoul"},"schedules":[{"staging_date":"2030-01-01T19:00:00Z","seat_count":50,"price":1000},
  {"staging_date":"2030-01-02T19:00:00Z","seat_count":50,"price":1000}]}' | jq -r '.performance_staging_date[].id')
SCHEDULE=$(echo "$SCHEDULES" | sed -n 1p); PAUSED=$(echo "$SCHEDULES" | sed -n 2p)
curl -fsS -X PUT "$B/admin/gates/performance_seats:$PAUSED" -H 'Authorization: Bearer dev-admin-key' \
  -H 'Content-Type: application/json' --data '{"rate":0}' >/dev/null
log "Preparing $READ_FANS fans with active step-2 queue tokens and $READ_FANS waiting in line"
fixture() { /usr/bin/python3 "$ROOT/tools/bench_fixture.py" "$DATABASE_URL" "$B" dev-only-jwt-secret-do-not-use-in-production "$@"; }
fixture "$READ_FANS" "$WORK/fans.txt" --queue-step 2 --schedule "$SCHEDULE" --balance 100000
fixture "$READ_FANS" "$WORK/waiting.txt" --queue-step 2 --schedule "$PAUSED" --waiting

FIGURES="$WORK/figures.tsv" # name, rate, p50 ms, p99 ms, ceiling name
: > "$FIGURES"
figure() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >> "$FIGURES"; }

measure() { # name, ceiling, loadgen arguments...
  local name="$1" ceiling="$2"; shift 2
  local out
  out=$("$TOOLS/loadgen" --connections "$CONNECTIONS" --duration "$DURATION" "$@")
  printf '  %-40s %s\n' "$name" "$out" >&2
  # Every answer must be a success: a refusal is cheaper than the work, and would flatter the rate.
  [ "$(echo "$out" | jq '.transport_errors + ([.statuses | to_entries[] | select(.key | startswith("2") | not) | .value] | add // 0)')" = 0 ] ||
    die "$name: failed requests"
  figure "$name" "$(echo "$out" | jq .rate)" "$(echo "$out" | jq .p50_ms)" "$(echo "$out" | jq .p99_ms)" "$ceiling"
}

if part ceilings; then
log "Ceilings ($CONNECTIONS connections, load generators on this machine)"
measure "bare HTTP (hello_server)" "" --url "http://127.0.0.1:$HELLO_PORT/"
# -q still prints progress lines, separated by carriage returns: keep the final figure.
PING=$(redis-benchmark -p "$REDIS_PORT" -c "$CONNECTIONS" -n 300000 -t ping -q 2>/dev/null | tr '\r' '\n' |
  awk '/^PING_MBULK: [0-9.]+ requests per second/ {print $2}')
printf '  %-40s %s requests/s\n' "raw Redis round trip (PING)" "$PING" >&2
figure "raw Redis round trip (PING)" "$PING" "" "" ""

# The raw SQL of a hold and of a payment: the statements ticketd sends, sent by pgbench with
# nothing else around them, on a database of their own (tools/ceilings/).
createdb -h 127.0.0.1 -p "$PG_PORT" -U postgres ceilings
DATABASE_URL="$PG/ceilings" "$BIN" migrate >/dev/null
PER_CLIENT=$(( RUSH_FANS / CONNECTIONS ))
psql "$PG/ceilings" -q -v ON_ERROR_STOP=1 -v count=$(( PER_CLIENT * CONNECTIONS )) -f "$ROOT/tools/ceilings/setup.sql"
psql "$PG/ceilings" -qc "VACUUM ANALYZE"
raw_sql() { # name, script
  local out rate
  out=$(pgbench -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -M prepared -c "$CONNECTIONS" -j 2 -t "$PER_CLIENT" \
    -D k=0 -D per_client="$PER_CLIENT" -f "$ROOT/tools/ceilings/$2" ceilings 2>&1) || die "pgbench $2: $out"
  rate=$(echo "$out" | awk '/^tps/ {print $3}')
  printf '  %-40s %s transactions/s (%s)\n' "$1" "$rate" "$(echo "$out" | grep -E '^latency average')" >&2
  figure "$1" "$rate" "" "" ""
}
raw_sql "raw SQL hold (pgbench)" hold.sql
raw_sql "raw SQL payment (pgbench)" payment.sql
HELD=$(psql "$PG/ceilings" -qtAc "SELECT count(*) FROM performance_seats WHERE reservation_status = 'RESERVED'")
[ "$HELD" = $(( PER_CLIENT * CONNECTIONS )) ] || die "the raw SQL runs sold $HELD seats, expected $(( PER_CLIENT * CONNECTIONS ))"
fi

with_urls() { local path="$1"; for url in "${URLS[@]}"; do echo --url "$url$path"; done; }
if part reads; then
log "ticketd: reads and charges ($INSTANCES instances x $THREADS thread(s), ${DURATION}s each)"
# shellcheck disable=SC2046
measure "queue polls, fans waiting (GET /queue/queue)" "bare HTTP (hello_server)" $(with_urls /queue/queue) \
  --headers-file "$WORK/waiting.txt"
# shellcheck disable=SC2046
measure "seat list, 50 seats (gated)" "bare HTTP (hello_server)" $(with_urls "/reservation/performance_seats/$SCHEDULE") \
  --headers-file "$WORK/fans.txt"
# shellcheck disable=SC2046
measure "balance reads (GET /payment/cash)" "bare HTTP (hello_server)" $(with_urls /payment/cash) \
  --headers-file "$WORK/fans.txt"
# shellcheck disable=SC2046
measure "charges (POST /payment/cash)" "bare HTTP (hello_server)" $(with_urls /payment/cash) --method POST \
  --body '{"amount":1}' --headers-file "$WORK/fans.txt"
fi

if part joins; then
log "ticketd: $JOIN_FANS fans join the line of one gate (performances, paused) once each, $INSTANCES instances"
# Fans that exist only in their access tokens: a gated call checks the signature, not the users table.
fixture "$JOIN_FANS" "$WORK/joiners.txt" --no-users
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }
used_memory() { rcli INFO memory | tr -d '\r' | awk -F: '$1 == "used_memory" {print $2}'; }
evalsha_usec() { rcli INFO commandstats | tr -d '\r' | awk -F'[:,=]' '$1 == "cmdstat_evalsha" {print $7}'; }
evalsha_calls_and_usec() { rcli INFO commandstats | tr -d '\r' | awk -F'[:,=]' '$1 == "cmdstat_evalsha" {print $3, $5}'; }
redis_reads() { rcli INFO stats | tr -d '\r' | awk -F: '$1 == "total_reads_processed" {print $2}'; }
# CPU clock ticks (user + system) of the given processes, and of the whole machine (busy, all).
ticks_of() { local total=0 p; for p in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$total"; }
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
LINE='tp:gate:{performances}:waiting'
gate_settings() {
  curl -fsS -X PUT "$B/admin/gates/performances" -H 'Authorization: Bearer dev-admin-key' \
    -H 'Content-Type: application/json' --data "$1" >/dev/null
}
gate_settings '{"rate":0}' # paused: no one is admitted, so the line only grows
[ "$(rcli ZCARD "$LINE")" = 0 ] || die "the performances gate has a line before the joins"
SEQ_BEFORE=$(rcli HGET 'tp:gate:{performances}:state' seq); SEQ_BEFORE=${SEQ_BEFORE:-0}
REDIS_PID=$(cat "$WORK/redis/redis.pid")
sleep 1 # let the set-up's writes settle before the first memory reading
MEM_BEFORE=$(used_memory)
rcli CONFIG RESETSTAT >/dev/null
READS_BEFORE=$(redis_reads)
read -r BUSY_BEFORE ALL_BEFORE < <(machine_ticks)
TICKETD_BEFORE=$(ticks_of "${TICKETD_PIDS[@]}"); REDIS_BEFORE=$(ticks_of "$REDIS_PID")
# shellcheck disable=SC2046
JOINS=$("$TOOLS/loadgen" --connections "$JOIN_CONNECTIONS" --threads "$JOIN_THREADS" --duration 600 \
  $(with_urls /reservation/performances) --headers-file "$WORK/joiners.txt" --headers-once)
read -r BUSY_AFTER ALL_AFTER < <(machine_ticks)
TICKETD_USED=$(( $(ticks_of "${TICKETD_PIDS[@]}") - TICKETD_BEFORE )); REDIS_USED=$(( $(ticks_of "$REDIS_PID") - REDIS_BEFORE ))
read -r JOIN_RUNS JOIN_USEC < <(evalsha_calls_and_usec); READS_USED=$(( $(redis_reads) - READS_BEFORE ))
printf '  %-40s %s\n' "joins (GET /reservation/performances)" "$JOINS" >&2
JOINED=$(echo "$JOINS" | jq '.statuses["202"] // 0')
# Every fan must have joined: anything but a 202 (or a request lost on the wire) fails the bench.
[ "$(echo "$JOINS" | jq '.transport_errors + ([.statuses | to_entries[] | select(.key != "202") | .value] | add // 0)')" = 0 ] &&
  [ "$JOINED" = "$JOIN_FANS" ] || die "joins: $JOINED of $JOIN_FANS fans were answered 202"
HZ=$(getconf CLK_TCK); SECONDS_TAKEN=$(echo "$JOINS" | jq .seconds)
share() { awk -v t="$1" -v hz="$HZ" -v s="$SECONDS_TAKEN" -v n="$(nproc)" 'BEGIN {printf "%.1f s (%.0f%% of the machine)", t / hz, 100 * t / hz / s / n}'; }
printf '  %-40s ticketd %s, redis-server %s, loadgen %s; the machine was %.0f%% busy (everything on it)\n' \
  "CPU during the joins" "$(share "$TICKETD_USED")" "$(share "$REDIS_USED")" \
  "$(share "$(echo "$JOINS" | jq ".cpu_seconds * $HZ")")" \
  "$(awk -v b=$((BUSY_AFTER - BUSY_BEFORE)) -v a=$((ALL_AFTER - ALL_BEFORE)) 'BEGIN {print 100 * b / a}')" >&2
# An instance sends the joins that arrive while its previous run is in Redis as one run
# (docs/waiting-queue.md, "Batched gated calls"): runs and joins differ.
printf '  %-40s %s runs (EVALSHA, ticks included) for %s joins, %.1f joins a run; %.1f µs of Redis a join; Redis read its clients %s times per join\n' \
  "the join script" "$JOIN_RUNS" "$JOIN_FANS" "$(awk -v r="$JOIN_RUNS" -v n="$JOIN_FANS" 'BEGIN {print n / r}')" \
  "$(awk -v u="$JOIN_USEC" -v n="$JOIN_FANS" 'BEGIN {print u / n}')" \
  "$(awk -v r="$READS_USED" -v n="$JOIN_FANS" 'BEGIN {printf "%.2f", r / n}')" >&2
printf '  %-40s %s\n' "Redis µs a join, by command" "$(rcli INFO commandstats | tr -d '\r' |
  awk -F'[:,=]' -v n="$JOIN_FANS" '/^cmdstat_/ {sub("cmdstat_", "", $1); printf "%.2f %s\n", $5 / n, $1}' |
  sort -rn | head -8 | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1}')" >&2
figure "joins into one gate (202, a new token)" "$(echo "$JOINS" | jq .rate)" "$(echo "$JOINS" | jq .p50_ms)" \
  "$(echo "$JOINS" | jq .p99_ms)" "bare HTTP (hello_server);Redis alone: the join script"

log "The line: arrival numbers checked from Redis (tools/queue_line.py)"
/usr/bin/python3 "$ROOT/tools/queue_line.py" "$REDIS_URL" performances --joined "$JOINED" --after-seq "$SEQ_BEFORE" >&2 ||
  die "the line the joins made is not one entry per join with unique, gap-free arrival numbers"

sleep 1
MEM_AFTER=$(used_memory)
IN_LINE=$(rcli ZCARD "$LINE")
SAMPLE=$(rcli ZRANGE "$LINE" 0 0)
SAMPLE_KEY="tp:token:{performances}:${SAMPLE#performances.}" # token "<tag>.<uuid>" (docs/waiting-queue.md)
SAMPLE_USER=$(rcli HGET "$SAMPLE_KEY" user)
TOKEN_BYTES=$(rcli MEMORY USAGE "$SAMPLE_KEY")
# The user's index in the gate's tag, and their latest token (a hint kept outside the scripts).
USER_BYTES=$(( $(rcli MEMORY USAGE "tp:user:{performances}:$SAMPLE_USER") + $(rcli MEMORY USAGE "tp:user:$SAMPLE_USER") ))
LINE_BYTES=$(rcli MEMORY USAGE "$LINE" SAMPLES 0)
log "Redis memory per waiting fan ($IN_LINE fans in line)"
awk -v before="$MEM_BEFORE" -v after="$MEM_AFTER" -v n="$IN_LINE" -v token="$TOKEN_BYTES" -v user="$USER_BYTES" \
  -v line="$LINE_BYTES" 'BEGIN {
    per = (after - before) / n
    printf "  %-40s %.0f bytes (used_memory %.1f MB -> %.1f MB)\n", "Redis bytes per waiting fan", per, before / 1e6, after / 1e6
    printf "  %-40s token hash %d B + user keys %d B + line entry %.0f B (the ZSET, %.1f MB / fans) + keyspace slots %.0f B\n",
      "of which (MEMORY USAGE)", token, user, line / n, line / 1e6, per - token - user - line / n
    printf "  %-40s 100,000 fans: %.0f MB; 1,000,000 fans: %.0f MB\n", "at this size", per * 1e5 / 1e6, per * 1e6 / 1e6
  }' >&2

# Redis's ceiling for joins on this machine: the same script, new fans only, sent by
# redis-benchmark the way the instances send it (one connection per event loop, the joins in
# flight pipelined on them), in a database of its own (1), emptied afterwards. __rand_int__
# makes UUID-shaped user and token ids (each placeholder its own number, so the declared key
# names another user than ARGV's: the same work); the rare repeat of a user is a second call.
# What follows the script on a join (listing the gate, the user's latest token) is left out.
LOOPS=$(( INSTANCES * THREADS ))
SHA=$({ cat "$ROOT/src/storage/redis/scripts/prelude.lua"; echo; cat "$ROOT/src/storage/redis/scripts/gate_call.lua"; } |
  rcli -x SCRIPT LOAD)
rcli -n 1 FLUSHDB >/dev/null
MEM_BEFORE=$(used_memory); rcli CONFIG RESETSTAT >/dev/null; REDIS_BEFORE=$(ticks_of "$REDIS_PID")
ALONE=$(redis-benchmark -p "$REDIS_PORT" --dbnum 1 -c "$LOOPS" -P $(( (JOIN_CONNECTIONS + LOOPS - 1) / LOOPS )) \
  -n "$JOIN_FANS" -r 2000000000 --csv \
  EVALSHA "$SHA" 1 'tp:user:{performances}:00000000-0000-4000-8000-__rand_int__' \
  00000000-0000-4000-8000-__rand_int__ 1 '' '' performances.10000000-0000-4000-8000-__rand_int__ \
  /reservation/performances '' 86400 2>/dev/null | tr '\r' '\n' | tail -1)
ALONE_RATE=$(echo "$ALONE" | awk -F'","' '{print $2}'); ALONE_P50=$(echo "$ALONE" | awk -F'","' '{print $5}')
ALONE_P99=$(echo "$ALONE" | awk -F'","' '{print $7}' | tr -d '"')
REDIS_USED=$(( $(ticks_of "$REDIS_PID") - REDIS_BEFORE )); ALONE_USEC=$(evalsha_usec)
sleep 1
ALONE_FANS=$(rcli -n 1 ZCARD "$LINE"); ALONE_MEM=$(( ($(used_memory) - MEM_BEFORE) / ALONE_FANS ))
printf '  %-40s %s joins/s (p50 %s ms, p99 %s ms); %s µs of Redis per call; redis-server %.1f s of CPU; %s fans in line, %s bytes each\n' \
  "Redis alone: the join script" "$ALONE_RATE" "$ALONE_P50" "$ALONE_P99" "$ALONE_USEC" \
  "$(awk -v t="$REDIS_USED" -v hz="$HZ" 'BEGIN {print t / hz}')" "$ALONE_FANS" "$ALONE_MEM" >&2
figure "Redis alone: the join script" "$ALONE_RATE" "$ALONE_P50" "$ALONE_P99" ""
rcli -n 1 FLUSHDB >/dev/null

# The joined fans leave no trace for the parts after this one: their tokens, their user
# indexes and the line go, and the gate admits again.
rcli EVAL "local n = 0
  for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    local tag, uuid = string.match(id, '^(.+)%.([^.]+)$')
    local key = 'tp:token:{' .. tag .. '}:' .. uuid
    local user = redis.call('HGET', key, 'user')
    if user then redis.call('DEL', 'tp:user:{' .. tag .. '}:' .. user, 'tp:user:' .. user) end
    redis.call('DEL', key); n = n + 1
  end
  redis.call('DEL', KEYS[1]); return n" 1 "$LINE" >/dev/null
gate_settings "{\"capacity\":$GATE_DEFAULT_CAPACITY,\"rate\":$GATE_DEFAULT_RATE}"
fi

if part cluster; then
log "ticketd on a Redis Cluster (3 masters, 3 replicas): $CLUSTER_FANS fans join one gate's line, with and without WAIT for a replica"
CLUSTER_BASE="$(free_cluster_base)"
start_redis_cluster "$WORK/redis-cluster" "$CLUSTER_BASE"
for wait in 0 1; do
  # Fresh instances and fans each round, so every join is a new token in line.
  CLUSTER_PIDS=(); CLUSTER_URLS=()
  for i in $(seq "$INSTANCES"); do
    port="$(free_port)"
    REDIS_URL="redis-cluster://127.0.0.1:$CLUSTER_BASE" REDIS_WAIT_REPLICAS=$wait LISTEN="127.0.0.1:$port" \
      "$BIN" serve > "$WORK/ticketd-cluster-$wait-$i.log" 2>&1 &
    CLUSTER_PIDS+=($!); PIDS+=($!); CLUSTER_URLS+=("http://127.0.0.1:$port")
  done
  for url in "${CLUSTER_URLS[@]}"; do
    for _ in $(seq 100); do curl -fs "$url/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
  done
  curl -fsS -X PUT "${CLUSTER_URLS[0]}/admin/gates/performances" -H 'Authorization: Bearer dev-admin-key' \
    -H 'Content-Type: application/json' --data '{"rate":0}' >/dev/null
  fixture "$CLUSTER_FANS" "$WORK/cluster-joiners-$wait.txt" --no-users
  # shellcheck disable=SC2046
  OUT=$("$TOOLS/loadgen" --connections "$JOIN_CONNECTIONS" --duration 600 \
    $(for url in "${CLUSTER_URLS[@]}"; do echo --url "$url/reservation/performances"; done) \
    --headers-file "$WORK/cluster-joiners-$wait.txt" --headers-once)
  printf '  %-40s %s\n' "joins, REDIS_WAIT_REPLICAS=$wait" "$OUT" >&2
  [ "$(echo "$OUT" | jq '.statuses["202"] // 0')" = "$CLUSTER_FANS" ] || die "cluster joins: not every fan was answered 202"
  UNREPLICATED=$(for url in "${CLUSTER_URLS[@]}"; do curl -fsS "$url/metrics"; done |
    awk '$1 == "ticketd_queue_writes_unreplicated_total" {n += $2} END {print n + 0}')
  printf '  %-40s %s\n' "answered before a replica had them" "$UNREPLICATED" >&2
  figure "joins on a cluster, WAIT for $wait replica(s)" "$(echo "$OUT" | jq .rate)" "$(echo "$OUT" | jq .p50_ms)" \
    "$(echo "$OUT" | jq .p99_ms)" "bare HTTP (hello_server)"
  for p in "${CLUSTER_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
done
stop_redis_cluster "$WORK/redis-cluster"
fi

if part biglist; then
log "ticketd: the seat list of a $BIG_SEATS-seat hall, gzip, on one instance ($BIG_THREADS threads) while $CHURN_RATE seats change per second"
BIG=$(curl -fsS -X POST "$B/admin/performances" -H 'Authorization: Bearer dev-admin-key' \
  -H 'Content-Type: application/json' --data '{"title":"Big hall","ticketing_start_date":"2025-01-01T00:00:00Z",
  "stage":{"name":"Arena","location":"Seoul"},"schedules":[{"staging_date":"2030-01-03T19:00:00Z","seat_count":'"$BIG_SEATS"',"price":1000}]}' |
  jq -r '.performance_staging_date[0].id')
fixture "$READ_FANS" "$WORK/bigfans.txt" --queue-step 2 --schedule "$BIG"
sed -i 's/$/|Accept-Encoding: gzip/' "$WORK/bigfans.txt"
BIG_PORT="$(free_port)"
THREADS="$BIG_THREADS" LISTEN="127.0.0.1:$BIG_PORT" "$BIN" serve > "$WORK/ticketd-big.log" 2>&1 & BIG_PID=$!; PIDS+=($BIG_PID)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$BIG_PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
SIZES=$(curl -fsS "http://127.0.0.1:$BIG_PORT/reservation/performance_seats/$BIG" -o /dev/null -w '%{size_download}' \
  -H "$(head -1 "$WORK/bigfans.txt" | cut -d'|' -f1)" -H "$(head -1 "$WORK/bigfans.txt" | cut -d'|' -f2)" -H 'Accept-Encoding: gzip')
"$TOOLS/onsale" churn --database-url "$DATABASE_URL" --redis-url "$REDIS_URL" --schedule "$BIG" --rate "$CHURN_RATE" \
  --seconds "$(( DURATION + 1 ))" > "$WORK/churn.json" & CHURN_PID=$!
measure "seat list, $BIG_SEATS seats, gzip, $CHURN_RATE changes/s, 1 instance" "bare HTTP (hello_server)" --threads 2 \
  --url "http://127.0.0.1:$BIG_PORT/reservation/performance_seats/$BIG" --headers-file "$WORK/bigfans.txt"
wait "$CHURN_PID" || die "the churn failed"
printf '  %-40s %s bytes per gzip answer; changes made: %s\n' "" "$SIZES" "$(cat "$WORK/churn.json")" >&2
curl -fsS "http://127.0.0.1:$BIG_PORT/metrics" | grep -E '^ticketd_seat_list_' | sed 's/^/  /' >&2
kill "$BIG_PID"
fi

if part rush; then
log "ticketd: $RUSH_FANS holds, then their payments, at $CONNECTIONS concurrent requests"
RUSH=$("$TOOLS/onsale" rush "${URL_ARGS[@]}" --database-url "$DATABASE_URL" --redis-url "$REDIS_URL" \
  --fans $(( PER_CLIENT * CONNECTIONS )) --connections "$CONNECTIONS") || die "the rush failed: $RUSH"
echo "$RUSH" > "$WORK/rush.json"
hold_p() { jq -r ".endpoints[\"$1\"].$2" "$WORK/rush.json"; }
printf '  %-40s %s\n' "holds" "$(jq -c .holds "$WORK/rush.json")" "payments" "$(jq -c .payments "$WORK/rush.json")" >&2
figure "seat holds (PATCH take_performance_seat)" "$(jq .holds.rate "$WORK/rush.json")" \
  "$(hold_p 'PATCH /reservation/take_performance_seat' p50_ms)" "$(hold_p 'PATCH /reservation/take_performance_seat' p99_ms)" \
  "raw SQL hold (pgbench)"
figure "payments (POST payment_performance_seat)" "$(jq .payments.rate "$WORK/rush.json")" \
  "$(hold_p 'POST /payment/payment_performance_seat' p50_ms)" "$(hold_p 'POST /payment/payment_performance_seat' p99_ms)" \
  "raw SQL payment (pgbench)"
fi

REPLAY_STATUS=0; INVARIANTS_STATUS=0
if part replay; then
log "The on-sale replay: $FANS fans for $SEATS seats, arriving within ${ARRIVAL_SECONDS}s, $INSTANCES instances"
# The largest resident size (KiB) of the ticketd processes during the replay: the kernel's
# high-water mark (VmHWM), reset first ("5" > clear_refs) so the earlier parts do not count.
# Sampling with ps instead cost a tenth of this machine's CPU during the replay.
for p in "${TICKETD_PIDS[@]}"; do echo 5 > "/proc/$p/clear_refs"; done
peak_rss() {
  local peak=0 rss
  for p in "${TICKETD_PIDS[@]}"; do
    rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    [ "${rss:-0}" -gt "$peak" ] && peak=$rss
  done
  echo "$peak"
}
# CPU time of each part of the system during the replay (clock ticks from /proc, this run's
# processes only): what the machine spends its cores on, robust to a noisy neighbour.
ticks_of() {
  local total=0 p
  for p in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo "$total"
}
component_pids() {
  case "$1" in
    ticketd) echo "${TICKETD_PIDS[@]}" ;;
    redis-server) cat "$WORK/redis/redis.pid" ;;
    postgres) local main; main=$(head -1 "$WORK/pg/postmaster.pid"); echo "$main" $(pgrep -P "$main") ;;
  esac
}
COMPONENTS=(ticketd redis-server postgres) # and the load generator's own, from its report
declare -A CPU_BEFORE
for c in "${COMPONENTS[@]}"; do CPU_BEFORE[$c]=$(ticks_of $(component_pids "$c")); done
"$TOOLS/onsale" replay "${URL_ARGS[@]}" --database-url "$DATABASE_URL" --redis-url "$REDIS_URL" \
  --fans "$FANS" --seats "$SEATS" --arrival-seconds "$ARRIVAL_SECONDS" --stream-share "$STREAM_SHARE" \
  --gate-capacity "$GATE_CAPACITY" --gate-rate "$GATE_RATE" --observations "$WORK/observations.json" \
  --sign-in "$SIGN_IN" --deadline-seconds "$REPLAY_DEADLINE" \
  > "$WORK/replay.json" || REPLAY_STATUS=$?
peak_rss > "$WORK/rss"
CPU_USED=""
for c in "${COMPONENTS[@]}"; do
  CPU_USED+=" $c $(awk -v a="${CPU_BEFORE[$c]}" -v b="$(ticks_of $(component_pids "$c"))" -v hz="$(getconf CLK_TCK)" \
    'BEGIN {printf "%.1f s", (b - a) / hz}'),"
done
jq -r '.endpoints | to_entries[] | "  \(.key)\t\(.value.requests) requests\t\(.value.rate | floor)/s\tp50 \(.value.p50_ms * 100 | floor / 100) ms\tp99 \(.value.p99_ms * 100 | floor / 100) ms\t(queued p99 \(.value.queued_p99_ms | floor) ms)\t\(.value.statuses)\(if .value.failures > 0 then "\t\(.value.failures) failed on the wire: \(.value.failure_reasons)" else "" end)"' \
  "$WORK/replay.json" | column -t -s $'\t' >&2
jq -r '"  fans signed in before the doors opened: \(.sign_in // "none (on arrival)")",
       "  seats sold: \(.sold) of \(.seats); sold out after: \(.sold_out_seconds // "never") s from the doors opening; replay took \(.seconds) s",
       "  fans: \(.outcomes)",
       "  fans who polled instead of opening a stream, the load generator being at its file limit (\(.most_streams) streams): \(.streams_polled_instead)",
       "  server errors: \(.server_errors), failures on the wire: \(.wire_failures), unexpected answers: \(.unexpected_outcomes)"' \
  "$WORK/replay.json" >&2
# Fans past each milestone by every 5 s after the doors opened (cumulative).
jq -r '.milestones_per_second // {} | to_entries[] | "  \(.key | .[2:])\t" +
       ([foreach .value[] as $n (0; . + $n)] | [to_entries[] | select((.key + 1) % 5 == 0) | "\(.key + 1)s:\(.value)"] | join("  "))' \
  "$WORK/replay.json" | column -t -s $'\t' >&2
printf '  %-40s %s KiB (largest of the %s instances during the replay)\n' "peak resident memory" "$(cat "$WORK/rss")" "$INSTANCES" >&2
printf '  %-40s%s onsale %.1f s\n' "CPU time during the replay" "$CPU_USED" "$(jq .cpu_seconds "$WORK/replay.json")" >&2
# How the instances answered, summed over them (counters since they started: earlier parts count too).
for name in ticketd_seat_list_cache_hits_total ticketd_seat_list_logged_updates_total \
            ticketd_seat_list_refreshes_total ticketd_takes_refused_from_seat_map_total; do
  total=0
  for url in "${URLS[@]}"; do
    n=$(curl -fsS "$url/metrics" | awk -v m="$name" '$1 == m {print $2}'); total=$((total + ${n:-0}))
  done
  printf '  %-40s %s\n' "$name" "$total" >&2
done

log "Invariants (I1-I3 read back from PostgreSQL, I4 from what was sampled from Redis)"
/usr/bin/python3 "$ROOT/tools/invariants.py" "$DATABASE_URL" --observations "$WORK/observations.json" >&2 || INVARIANTS_STATUS=$?
fi

if part draw; then
log "The draw: $DRAW_FANS fans pre-queued for one seat list, drawn at the ticketing start by $INSTANCES instances"
DRAW=$(/usr/bin/python3 "$ROOT/tools/draw_bench.py" "$B" "$REDIS_URL" "$DRAW_FANS" --open-in 20) ||
  die "the draw failed its checks: $DRAW"
printf '  %-40s %s\n' "draw of $DRAW_FANS" "$DRAW" >&2
fi

STREAMS_STATUS=0
if part streams; then
log "ticketd: $STREAM_FANS fans waiting on event streams of one instance (2 threads), then admitted at $STREAM_ADMIT_RATE/s for 2 s"
# Thousands of sockets on each side: more descriptors than the default hard limit (root may
# raise it; otherwise the hard limit it is).
STREAM_PORT="$(free_port)"
(ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
 THREADS=2 LISTEN="127.0.0.1:$STREAM_PORT" exec "$BIN" serve) > "$WORK/ticketd-streams.log" 2>&1 & STREAM_PID=$!; PIDS+=($STREAM_PID)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$STREAM_PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
(ulimit -n 65536 2>/dev/null || true
 exec "$TOOLS/onsale" streams "${URL_ARGS[@]}" --stream-url "http://127.0.0.1:$STREAM_PORT" --pid "$STREAM_PID" \
  --database-url "$DATABASE_URL" --redis-url "$REDIS_URL" --fans "$STREAM_FANS" --gate-rate "$STREAM_ADMIT_RATE" \
  --admit-seconds 2) > "$WORK/streams.json" || STREAMS_STATUS=$?
jq -r '"  fans on streams: \(.streams), with a first rank event: \(.ranked) (opened in \(.open_seconds * 10 | floor / 10) s)",
       "  resident memory of the instance: \(.rss_before_kib) KiB before, \(.rss_with_streams_kib) KiB with the streams open: \(.bytes_per_stream | floor) bytes per stream (target <= 4096); idle, they cost \(.idle_cpu_percent) % of a core",
       "  kernel slab memory (both ends of each loopback connection): \(.kernel_slab_bytes_per_stream_both_ends | floor) bytes per stream; TCP buffer pages \(.tcp_buffer_pages)",
       "  first event after the first admission: p50 \(.update_after_admission.p50_ms | floor) ms, p99 \(.update_after_admission.p99_ms | floor) ms, max \(.update_after_admission.max_ms | floor) ms (target p99 <= 500 ms); the instance spent \(.cpu_us_per_update | floor) us of CPU per stream told",
       "  fans admitted at the first admission, from it to their admitted event: p50 \(.admitted_event_after_own_admission.p50_ms | floor) ms, p99 \(.admitted_event_after_own_admission.p99_ms | floor) ms (\(.admitted_event_after_own_admission.count) fans)",
       "  streams: \(.outcomes); failed streams: \(.failed_streams); server errors: \(.server_errors), failures on the wire: \(.wire_failures)"' \
  "$WORK/streams.json" >&2
# No ceiling for this one ("none" is never a figure): the ratios print it without a ratio.
figure "stream updates after an admission" "$(jq .update_after_admission.rate "$WORK/streams.json")" \
  "$(jq .update_after_admission.p50_ms "$WORK/streams.json")" "$(jq .update_after_admission.p99_ms "$WORK/streams.json")" none
STREAM_SUMMARY="$(jq -r '"waiting streams: \(.ranked) open, \(.bytes_per_stream | floor) bytes resident each (target <= 4096), \(.failed_streams) failed"' "$WORK/streams.json")"
kill "$STREAM_PID"
fi

HOSTILE_STATUS=0
if part hostile; then
log "ticketd: balance reads on one instance ($THREADS thread(s), HEADER_TIMEOUT_SECONDS=$HOSTILE_HEADER_TIMEOUT) alone, then beside $HOSTILE_CLIENTS connections trickling request heads"
# Every trickling connection is a descriptor of the instance: it gets the hard limit (the
# whole script has it too, set above; said here because this part needs it).
HOSTILE_PORT="$(free_port)"; HOSTILE_URL="http://127.0.0.1:$HOSTILE_PORT"
(ulimit -n "$(ulimit -Hn)"
 HEADER_TIMEOUT_SECONDS="$HOSTILE_HEADER_TIMEOUT" LISTEN="127.0.0.1:$HOSTILE_PORT" exec "$BIN" serve) \
  > "$WORK/ticketd-hostile.log" 2>&1 & HOSTILE_PID=$!; PIDS+=($HOSTILE_PID)
for _ in $(seq 100); do curl -fs "$HOSTILE_URL/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
printf '  %-40s %s; load average of the machine: %s\n' "the instance's file limit" \
  "$(awk '/^Max open files/ {print $4}' "/proc/$HOSTILE_PID/limits")" "$(cut -d' ' -f1-3 /proc/loadavg)" >&2
ticks_of() { local total=0 p; for p in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo "$total"; }
# Busy, all, and of the busy the kernel's interrupt work (softirq: loopback traffic is
# processed there, and no process is charged for it).
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $7 + $8}' /proc/stat; }
HZ=$(getconf CLK_TCK)
# Balance reads on the instance for DURATION seconds, as measure() does, with what the
# window cost: the CPU of the instance, of PostgreSQL, of the load generator and of the
# trickle, and what the rest of the machine used meanwhile (it is shared: other work on
# it lowers both rates, not always alike); the most and fewest descriptors the instance
# held (sampled every second: the trickling connections it had at once).
watched_measure() { # name, ceiling
  local name="$1" ceiling="$2" out busy0 all0 irq0 busy1 all1 irq1 ticketd0 pg0 trickle0 main
  main=$(head -1 "$WORK/pg/postmaster.pid")
  # (ls -U: listing 10,000 descriptors sorted, twice a second, would itself cost a share of a core)
  (while sleep 1; do ls -U "/proc/$HOSTILE_PID/fd" | wc -l; done) > "$WORK/hostile-fds.txt" & local sampler=$!
  read -r busy0 all0 irq0 < <(machine_ticks)
  ticketd0=$(ticks_of "$HOSTILE_PID"); pg0=$(ticks_of "$main" $(pgrep -P "$main")); trickle0=$(ticks_of ${TRICKLE_PID:-})
  out=$("$TOOLS/loadgen" --connections "$CONNECTIONS" --duration "$DURATION" --url "$HOSTILE_URL/payment/cash" \
    --headers-file "$WORK/fans.txt")
  read -r busy1 all1 irq1 < <(machine_ticks)
  local ticketd=$(( $(ticks_of "$HOSTILE_PID") - ticketd0 )) pg=$(( $(ticks_of "$main" $(pgrep -P "$main")) - pg0 ))
  local trickle=$(( $(ticks_of ${TRICKLE_PID:-}) - trickle0 )) loadgen; loadgen=$(echo "$out" | jq ".cpu_seconds * $HZ | floor")
  kill "$sampler"; wait "$sampler" 2>/dev/null || true
  printf '  %-40s %s\n' "$name" "$out" >&2
  [ "$(echo "$out" | jq '.transport_errors + ([.statuses | to_entries[] | select(.key | startswith("2") | not) | .value] | add // 0)')" = 0 ] ||
    die "$name: failed requests"
  figure "$name" "$(echo "$out" | jq .rate)" "$(echo "$out" | jq .p50_ms)" "$(echo "$out" | jq .p99_ms)" "$ceiling"
  awk -v t="$ticketd" -v p="$pg" -v l="$loadgen" -v tr="$trickle" -v b=$(( busy1 - busy0 )) -v a=$(( all1 - all0 )) \
    -v irq=$(( irq1 - irq0 )) \
    -v n="$(nproc)" -v fds="$(sort -n "$WORK/hostile-fds.txt" | sed -n '1p;$p' | paste -sd' ')" \
    -v rss="$(awk '/^VmRSS:/ {print $2}' "/proc/$HOSTILE_PID/status")" 'BEGIN {
      s = a / n # the window in clock ticks of one core
      printf "  %-40s CPU (share of one core): ticketd %.0f%%, postgres %.0f%%, loadgen %.0f%%, trickle %.0f%%, kernel interrupts %.0f%%, everything else on the machine %.0f%%; the machine %.0f%% busy\n",
        "", 100 * t / s, 100 * p / s, 100 * l / s, 100 * tr / s, 100 * irq / s, 100 * (b - irq - t - p - l - tr) / s, 100 * b / a
      split(fds, f, " "); printf "  %-40s %s to %s descriptors open in the instance; %s KiB resident at the end\n", "", f[1], f[2], rss
    }' >&2
}
# Rounds: alone, beside the trickle, alone, beside it... ending alone. This machine's rate
# alone drifts by a third within a run, so each trickled window is compared with the mean of
# the two alone windows around it, and the figure is the median of the rounds.
alone_name() { echo "balance reads, 1 instance, alone ($1)"; }
watched_measure "$(alone_name 1)" "bare HTTP (hello_server)"
for round in $(seq "$HOSTILE_ROUNDS"); do
  # The trickle runs until told to stop (SIGTERM), replacing each connection the instance
  # closes, so the instance holds about HOSTILE_CLIENTS of them for the whole measured
  # window. It runs under SCHED_IDLE, on CPU time nothing else wants: a real attacker's own
  # CPU is on another machine, not the server's (the kernel's work for its packets still
  # counts here). That must not weaken the attack: the pace it kept is checked below.
  rm -f "$WORK/trickle.ready"
  chrt --idle 0 "$TOOLS/trickle" --url "$HOSTILE_URL/payment/cash" --connections "$HOSTILE_CLIENTS" \
    --ramp-seconds "$HOSTILE_RAMP" --interval-seconds 1 --duration 3600 --ready-file "$WORK/trickle.ready" \
    > "$WORK/trickle.json" & TRICKLE_PID=$!
  PIDS+=($TRICKLE_PID)
  for _ in $(seq $(( (HOSTILE_RAMP + 60) * 10 ))); do [ -f "$WORK/trickle.ready" ] && break; sleep 0.1; done
  [ -f "$WORK/trickle.ready" ] || die "not all $HOSTILE_CLIENTS trickling connections were opened within $((HOSTILE_RAMP + 60)) s"
  watched_measure "balance reads, beside $HOSTILE_CLIENTS trickling heads ($round)" "$(alone_name "$round")"
  # Stopped, it opens no more and ends once the instance has closed its last connections.
  kill -TERM "$TRICKLE_PID"
  wait "$TRICKLE_PID" || die "the trickle failed"
  TRICKLE_PID=
  printf '  %-40s %s\n' "trickle" "$(cat "$WORK/trickle.json")" >&2
  jq -r --arg t "$HOSTILE_HEADER_TIMEOUT" '"  trickling connections: \(.opened) opened (\(.most_open) at most at once), \(.closed_by_server) closed by the instance \(.closed_after.p50_s) s after opening at the median, p99 \(.closed_after.p99_s) s, max \(.closed_after.max_s) s (header timeout \($t) s); answered \(.answered), still open at 60 s \(.outlived), failed to open \(.failed_to_open); \(.bytes_per_connection_second) bytes a second each"' \
    "$WORK/trickle.json" >&2
  # Every trickling connection must end closed by the instance, without a word: one answered
  # or outliving 60 s means the header timeout did not hold. And the trickle must have kept
  # its pace (a byte a second, each), or it was no attack.
  [ "$(jq '.opened == .closed_by_server and .answered == 0 and .outlived == 0' "$WORK/trickle.json")" = true ] ||
    HOSTILE_STATUS=1
  [ "$(jq '.bytes_per_connection_second >= 0.9' "$WORK/trickle.json")" = true ] || HOSTILE_STATUS=1
  watched_measure "$(alone_name $((round + 1)))" "bare HTTP (hello_server)"
done
HOSTILE_SUMMARY=$(awk -F'\t' -v rounds="$HOSTILE_ROUNDS" '
  function round_of(name) { sub(/.*\(/, "", name); sub(/\).*/, "", name); return name + 0 }
  $1 ~ /^balance reads, 1 instance, alone \([0-9]+\)$/ { alone[round_of($1)] = $2 }
  $1 ~ /^balance reads, beside .* trickling heads \([0-9]+\)$/ { trickled[round_of($1)] = $2 }
  END {
    for (r = 1; r <= rounds; r++) {
      share[r] = 200 * trickled[r] / (alone[r] + alone[r + 1])
      each = each sprintf("%s%.0f%%", (r > 1 ? ", " : ""), share[r])
    }
    for (i = 2; i <= rounds; i++) for (j = i; (j > 1) && (share[j - 1] > share[j]); j--) { x = share[j]; share[j] = share[j - 1]; share[j - 1] = x }
    median = rounds % 2 ? share[(rounds + 1) / 2] : (share[rounds / 2] + share[rounds / 2 + 1]) / 2
    printf "hostile clients: balance reads beside the trickling heads at %.0f%% of their rate alone (median of %d rounds: %s; each against the mean of the windows alone around it; target >= 80%%)",
      median, rounds, each
  }' "$FIGURES")
printf '  %s\n' "$HOSTILE_SUMMARY" >&2
kill "$HOSTILE_PID"
fi

log "Ratios (each ticketd figure against its ceiling, measured in this run)"
# The ceiling column may name several ceilings, separated by ";": a ratio to each measured one.
awk -F'\t' '
  { rate[$1] = $2; line[NR] = $0 }
  END {
    for (i = 1; i <= NR; i++) {
      split(line[i], f, "\t")
      if (f[5] == "") continue
      out = sprintf("  %-44s %9.0f/s  p50 %6.2f ms  p99 %6.2f ms", f[1], f[2], f[3], f[4])
      n = split(f[5], ceilings, ";"); sep = "  = "
      for (c = 1; c <= n; c++) {
        if (rate[ceilings[c]]) { out = out sprintf("%s%3.0f%% of %s", sep, 100 * f[2] / rate[ceilings[c]], ceilings[c]); sep = ", " }
      }
      print out
    }
  }
' "$FIGURES" >&2
echo "  (targets: polls >= 50% of bare HTTP, holds and payments >= 70% of their raw SQL; the 50-seat list" \
     ">= 40% of bare HTTP; the $BIG_SEATS-seat list >= 3,000/s; joins into one gate >= 30,000/s;" \
     "stream updates p99 <= 500 ms)" >&2
[ -z "${STREAM_SUMMARY:-}" ] || echo "  $STREAM_SUMMARY" >&2
[ -z "${HOSTILE_SUMMARY:-}" ] || echo "  $HOSTILE_SUMMARY" >&2

[ "$REPLAY_STATUS" = 0 ] || die "the replay saw failures (exit $REPLAY_STATUS); see above"
[ "$INVARIANTS_STATUS" = 0 ] || die "an invariant was violated"
[ "$STREAMS_STATUS" = 0 ] || die "waiting streams failed (exit $STREAMS_STATUS); see above"
[ "$HOSTILE_STATUS" = 0 ] || die "a trickling connection was answered or not closed by the header timeout, or the trickle fell behind its pace; see above"
