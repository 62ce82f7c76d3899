#!/usr/bin/env bash
# Shared helpers for the project's scripts: installing dependencies, building, and running
# throwaway PostgreSQL and Redis servers in a folder of ours on loopback ports.
# Source it; do not run it.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_BIN="/usr/lib/postgresql/15/bin"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages the build, the servers and the tests need (README.md, Dependencies).
DEB_PACKAGES=(
  build-essential cmake ninja-build pkg-config git curl ca-certificates
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libpq-dev libhiredis-dev libssl-dev libsodium-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev zlib1g-dev jq
  postgresql-15 redis-server
  python3 python3-pytest python3-requests python3-psycopg2
)

# install_dependencies [PACKAGE...]: DEB_PACKAGES and any others a script needs.
install_dependencies() {
  local missing=()
  for p in "${DEB_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "Installing Debian packages: ${missing[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  fi
  # Swagger UI's static files and playwright-core (the browser tests' driver, no browser of its
  # own) come from the npm registry, into node_modules/ (not committed).
  # Any Node.js with npm will do (some machines ship one that conflicts with Debian's npm).
  if ! command -v npm >/dev/null 2>&1; then
    log "Installing Debian packages: nodejs npm"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm || log "npm is not available"
  fi
  if { [ ! -f "$ROOT/node_modules/swagger-ui-dist/swagger-ui-bundle.js" ] ||
       [ ! -f "$ROOT/node_modules/playwright-core/package.json" ]; } && command -v npm >/dev/null 2>&1; then
    log "Installing Swagger UI and the browser tests' driver (npm)"
    (cd "$ROOT" && npm install --ignore-scripts --no-audit --no-fund --silent) || log "Swagger UI could not be installed; /api will show a notice"
  fi
}

# build PRESET [TARGET...]: configure (once) and build with CMake presets (all targets
# unless some are named).
build() {
  local preset="$1"
  shift
  if [ ! -f "$ROOT/build/$preset/build.ninja" ]; then
    (cd "$ROOT" && cmake --preset "$preset" >/dev/null)
  fi
  if [ "$#" -gt 0 ]; then
    cmake --build "$ROOT/build/$preset" --target "$@"
  else
    cmake --build "$ROOT/build/$preset"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Runs a command as the owner of the data folder (PostgreSQL refuses to run as root).
as_pg_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# start_postgres DIR PORT: a private PostgreSQL with database "ticketing" (user postgres,
# trust auth on loopback only). Reuses DIR if it was initialised before.
start_postgres() {
  local dir="$1" port="$2"
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
  if [ ! -f "$dir/PG_VERSION" ]; then
    as_pg_user "$PG_BIN/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  as_pg_user "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB \
        -c fsync=${PG_FSYNC:-on} -c synchronous_commit=${PG_SYNC_COMMIT:-on} -c log_min_messages=warning" >/dev/null
  as_pg_user "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -qtAc \
    "SELECT 1 FROM pg_database WHERE datname='ticketing'" | grep -q 1 ||
    as_pg_user "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres ticketing
}

stop_postgres() {
  local dir="$1"
  [ -f "$dir/postmaster.pid" ] && as_pg_user "$PG_BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
}

# start_redis DIR PORT: a private Redis that keeps the waiting line across a crash: every
# write goes to an append-only file in DIR, flushed to disk every second.
start_redis() {
  local dir="$1" port="$2"
  mkdir -p "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync everysec --daemonize yes \
    --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "Redis did not start on port $port (see $dir/redis.log)"
}

stop_redis() {
  local dir="$1"
  [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
}

# free_cluster_base: a port P such that P..P+5 and their cluster bus ports (+10000) are all
# free on loopback, for start_redis_cluster.
free_cluster_base() {
  python3 - <<'PY'
import random, socket
def free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()
for _ in range(200):
    base = random.randrange(20000, 40000)
    if all(free(p) and free(p + 10000) for p in range(base, base + 6)):
        print(base)
        break
else:
    raise SystemExit("no free ports for a Redis Cluster")
PY
}

# start_redis_node DIR PORT: one cluster node on its own files in DIR/PORT (append-only,
# flushed every second, as start_redis), its settings in DIR/PORT/redis.conf. Run again to
# restart a node that was stopped or killed (tests may also run
# `redis-server DIR/PORT/redis.conf`): it rejoins the cluster from its nodes.conf.
start_redis_node() {
  local dir="$1" port="$2"
  mkdir -p "$dir/$port"
  [ -f "$dir/$port/redis.conf" ] || cat >"$dir/$port/redis.conf" <<CONF
port $port
bind 127.0.0.1
save ""
appendonly yes
appendfsync everysec
daemonize yes
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout 2000
dir $dir/$port
pidfile $dir/$port/redis.pid
logfile $dir/$port/redis.log
CONF
  redis-server "$dir/$port/redis.conf"
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "Redis did not start on port $port (see $dir/$port/redis.log)"
}

# start_redis_cluster DIR FIRST_PORT: a private Redis Cluster of 3 masters and 3 replicas on
# ports FIRST_PORT..FIRST_PORT+5 (bus ports +10000), with a short node timeout (2 s) so that
# a failover takes seconds. Returns once every node reports cluster_state:ok.
start_redis_cluster() {
  local dir="$1" first="$2" port nodes=()
  mkdir -p "$dir"
  for port in $(seq "$first" $((first + 5))); do
    start_redis_node "$dir" "$port"
    nodes+=("127.0.0.1:$port")
  done
  echo "$first" >"$dir/first_port"
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 ||
    die "redis-cli --cluster create failed (see $dir/create.log)"
  wait_redis_cluster "$dir"
}

# wait_redis_cluster DIR: until every node of the cluster in DIR says cluster_state:ok and
# knows all six nodes (up to 30 s).
wait_redis_cluster() {
  local dir="$1" first port ok
  first="$(cat "$dir/first_port")"
  for _ in $(seq 300); do
    ok=1
    for port in $(seq "$first" $((first + 5))); do
      redis-cli -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || { ok=0; break; }
      [ "$(redis-cli -p "$port" cluster nodes 2>/dev/null | grep -vc 'fail\|handshake\|noaddr')" -eq 6 ] || { ok=0; break; }
    done
    [ "$ok" -eq 1 ] && return 0
    sleep 0.1
  done
  die "the Redis Cluster in $dir did not become ready (see $dir/*/redis.log)"
}

stop_redis_cluster() {
  local dir="$1" pidfile
  for pidfile in "$dir"/*/redis.pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
}
