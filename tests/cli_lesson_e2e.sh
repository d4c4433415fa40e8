#!/usr/bin/env bash
# End to end, every model kind of the lesson: a small one-epoch MNIST run of
# each (conv, conv --latent 2, denoise from the conv model, sr x2 and x4,
# vae, conv-vae, aae) checked for its metrics and run-folder pictures, then
# every lesson command once on the trained models.
#
# usage: bash tests/cli_lesson_e2e.sh /path/to/aekit
# MNIST is looked up in $AEKIT_SOURCE_DIR/data (set by ctest), else in
# $AEKIT_DATA, else in the data folder next to this script.
source "$(dirname "$0")/lib/cli_common.sh"
need_mnist

here=$(cd "$(dirname "$0")" && pwd)
cd "$tmp" || exit 1

is_png() { [[ -n $(png_size "$1") ]]; }
png_is() { [[ $(png_size "$1") == "$2" ]]; }   # png_is FILE "W H"

# npy_header FILE: the header dict of a .npy file (version 1.0), parsed in
# bash so that numpy is not needed.
npy_header() {
  local magic len
  magic=$(head -c 6 "$1" 2>/dev/null | tail -c 5)
  [[ $magic == NUMPY ]] || return 0
  len=$(od -An -tu2 -j8 -N2 --endian=little "$1" | tr -d ' ')
  head -c $((10 + len)) "$1" | tail -c "$len" | tr -d '\n'
}
npy_is() {  # npy_is FILE DESCR SHAPE  e.g. npy_is codes.npy '<f4' '(50, 2)'
  local h
  h=$(npy_header "$1")
  [[ $h == *"'descr': '$2'"* && $h == *"'shape': $3"* && $h == *"'fortran_order': False"* ]]
}

# A grid of R rows x C columns of 28x28 tiles at scale S with S-pixel gaps.
grid() { echo "$(( $2 * (28 * $3 + $3) - $3 )) $(( $1 * (28 * $3 + $3) - $3 ))"; }
# The same with the rows' labels left of it (AE_PICTURE_LABEL_WIDTH, 120
# pixels): reconstructions, denoise, upscale, perturb, pca (C at most 10).
rows() { echo "$(( 120 + $2 * (28 * $3 + $3) - $3 )) $(( $1 * (28 * $3 + $3) - $3 ))"; }

# ---- one small run per model kind -----------------------------------------------------
common=(--data mnist --epochs 1 --batch 64 --threads 2)
small=(--limit 1000 --val-limit 500)

train() {  # train NAME BOUND FLAGS...: trains into run-NAME, checks metrics and exit code
  local name=$1 bound=$2
  shift 2
  local start_ns=$(date +%s%N)
  "$AEKIT" train "$@" "${common[@]}" --out "run-$name" >"$name.out" 2>"$name.err" </dev/null
  local rc=$? ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
  echo "      train $name: exit $rc in $((ms / 1000)).$(printf %03d $((ms % 1000))) s: $(grep '^epoch' "$name.err")"
  check "$name: train exits 0" test $rc -eq 0
  [[ $rc -eq 0 ]] || sed 's/^/      /' "$name.err"
  check "$name: metrics.csv header" test "$(head -n1 "run-$name/metrics.csv" 2>/dev/null)" = \
    "epoch,train_loss,val_loss,val_mse,seconds,images_per_second,val_recon,val_kl,disc_accuracy,lr"
  check "$name: metrics.csv has 1 row" test "$(wc -l <"run-$name/metrics.csv" 2>/dev/null)" -eq 2
  local val
  val=$(sed -n 2p "run-$name/metrics.csv" 2>/dev/null | cut -d, -f3)
  check "$name: val_loss $val is finite and below $bound" "$PY" -c '
import math, sys
v = float(sys.argv[1])
sys.exit(0 if math.isfinite(v) and 0 < v < float(sys.argv[2]) else 1)' "${val:-nan}" "$bound"
  check "$name: model.safetensors written" test -s "run-$name/model.safetensors"
  check "$name: index.html links the pictures" grep -q 'reconstructions.png' "run-$name/index.html"
  check "$name: index.html shows metrics.csv and every picture" "$PY" "$here/check_run_index.py" "run-$name"
  check "$name: no temporary files left" no_temps "run-$name"
}

# Untrained levels: BCE per pixel about 0.69; the VAE's SSE + KL about 190 per
# image (sigmoid 0.5 everywhere), BCE summed over 784 pixels about 543.
train conv   0.60 --model conv "${small[@]}"
train conv2  0.60 --model conv --latent 2 "${small[@]}"
train den    0.60 --init run-conv/model.safetensors --task denoise "${small[@]}"
train sr     0.60 --model sr --scale 2 "${small[@]}"
train sr4    0.60 --model sr --scale 4 "${small[@]}"
train vae    80   --model vae --latent 2 --optimizer rmsprop "${small[@]}"
train cvae   500  --model conv-vae --recon bce "${small[@]}"
train aae    0.60 --model aae --limit 256 --val-limit 200

