#!/usr/bin/env bash
# A model of its own architecture from PyTorch (issue 13): a conv AE that
# is no preset, trained and saved by PyTorch (tests/lib/foreign_model.py,
# state_dict only), read with --model and its hand-written description:
#  - eval gives PyTorch's loss and MSE on the same images;
#  - info, reconstruct take --model too;
#  - a description that does not fit names the first tensor that differs
#    and what it expected;
#  - sample on it fails naming aekit fit-latent; fit-latent stores the
#    Gaussian of its codes (PyTorch's mean and std of the same codes),
#    to --out or in place, and sample then works without --model; on an
#    aekit-trained plain AE it stores what train stored; a VAE is refused.
# Skipped (77) without PyTorch and NumPy in /usr/bin/python3.
#
# usage: bash tests/cli_foreign_model.sh /path/to/aekit
source "$(dirname "$0")/lib/cli_common.sh"
need_mnist

"$PY" "$(dirname "$0")/lib/foreign_model.py" "$mnist" "$tmp" >"$tmp/gen.log" 2>&1
rc=$?
if [[ $rc -eq 77 ]]; then cat "$tmp/gen.log"; exit 77; fi
[[ $rc -eq 0 ]] || { cat "$tmp/gen.log"; fail_early "foreign_model.py exits $rc"; }
pt=$tmp/mine.safetensors desc=$tmp/mine.txt

# close(JSON_A, KEY_A, JSON_B, KEY_B, REL): the numbers agree to REL relative
close() {
  "$PY" -c '
import json, sys
a = json.load(open(sys.argv[1]))[sys.argv[2]]
b = json.load(open(sys.argv[3]))[sys.argv[4]]
a = a if isinstance(a, list) else [a]
b = b if isinstance(b, list) else [b]
rel = float(sys.argv[5])
bad = [(x, y) for x, y in zip(a, b) if abs(x - y) > rel * max(abs(x), abs(y), 1e-3)]
print("      %s: %s, %s: %s" % (sys.argv[2], a[:4], sys.argv[4], b[:4]))
sys.exit(0 if len(a) == len(b) and not bad else 1)' "$@"
}

# --- eval: PyTorch's numbers ----------------------------------------------------
"$AEKIT" eval "$pt" --data mnist --limit 200 >/dev/null 2>"$tmp/plain.err"
check "without --model: refused (no description, no preset)" \
  grep -q "no aekit model description, and the tensors match no preset" "$tmp/plain.err"
"$AEKIT" eval --model "$desc" "$pt" --data mnist --limit 200 --threads 2 --json >"$tmp/eval.json" 2>"$tmp/eval.err"
check "eval --model DESC exits 0" test $? -eq 0
sed 's/^/      /' "$tmp/eval.err"
check "eval's loss is PyTorch's mean BCE (1e-5 relative)" close "$tmp/eval.json" loss "$tmp/reference.json" loss 1e-5
check "eval's mse is PyTorch's (1e-5 relative)" close "$tmp/eval.json" mse "$tmp/reference.json" mse 1e-5

# --- other commands ---------------------------------------------------------------
"$AEKIT" info "$pt" --model "$desc" >"$tmp/info.txt" 2>&1
check "info --model: the model's parameters" grep -Eq '^parameters +7471$' "$tmp/info.txt"
"$AEKIT" reconstruct "$pt" --model "$desc" --data mnist --n 4 --threads 2 --out "$tmp/rec.png" >/dev/null 2>&1
check "reconstruct --model writes its PNG" test -n "$(png_size "$tmp/rec.png")"
"$AEKIT" encode "$pt" --model "$desc" --data mnist --limit 5 --threads 2 --out "$tmp/codes.npy" >/dev/null 2>&1
check "encode --model writes 10-value codes" test -s "$tmp/codes.npy"

