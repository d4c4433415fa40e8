#!/usr/bin/env bash
# The determinism claims of BENCHMARKS.md, checked on a small run:
# the same seed and thread count give bit-identical weights; another thread
# count (a different split of each batch into per-thread chunks) gives
# weights that differ in the last bits and a test loss that agrees closely.
#
#   bench/determinism.sh [--model conv] [--limit 2048] [--epochs 1] [--no-build]
#
# Compares the tensors of model.safetensors only (its metadata holds the
# training time, which always differs).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODEL=conv LIMIT=2048 EPOCHS=1 BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
    --model) MODEL=$2; shift 2 ;;
    --limit) LIMIT=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "bench/determinism.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
source "$ROOT/bench/lib.sh"
D=$OUT/determinism
mkdir -p "$D"
build_aekit bench/determinism.sh
for run in t2a:2 t2b:2 t1:1; do
    rm -rf "$D/${run%:*}"                 # a new run refuses an earlier run's folder
    AEKIT_DATA="$DATA" "$BDIR/aekit" train --model "$MODEL" --data mnist --epochs "$EPOCHS" \
        --limit "$LIMIT" --val-limit 1000 --seed 7 --threads "${run#*:}" --out "$D/${run%:*}" \
        >"$D/${run%:*}.log" 2>&1 || { tail -5 "$D/${run%:*}.log" >&2; exit 1; }
done
/usr/bin/python3 - "$D" <<'EOF'
import csv, json, struct, sys
import numpy as np
d = sys.argv[1]

def tensors(run):
    b = open(f"{d}/{run}/model.safetensors", "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    h.pop("__metadata__", None)
    return {k: np.frombuffer(b, "<f4", (v["data_offsets"][1] - v["data_offsets"][0]) // 4,
                             8 + n + v["data_offsets"][0]) for k, v in h.items()}

def loss(run):
    return float(list(csv.DictReader(open(f"{d}/{run}/metrics.csv")))[-1]["val_loss"])

a, b, c = tensors("t2a"), tensors("t2b"), tensors("t1")
same = all(np.array_equal(a[k].view(np.uint32), b[k].view(np.uint32)) for k in a)
ndiff = sum(int((a[k].view(np.uint32) != c[k].view(np.uint32)).sum()) for k in a)
total = sum(a[k].size for k in a)
rel = max(float(np.abs(a[k] - c[k]).max() / (np.abs(a[k]).max() + 1e-30)) for k in a)
print(f"2 threads, twice: {'bit-identical' if same else 'DIFFERENT'} weights; "
      f"test loss {loss('t2a'):.6f} and {loss('t2b'):.6f}")
print(f"1 thread vs 2: {ndiff:,} of {total:,} weights differ (largest difference "
      f"{rel:.1e} of the tensor's largest value); test loss {loss('t1'):.6f} vs {loss('t2a'):.6f}")
sys.exit(0 if same else 1)
EOF
