#!/usr/bin/env bash
# How aekit's conv AE training throughput scales, for BENCHMARKS.md:
#
#   bench/scaling.sh [--epochs 3] [--quick] [--no-build] [--only threads|batch|size]
#
#   threads  --threads 1 vs 2 (batch 128, MNIST, 60,000 images)
#   batch    --batch 32, 128, 512 (2 threads, MNIST, 60,000 images)
#   size     28x28, 64x64 and 128x128 images from PNG image folders (2
#            threads, batch 128): models/conv.txt and its 64x64 / 128x128
#            versions bench/models/conv64.txt, conv128.txt (same layers, so
#            the same work per pixel); fewer images the larger they are
#            (28: 40,000, 64: 12,000, 128: 3,000), about 10-15 s per point on
#            2 cores.
#
# The image folders are MNIST training digits resized with Pillow (bilinear)
# to 28, 64 and 128 pixels, written once to $BENCH_OUT/folders (default
# /tmp/aekit-bench/folders) as DIR/train/*.png and DIR/test/*.png (500 test
# images). Each point trains --epochs epochs (validation on 1,000 images at
# most, not timed); images/s is the median over the epochs of metrics.csv's
# images_per_second (the training loop only). GFLOP/s from
# bench/torch_models.py --flops (conv multiply-adds of a training step).
# --quick: a functional check in seconds (1 epoch, a few hundred images).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
EPOCHS=3 QUICK=0 BUILD=1 ONLY="threads batch size"
while [ $# -gt 0 ]; do
    case "$1" in
    --epochs) EPOCHS=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --no-build) BUILD=0; shift ;;
    --only) ONLY=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "bench/scaling.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

source "$ROOT/bench/lib.sh"
S=$OUT/scaling
mkdir -p "$S"
need_mnist bench/scaling.sh train-images-idx3-ubyte

# training images per point: MNIST (threads, batch) and per image size
MNIST_LIMIT=0 VAL_LIMIT=1000
declare -A SIZE_N=([28]=40000 [64]=12000 [128]=3000)
FOLDERS=$OUT/folders
if [ $QUICK = 1 ]; then
    EPOCHS=1 MNIST_LIMIT=2048 VAL_LIMIT=200
    SIZE_N=([28]=1000 [64]=300 [128]=100)
    FOLDERS=$OUT/folders-quick
fi

build_aekit bench/scaling.sh

desc_for() { # desc_for SIZE: the model description file
    case $1 in
    28) echo "$ROOT/models/conv.txt" ;;
    *) echo "$ROOT/bench/models/conv$1.txt" ;;
    esac
}

make_folder() { # make_folder SIZE COUNT: MNIST digits as SIZE x SIZE PNGs
    local dir=$FOLDERS/$1
    [ -f "$dir/.done" ] && [ "$(cat "$dir/.done")" = "$2" ] && return 0
    echo "writing $2 + 500 PNG images of ${1}x$1 to $dir ..." >&2
    rm -rf "$dir"
    $PY - "$DATA/mnist/train-images-idx3-ubyte" "$dir" "$1" "$2" <<'EOF'
import gzip, os, struct, sys
import numpy as np
from PIL import Image
src, dst, size, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
data = open(src, "rb").read() if os.path.exists(src) else gzip.open(src + ".gz").read()
imgs = np.frombuffer(data, np.uint8, offset=16).reshape(-1, 28, 28)
for split, first, count in (("train", 0, n), ("test", n, 500)):
    os.makedirs(f"{dst}/{split}")
    for i in range(count):
        im = Image.fromarray(imgs[(first + i) % len(imgs)])
        if size != 28:
            im = im.resize((size, size), Image.BILINEAR)
        im.save(f"{dst}/{split}/{i:06d}.png")
EOF
    echo "$2" >"$dir/.done"
}

RES=$S/results.tsv
printf 'axis\tthreads\tbatch\tsize\timages\timages_per_s\tflops_per_image\n' >"$RES"
declare -A FLOPS
for size in 28 64 128; do
    FLOPS[$size]=$($PY "$ROOT/bench/torch_models.py" --model "$(desc_for $size)" --flops 2>/dev/null || echo 0)
done

point() { # point AXIS THREADS BATCH SIZE DATA LIMIT
    local axis=$1 t=$2 b=$3 size=$4 data=$5 limit=$6 dir=$S/run
    rm -rf "$dir"
    local lim=()
    [ "$limit" != 0 ] && lim=(--limit "$limit")
    AEKIT_DATA="$DATA" "$AEKIT" train --model "$(desc_for "$size")" --data "$data" --epochs "$EPOCHS" \
        --threads "$t" --batch "$b" "${lim[@]}" --val-limit "$VAL_LIMIT" --out "$dir" \
        >"$S/log.txt" 2>&1 || { echo "aekit failed:" >&2; tail -5 "$S/log.txt" >&2; exit 1; }
    local ips n
    ips=$(awk -F, 'NR>1 { print $6 }' "$dir/metrics.csv" | sort -g |
          awk '{ v[NR]=$1 } END { printf "%.1f", NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2 }')
    n=$("$AEKIT" info "$dir/model.safetensors" 2>/dev/null | awk '/training images/ { print $3 }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$axis" "$t" "$b" "$size" "$n" "$ips" "${FLOPS[$size]}" >>"$RES"
    printf '  %-7s threads %s batch %-3s %3sx%-3s %6s images: %8.0f images/s\n' "$axis" "$t" "$b" \
        "$size" "$size" "$n" "$ips" >&2
}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for axis in $ONLY; do
    case $axis in
    threads) for t in 1 2; do point threads "$t" 128 28 mnist "$MNIST_LIMIT"; done ;;
    batch) for b in 32 128 512; do point batch 2 "$b" 28 mnist "$MNIST_LIMIT"; done ;;
    size)
        for size in 28 64 128; do
            make_folder "$size" "${SIZE_N[$size]}"
            point size 2 128 "$size" "$FOLDERS/$size" 0
        done ;;
    *) echo "bench/scaling.sh: --only: threads, batch or size, got $axis" >&2; exit 2 ;;
    esac
done

$PY - "$RES" "$EPOCHS" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
print(f"\naekit conv AE training throughput ({sys.argv[2]} epoch(s) per point, median epoch)")
titles = {"threads": "Threads (batch 128, MNIST 28x28)", "batch": "Batch size (2 threads, MNIST 28x28)",
          "size": "Image size (2 threads, batch 128, PNG folders)"}
refs = {"threads": lambda r: r["threads"] == "1", "batch": lambda r: r["batch"] == "128",
        "size": lambda r: r["size"] == "28"}
for axis in ("threads", "batch", "size"):
    rs = [r for r in rows if r["axis"] == axis]
    if not rs:
        continue
    ref = next((r for r in rs if refs[axis](r)), rs[0])
    print(f"\n{titles[axis]}\n")
    print("| threads | batch | image | training images | images/s | Mpixel/s | GFLOP/s | speed-up |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rs:
        ips, px = float(r["images_per_s"]), int(r["size"]) ** 2
        gf = float(r["flops_per_image"]) * ips * 1e-9
        # speed-up: throughput in pixels per second relative to the reference row
        sp = ips * px / (float(ref["images_per_s"]) * int(ref["size"]) ** 2)
        print(f"| {r['threads']} | {r['batch']} | {r['size']}x{r['size']} | {int(r['images']):,} "
              f"| {ips:,.0f} | {ips * px * 1e-6:.1f} | {gf:.1f} | {sp:.2f} |")
EOF
