#!/usr/bin/env bash
# The rules the compiler does not check, run before the tests (docs/style.md):
#   1. formatting: clang-format in dry-run mode fails on any difference;
#   2. clang-tidy with the repository's .clang-tidy over src/;
#   3. the direction of includes between layers (see LAYERS below);
#   4. references: every path of this repository named in its files, and every relative
#      link of its Markdown, exists.
#   scripts/check.sh            # all four
#   CHECKS="format layers" scripts/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

install_dependencies clang clang-format clang-tidy
cd "$ROOT"

# What each folder of src/ may include besides itself. Dependencies point inwards: the
# domain and the support code include nothing else; the adapters and the transport only
# the domain and support; the API any of those; the program everything.
declare -A LAYERS=(
  [domain]=""
  [support]=""
  [security]="domain support"
  [http]="domain support"
  [storage/pg]="domain support"
  [storage/redis]="domain support"
  [api]="domain support security http storage/pg storage/redis"
  [app]="domain support security http storage/pg storage/redis api"
)

# The layer a path below src/ belongs to: its first folder, or two for storage/.
layer_of() {
  case "$1" in
    storage/*) echo "$1" | cut -d/ -f1-2 ;;
    *) echo "$1" | cut -d/ -f1 ;;
  esac
}

check_layers() {
  local failures=0 file from target included
  while IFS= read -r file; do
    from="$(layer_of "${file#src/}")"
    [ -n "${LAYERS[$from]+x}" ] || { echo "$file: folder '$from' is not a known layer (scripts/check.sh)"; failures=1; continue; }
    while IFS= read -r included; do
      target="$(layer_of "$included")"
      [ "$target" = "$from" ] && continue
      if [[ " ${LAYERS[$from]} " != *" $target "* ]]; then
        echo "$file includes \"$included\": $from may not depend on $target"
        failures=1
      fi
    done < <(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]+)".*/\1/p' "$file")
  done < <(git ls-files 'src/*.cpp' 'src/*.hpp')
  return $failures
}

check_references() {
  local failures=0 file path link
  # Paths from the repository's root, as comments and docs name them (not after build/, and
  # not patterns such as test_*.py or NNNN_name.sql).
  while IFS= read -r path; do
    [ -e "$path" ] || { echo "named but missing: $path"; failures=1; }
  done < <(git ls-files -z ':!package-lock.json' | xargs -0 grep -ohE '(^|[^/A-Za-z0-9_.*-])(docs|scripts|src|tools|tests|sql|cmake)/[A-Za-z0-9_./-]*[A-Za-z0-9_]' |
    sed -E 's#^[^dstc]##' | grep -vE '\*|NNNN|_$' | sort -u)
  while IFS= read -r file; do
    while IFS= read -r link; do
      [ -e "$(dirname "$file")/${link%%#*}" ] || { echo "$file links to a missing $link"; failures=1; }
    done < <(grep -oE '\]\([^)#: ]+(#[^)]*)?\)' "$file" | sed -E 's/^\]\(//; s/\)$//')
  done < <(git ls-files '*.md')
  return $failures
}

check_format() {
  git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror
}

# clang-tidy reads a compile database made with clang and without precompiled headers
# (a GCC one carries flags and PCH files clang cannot read). Nothing is built.
check_tidy() {
  cmake -S . -B build/tidy -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_DISABLE_PRECOMPILE_HEADERS=ON >/dev/null
  run-clang-tidy -quiet -p build/tidy -j "$(nproc)" "$ROOT/src/" >build/tidy/report.txt 2>&1 || {
    grep -E 'error:|warning:' -A3 build/tidy/report.txt
    return 1
  }
}

status=0
for check in ${CHECKS:-format layers references tidy}; do
  log "Checking: $check"
  "check_$check" || { log "Check failed: $check"; status=1; }
done
exit $status
