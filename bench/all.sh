#!/usr/bin/env bash
# Every measurement of BENCHMARKS.md in one go, on a quiet machine:
#
#   bench/all.sh [--quick]
#
#   1. bench/run.sh --models all --reps 3         training speed, RSS, GFLOP/s
#   2. bench/run.sh --quality --reps 3            test loss after 1 and 5 epochs
#   3. bench/encode.sh                            inference, whole process
#   4. bench/scaling.sh                           threads, batch, image size
#   5. bench/determinism.sh                       bit-identical reruns
#   6. bench/serve_load.sh                        aekit serve under load
#
# Builds aekit once (Release); each part's Markdown goes to stdout and to
# $BENCH_OUT/report.md (default /tmp/aekit-bench), progress to stderr.
# About 40 minutes on 2 cores (an estimate since the training table gained
# torch+channels_last and the AAE; see BENCHMARKS.md); --quick: every part as a
# functional check, a few minutes, numbers meaningless.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${BENCH_OUT:-/tmp/aekit-bench}
Q=()
[ "${1:-}" = --quick ] && Q=(--quick)
mkdir -p "$OUT"
REPORT=$OUT/report.md
{
    echo "# aekit benchmarks, $(date -u +%Y-%m-%d)"
    echo
    echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (modified)')"
    echo
    echo "## Training"
    "$ROOT/bench/run.sh" --models all --reps 3 "${Q[@]}"
    echo
    echo "## Quality"
    "$ROOT/bench/run.sh" --quality --reps 3 --no-build "${Q[@]}"
    echo
    echo "## Inference"
    echo
    "$ROOT/bench/encode.sh" --no-build "${Q[@]}"
    echo "## Scaling"
    "$ROOT/bench/scaling.sh" --no-build "${Q[@]}"
    echo
    echo "## Determinism"
    echo
    "$ROOT/bench/determinism.sh" --no-build
    echo
    echo "## aekit serve under load"
    echo
    "$ROOT/bench/serve_load.sh" --no-build "${Q[@]}"
} | tee "$REPORT"
echo "written: $REPORT" >&2
