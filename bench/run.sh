#!/usr/bin/env bash
# aekit against PyTorch (Debian python3-torch: stock, with OpenBLAS, and with
# OpenBLAS in channels_last) on the same models, data, batch size and
# threads, interleaved, in one command:
#
#   bench/run.sh [--epochs 1] [--threads "2"] [--batch "128"] [--models "conv"]
#                [--reps 1] [--simd "best"]
#                [--runners "aekit torch torch+openblas torch+channels_last"]
#                [--limit N] [--val-limit N] [--quality] [--quick]
#                [--no-torch] [--no-build] [--torch-malloc tuned|default]
#
#   --threads, --batch, --models, --simd take space-separated lists; every
#   combination is run, and all runners of one combination run back to back
#   (aekit, torch stock, torch OpenBLAS, torch channels_last), repeated
#   --reps times round-robin (rep R trains with --seed R-1 on both sides).
#   --models: conv denoise sr conv-vae vae aae (MODELS_TABLE below), or "all".
#   --simd: aekit's AEKIT_SIMD paths to run ("best" = the CPU's best path;
#   e.g. --simd "avx512 avx2 portable").
#   --runners: which of aekit, torch, torch+openblas, torch+channels_last
#   to run (torch+channels_last runs for the models with conv layers only).
#   --limit N: the first N training images (default: all 60,000, or the
#   model's images column in MODELS_TABLE when that is smaller).
#   --quality: the quality comparison: 5 epochs (unless --epochs), runners
#   aekit and torch+openblas (unless --runners), and a table of the test
#   loss after epoch 1 and the last epoch, torch's vs aekit's in %.
#   --quick: a functional check in seconds (--limit 2048 --val-limit 1000,
#   1 epoch, or 2 with --quality); never for numbers.
#
# Builds aekit (Release) from this checkout into $BENCH_BUILD
# (default /tmp/aekit-bench/build), trains each model for --epochs epochs
# and prints one table row per runner: seconds per epoch (training loop
# only: median over epochs, then over reps), images/s, ratio to aekit's
# time, test loss after the last epoch, peak RSS of the whole process
# (/usr/bin/time -v), GFLOP/s (conv and dense multiply-adds of a training
# step, counted from the layer shapes by bench/torch_models.py --flops) and
# that as % of the SGEMM ceiling (numpy sgemm 2048^3 with OpenBLAS on T
# threads, measured here). With 2+ epochs also the loss per epoch table.
# Raw results: $BENCH_OUT/results.tsv (default /tmp/aekit-bench).
#
# The fastest torch configuration: for each model, thread count and batch
# size, the torch runner with the lowest s/epoch (the same median over
# epochs and reps as its row; the first in --runners order on a tie) among
# those that ran and finished; failed runs and runners that do not apply
# (channels_last on a model without convs) are not candidates. A second
# table names it per model, and its "aekit vs best torch" column is that
# runner's s/epoch over aekit's (above 1: aekit is faster), one row per
# aekit runner (--simd). Below it, how far the torch runners' test losses
# are apart for the same seed (same model, weights and draws; only the BLAS
# and the memory layout differ): float rounding, which grows with the
# number of steps.
#
# Runners:
#   aekit           the Release build; no special settings (it allocates
#                   nothing in its step loop).
#   torch           "stock": Debian's python3-torch on the reference BLAS of
#                   libblas3 (LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/blas,
#                   pinned: once libopenblas0 is installed the libblas.so.3
#                   alternative points at OpenBLAS instead).
#   torch+openblas  the same torch on libopenblas0-pthread
#                   (LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread)
#                   and OPENBLAS_NUM_THREADS=1: torch already runs T OpenMP
#                   threads, and OpenBLAS's own pthreads on top oversubscribe.
#   torch+channels_last  torch+openblas's settings, and the model and each
#                   batch in torch.channels_last (NHWC) memory format
#                   (bench/torch_models.py --channels-last): Debian's torch
#                   1.13 then runs the convolutions through oneDNN (MKL-DNN)
#                   instead of its NCHW path. Conv models only.
# All torch runners: torch.set_num_threads(T) (Debian's torch defaults to 1
# thread) and OMP_NUM_THREADS=T; glibc malloc MALLOC_MMAP_THRESHOLD_=16777216
# and MALLOC_TRIM_THRESHOLD_=4294967296, so torch's per-step tensors stay on
# the heap instead of being mmap'ed, unmapped and page-faulted in every step
# (--torch-malloc default: without them).
#
# Models: edit MODELS_TABLE below: name | aekit train flags | torch_models.py
# flags | training images (empty: all 60,000). The AAE (6.4M parameters, three
# phases a step: about 15 times the conv AE's work per image) trains on the
# first 12,800 images (100 steps), so that stock torch's epoch on the
# reference BLAS stays a few minutes; s/epoch is then per 12,800 images.
set -euo pipefail

