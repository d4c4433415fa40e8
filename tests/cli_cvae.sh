#!/usr/bin/env bash
# The conditional VAE (preset cvae; docs/model-format.md, "Conditional
# models"), trained briefly (2 epochs on 10,000 MNIST images, about 5 s at
# 2 threads):
#  - aekit sample --label K draws digits of class K: a 5-nearest-neighbour
#    classifier on the PIXELS of MNIST's 10,000 test images (not on codes: a
#    cvae's codes leave the class out by design, so classifying them says
#    nothing) calls most samples of --label 3 a 3, and few samples of
#    --label 8 a 3 (the label, not the training, makes the class);
#  - info shows the classes; eval, reconstruct, encode, perturb (the test
#    labels), decode --label and manifold --label K | all work; the run
#    folder's samples are a row per class, its manifold one per class;
#    interpolate and compare, which have no label to give, refuse a
#    conditional model with one line;
#  - --label is refused, with one line and nothing written, when missing on
#    a conditional model, out of its range, or given for another model;
#  - extending the run (--resume --epochs 3) on MNIST with every training
#    label shifted by one is refused naming the labels, the run untouched.
#
# usage: bash tests/cli_cvae.sh /path/to/aekit
source "$(dirname "$0")/lib/cli_common.sh"
need_mnist
"$PY" -c 'import numpy' 2>/dev/null || fail_early "$PY has no numpy (apt-get install python3-numpy)"
work=$tmp/work
mkdir -p "$work"
cd "$work" || exit 1

"$AEKIT" train --model cvae --data mnist --epochs 2 --limit 10000 --val-limit 500 --threads 2 \
  --out "$tmp/cvae" >"$tmp/train.out" 2>"$tmp/train.err" </dev/null &&
  "$AEKIT" train --model vae --data mnist --epochs 1 --limit 300 --val-limit 100 --threads 2 \
    --out "$tmp/vae" >/dev/null 2>>"$tmp/train.err" </dev/null
check "setup: a cvae and a vae trained" test $? -eq 0
cvae=$tmp/cvae/model.safetensors vae=$tmp/vae/model.safetensors

"$AEKIT" info "$cvae" >"$tmp/info"
check "info shows the classes" grep -q '^classes     10 (conditional' "$tmp/info"
check "info lists the condition layers" test "$(grep -c ' condition ' "$tmp/info")" -eq 2
check "the run folder's samples: a row per class of 8" test "$(png_size "$tmp/cvae/samples.png")" = "$((8 * 87 - 3)) $((10 * 87 - 3))"
check "eval reads the test labels" "$AEKIT" eval "$cvae" --limit 200 --threads 2
check "reconstruct reads the test labels" "$AEKIT" reconstruct "$cvae" --out rec.png --threads 2
check "encode reads the test labels" "$AEKIT" encode "$cvae" --limit 6 --out codes.npy
check "decode --label" "$AEKIT" decode "$cvae" codes.npy --label 5 --out dec.png
check "perturb decodes with the test labels" "$AEKIT" perturb "$cvae" --n 4 --sigma 0.5 --out pert.png
check "manifold --label" "$AEKIT" manifold "$cvae" --label 7 --grid 4 --npy m7.npy
check "manifold --label all: a block per class, 5 a row" "$AEKIT" manifold "$cvae" --label all --grid 4 --out all.png --npy all.npy
check "  its size" test "$(png_size all.png)" = "$(((5 * 5 - 1) * 29 - 1)) $(((2 * 5 - 1) * 29 - 1))"
check "  its array: class after class, class 7's grid as --label 7's" "$PY" -c "
import numpy as np; a, b = np.load('all.npy'), np.load('m7.npy')
assert a.shape == (160, 1, 28, 28) and np.array_equal(a[7 * 16:8 * 16], b)"
check "the run folder's manifold: one per class" test "$(png_size "$tmp/cvae/manifold.png")" = "1565 608"

for k in 3 8; do
  "$AEKIT" sample "$cvae" --label $k --n 100 --seed 1 --threads 2 --npy "s$k.npy" >/dev/null
