#!/usr/bin/env bash
# Checkpoints, resuming, stopping and divergence (docs/failure-modes.md):
#  - a run killed with SIGKILL three times at random points, resumed each
#    time, ends with the model of an uninterrupted run (same seed, threads);
#  - Ctrl-C (SIGINT) and SIGTERM finish the step, write the checkpoint, say
#    how to resume and exit 130 / 143; the resumed run is again identical;
#  - so is an AAE's (with its own --reg-lr) after SIGTERM, and a finished
#    AAE run extended by an epoch equals the longer run;
#  - --resume refuses flags that conflict with the run's settings;
#  - a NaN (SGD with lr 1e30) stops training naming epoch, step and layer,
#    keeps the last checkpoint and exits 1; --clip-grad keeps it finite.
#
# The model files must be byte-identical (cmp); on a difference the test
# says which part differs: tensor layout, metadata or tensor data.
#
# usage: bash tests/cli_resume.sh /path/to/aekit
source "$(dirname "$0")/lib/cli_common.sh"
set -m   # background jobs get their own process group and keep SIGINT
need_mnist

quietly() { "$@" >/dev/null 2>&1; }

# same_model A B: byte-identical files; otherwise name what differs.
same_model() {
  cmp -s "$1" "$2" && return 0
  "$PY" - "$1" "$2" <<'EOF'
import json, struct, sys
def load(path):
    with open(path, 'rb') as f:
        b = f.read()
    n = struct.unpack('<Q', b[:8])[0]
    header = json.loads(b[8:8 + n])
    meta = header.pop('__metadata__', {})
    return header, list(meta.items()), b[8 + n:]
a, b = load(sys.argv[1]), load(sys.argv[2])
for what, x, y in zip(('tensor layout', 'metadata', 'tensor data'), a, b):
    if x != y:
        print(f'  {what} differs', file=sys.stderr)
        sys.exit(1)
print('  the files differ in bytes but not in content', file=sys.stderr)
sys.exit(1)
EOF
}

# the losses in metrics.csv (not the timings)
losses() { cut -d, -f1-4,7-9 "$1"; }

TRAIN=(--model conv --data mnist --epochs 4 --limit 2000 --val-limit 500 --threads 2 --seed 7)

# ---- reference: one uninterrupted run ------------------------------------------------
"$AEKIT" train "${TRAIN[@]}" --out "$tmp/ref" >"$tmp/ref.out" 2>"$tmp/ref.err" </dev/null
check "uninterrupted run" test $? -eq 0 -a -f "$tmp/ref/model.safetensors"
check "finished run leaves no checkpoint" test ! -e "$tmp/ref/checkpoint.safetensors"

# ---- SIGKILL three times at random points, resume each time -------------------------
run=$tmp/killed
"$AEKIT" train "${TRAIN[@]}" --checkpoint-every 3 --out "$run" >/dev/null 2>"$tmp/k0.err" </dev/null &
pid=$!
kills=0
for i in 1 2 3; do
  # Each kill comes after the run has written a new checkpoint (so it has
  # made progress, and is in the middle of the run), then 10-49 ms later:
  # a random point between two checkpoints, whatever the machine's speed.
  before=$tmp/before.ckpt
  rm -f "$before"
  [[ -e $run/checkpoint.safetensors ]] && cp "$run/checkpoint.safetensors" "$before"
  for _ in $(seq 500); do
    [[ -e $run/checkpoint.safetensors ]] && ! cmp -s "$run/checkpoint.safetensors" "$before" && break
    sleep 0.01
  done
  sleep "0.0$((RANDOM % 4 + 1))$((RANDOM % 10))"
  if kill -KILL "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null
  if [[ -e $run/checkpoint.safetensors ]]; then
    "$AEKIT" train --resume "$run" >/dev/null 2>"$tmp/k$i.err" </dev/null &
  else                        # killed before its first checkpoint: start over
    "$AEKIT" train "${TRAIN[@]}" --checkpoint-every 3 --out "$run" >/dev/null 2>"$tmp/k$i.err" </dev/null &
  fi
  pid=$!