MODELS_TABLE='
conv     | --model conv                         | --model conv                 |
denoise  | --model conv --task denoise          | --model denoise              |
sr       | --model sr --scale 2                 | --model sr                   |
conv-vae | --model conv-vae                     | --model conv-vae             |
vae      | --model vae --optimizer adam         | --model vae --optimizer adam |
aae      | --model aae --optimizer adam         | --model aae --optimizer adam | 12800
'
ALL_MODELS="conv denoise sr conv-vae vae aae"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
EPOCHS="" THREADS="2" BATCHES="128" MODELS="conv" REPS=1 SIMDS="best" TORCH=1 BUILD=1
TORCH_MALLOC=tuned RUNNERS="" LIMIT=0 VAL_LIMIT=0 QUALITY=0 QUICK=0
while [ $# -gt 0 ]; do
    case "$1" in
    --epochs) EPOCHS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --batch) BATCHES=$2; shift 2 ;;
    --models) MODELS=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --simd) SIMDS=$2; shift 2 ;;
    --runners) RUNNERS=$2; shift 2 ;;
    --limit) LIMIT=$2; shift 2 ;;
    --val-limit) VAL_LIMIT=$2; shift 2 ;;
    --quality) QUALITY=1; shift ;;
    --quick) QUICK=1; shift ;;
    --no-torch) TORCH=0; shift ;;
    --no-build) BUILD=0; shift ;;
    --torch-malloc) TORCH_MALLOC=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set /{/^#/p}' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ "$MODELS" = all ] && MODELS=$ALL_MODELS
if [ $QUICK = 1 ]; then
    [ "$LIMIT" = 0 ] && LIMIT=2048
    [ "$VAL_LIMIT" = 0 ] && VAL_LIMIT=1000
    [ -z "$EPOCHS" ] && { [ $QUALITY = 1 ] && EPOCHS=2 || EPOCHS=1; }
fi
[ -z "$EPOCHS" ] && { [ $QUALITY = 1 ] && EPOCHS=5 || EPOCHS=1; }
[ -z "$RUNNERS" ] && { [ $QUALITY = 1 ] && RUNNERS="aekit torch+openblas" ||
                       RUNNERS="aekit torch torch+openblas torch+channels_last"; }

source "$ROOT/bench/lib.sh"
need_mnist bench/run.sh train-images-idx3-ubyte
[ -x /usr/bin/time ] || { echo "bench/run.sh: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }

build_aekit bench/run.sh

# which runners can run here
RUN_LIST=""
for r in $RUNNERS; do
    case $r in
    aekit) ;;
    torch|torch+openblas|torch+channels_last)
        [ $TORCH = 1 ] || continue
        $PY -c 'import torch' 2>/dev/null ||
            { echo "note: /usr/bin/python3 has no torch (apt-get install python3-torch): no $r runs" >&2; continue; }
        if [ $r = torch ] && [ ! -f "$REF_BLAS/libblas.so.3" ]; then
            echo "note: no reference BLAS in $REF_BLAS (apt-get install libblas3): no stock torch runs" >&2; continue
        fi
        if [ "$r" != torch ] && [ ! -f "$OBLAS/libblas.so.3" ]; then
            echo "note: no $OBLAS (apt-get install libopenblas0-pthread): no OpenBLAS torch runs" >&2; continue
        fi ;;
    *) echo "bench/run.sh: unknown runner $r" >&2; exit 2 ;;
    esac
    RUN_LIST="$RUN_LIST $r"