done
"$PY" - "$AEKIT_DATA/mnist" s3.npy s8.npy >"$tmp/knn" <<'PY'
import gzip, os, sys
import numpy as np
def idx(name, skip):
    path = os.path.join(sys.argv[1], name)
    raw = open(path, "rb").read() if os.path.exists(path) else gzip.open(path + ".gz").read()
    return np.frombuffer(raw[skip:], np.uint8)
X = idx("t10k-images-idx3-ubyte", 16).reshape(-1, 784).astype(np.float32) / 255
y = idx("t10k-labels-idx1-ubyte", 8)
for f in sys.argv[2:]:
    S = np.load(f).reshape(-1, 784)
    d = (S * S).sum(1)[:, None] - 2 * S @ X.T + (X * X).sum(1)[None]
    votes = y[np.argsort(d, 1)[:, :5]]
    pred = np.array([np.bincount(v, minlength=10).argmax() for v in votes])
    print((pred == 3).mean())
PY
read -r threes eights <<<"$(tr '\n' ' ' <"$tmp/knn")"
echo "      k-NN on test pixels: $threes of --label 3 samples are 3s, $eights of --label 8 samples"
check "most --label 3 samples are classified as 3 (>= 0.7: $threes)" "$PY" -c "import sys; sys.exit(not float('$threes') >= 0.7)"
check "few --label 8 samples are classified as 3 (<= 0.2: $eights)" "$PY" -c "import sys; sys.exit(not float('$eights') <= 0.2)"

mkdir -p "$tmp/shifted/mnist"
for f in train-images-idx3-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  for g in "$AEKIT_DATA/mnist/$f"*; do ln -s "$g" "$tmp/shifted/mnist/"; done
done
"$PY" - "$AEKIT_DATA/mnist" "$tmp/shifted/mnist" <<'PY'
import gzip, os, sys
name = "train-labels-idx1-ubyte"
path = os.path.join(sys.argv[1], name)
raw = bytearray(open(path, "rb").read() if os.path.exists(path) else gzip.open(path + ".gz").read())
raw[8:] = bytes((y + 1) % 10 for y in raw[8:])
open(os.path.join(sys.argv[2], name), "wb").write(raw)
PY
cp "$tmp/cvae/final-checkpoint.safetensors" "$tmp/final.before"
cp "$cvae" "$tmp/model.before"
AEKIT_DATA=$tmp/shifted "$AEKIT" train --resume "$tmp/cvae" --epochs 3 --threads 2 >/dev/null 2>"$tmp/shifted.err" </dev/null
check "extending on shifted training labels fails" test $? -eq 1
check "  naming the labels" grep -q "train-images-idx3-ubyte.*: the training labels are not the checkpoint's run's" "$tmp/shifted.err"
check "  the final checkpoint untouched" cmp -s "$tmp/final.before" "$tmp/cvae/final-checkpoint.safetensors"
check "  the model untouched" cmp -s "$tmp/model.before" "$cvae"

expect_error "sample without --label on a cvae" 2 "give --label K (0 to 9)" out.png -- "$AEKIT" sample "$cvae" --out out.png
expect_error "sample --label 10 on 10 classes" 2 "--label 10" out.png -- "$AEKIT" sample "$cvae" --label 10 --out out.png
expect_error "sample --label 256" 2 "--label" out.png -- "$AEKIT" sample "$cvae" --label 256 --out out.png
expect_error "sample --label on a vae" 2 "not a conditional model" out.png -- "$AEKIT" sample "$vae" --label 3 --out out.png
expect_error "manifold without --label on a cvae" 2 "give --label K (0 to 9) or --label all" out.png -- "$AEKIT" manifold "$cvae" --out out.png
expect_error "manifold --label alll" 2 "expected a class (an integer) or 'all', got 'alll'" out.png -- "$AEKIT" manifold "$cvae" --label alll --out out.png
expect_error "decode without --label on a cvae" 2 "give --label K" out.png -- "$AEKIT" decode "$cvae" codes.npy --out out.png
expect_error "interpolate has no label to give" 1 "conditional on 10 classes: interpolate has no label" out.png -- "$AEKIT" interpolate "$cvae" --out out.png
expect_error "compare has no label to give" 1 "compare has no label" - -- "$AEKIT" compare "$cvae" --limit 100
summary
