#!/usr/bin/env bash
# Inference: `aekit encode MODEL --data mnist --out codes.npy` (the 10,000
# MNIST test images) against bench/torch_encode.py doing the same in
# PyTorch (import torch, read the same safetensors model file, read the IDX,
# encode, write .npy), timed as whole processes, interleaved:
#
#   bench/encode.sh [--models "conv vae"] [--threads 2] [--runs 10] [--warmup 2]
#                   [--runners "aekit torch torch+openblas"] [--hyperfine]
#                   [--quick] [--no-build]
#
# For each model a model file is trained first with aekit (1 epoch on 2,000
# images: the weights' values do not change the cost of encoding) and kept
# in $BENCH_OUT/encode/ (default /tmp/aekit-bench/encode). Both sides'
# codes are compared once before timing (max |difference|). Then every
# runner runs once per round, --warmup rounds untimed, --runs rounds timed
# (bench/proctime.py: wall time from fork to exit, peak RSS of the process);
# the table gives median / min / max seconds, the ratio of medians to aekit
# and peak RSS. --hyperfine: time with hyperfine instead (not interleaved;
# JSON in $BENCH_OUT/encode/hyperfine.*.json).
#
# Runners and their settings are bench/run.sh's: torch = Debian's torch on
# the reference BLAS (libblas3), torch+openblas = on libopenblas0-pthread with
# OPENBLAS_NUM_THREADS=1; both torch.set_num_threads(T), OMP_NUM_THREADS=T,
# batches of 1000 images (--batch of torch_encode.py) under
# torch.inference_mode(). aekit encode: --threads T, its own chunks of 64
# images per thread.
# --quick: a functional check (2 rounds, 0 warm-up, --models conv).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODELS="conv vae" THREADS=2 RUNS=10 WARMUP=2 BUILD=1 HYPERFINE=0 QUICK=0
RUNNERS="aekit torch torch+openblas"
while [ $# -gt 0 ]; do
    case "$1" in
    --models) MODELS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --runners) RUNNERS=$2; shift 2 ;;
    --hyperfine) HYPERFINE=1; shift ;;
    --quick) QUICK=1; RUNS=2; WARMUP=0; MODELS=conv; shift ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "bench/encode.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

source "$ROOT/bench/lib.sh"
E=$OUT/encode
mkdir -p "$E"
need_mnist bench/encode.sh t10k-images-idx3-ubyte

build_aekit bench/encode.sh

# the same flags as bench/run.sh's MODELS_TABLE
aekit_flags() {
    case $1 in
    sr) echo "--model sr --scale 2" ;;
    conv|conv-vae|vae) echo "--model $1" ;;
    *) echo "bench/encode.sh: unknown model $1 (conv, sr, conv-vae, vae)" >&2; return 1 ;;
    esac
}

torch_env() { # torch_env RUNNER: the env settings of bench/run.sh's torch runners
    local e="OMP_NUM_THREADS=$THREADS MALLOC_MMAP_THRESHOLD_=16777216 MALLOC_TRIM_THRESHOLD_=4294967296"
    if [ "$1" = torch+openblas ]; then echo "$e LD_LIBRARY_PATH=$OBLAS OPENBLAS_NUM_THREADS=1"
    else echo "$e LD_LIBRARY_PATH=$REF_BLAS"; fi
}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for m in $MODELS; do
    flags=$(aekit_flags "$m")
    model=$E/$m/model.safetensors
    if [ ! -f "$model" ]; then
        echo "training a $m model for the benchmark ($E/$m) ..." >&2
        AEKIT_DATA="$DATA" "$AEKIT" train $flags --data mnist --epochs 1 --limit 2000 --val-limit 500 \
            --threads "$THREADS" --out "$E/$m" >"$E/train.$m.log" 2>&1 ||
            { tail -5 "$E/train.$m.log" >&2; exit 1; }
    fi
    args=()
    for r in $RUNNERS; do
        case $r in
        aekit) cmd="env AEKIT_DATA=$DATA $AEKIT encode $model --data mnist --out $E/codes.aekit.npy --threads $THREADS" ;;
        torch|torch+openblas)
            cmd="env $(torch_env "$r") $PY $ROOT/bench/torch_encode.py $model --data $DATA/mnist --out $E/codes.$r.npy --threads $THREADS" ;;
        *) echo "bench/encode.sh: unknown runner $r" >&2; exit 2 ;;
        esac
        args+=("$r" "$cmd")
    done
    # the same codes? (one run of each, before timing)
    for ((i = 0; i < ${#args[@]}; i += 2)); do
        $PY "$ROOT/bench/proctime.py" --runs 1 --warmup 0 "${args[i]}" "${args[i + 1]}" >/dev/null
    done
    if [[ " $RUNNERS " == *" aekit "* ]]; then
        for r in $RUNNERS; do
            [ $r = aekit ] && continue
            $PY -c "
import numpy as np, sys
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
assert a.shape == b.shape, (a.shape, b.shape)
d = float(np.abs(a - b).max()); s = float(np.abs(a).max())
print(f'  codes: aekit {a.shape}, $r max |difference| {d:.2e} (max |code| {s:.2f})')
if d > 1e-3 * max(s, 1.0): sys.exit('bench/encode.sh: the codes differ')
" "$E/codes.aekit.npy" "$E/codes.$r.npy" >&2
        done
    fi
    echo >&2
    echo "### aekit encode, $m model: 10,000 MNIST test images, $THREADS thread(s), whole process"
    echo
    if [ $HYPERFINE = 1 ]; then
        hf=()
        for ((i = 0; i < ${#args[@]}; i += 2)); do hf+=(-n "${args[i]}" "${args[i + 1]}"); done
        hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$E/hyperfine.$m.json" \
            --export-markdown "$E/hyperfine.$m.md" "${hf[@]}" >&2
        cat "$E/hyperfine.$m.md"
    else
        echo "median of $RUNS interleaved rounds after $WARMUP warm-up round(s) (bench/proctime.py)"
        echo
        $PY "$ROOT/bench/proctime.py" --runs "$RUNS" --warmup "$WARMUP" --tsv "$E/runs.$m.tsv" "${args[@]}"
    fi
    echo
done