done
AEKIT_RUNNERS="" TORCH_RUNNERS=""
for r in $RUN_LIST; do
    if [ $r = aekit ]; then
        for s in $SIMDS; do
            if [ "$s" = best ]; then AEKIT_RUNNERS="$AEKIT_RUNNERS aekit"; else AEKIT_RUNNERS="$AEKIT_RUNNERS aekit:$s"; fi
        done
    else
        TORCH_RUNNERS="$TORCH_RUNNERS $r"
    fi
done

model_field() { # model_field NAME COLUMN(2 aekit, 3 torch, 4 training images)
    echo "$MODELS_TABLE" | awk -F'|' -v m="$1" -v c="$2" \
        '{ n=$1; gsub(/ /,"",n); if (n==m) { v=$c; gsub(/^ +| +$/,"",v); print v } }'
}
for m in $MODELS; do
    [ -n "$(model_field "$m" 2)" ] || { echo "bench/run.sh: unknown model $m" >&2; exit 2; }
    for q in flops params convs; do
        $PY "$ROOT/bench/torch_models.py" $(model_field "$m" 3) --"$q" >"$OUT/$q.$m" 2>/dev/null ||
            echo 0 >"$OUT/$q.$m"
    done
done

# The SGEMM ceiling on T threads: numpy's float32 matmul on OpenBLAS, best of 5.
: >"$OUT/ceiling.tsv"
for t in $THREADS; do
    n=2048; [ $QUICK = 1 ] && n=512
    LD_LIBRARY_PATH=$OBLAS OPENBLAS_NUM_THREADS=$t $PY - "$n" "$t" >>"$OUT/ceiling.tsv" 2>/dev/null <<'EOF' || true
import sys, time
import numpy as np
n, t = int(sys.argv[1]), sys.argv[2]
a = np.random.rand(n, n).astype(np.float32)
b = np.random.rand(n, n).astype(np.float32)
a @ b
best = float("inf")
for _ in range(5):
    t0 = time.perf_counter()
    a @ b
    best = min(best, time.perf_counter() - t0)
print(f"{t}\t{2.0 * n ** 3 / best * 1e-9:.1f}\t{n}")
EOF
done

peak_mib() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }

RES=$OUT/results.tsv
printf 'model\tthreads\tbatch\trunner\trep\timages\tsec_per_epoch\tval_loss\tpeak_mib\tval_losses\n' >"$RES"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

N_MNIST=60000
train_images() { # train_images MODEL: the images an epoch trains on (--limit, MODELS_TABLE)
    local n=$N_MNIST ml; ml=$(model_field "$1" 4)
    [ -n "$ml" ] && [ "$ml" -lt "$n" ] && n=$ml
    [ "$LIMIT" != 0 ] && [ "$LIMIT" -lt "$n" ] && n=$LIMIT
    echo "$n"
}