done
wait "$pid"
rc=$?
echo "killed $kills times; the last run exited $rc"
check "killed run resumed to the end" test $rc -eq 0 -a -f "$run/model.safetensors"
check "SIGKILLed at least twice" test $kills -ge 2
check "resumed at a step" grep -q "^resuming conv in .* at epoch [0-9]/4, step [0-9]*/16" "$tmp/k1.err" "$tmp/k2.err" "$tmp/k3.err"
check "killed + resumed model = uninterrupted model" same_model "$tmp/ref/model.safetensors" "$run/model.safetensors"
check "killed + resumed losses = uninterrupted losses" cmp -s <(losses "$tmp/ref/metrics.csv") <(losses "$run/metrics.csv")
check "no temporary files left" no_temps "$run"
check "no checkpoint left" test ! -e "$run/checkpoint.safetensors"

# ---- Ctrl-C and SIGTERM ----------------------------------------------------------------
run=$tmp/stopped
wait_checkpoint() {
  for _ in $(seq 300); do [[ -e $run/checkpoint.safetensors ]] && return 0; sleep 0.02; done
  return 1
}
"$AEKIT" train "${TRAIN[@]}" --checkpoint-every 2 --out "$run" >/dev/null 2>"$tmp/int.err" </dev/null &
pid=$!
wait_checkpoint
kill -INT "$pid"
wait "$pid"
rc=$?
tail -n 1 "$tmp/int.err" >"$tmp/int.last"
echo "  $(cat "$tmp/int.last")"
check "Ctrl-C exits 130" test $rc -eq 130
check "Ctrl-C says how to resume" grep -q "Ctrl-C: stopped at epoch [0-9]/4, step [0-9]*/16; checkpoint written, resume with: aekit train --resume $run" "$tmp/int.last"
check "Ctrl-C leaves a checkpoint" test -f "$run/checkpoint.safetensors"
check "the checkpoint loads as a model" quietly "$AEKIT" info "$run/checkpoint.safetensors"

# the same command again is refused: the folder has an unfinished run
"$AEKIT" train "${TRAIN[@]}" --out "$run" >/dev/null 2>"$tmp/again.err" </dev/null
rc=$?
check "a new run into an unfinished run's folder is refused" test $rc -eq 1
check "  ... pointing to --resume" grep -q "unfinished run: go on with aekit train --resume" "$tmp/again.err"

# flags that conflict with the stored settings
"$AEKIT" train --resume "$run" --lr 0.01 >/dev/null 2>"$tmp/conflict.err" </dev/null
rc=$?
echo "  $(cat "$tmp/conflict.err")"
check "--resume with another --lr is a usage error" test $rc -eq 2
check "  ... in one line naming --lr" bash -c "[[ \$(wc -l <'$tmp/conflict.err') -eq 1 ]] && grep -q -- '--lr 0.01 conflicts with the run.s 0.001' '$tmp/conflict.err'"
"$AEKIT" train --resume "$run" --model conv-vae >/dev/null 2>"$tmp/conflict2.err" </dev/null
check "--resume with another --model is a usage error" test $? -eq 2
"$AEKIT" train --resume "$run" --limit 3000 >/dev/null 2>"$tmp/conflict3.err" </dev/null
check "--resume with another --limit is refused" test $? -ne 0
check "  ... naming the image counts" grep -q "3000 training images, the checkpoint's run trained on 2000" "$tmp/conflict3.err"

# resume (repeating the original flags is fine), then SIGTERM
cp "$run/checkpoint.safetensors" "$tmp/int.ckpt"
"$AEKIT" train "${TRAIN[@]}" --out "$run" --resume "$run" >/dev/null 2>"$tmp/term.err" </dev/null &
pid=$!
for _ in $(seq 300); do cmp -s "$run/checkpoint.safetensors" "$tmp/int.ckpt" || break; sleep 0.02; done
kill -TERM "$pid"
wait "$pid"
rc=$?
check "SIGTERM exits 143" test $rc -eq 143
check "SIGTERM says how to resume" grep -q "SIGTERM: stopped at .*resume with: aekit train --resume" "$tmp/term.err"
"$AEKIT" train --resume "$run" >/dev/null 2>"$tmp/final.err" </dev/null
check "resumed to the end" test $? -eq 0
check "interrupted + resumed model = uninterrupted model" same_model "$tmp/ref/model.safetensors" "$run/model.safetensors"
check "interrupted + resumed losses = uninterrupted losses" cmp -s <(losses "$tmp/ref/metrics.csv") <(losses "$run/metrics.csv")

