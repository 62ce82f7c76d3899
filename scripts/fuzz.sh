#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (the fuzz preset: clang 14, ASan + UBSan) and
# runs each for a fixed number of inputs from its seed corpus, with a fixed seed, so that a
# run is reproducible; fails on the first crash (docs/fuzzing.md).
#   scripts/fuzz.sh                              # what scripts/test.sh runs
#   FUZZ_RUNS=2000000 scripts/fuzz.sh            # longer: inputs per target
#   FUZZ_TARGETS="fuzz_jwt" FUZZ_SEED=7 scripts/fuzz.sh
# A crash leaves its input in build/fuzz/findings/<target>-crash-<sha1>; replay it with
#   build/fuzz/tests/fuzz/<target> build/fuzz/findings/<target>-crash-<sha1>
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

install_dependencies clang

TARGETS="${FUZZ_TARGETS:-fuzz_http_request fuzz_json_bodies fuzz_jwt fuzz_redis_reply}"
RUNS="${FUZZ_RUNS:-}"
SEED="${FUZZ_SEED:-1}"

# Inputs per target by default, and the longest input: about as long as each needs (a
# request of the API is a few hundred bytes, a body or a token less), and within the stage's
# budget of a few minutes on two cores.
declare -A DEFAULT_RUNS=([fuzz_http_request]=30000 [fuzz_json_bodies]=60000 [fuzz_jwt]=60000 [fuzz_redis_reply]=60000)
declare -A MAX_LEN=([fuzz_http_request]=4096 [fuzz_json_bodies]=4096 [fuzz_jwt]=1024 [fuzz_redis_reply]=2048)

cd "$ROOT"
log "Building the fuzz targets (preset fuzz)"
build fuzz fuzz_targets

FINDINGS="$ROOT/build/fuzz/findings"
WORK="$(mktemp -d /tmp/ticketd-fuzz.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$FINDINGS"

status=0
for target in $TARGETS; do
  [ -n "${MAX_LEN[$target]+x}" ] || die "unknown fuzz target: $target"
  runs="${RUNS:-${DEFAULT_RUNS[$target]}}"
  # New inputs go to a copy: the seed corpus in the repository changes only by hand.
  mkdir -p "$WORK/$target"
  cp tests/fuzz/corpus/"$target"/* "$WORK/$target/"
  dict=()
  [ -f "tests/fuzz/$target.dict" ] && dict=(-dict="tests/fuzz/$target.dict")
  log "Fuzzing $target: $runs inputs, seed $SEED"
  if ! "build/fuzz/tests/fuzz/$target" "$WORK/$target" "${dict[@]}" -runs="$runs" -seed="$SEED" \
    -max_len="${MAX_LEN[$target]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$FINDINGS/$target-" 2>"$WORK/$target.log"; then
    tail -n 60 "$WORK/$target.log"
    log "$target crashed: the input is in $FINDINGS (docs/fuzzing.md, Reproducing a crash)"
    status=1
    continue
  fi
  grep -E '^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' "$WORK/$target.log" || true
done
exit $status
