#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan) and runs each one for
# SECONDS (default 30) on a copy of its seed corpus (fuzz/corpus/NAME plus
# the regression inputs in tests/fixtures/fuzz/NAME). Prints each harness's
# execution count; exits non-zero if any harness crashes, leaks, runs out
# of memory (-rss_limit_mb=2048; one allocation larger than 256 MB, 2 GB for
# fuzz_model_text) or times out on one input.
#
#   fuzz/run.sh [SECONDS] [HARNESS...]     e.g. fuzz/run.sh 10 fuzz_idx
#
# Environment: AEKIT_FUZZ_BUILD (build folder, default build/fuzz),
# AEKIT_FUZZ_TIMEOUT (seconds per input, default 60), AEKIT_FUZZ_KEEP (a
# folder: the corpus each harness grows is kept in KEEP/NAME, and a later
# run starts from it too; default: a temporary copy, removed). Crash inputs
# are written to $AEKIT_FUZZ_BUILD/artifacts/, logs to
# $AEKIT_FUZZ_BUILD/logs/. The harnesses' scratch files go to /dev/shm when
# it is writable (TMPDIR otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
secs=${1:-30}
[ $# -gt 0 ] && shift
build=${AEKIT_FUZZ_BUILD:-$root/build/fuzz}
timeout=${AEKIT_FUZZ_TIMEOUT:-60}

echo "== building the fuzz harnesses in $build"
CC=clang cmake -S "$root" -B "$build" -DAEKIT_FUZZ=ON -DAEKIT_TESTS=OFF -DAEKIT_EXAMPLES=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target aekit_fuzzers -j"$(nproc)" >"$build/build.log" 2>&1 ||
  { tail -n 40 "$build/build.log"; echo "fuzz build failed"; exit 1; }

if [ $# -gt 0 ]; then names=("$@"); else read -r -a names < <(tr ';' ' ' <"$build/fuzz/fuzzers.txt"); fi
work=$(mktemp -d)
# the harnesses' scratch folders (left behind by a crash): removed at exit
shm=${TMPDIR:-/tmp}
if [ -d /dev/shm ] && [ -w /dev/shm ]; then shm=/dev/shm; fi
scratch=$(mktemp -d -p "$shm" aekit-fuzz.XXXXXX)
trap 'rm -rf "$work" "$scratch"' EXIT
mkdir -p "$build/artifacts" "$build/logs"
failed=0
echo "== running each harness for ${secs}s"
for name in "${names[@]}"; do
  short=${name#fuzz_}
  corpus="${AEKIT_FUZZ_KEEP:-$work}/$short"
  mkdir -p "$corpus"
  for seeds in "$root/fuzz/corpus/$short" "$root/tests/fixtures/fuzz/$short"; do
    if [ -d "$seeds" ]; then cp "$seeds"/* "$corpus"/ 2>/dev/null || true; fi
  done
  log="$build/logs/$name.log"
  status=ok
  # One allocation of more than 256 MB is a finding (a header believed
  # before it was checked against the file), except for model descriptions,
  # which may ask for up to 1 GiB of parameters.
  malloc_limit=256
  [ "$name" = fuzz_model_text ] && malloc_limit=2048
  if ! TMPDIR=$scratch "$build/fuzz/$name" "$corpus" -max_total_time="$secs" -rss_limit_mb=2048 \
       -malloc_limit_mb="$malloc_limit" -timeout="$timeout" -print_final_stats=1 -artifact_prefix="$build/artifacts/$name-" >"$log" 2>&1; then
    status=FAILED
    failed=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  printf '%-18s %-6s %12s executions in %ss\n' "$name" "$status" "${execs:-?}" "$secs"
  if [ "$status" != ok ]; then
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written|^    #[0-9]' "$log" | head -n 30 || true
    echo "   (full log: $log)"
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "fuzzing found a problem: add the input under tests/fixtures/fuzz/ and fix it"
  exit 1
fi
echo "no crashes"
