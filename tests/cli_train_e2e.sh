#!/usr/bin/env bash
# End to end: train the lesson's conv autoencoder on 2,000 MNIST images for
# one epoch, then check the run folder and the other commands against it.
#
# usage: bash tests/cli_train_e2e.sh /path/to/aekit
# MNIST is looked up in $AEKIT_SOURCE_DIR/data (set by ctest), else in
# $AEKIT_DATA, else in the data folder next to this script
# (fetch it with scripts/fetch-mnist.sh).
source "$(dirname "$0")/lib/cli_common.sh"
need_mnist

run=$tmp/run

# ---- train -------------------------------------------------------------------------
start_ns=$(date +%s%N)
"$AEKIT" train --model conv --data mnist --epochs 1 --limit 2000 --val-limit 1000 \
  --out "$run" --threads 2 >"$tmp/train.out" 2>"$tmp/train.err" </dev/null
rc=$?
ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
echo "train: exit $rc in $((ms / 1000)).$(printf %03d $((ms % 1000))) s"
sed 's/^/      /' "$tmp/train.err" "$tmp/train.out"

check "train exits 0" test $rc -eq 0
for f in model.safetensors metrics.csv loss.png reconstructions.png samples.png codes.png latent.png index.html; do
  check "run folder has $f" test -s "$run/$f"
done
check "no temporary files left in the run folder" no_temps "$run"
check "train prints the run folder" grep -qF "$run" "$tmp/train.out"

# Non-tty progress: exactly one plain line per epoch, no carriage returns.
epoch_lines=$(grep -c '^epoch 1/1  train [0-9.]*  val [0-9.]*  [0-9.]* s  [0-9,]* img/s$' "$tmp/train.err")
check "one progress line per epoch (not a terminal)" test "$epoch_lines" -eq 1
check "no progress bar when not a terminal" test "$(grep -c $'\r' "$tmp/train.err")" -eq 0

# ---- metrics.csv ---------------------------------------------------------------------
check "metrics.csv header" test "$(head -n1 "$run/metrics.csv" 2>/dev/null)" = \
  "epoch,train_loss,val_loss,val_mse,seconds,images_per_second,val_recon,val_kl,disc_accuracy,lr"
check "metrics.csv has exactly 1 data row" test "$(wc -l <"$run/metrics.csv" 2>/dev/null)" -eq 2
val_loss=$(sed -n 2p "$run/metrics.csv" 2>/dev/null | cut -d, -f3)
echo "      val_loss from metrics.csv: $val_loss"
check "val_loss is a number below 0.60 (untrained: about 0.69)" "$PY" -c '
import math, sys
v = float(sys.argv[1])
sys.exit(0 if math.isfinite(v) and 0 < v < 0.60 else 1)' "$val_loss"

# ---- model.safetensors -----------------------------------------------------------------
model=$run/model.safetensors
check "model file: 8-byte header length, then '{'" "$PY" -c '
import struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
sys.exit(0 if len(b) >= 9 and 0 < n <= len(b) - 8 and b[8:9] == b"{" else 1)' "$model"

"$AEKIT" info "$model" >"$tmp/info.out" 2>"$tmp/info.err"
check "info exits 0" test $? -eq 0
check "info prints the parameter count 4385" grep -qw 4385 "$tmp/info.out"
check "info shows the stored val loss" grep -q "val loss" "$tmp/info.out"

# ---- eval ----------------------------------------------------------------------------
"$AEKIT" eval "$model" --data mnist --json --limit 1000 --threads 2 >"$tmp/eval.json" 2>"$tmp/eval.err"
check "eval --json exits 0" test $? -eq 0
echo "      eval: $(cat "$tmp/eval.json")"
check "eval --json prints one JSON object" test "$(wc -l <"$tmp/eval.json")" -eq 1
check "eval loss within 1e-4 of metrics.csv val_loss" "$PY" -c '
import json, math, sys
r = json.loads(open(sys.argv[1]).read())
ok = set(r) == {"loss", "mse", "psnr"} and abs(r["loss"] - float(sys.argv[2])) < 1e-4
ok = ok and abs(r["psnr"] - 10 * math.log10(1 / r["mse"])) < 1e-3
sys.exit(0 if ok else 1)' "$tmp/eval.json" "$val_loss"
"$AEKIT" eval "$model" --limit 100 >"$tmp/eval.txt" 2>&1
check "eval prints loss, mse and psnr (data set from the model file)" \
  grep -Eq '^loss [0-9.]+  mse [0-9.]+  psnr [0-9.]+ dB$' "$tmp/eval.txt"

# ---- pictures ------------------------------------------------------------------------
# 2 rows x 10 columns of 28x28 tiles at scale 3, separated by 3-pixel gaps,
# right of the rows' labels (AE_PICTURE_LABEL_WIDTH, 120 pixels).
check "reconstructions.png is a PNG of 987x171" test "$(png_size "$run/reconstructions.png")" = "987 171"
check "loss.png is a PNG of 800x500" test "$(png_size "$run/loss.png")" = "800 500"

# latent.png: 800x640, and drawn: many colours (semi-transparent dots over
# each other), the legend's ten tab10 label colours (MNIST has all ten
# digits), thousands of coloured pixels (1,000 dots)
latent=$("$PY" "$(dirname "$0")/png_colours.py" "$run/latent.png" 2>&1)
echo "      latent.png: width height distinct-colours tab10-colours coloured-pixels = $latent"
check "latent.png is a PNG of 800x640" test "$(png_size "$run/latent.png")" = "800 640"
check "latent.png has dots in many colours and all 10 label colours" \
  awk -v s="$latent" 'BEGIN { split(s, a, " "); exit !(a[3] > 1000 && a[4] == 10 && a[5] > 5000) }'

# index.html: self-contained, one table row per row of metrics.csv with the
# same values, every picture of the folder shown
check "index.html shows metrics.csv and every picture" "$PY" "$(dirname "$0")/check_run_index.py" "$run"
check "index.html names the model and the data set" grep -q '<h1>[^<]*conv on mnist' "$run/index.html"

"$AEKIT" reconstruct "$model" --data mnist --n 4 --out "$tmp/r4.png" >"$tmp/rec.out" 2>"$tmp/rec.err"
check "reconstruct exits 0" test $? -eq 0
check "reconstruct --n 4 writes a PNG of 465x171" test "$(png_size "$tmp/r4.png")" = "465 171"
# more images than --cols (default 10): blocks of 2 rows, 12 pixels of white between them
"$AEKIT" reconstruct "$model" --data mnist --n 25 --out "$tmp/r25.png" >/dev/null 2>&1
check "reconstruct --n 25 wraps into 3 blocks of 10 (987x537)" test "$(png_size "$tmp/r25.png")" = "987 537"
"$AEKIT" reconstruct "$model" --data mnist --n 12 --cols 5 --out "$tmp/r12.png" >/dev/null 2>&1
check "reconstruct --n 12 --cols 5: 3 blocks of 5 (552x537)" test "$(png_size "$tmp/r12.png")" = "552 537"

summary