# the per-epoch line shows the VAE parts and the AAE's discriminator
check "vae: progress shows recon and kl" grep -Eq '^epoch 1/1  train [0-9.]+  val [0-9.]+ \(recon [0-9.]+, kl [0-9.]+\)' vae.err
check "vae: val_recon + val_kl = val_loss" "$PY" -c '
import sys
r = open(sys.argv[1]).read().splitlines()[1].split(",")
sys.exit(0 if abs(float(r[6]) + float(r[7]) - float(r[2])) < 1e-4 and float(r[7]) > 0 else 1)' run-vae/metrics.csv
check "aae: progress shows the discriminator accuracy" grep -Eq 'disc acc 0\.[0-9]+' aae.err
check "aae: disc_accuracy in metrics.csv is in [0, 1]" "$PY" -c '
import sys
r = open(sys.argv[1]).read().splitlines()[1].split(",")
sys.exit(0 if 0 <= float(r[8]) <= 1 else 1)' run-aae/metrics.csv
check "conv: disc_accuracy is nan without a discriminator" \
  test "$(sed -n 2p run-conv/metrics.csv | cut -d, -f9)" = nan
check "den: metadata has the task and the noise" \
  bash -c "'$AEKIT' info run-den/model.safetensors | grep -q 'denoise' && '$AEKIT' info run-den/model.safetensors | grep -q 'gaussian:0.5,0.5'"
check "sr4: metadata has scale 4" bash -c "'$AEKIT' info run-sr4/model.safetensors | grep -Eq 'scale +4'"

# ---- run-folder pictures -------------------------------------------------------------------
# colours: "WIDTH HEIGHT DISTINCT TAB10 COLOURED" (tests/png_colours.py)
colours() { "$PY" "$here/png_colours.py" "$1" 2>/dev/null; }
drawn_by_label() {  # a scatter plot of 800x640 with the 10 label colours and dots drawn
  local c
  c=$(colours "$1")
  echo "      $1: width height distinct-colours tab10-colours coloured-pixels = $c"
  awk -v s="$c" 'BEGIN { split(s, a, " "); exit !(a[1] == 800 && a[2] == 640 && a[3] > 500 && a[4] == 10 && a[5] > 3000) }'
}
for name in conv conv2 den sr sr4 vae cvae aae; do
  for f in loss.png reconstructions.png samples.png codes.png latent.png; do
    check "$name: $f is a PNG" is_png "run-$name/$f"
  done
  check "$name: latent.png is 800x640, coloured by the 10 labels" drawn_by_label "run-$name/latent.png"
  check "$name: samples.png is 8x8 tiles" png_is "run-$name/samples.png" "$(grid 8 8 3)"
done
for name in conv conv2 vae cvae aae; do
  check "$name: reconstructions.png has 2 rows" png_is "run-$name/reconstructions.png" "$(rows 2 10 3)"
done
for name in den sr sr4; do
  check "$name: reconstructions.png has 3 rows" png_is "run-$name/reconstructions.png" "$(rows 3 10 3)"
done
for name in conv2 vae cvae; do
  check "$name: manifold.png is 10x10 tiles (2-D latent)" png_is "run-$name/manifold.png" "$(grid 10 10 2)"
done
for name in conv den sr vae aae; do
  [[ $name == vae ]] && continue
  check "$name: no manifold.png (latent is not 2-D)" test ! -e "run-$name/manifold.png"
done
check "conv: codes.png shows 8 channels of 4x4 under the images" png_is run-conv/codes.png "867 123"
check "vae: codes.png shows 2-value codes under the images" png_is run-vae/codes.png "867 108"

# ---- the commands, on the trained models ---------------------------------------------------
run() {  # run NAME COMMAND...: runs an aekit command, checks exit 0
  local name=$1
  shift
  "$AEKIT" "$@" >"cmd.out" 2>"cmd.err"
  local rc=$?
  check "$name exits 0" test $rc -eq 0
  [[ $rc -eq 0 ]] || sed 's/^/      /' cmd.err
  [[ -s cmd.out ]] && sed 's/^/      /' cmd.out
  return 0
}