run_one() { # run_one MODEL THREADS BATCH RUNNER REP
    local m=$1 t=$2 b=$3 r=$4 rep=$5 dir=$OUT/run log=$OUT/log.txt tv=$OUT/time.txt
    local sec loss losses seed=$(($5 - 1)) n
    n=$(train_images "$m")
    local limit_flags=()
    [ "$n" -lt $N_MNIST ] && limit_flags+=(--limit "$n")
    [ "$VAL_LIMIT" != 0 ] && limit_flags+=(--val-limit "$VAL_LIMIT")
    rm -rf "$dir"
    case $r in
    aekit*)
        local simd=${r#aekit}; simd=${simd#:}
        env ${simd:+AEKIT_SIMD=$simd} AEKIT_DATA="$DATA" /usr/bin/time -v -o "$tv" \
            "$AEKIT" train $(model_field "$m" 2) --data mnist --epochs "$EPOCHS" \
            --threads "$t" --batch "$b" --seed "$seed" "${limit_flags[@]}" --out "$dir" >"$log" 2>&1 ||
            { echo "aekit failed:" >&2; tail -5 "$log" >&2; return 0; }
        # metrics.csv: epoch,train_loss,val_loss,val_mse,seconds,...
        sec=$(awk -F, 'NR>1 { print $5 }' "$dir/metrics.csv" | sort -g |
              awk '{ v[NR]=$1 } END { printf "%.3f", NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2 }')
        losses=$(awk -F, 'NR>1 { printf "%s%s", (NR>2 ? "," : ""), $3 }' "$dir/metrics.csv")
        local np; np=$("$AEKIT" info "$dir/model.safetensors" 2>/dev/null | awk '/^parameters/ { print $2 }')
        [ "$np" = "$(cat "$OUT/params.$m")" ] ||
            echo "WARNING: $m: aekit has $np parameters, the torch model $(cat "$OUT/params.$m")" >&2 ;;
    torch*)
        local envs=(OMP_NUM_THREADS="$t")
        [ "$TORCH_MALLOC" = tuned ] &&
            envs+=(MALLOC_MMAP_THRESHOLD_=16777216 MALLOC_TRIM_THRESHOLD_=4294967296)
        local flags=()
        if [ "$r" = torch ]; then
            envs+=(LD_LIBRARY_PATH="$REF_BLAS")
        else
            envs+=(LD_LIBRARY_PATH="$OBLAS" OPENBLAS_NUM_THREADS=1)
        fi
        if [ "$r" = torch+channels_last ]; then
            [ "$(cat "$OUT/convs.$m")" -gt 0 ] || return 0   # no convs: nothing to lay out
            flags+=(--channels-last)
        fi
        env "${envs[@]}" /usr/bin/time -v -o "$tv" $PY "$ROOT/bench/torch_models.py" \
            $(model_field "$m" 3) "${flags[@]}" --data "$DATA/mnist" --epochs "$EPOCHS" \
            --threads "$t" --batch "$b" --seed "$seed" "${limit_flags[@]}" >"$log" 2>&1 ||
            { echo "torch failed:" >&2; tail -5 "$log" >&2; return 0; }
        sec=$(awk '/^epoch/ { print $3 }' "$log" | sort -g |
              awk '{ v[NR]=$1 } END { printf "%.3f", NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2 }')
        losses=$(awk '/^epoch/ { printf "%s%s", (n++ ? "," : ""), $NF }' "$log") ;;
    esac
    loss=${losses##*,}
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$t" "$b" "$r" "$rep" "$n" "$sec" \
        "$loss" "$(peak_mib "$tv")" "$losses" >>"$RES"
    printf '  %-8s threads %s batch %-4s %-19s rep %s %8.3f s/epoch  test loss %s\n' "$m" "$t" "$b" \
        "$r" "$rep" "$sec" "$loss" >&2
}

for rep in $(seq 1 "$REPS"); do
    for m in $MODELS; do
        for t in $THREADS; do
            for b in $BATCHES; do
                for r in $AEKIT_RUNNERS $TORCH_RUNNERS; do run_one "$m" "$t" "$b" "$r" "$rep"; done
            done
        done
    done
done

# The tables: medians over reps; ratio = this runner's s/epoch / aekit's (first
# aekit runner); then the fastest torch runner per model (see the top).
$PY - "$RES" "$OUT" "$EPOCHS" "$QUALITY" "$TORCH_RUNNERS" <<'EOF'
import csv, statistics, sys
res, out, epochs, quality = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
torch_order = sys.argv[5].split()
rows = list(csv.DictReader(open(res), delimiter="\t"))
ceiling, size = {}, 2048
for line in open(f"{out}/ceiling.tsv"):
    t, g, size = line.split()
    ceiling[t] = float(g)
groups = {}
for r in rows:
    groups.setdefault((r["model"], r["threads"], r["batch"], r["runner"]), []).append(r)
sec = {k: statistics.median(float(x["sec_per_epoch"]) for x in g) for k, g in groups.items()}
base = {}
for (m, t, b, r) in groups:
    if r.startswith("aekit") and (m, t, b) not in base:
        base[(m, t, b)] = sec[(m, t, b, r)]
images = {r["model"]: int(r["images"]) for r in rows}
common = statistics.mode(images.values()) if images else 60000
others = ", ".join(f"{m}: {n:,}" for m, n in images.items() if n != common)
print(f"\n{epochs} epoch(s) of {common:,} MNIST training images{f' ({others})' if others else ''}; "
      "s/epoch = training loop only, median over epochs and reps; "
      "test loss = after the last epoch, mean over reps")
