#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running server:
# installs what is missing, builds (release), starts PostgreSQL and Redis in .local/ unless
# DATABASE_URL / REDIS_URL point elsewhere, migrates, loads a demo performance, and runs
# ticketd in the foreground on LISTEN (default 127.0.0.1:8080). Ctrl-C stops it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

install_dependencies
log "Building (release)"
build release ticketd
BIN="$ROOT/build/release/src/ticketd"

export TICKETD_ENV="${TICKETD_ENV:-dev}"
export LISTEN="${LISTEN:-127.0.0.1:8080}"
export SWAGGER_UI_DIR="${SWAGGER_UI_DIR:-$ROOT/node_modules/swagger-ui-dist}"
if [ -z "${DATABASE_URL:-}" ]; then
  PG_PORT="${LOCAL_PG_PORT:-55432}"
  if ! as_pg_user "$PG_BIN/pg_ctl" -D "$ROOT/.local/postgres" status >/dev/null 2>&1; then
    log "Starting PostgreSQL in .local/postgres on port $PG_PORT"
    start_postgres "$ROOT/.local/postgres" "$PG_PORT"
  fi
  export DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/ticketing"
fi
if [ -z "${REDIS_URL:-}" ]; then
  REDIS_PORT="${LOCAL_REDIS_PORT:-56379}"
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    log "Starting Redis in .local/redis on port $REDIS_PORT"
    start_redis "$ROOT/.local/redis" "$REDIS_PORT"
  fi
  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
fi

log "Migrating the database"
"$BIN" migrate

"$BIN" serve &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER' INT TERM
for _ in $(seq 100); do curl -fs "http://$LISTEN/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

if [ "$(psql "$DATABASE_URL" -qtAc 'SELECT count(*) FROM performances')" = "0" ]; then
  log "Loading the demo performance (scripts/demo_performance.json)"
  curl -fsS -X POST "http://$LISTEN/admin/performances" \
    -H "Authorization: Bearer ${ADMIN_API_KEY:-dev-admin-key}" -H 'Content-Type: application/json' \
    --data @"$ROOT/scripts/demo_performance.json" >/dev/null
fi
log "ticketd is serving on http://$LISTEN (API docs: http://$LISTEN/api). Ctrl-C stops it."
wait $SERVER