# ---- an AAE: stopped with SIGTERM, resumed; a finished run extended ---------------------
# (its discriminator's last layer is a one-row weight at the end of the
# parameters: BLIS 0.9.0 reads past it, and resuming once crashed there)
AAE=(--model aae --data mnist --limit 500 --val-limit 100 --threads 2 --seed 5 --reg-lr 2e-4)
quietly "$AEKIT" train "${AAE[@]}" --epochs 2 --out "$tmp/aae-ref" </dev/null
check "AAE: uninterrupted run" test $? -eq 0 -a -f "$tmp/aae-ref/model.safetensors"
run=$tmp/aae
"$AEKIT" train "${AAE[@]}" --epochs 2 --checkpoint-every 2 --out "$run" >/dev/null 2>"$tmp/aae-term.err" </dev/null &
pid=$!
for _ in $(seq 1000); do test -e "$run/checkpoint.safetensors" && break; sleep 0.02; done
kill -TERM "$pid"
wait "$pid"
check "AAE: SIGTERM exits 143" test $? -eq 143
"$AEKIT" train --resume "$run" >/dev/null 2>"$tmp/aae-resume.err" </dev/null
check "AAE: resumed to the end" test $? -eq 0
check "AAE: interrupted + resumed model = uninterrupted model" \
  same_model "$tmp/aae-ref/model.safetensors" "$run/model.safetensors"
quietly "$AEKIT" train "${AAE[@]}" --epochs 1 --out "$tmp/aae-short" </dev/null
"$AEKIT" train --resume "$tmp/aae-short" --epochs 2 >/dev/null 2>"$tmp/aae-extend.err" </dev/null
check "AAE: a finished run extended by an epoch" test $? -eq 0
check "AAE: 1 epoch extended to 2 = 2 epochs" same_model "$tmp/aae-ref/model.safetensors" "$tmp/aae-short/model.safetensors"

# ---- divergence ------------------------------------------------------------------------
run=$tmp/diverged
"$AEKIT" train --model vae --data mnist --epochs 1 --limit 1000 --val-limit 100 --threads 2 \
  --optimizer sgd --lr 1000 --checkpoint-every 1 --out "$run" >/dev/null 2>"$tmp/nan.err" </dev/null
rc=$?
tail -n 1 "$tmp/nan.err" >"$tmp/nan.last"
echo "  $(cat "$tmp/nan.last")"
check "NaN stops training with exit 1" test $rc -eq 1
check "  ... naming epoch, step and layer" grep -q "training diverged at epoch 1, step [0-9]*: .*non-finite gradient (nan) is encoder\.[0-9]*\.weight" "$tmp/nan.last"
check "  ... what to change, as flags (the library says option lr)" grep -q "try a lower learning rate (--lr) or gradient clipping (--clip-grad)" "$tmp/nan.last"
check "  ... and the kept checkpoint" grep -q "the last checkpoint is kept: $run/checkpoint.safetensors" "$tmp/nan.last"
check "  ... which loads as a model" quietly "$AEKIT" info "$run/checkpoint.safetensors"
check "  ... and no model is written" test ! -e "$run/model.safetensors"
"$AEKIT" train --model vae --data mnist --epochs 1 --limit 1000 --val-limit 100 --threads 2 \
  --optimizer sgd --lr 1000 --clip-grad 1e-3 --out "$tmp/clipped" >/dev/null 2>"$tmp/clip.err" </dev/null
check "--clip-grad keeps that run finite" test $? -eq 0 -a -f "$tmp/clipped/model.safetensors"
"$AEKIT" info "$tmp/clipped/model.safetensors" >"$tmp/clip.info" 2>&1
check "  ... and info shows its clipping norm and threads" \
  bash -c "grep -Eq '^  gradient clipping norm +0.001$' '$tmp/clip.info' && grep -Eq '^  threads +2$' '$tmp/clip.info'"
"$AEKIT" train --model conv --data mnist --epochs 1 --limit 100 --clip-grad -1 --out "$tmp/x" >/dev/null 2>&1 </dev/null
check "--clip-grad -1 is a usage error" test $? -eq 2
"$AEKIT" train --model conv --data mnist --epochs 1 --limit 100 --checkpoint-every 2x --out "$tmp/x" >/dev/null 2>&1 </dev/null
check "--checkpoint-every 2x is a usage error" test $? -eq 2

summary
