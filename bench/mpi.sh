#!/usr/bin/env bash
# aekit train across processes (mpirun) on this machine, for BENCHMARKS.md
# "Training across processes (MPI)":
#
#   bench/mpi.sh [--quick] [--no-build]
#
#   speed        conv, vae (dense) and aae, 1 epoch, batch 128, each as one
#                process --threads 2, mpirun -np 1 --threads 2 and mpirun
#                -np 2 --threads 1: images/s (metrics.csv, the training loop
#                only), the step time, and the reduction's time a step that
#                rank 0 prints (time inside MPI send/recv/broadcast, waiting
#                for the other rank included). conv and vae train on all
#                60,000 MNIST images; aae on --limit 12800 (100 steps; about
#                15 s at its ~850 images/s on 2 cores).
#   pingpong     bench/mpi_pingpong.c (built here with mpicc): loopback
#                one-way time and bandwidth at 8 B, aekit's 256 KB chain
#                pieces and each model's gradient size.
#   correctness  -np 4 and -np 8 --threads 1, oversubscribed, --limit 1024:
#                the model bytes of one process with --threads 4 / 8 (the
#                same batch split), for each model. Speed is not measured
#                there: 4 or 8 processes share 2 cores.
#
# Results in $BENCH_OUT/mpi (default /tmp/aekit-bench/mpi): speed.csv,
# pingpong.csv, same.txt. About 4 minutes on 2 cores; --quick: seconds.
# As root (containers), Open MPI needs OMPI_ALLOW_RUN_AS_ROOT=1 and
# OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 (set here when run as root).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
QUICK=0 BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) QUICK=1; shift ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "bench/mpi.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

source "$ROOT/bench/lib.sh"
M=$OUT/mpi
mkdir -p "$M"
need_mnist bench/mpi.sh train-images-idx3-ubyte
command -v mpirun >/dev/null && command -v mpicc >/dev/null ||
    { echo "bench/mpi.sh: no mpirun/mpicc (Debian: openmpi-bin libopenmpi-dev)" >&2; exit 1; }
build_aekit bench/mpi.sh
ldd "$AEKIT" | grep -q libmpi ||
    { echo "bench/mpi.sh: $AEKIT is built without MPI (AEKIT_MPI=OFF)" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_plm_rsh_agent=${OMPI_MCA_plm_rsh_agent-false}   # one machine: no ssh
# --bind-to none: Open MPI binds each rank to one core by default (np <= 2),
# which would put -np 1 --threads 2 on one core
mpi() { mpirun -q --oversubscribe --bind-to none "$@"; }

MODELS="conv vae aae"
declare -A LIMIT=([conv]=60000 [vae]=60000 [aae]=12800)
# --batch 32 runs (one process, 2 threads): with batch 128 they split the
# step time into a part a step and a part an image (the scaling model)
declare -A LIMIT32=([conv]=20000 [vae]=20000 [aae]=3200)
VAL=500 SAME_LIMIT=1024
if [ $QUICK = 1 ]; then
    LIMIT=([conv]=1280 [vae]=1280 [aae]=256) LIMIT32=([conv]=640 [vae]=640 [aae]=128)
    VAL=100 SAME_LIMIT=256
fi
BATCH=128

# ---- pingpong ----
mpicc -O2 -o "$M/mpi_pingpong" "$ROOT/bench/mpi_pingpong.c"
sizes="8 262144"
for m in $MODELS; do
    "$AEKIT" train --model $m --data mnist --limit 128 --val-limit 10 --epochs 1 --threads 1 \
        --out "$M/size-$m" --force >/dev/null 2>&1
    p=$("$AEKIT" info "$M/size-$m/model.safetensors" | awk '$1 == "parameters" { print $2 }')
    declare "PARAMS_$m=$p"
    sizes="$sizes $((4 * p))"
done
mpirun -q -np 2 "$M/mpi_pingpong" $sizes >"$M/pingpong.csv"
echo "== loopback ping-pong (bytes, one-way us, MB/s)"
column -t -s, "$M/pingpong.csv"

# ---- speed ----
echo "model,run,batch,params,images,images_per_s,step_ms,reduction_ms" >"$M/speed.csv"
# run NAME MODEL THREADS BATCH LIMIT [LAUNCHER...]: one row of speed.csv
# from the run folder's metrics.csv and rank 0's stderr
run() {
    local name=$1 m=$2 threads=$3 batch=$4 limit=$5 dir=$M/run-$2-$1
    shift 5
    "$@" "$AEKIT" train --threads "$threads" --model "$m" --data mnist --limit "$limit" --val-limit $VAL \
        --epochs 1 --batch "$batch" --out "$dir" --force >/dev/null 2>"$dir.err" ||
        { cat "$dir.err" >&2; exit 1; }
    local row ips sec images steps red params
    row=$(sed -n 2p "$dir/metrics.csv")
    sec=$(cut -d, -f5 <<<"$row")
    ips=$(cut -d, -f6 <<<"$row")
    images=$(awk -v s="$sec" -v r="$ips" 'BEGIN { printf "%d", s * r + 0.5 }')
    steps=$(( (images + batch - 1) / batch ))
    red=$(sed -n 's/^aekit train: reduction \([0-9.]*\) ms a step.*/\1/p' "$dir.err")
    params=PARAMS_$m
    awk -v m="$m" -v n="$name" -v b="$batch" -v p="${!params}" -v im="$images" -v r="$ips" -v s="$sec" -v st="$steps" \
        -v red="${red:--}" 'BEGIN { printf "%s,%s,%s,%s,%d,%.0f,%.2f,%s\n", m, n, b, p, im, r, 1000 * s / st, red }' \
        >>"$M/speed.csv"
}
for m in $MODELS; do
    run one-t2 $m 2 $BATCH "${LIMIT[$m]}"
    run np1-t2 $m 2 $BATCH "${LIMIT[$m]}" mpi -np 1
    run np2-t1 $m 1 $BATCH "${LIMIT[$m]}" mpi -np 2
    run one-t2-b32 $m 2 32 "${LIMIT32[$m]}"
done
echo "== speed (1 epoch; step_ms = seconds / steps; reduction_ms: rank 0's line)"
column -t -s, "$M/speed.csv"

# ---- correctness: -np 4 / 8 give the model of --threads 4 / 8 ----
: >"$M/same.txt"
fails=0
for m in $MODELS; do
    for n in 4 8; do
        small=(--model $m --data mnist --limit $SAME_LIMIT --val-limit 100 --epochs 1 --force)
        "$AEKIT" train "${small[@]}" --threads $n --out "$M/same-$m-t$n" >/dev/null 2>&1
        mpi -np $n "$AEKIT" train "${small[@]}" --threads 1 --out "$M/same-$m-np$n" >/dev/null 2>&1
        if cmp -s "$M/same-$m-t$n/model.safetensors" "$M/same-$m-np$n/model.safetensors"; then
            echo "$m: -np $n --threads 1 = --threads $n: same model bytes" >>"$M/same.txt"
        else
            echo "$m: -np $n --threads 1 != --threads $n: MODELS DIFFER" >>"$M/same.txt"
            fails=1
        fi
    done
done
echo "== correctness (--limit $SAME_LIMIT, oversubscribed)"
cat "$M/same.txt"
exit $fails