# every command whose argument is a MODEL file takes --model (the one list:
# the commands whose flag table has CLI_FLAGS_MODEL)
missing=""
for cmd in $("$AEKIT" --help | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {exit}'); do
  usage=$("$AEKIT" "$cmd" --help | grep '^usage:')
  [[ $usage == *" MODEL"* && $cmd != train ]] || continue
  "$AEKIT" "$cmd" --help | grep -q -- '--model NAME|FILE' || missing+=" $cmd"
done
check "every MODEL command takes --model (missing:${missing:- none})" test -z "$missing"

# --- descriptions that do not fit ---------------------------------------------------
# refused(NAME, EXPECTED-TEXT, AEKIT-ARGS...): exit 1, one stderr line holding the text
refused() {
  local name=$1 want=$2
  shift 2
  "$AEKIT" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [[ $rc -eq 1 ]] && one_line "$tmp/err" && grep -qF -- "$want" "$tmp/err"; then ok "$name"
  else failed=$((failed + 1)); echo "FAIL  $name: exit $rc"; sed 's/^/        stderr: /' "$tmp/err"; fi
}
sed 's/^conv 6 k=3 stride=2 pad=1$/conv 7 k=3 stride=2 pad=1/' "$desc" >"$tmp/wide.txt"
refused "a wrong width names the tensor and both shapes" \
  "tensor 'encoder.2.weight' has 648 values, the model needs 756, reading it as --model $tmp/wide.txt" \
  eval "$pt" --model "$tmp/wide.txt" --data mnist --limit 10
sed 's/^leaky_relu slope=0.2$/leaky_relu slope=0.2\nrelu/' "$desc" >"$tmp/shifted.txt"
refused "a shifted layer names the first missing tensor" \
  "tensor 'encoder.3.weight' is missing" info "$pt" --model "$tmp/shifted.txt"
sed '/^conv 1 k=3 pad=same$/{N;s/conv 1 k=3 pad=same\nsigmoid/conv 1 k=3 pad=same\nrelu\nconv 1 k=1\nsigmoid/}' \
  "$desc" >"$tmp/longer.txt"
refused "a tensor the description lacks... or one too many, named" \
  "tensor 'decoder.9.weight' is missing" info "$pt" --model "$tmp/longer.txt"
refused "a preset that does not fit names its first mismatch" \
  "tensor 'encoder.0.weight' has 108 values, the model needs 144" info "$pt" --model conv
"$AEKIT" info "$pt" --latent 4 >/dev/null 2>"$tmp/err"
check "--latent without --model: a usage error (exit 2)" test $? -eq 2
"$AEKIT" info "$pt" --model "$desc" --latent 4 >/dev/null 2>"$tmp/err"
check "--latent the description does not take: a usage error" test $? -eq 2

# --- fit-latent, then sample ----------------------------------------------------------
refused "sample without a fitted Gaussian names aekit fit-latent" \
  "fit one with aekit fit-latent $pt --model $desc --data NAME" sample "$pt" --model "$desc" --out "$tmp/s.png"
check "... and writes nothing" test ! -e "$tmp/s.png"
before=$(md5sum <"$pt")
"$AEKIT" fit-latent "$pt" --model "$desc" --data mnist --limit 500 --threads 2 --out "$tmp/fitted.safetensors" \
  >"$tmp/fit.out" 2>&1
check "fit-latent --out exits 0" test $? -eq 0
sed 's/^/      /' "$tmp/fit.out"
check "fit-latent --out leaves MODEL as it was" test "$(md5sum <"$pt")" = "$before"
"$AEKIT" info "$tmp/fitted.safetensors" >"$tmp/fitted.info" 2>&1
check "the fitted model carries its description (info without --model)" grep -Eq '^parameters +7471$' "$tmp/fitted.info"
"$PY" - "$tmp/fitted.safetensors" "$tmp/fitted.json" <<'EOF'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    meta = json.loads(f.read(n))["__metadata__"]
json.dump({k: [float(v) for v in meta["aekit.latent." + k].split(",")] for k in ("mean", "std")},
          open(sys.argv[2], "w"))
EOF
check "its mean is PyTorch's mean of the 500 codes (1e-4)" close "$tmp/fitted.json" mean "$tmp/reference.json" latent_mean 1e-4
check "its std is PyTorch's std of the 500 codes (1e-4)" close "$tmp/fitted.json" std "$tmp/reference.json" latent_std 1e-4
"$AEKIT" sample "$tmp/fitted.safetensors" --n 4 --threads 2 --out "$tmp/s.png" >/dev/null 2>"$tmp/err"
check "sample then works" test -n "$(png_size "$tmp/s.png")"
cp "$pt" "$tmp/inplace.safetensors"
"$AEKIT" fit-latent "$tmp/inplace.safetensors" --model "$desc" --data mnist --limit 100 --threads 2 >/dev/null 2>&1
check "fit-latent in place exits 0, leaves no temporary" test $? -eq 0 -a -z "$(aekit_temps "$tmp")"
"$AEKIT" sample "$tmp/inplace.safetensors" --n 4 --threads 2 --out "$tmp/s2.png" >/dev/null 2>&1
check "sample works on the model fitted in place" test -n "$(png_size "$tmp/s2.png")"

# fit-latent fits what aekit train stores (the same images, the same bytes)
"$AEKIT" train --model conv-latent --latent 4 --data mnist --epochs 1 --limit 300 --val-limit 100 --threads 2 \
  --out "$tmp/run" >/dev/null 2>&1 </dev/null
"$AEKIT" fit-latent "$tmp/run/model.safetensors" --limit 300 --threads 1 --out "$tmp/refit.safetensors" >/dev/null 2>&1
latent_meta() {
  "$PY" -c '
import json, struct, sys
f = open(sys.argv[1], "rb")
meta = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))["__metadata__"]
print(meta.get("aekit.latent.mean"), meta.get("aekit.latent.std"))' "$1"
}
trained=$(latent_meta "$tmp/run/model.safetensors")
check "fit-latent on train's images stores train's Gaussian, byte for byte" \
  test "$trained" = "$(latent_meta "$tmp/refit.safetensors")" -a "$trained" != "None None"
"$AEKIT" train --model vae --data mnist --epochs 1 --limit 100 --val-limit 50 --threads 2 \
  --out "$tmp/vae" >/dev/null 2>&1 </dev/null
before=$(md5sum <"$tmp/vae/model.safetensors")
refused "fit-latent on a VAE: refused (it samples from its prior)" "a VAE samples from its prior N(0, I)" \
  fit-latent "$tmp/vae/model.safetensors"
check "... and the VAE's file is untouched" test "$(md5sum <"$tmp/vae/model.safetensors")" = "$before"
summary