print(f"SGEMM ceiling (numpy float32 matmul {size}x{size}, OpenBLAS, best of 5): "
      + ", ".join(f"{t} thread(s) {g:.0f} GFLOP/s" for t, g in ceiling.items()))
print("\n| model | threads | batch | runner | s/epoch | images/s | x aekit time | test loss "
      "| peak RSS MiB | GFLOP/s | % of SGEMM |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for (m, t, b, r), g in groups.items():
    s = sec[(m, t, b, r)]
    n = images[m]
    loss = statistics.mean(float(x["val_loss"]) for x in g)
    rss = max(int(x["peak_mib"] or 0) for x in g)
    fl = float(open(f"{out}/flops.{m}").read() or 0)
    ratio = s / base[(m, t, b)] if (m, t, b) in base else float("nan")
    gf = fl * n / s * 1e-9 if fl and s > 0 else float("nan")
    pc = 100 * gf / ceiling[t] if t in ceiling else float("nan")
    print(f"| {m} | {t} | {b} | {r} | {s:.2f} | {n / s:,.0f} | {ratio:.2f} | {loss:.4f} "
          f"| {rss} | {gf:.1f} | {pc:.1f} |")

# The fastest torch runner of each (model, threads, batch): the lowest
# s/epoch; on a tie the first in --runners order.
best = {}
for (m, t, b, r) in sorted((k for k in groups if k[3] in torch_order), key=lambda k: torch_order.index(k[3])):
    if (m, t, b) not in best or sec[(m, t, b, r)] < sec[(m, t, b, best[(m, t, b)])]:
        best[(m, t, b)] = r
if best:
    print("\nFastest torch configuration per model: the torch runner with the lowest s/epoch "
          "(median over epochs and reps) for that model, threads and batch; "
          "aekit vs best torch = its s/epoch / aekit's (above 1: aekit is faster)")
    print("\n| model | threads | batch | aekit runner | aekit s/epoch | fastest torch | torch s/epoch "
          "| aekit vs best torch |")
    print("|---|---|---|---|---|---|---|---|")
    for (m, t, b, r) in groups:
        if r.startswith("aekit") and (m, t, b) in best:
            bt = best[(m, t, b)]
            a, o = sec[(m, t, b, r)], sec[(m, t, b, bt)]
            print(f"| {m} | {t} | {b} | {r} | {a:.2f} | {bt} | {o:.2f} | **{o / a:.2f}x** |")
    # the torch runners of one seed train the same model from the same draws
    spread = {}
    for x in rows:
        if x["runner"] in torch_order:
            spread.setdefault((x["model"], x["threads"], x["batch"], x["rep"]), []).append(float(x["val_loss"]))
    worst = {}
    for (m, t, b, rep), ls in spread.items():
        if len(ls) >= 2:
            worst[m] = max(worst.get(m, 0.0), (max(ls) - min(ls)) / abs(statistics.mean(ls)))
    if worst:
        print("\nTorch runners' test losses for the same seed, largest relative difference: "
              + ", ".join(f"{m} {d:.1e}" for m, d in worst.items()))
if epochs >= 2 or quality:
    print(f"\nTest loss after epoch 1 and epoch {epochs} (mean over reps = seeds); "
          "difference = (runner - aekit) / aekit")
    print(f"\n| model | threads | batch | runner | reps | loss epoch 1 | loss epoch {epochs} "
          f"| diff epoch 1 % | diff epoch {epochs} % |")
    print("|---|---|---|---|---|---|---|---|---|")
    ref = {}
    for (m, t, b, r), g in groups.items():
        per = [[float(v) for v in x["val_losses"].split(",")] for x in g if x["val_losses"]]
        if not per:
            continue
        first = statistics.mean(p[0] for p in per)
        last = statistics.mean(p[-1] for p in per)
        if r.startswith("aekit") and (m, t, b) not in ref:
            ref[(m, t, b)] = (first, last)
        a1, a2 = ref.get((m, t, b), (float("nan"), float("nan")))
        print(f"| {m} | {t} | {b} | {r} | {len(per)} | {first:.5f} | {last:.5f} "
              f"| {100 * (first - a1) / a1:+.2f} | {100 * (last - a2) / a2:+.2f} |")
EOF
