#!/usr/bin/env bash
# `aekit serve` under load: many concurrent clients on loopback for a
# bounded time, twice, then a clean SIGTERM.
#
#   bench/serve_load.sh [--clients 20] [--requests 10000] [--seconds 60]
#                       [--threads N] [--quick] [--no-build]
#
# Trains a small 2-D VAE once (1 epoch on 2,000 images) into
# $BENCH_OUT/serve_load/ (default /tmp/aekit-bench/serve_load), starts
# `aekit serve MODEL --data mnist --port 0 --limit 1000` on 127.0.0.1
# (--threads: its worker threads; default one per core), and runs
# bench/serve_load.py against it: two identical rounds of --requests
# requests from --clients keep-alive connections (mostly /api/decode?p=,
# some ?z=, /api/image/N and POST /api/encode), each round stopped after
# --seconds whatever happens. Prints requests/s, latency p50/p90/p99 per
# route, errors, the server's RSS before and after each round, and the CPU
# time of the client and of the server. Then SIGTERM: the server must exit
# 0 within 10 s. --quick: 1,000 requests a round (a functional check).
# Exit 1 if any request failed, a round was cut short, the RSS grew more
# than 10% from round 1 to round 2, or the server did not exit 0.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLIENTS=20 REQUESTS=10000 SECONDS_MAX=60 THREADS="" BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
    --clients) CLIENTS=$2; shift 2 ;;
    --requests) REQUESTS=$2; shift 2 ;;
    --seconds) SECONDS_MAX=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --quick) REQUESTS=1000; shift ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "bench/serve_load.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

source "$ROOT/bench/lib.sh"
S=$OUT/serve_load
mkdir -p "$S"
need_mnist bench/serve_load.sh t10k-images-idx3-ubyte
build_aekit bench/serve_load.sh

model=$S/vae2/model.safetensors
if [ ! -f "$model" ]; then
    echo "training a 2-D VAE for the benchmark ($S/vae2) ..." >&2
    rm -rf "$S/vae2"
    AEKIT_DATA="$DATA" "$AEKIT" train --model vae --latent 2 --data mnist --epochs 1 --limit 2000 \
        --val-limit 500 --out "$S/vae2" >"$S/train.log" 2>&1 || { tail -5 "$S/train.log" >&2; exit 1; }
fi

serve_args=("$model" --data mnist --port 0 --limit 1000)
[ -n "$THREADS" ] && serve_args+=(--threads "$THREADS")
AEKIT_DATA="$DATA" "$AEKIT" serve "${serve_args[@]}" >"$S/serve.out" 2>"$S/serve.err" &
pid=$!
# no server outlives the script
trap 'kill "$pid" 2>/dev/null || true' EXIT

url=""
for _ in $(seq 600); do   # the line comes after the test images are encoded
    url=$(sed -n 's/^aekit serve: \(http:[^ ]*\) .*/\1/p' "$S/serve.out")
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$S/serve.err" >&2; echo "bench/serve_load.sh: the server exited" >&2; exit 1; }
    sleep 0.1
done
[ -n "$url" ] || { echo "bench/serve_load.sh: no address from the server in 60 s" >&2; exit 1; }
echo "server $pid at $url; load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

echo "### aekit serve under load: $("$AEKIT" --version 2>/dev/null | head -1 || echo aekit)," \
    "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
status=0
"$PY" "$ROOT/bench/serve_load.py" "$url" --pid "$pid" --clients "$CLIENTS" \
    --requests "$REQUESTS" --seconds "$SECONDS_MAX" || status=1

# SIGTERM: a clean exit 0 within 10 s
kill -TERM "$pid"
for _ in $(seq 100); do
    state=$(sed 's/.*) \(.\).*/\1/' "/proc/$pid/stat" 2>/dev/null || echo gone)
    [ "$state" = Z ] || [ "$state" = gone ] && break
    sleep 0.1
done
if [ "$state" = Z ] || [ "$state" = gone ]; then
    rc=0; wait "$pid" || rc=$?
    trap - EXIT
    echo "- SIGTERM: the server exited with status $rc"
    [ "$rc" = 0 ] || status=1
else
    echo "- SIGTERM: the server still runs after 10 s (killed)"
    kill -KILL "$pid" 2>/dev/null || true
    status=1
fi
[ "$status" = 0 ] || echo "bench/serve_load.sh: FAILED (see above; server log in $S/serve.err)" >&2
exit "$status"