# one 28x28 and one 14x14 greyscale PNG (a filled square), written with the
# standard library only
"$PY" - <<'EOF'
import struct, zlib
def png(path, w, h):
    raw = b"".join(b"\0" + bytes(255 if w // 4 <= x < 3 * w // 4 and h // 4 <= y < 3 * h // 4 else 0
                                 for x in range(w)) for y in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
png("in28.png", 28, 28)
png("in14.png", 14, 14)
EOF

run "denoise (grid)" denoise run-den/model.safetensors --data mnist --n 10 --out denoised.png --threads 2
check "denoise grid: rows noisy, denoised, clean" png_is denoised.png "$(rows 3 10 3)"
run "denoise (file)" denoise run-den/model.safetensors in28.png out28.png --threads 2
check "denoise file: 28x28 PNG out" png_is out28.png "28 28"

run "upscale (grid)" upscale run-sr/model.safetensors --data mnist --n 6 --out upscaled.png --threads 2
check "upscale grid: rows low-res, upscaled, original" png_is upscaled.png "$(rows 3 6 3)"
run "upscale (file)" upscale run-sr/model.safetensors in14.png big.png --threads 2
check "upscale file: 14x14 in, 28x28 out" png_is big.png "28 28"

run "encode" encode run-vae/model.safetensors --data mnist --limit 50 --out codes.npy --labels labels.npy --threads 2
check "encode: codes.npy is float32 (50, 2)" npy_is codes.npy '<f4' '(50, 2)'
check "encode: labels.npy is uint8 (50,)" npy_is labels.npy '|u1' '(50,)'
check "encode: codes.npy holds 50 x 2 floats after its header" \
  test $(( $(stat -c %s codes.npy) - 10 - $(od -An -tu2 -j8 -N2 --endian=little codes.npy | tr -d ' ') )) -eq 400
run "encode --split train" encode run-conv/model.safetensors --split train --limit 30 --out conv-codes.npy --threads 2
check "encode: conv codes are (30, 128)" npy_is conv-codes.npy '<f4' '(30, 128)'

run "decode" decode run-vae/model.safetensors codes.npy --out decoded.png --threads 2
check "decode: 50 codes in rows of 10" png_is decoded.png "$(grid 5 10 3)"

run "sample" sample run-vae/model.safetensors --n 16 --seed 3 --out samples.png --threads 2
check "sample: 4x4 grid" png_is samples.png "$(grid 4 4 3)"
run "sample (plain AE, fitted Gaussian)" sample run-conv/model.safetensors --n 8 --cols 8 --out conv-samples.png --threads 2
check "sample: 1x8 grid" png_is conv-samples.png "$(grid 1 8 3)"

run "manifold" manifold run-vae/model.safetensors --grid 5 --range -1,1 --out manifold.png --threads 2
check "manifold: 5x5 grid" png_is manifold.png "$(grid 5 5 2)"

run "scatter (2-D)" scatter run-vae/model.safetensors --data mnist --limit 500 --out latent.png --threads 2
check "scatter: a PNG" is_png latent.png
check "scatter: 800x640, coloured by the 10 labels" drawn_by_label latent.png
run "scatter (PCA of 128-D)" scatter run-conv/model.safetensors --data mnist --limit 500 --out latent128.png --threads 2
check "scatter: a PNG for a 128-D latent" is_png latent128.png
check "scatter: 128-D, coloured by the 10 labels" drawn_by_label latent128.png
check "scatter: says it projected with PCA" grep -q 'PC1' cmd.out

run "perturb" perturb run-conv/model.safetensors --data mnist --sigma 0.5 --n 10 --out perturbed.png --threads 2
check "perturb: rows originals, reconstructions, perturbed" png_is perturbed.png "$(rows 3 10 3)"

run "interpolate" interpolate run-vae/model.safetensors --data mnist --from 0 --to 1 --steps 8 --out interp.png --threads 2
check "interpolate: one row of 8" png_is interp.png "$(grid 1 8 3)"

run "pca" pca --data mnist --components 2 --limit 2000 --out pca2 --threads 2
check "pca: pca.safetensors" test -s pca2/pca.safetensors
check "pca: codes.npy is float32 (10000, 2)" npy_is pca2/codes.npy '<f4' '(10000, 2)'
check "pca: reconstructions.png" png_is pca2/reconstructions.png "$(rows 2 10 3)"
check "pca: components.png" png_is pca2/components.png "$(grid 1 2 3)"

"$AEKIT" compare run-vae/model.safetensors --data mnist --limit 2000 --json --threads 2 >compare.json 2>cmd.err
check "compare --json exits 0" test $? -eq 0
echo "      compare: $(cat compare.json)"
check "compare --json: model, pca and latent with the same keys" "$PY" -c '
import json, math, sys
r = json.load(open(sys.argv[1]))
keys = {"mse", "psnr", "ssim", "knn_accuracy"}
ok = set(r) == {"model", "pca", "latent"} and r["latent"] == 2
ok = ok and set(r["model"]) == keys and set(r["pca"]) == keys
ok = ok and all(0 <= r[k]["knn_accuracy"] <= 1 and 0 < r[k]["mse"] < 1 for k in ("model", "pca"))
sys.exit(0 if ok else 1)' compare.json
run "compare (table)" compare run-conv2/model.safetensors --data mnist --limit 1000 --train-limit 10000 --threads 2
check "compare: the table names both" grep -q 'PCA' cmd.out
check "compare: says which wins, and the time" bash -c "grep -Eq 'beats|wins' cmd.out && grep -q '^time: ' cmd.out"
run "compare (denoiser)" compare run-den/model.safetensors --limit 200 --train-limit 2000 --threads 2
check "compare denoiser: clean inputs" grep -q 'clean inputs' cmd.out
"$AEKIT" compare run-sr/model.safetensors --limit 200 --threads 2 >cmd.out 2>cmd.err
sr_rc=$?
check "compare sr: refused (exit 1), one line saying why" bash -c "[[ $sr_rc -eq 1 && \$(wc -l <cmd.err) -eq 1 ]] && grep -q '^aekit compare: .*super-resolution' cmd.err"

"$AEKIT" eval run-vae/model.safetensors --limit 500 --json --threads 2 >eval.json 2>cmd.err
check "eval vae --json exits 0" test $? -eq 0
echo "      eval vae: $(cat eval.json)"
check "eval vae: loss = recon + kl, equal to metrics.csv val_loss" "$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
val = float(open(sys.argv[2]).read().splitlines()[1].split(",")[2])
ok = set(r) == {"loss", "recon", "kl", "mse", "psnr"}
ok = ok and abs(r["recon"] + r["kl"] - r["loss"]) < 1e-3 and abs(r["loss"] - val) < 1e-3
sys.exit(0 if ok else 1)' eval.json run-vae/metrics.csv
"$AEKIT" eval run-den/model.safetensors --limit 500 --json --threads 2 >eval-den.json 2>cmd.err
check "eval denoiser: the training noise by default (= val_loss)" "$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
val = float(open(sys.argv[2]).read().splitlines()[1].split(",")[2])
sys.exit(0 if set(r) == {"loss", "mse", "psnr"} and abs(r["loss"] - val) < 1e-4 else 1)' eval-den.json run-den/metrics.csv
"$AEKIT" eval run-den/model.safetensors --limit 500 --noise gaussian:0.5,0.5 --json --threads 2 >eval-noisy.json 2>cmd.err
"$AEKIT" eval run-den/model.safetensors --limit 500 --noise none --json --threads 2 >eval-clean.json 2>cmd.err
check "eval --noise: the spec is the default, none differs" "$PY" -c '
import json, sys
a, b, c = (json.load(open(f)) for f in sys.argv[1:4])
sys.exit(0 if a == b and c["loss"] != a["loss"] else 1)' eval-den.json eval-noisy.json eval-clean.json
"$AEKIT" eval run-sr/model.safetensors --limit 500 --json --threads 2 >eval-sr.json 2>cmd.err
check "eval sr: downscales automatically (= val_loss)" "$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
val = float(open(sys.argv[2]).read().splitlines()[1].split(",")[2])
sys.exit(0 if abs(r["loss"] - val) < 1e-4 else 1)' eval-sr.json run-sr/metrics.csv
# several data sets in one command: one result each, the same as one by one
"$AEKIT" eval run-den/model.safetensors --data mnist,mnist --limit 500 --json --threads 2 >eval-two.json 2>cmd.err
check "eval --data A,B --json: one object per data set, equal to single runs" "$PY" -c '
import json, sys
two, one = (json.load(open(f)) for f in sys.argv[1:3])
sys.exit(0 if list(two) == ["mnist"] and two["mnist"] == one else 1)' eval-two.json eval-den.json
"$AEKIT" eval run-den/model.safetensors --data mnist,no-such-set --limit 500 --json --threads 2 >eval-bad.json 2>cmd.err
rc=$?
check "eval --data A,B with a bad B: exit 1, one error line, nothing on stdout" \
  test "$rc" -eq 1 -a ! -s eval-bad.json -a "$(wc -l <cmd.err)" -eq 1
if [[ -e $AEKIT_DATA/fashion-mnist || -e /usr/share/datasets/fashion-mnist ]]; then
  "$AEKIT" eval run-den/model.safetensors --data mnist,fashion-mnist --limit 500 --threads 2 >eval-fm.txt 2>cmd.err
  check "eval the MNIST denoiser on MNIST and Fashion-MNIST: one line each" \
    test "$(grep -c '^mnist .*psnr\|^fashion-mnist .*psnr' eval-fm.txt)" -eq 2
  echo "      $(tr '\n' ' ' <eval-fm.txt)"
else
  echo "note  Fashion-MNIST not installed (Debian package dataset-fashion-mnist): its eval is skipped"
fi

summary
