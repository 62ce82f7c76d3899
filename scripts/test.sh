#!/usr/bin/env bash
# One command that sets up everything and runs the whole test suite: unit tests,
# PostgreSQL integration tests, black-box HTTP and concurrency tests against real
# ticketd processes, first in a debug build and then under AddressSanitizer +
# UndefinedBehaviorSanitizer. PostgreSQL and Redis run in a throwaway folder on free
# loopback ports and are stopped at the end.
# The dev build also runs the browser tests (tests/browser: the fan page and the console in
# Debian's chromium). Then the fuzz targets run for a fixed number of inputs each (scripts/fuzz.sh, docs/fuzzing.md).
#   TEST_PRESETS="dev"  scripts/test.sh   # skip the sanitizer build
#   TEST_FUZZ=0 scripts/test.sh             # skip the fuzz stage
#   scripts/test.sh -R take_seat            # extra arguments go to ctest
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

install_dependencies chromium # the browser tests drive Debian's chromium

WORK="$(mktemp -d /tmp/ticketd-test.XXXXXX)"
[ "$(id -u)" -eq 0 ] && chmod 755 "$WORK"
cleanup() { stop_postgres "$WORK/pg"; stop_redis "$WORK/redis"; stop_redis_cluster "$WORK/redis-cluster"; rm -rf "$WORK"; }
trap cleanup EXIT

PG_PORT="$(free_port)"
REDIS_PORT="$(free_port)"
log "Starting throwaway PostgreSQL (:$PG_PORT) and Redis (:$REDIS_PORT) in $WORK"
start_postgres "$WORK/pg" "$PG_PORT"
start_redis "$WORK/redis" "$REDIS_PORT"
REDIS_CLUSTER_PORT="$(free_cluster_base)"
log "Starting a throwaway Redis Cluster (:$REDIS_CLUSTER_PORT..+5) in $WORK"
start_redis_cluster "$WORK/redis-cluster" "$REDIS_CLUSTER_PORT"
# Tests make their own databases (tp_test_*) on this server and drop them afterwards.
export TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
export TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export TEST_REDIS_CLUSTER_URL="redis-cluster://127.0.0.1:$REDIS_CLUSTER_PORT"
# The cluster tests restart a node they kill with this (scripts/lib.sh, start_redis_node).
export TEST_REDIS_CLUSTER_DIR="$WORK/redis-cluster"
export TEST_PG_DATA="$WORK/pg"
# A server suite that finds no server fails here instead of skipping every test.
export TEST_REQUIRE_SERVERS=1

cd "$ROOT"
status=0
for preset in ${TEST_PRESETS:-dev asan}; do
  log "Building ($preset)"
  build "$preset"
  log "Testing ($preset)"
  ctest --preset "$preset" "$@" || status=1
done
if [ "${TEST_FUZZ:-1}" != 0 ]; then
  log "Fuzzing (preset fuzz)"
  "$ROOT/scripts/fuzz.sh" || status=1
fi
exit $status
