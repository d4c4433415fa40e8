#!/usr/bin/env bash
# Early stopping, the kept weights, and extending a run (docs/cli.md):
#  - --early-stop 2 --keep best stops a run whose val loss stalls, and its
#    model holds the best epoch's weights: the same tensors as a run of
#    exactly that many epochs; the model, aekit info, index.html and the
#    closing line say which epoch the weights are from; --resume finishes
#    such a folder whose pictures were not all drawn;
#  - the run stopped by SIGTERM after its best epoch (strace injects it at
#    a checkpoint's rename) and resumed ends with the same model file, byte
#    for byte (the checkpoint holds the best weights); its model's save
#    failing (ENOSPC at the rename), the kept checkpoint resumes saying
#    early stopping ended the run after epoch 11 of 12;
#  - a run early stopping ended is refused more --epochs alone, and goes
#    on with --early-stop 0 to the end: the model of a run without early
#    stopping, byte for byte;
#  - aekit train --resume DIR --epochs 3 on a finished 2-epoch run (constant
#    lr) writes the model of a 3-epoch run, byte for byte; --epochs 2 or 3
#    then are refused naming the run's 3; without final-checkpoint.safetensors
#    the run cannot be extended, and says so;
#  - an extension stopped as its model is saved (SIGTERM at the rename)
#    leaves no index.html of the shorter run: more --epochs or another
#    --early-stop are told to finish it first (or, without the final
#    checkpoint, that it can be finished, not extended), --resume finishes
#    it with the 3-epoch run's model and pictures, and it then extends.
# (The library's side, stop and resume: test_checkpoint.c.)
#
# usage: bash tests/cli_early_stop.sh /path/to/aekit
source "$(dirname "$0")/lib/cli_common.sh"
need_mnist

# st FILE: a digest of the safetensors file's tensors (names, dtypes,
# shapes, bytes), whatever its metadata; st FILE KEY: metadata KEY's value
st() {
  "$PY" -c '
import hashlib, json, struct, sys
blob = open(sys.argv[1], "rb").read()
size = struct.unpack("<Q", blob[:8])[0]
head = json.loads(blob[8:8 + size])
meta = head.pop("__metadata__", {})
if len(sys.argv) > 2: print(meta.get(sys.argv[2], ""))
else: print(hashlib.sha256(json.dumps(head, sort_keys=True).encode() + blob[8 + size:]).hexdigest())
' "$@"
}
same_tensors() { [[ $(st "$1") == $(st "$2") ]]; }
meta() { st "$1" "$2"; }

# A VAE on 200 images at lr 0.003: its val loss falls to epoch 9 and not
# below it in epochs 10 and 11 (the numbers are in metrics.csv).
VAE=(--model vae --data mnist --limit 200 --val-limit 100 --threads 1 --lr 0.003 --batch 32)

# ---- early stopping keeps the best epoch ---------------------------------------------
"$AEKIT" train "${VAE[@]}" --epochs 12 --early-stop 2 --keep best --out "$tmp/es" >"$tmp/es.out" 2>"$tmp/es.err" </dev/null
check "early-stopping run: exit 0" test $? -eq 0
check "  ... stopped after 11 of 12 epochs" test "$(($(wc -l <"$tmp/es/metrics.csv") - 1))" -eq 11
best=$(tail -n +2 "$tmp/es/metrics.csv" | sort -t, -k3,3g -s | head -1 | cut -d, -f1)
check "  ... the best val loss is epoch 9's (the test's premise)" test "$best" = 9
check "  ... the closing line says so" \
  grep -q "^done: 11 epochs in .* (stopped early: no val loss below epoch 9's in 2 epochs); the model is epoch 9's (--keep best): val loss" "$tmp/es.out"
check "  ... aekit.result.model_epoch 9, aekit.result.epochs 11" \
  test "$(meta "$tmp/es/model.safetensors" aekit.result.model_epoch)/$(meta "$tmp/es/model.safetensors" aekit.result.epochs)" = 9/11
check "  ... aekit.result.val_loss is epoch 9's" \
  test "$(meta "$tmp/es/model.safetensors" aekit.result.val_loss)" = "$(sed -n 10p "$tmp/es/metrics.csv" | cut -d, -f3)"
check "  ... aekit info shows the epoch" bash -c "'$AEKIT' info '$tmp/es/model.safetensors' | grep -q '^  weights from epoch  *9$'"
check "  ... and so does index.html" grep -q "weights from epoch.*9" "$tmp/es/index.html"

"$AEKIT" train "${VAE[@]}" --epochs 9 --out "$tmp/nine" >/dev/null 2>&1 </dev/null
check "a 9-epoch run: exit 0" test $? -eq 0
check "the early-stopped model holds the 9-epoch run's weights" same_tensors "$tmp/es/model.safetensors" "$tmp/nine/model.safetensors"
check "  ... its pictures are drawn from them" cmp -s "$tmp/es/reconstructions.png" "$tmp/nine/reconstructions.png"
cp -a "$tmp/es" "$tmp/es-unfinished"
rm "$tmp/es-unfinished/index.html" "$tmp/es-unfinished/samples.png"
"$AEKIT" train --resume "$tmp/es-unfinished" >/dev/null 2>"$tmp/finish.err" </dev/null
check "--resume finishes a --keep best folder (metrics.csv's best epoch is the model's)" \
  bash -c "grep -q '^finishing vae' '$tmp/finish.err' && cmp -s '$tmp/es/samples.png' '$tmp/es-unfinished/samples.png'"

"$AEKIT" train "${VAE[@]}" --epochs 12 --early-stop 2 --out "$tmp/last" >/dev/null 2>&1 </dev/null
check "--keep last (the default): the model is epoch 11's" test "$(meta "$tmp/last/model.safetensors" aekit.result.model_epoch)" = 11
check "  ... not the best epoch's" bash -c "! cmp -s '$tmp/last/reconstructions.png' '$tmp/nine/reconstructions.png'"

# ---- stopped after the best epoch, resumed: the same model, byte for byte -------------
# SIGTERM as the run writes its 22nd checkpoint (every 3 steps of 7 an
# epoch: epoch 10, step 3), found by tracing the renames of an unbroken run
if can_strace; then
  ES=("${VAE[@]}" --epochs 12 --early-stop 2 --keep best --checkpoint-every 3)
  traced -o "$tmp/es.trace" -e trace=rename "$AEKIT" train "${ES[@]}" --out "$tmp/probe" >/dev/null 2>&1 </dev/null
  n=$(awk '/ rename\(/ { n++; if (index($0, "/checkpoint.safetensors\")") && ++k == 22) { print n; exit } }' "$tmp/es.trace")
  at_rename "$n" signal=SIGTERM "$AEKIT" train "${ES[@]}" --out "$tmp/cut" >/dev/null 2>"$tmp/cut.err" </dev/null
  rc=$?
  check "SIGTERM in epoch 10, after the best epoch: exit 143" \
    bash -c "[[ $rc -eq 143 ]] && grep -q 'SIGTERM: stopped at epoch 10/12, step [0-9]/7' '$tmp/cut.err'"
  "$AEKIT" train --resume "$tmp/cut" >/dev/null 2>&1 </dev/null
  check "  ... resumed: the early-stopped run's model, byte for byte" \
    cmp -s "$tmp/es/model.safetensors" "$tmp/cut/model.safetensors"
  check "  ... and its losses" cmp -s <(cut -d, -f1-4 "$tmp/es/metrics.csv") <(cut -d, -f1-4 "$tmp/cut/metrics.csv")
  # the model's save fails (a full disk at its rename): the checkpoint of
  # the early-stopped run is kept, and its resume says early stopping ended it
  n=$(awk '/ rename\(/ { n++; if (index($0, "/model.safetensors\")")) { print n; exit } }' "$tmp/es.trace")
  at_rename "$n" error=ENOSPC "$AEKIT" train "${ES[@]}" --out "$tmp/nosave" >/dev/null 2>"$tmp/nosave.err" </dev/null
  rc=$?
  check "the early-stopped run's model not saved: exit 1, its checkpoint kept" \
    bash -c "[[ $rc -eq 1 ]] && grep -q 'the checkpoint is kept' '$tmp/nosave.err' && test -f '$tmp/nosave/checkpoint.safetensors'"
  "$AEKIT" train --resume "$tmp/nosave" >/dev/null 2>"$tmp/nosave-resume.err" </dev/null
  check "  ... resumed: it says early stopping ended the run after epoch 11 (not 'all 11 epochs')" \
    grep -q "^resuming vae in .*: early stopping ended the run after epoch 11 of 12 (--early-stop 2)" "$tmp/nosave-resume.err"
  check "  ... and saves the early-stopped run's model, byte for byte" \
    cmp -s "$tmp/es/model.safetensors" "$tmp/nosave/model.safetensors"
else
  echo "note  an early-stopping run stopped and resumed: skipped (no strace, or ptrace not allowed)"
fi

# ---- an early-stopped run goes on only with another patience -------------------------
cp -a "$tmp/es" "$tmp/es-before"
expect_error "more --epochs for an early-stopped run: exit 1, naming the stop and --early-stop" 1 \
  "stopped early after epoch 11 (--early-stop 2: no val loss below epoch 9's); a larger --early-stop, or 0 (off), lets it go on" - -- \
  "$AEKIT" train --resume "$tmp/es" --epochs 20
check "  ... and the folder is as it was" unchanged "$tmp/es-before" "$tmp/es"
"$AEKIT" train --resume "$tmp/es" --early-stop 0 >/dev/null 2>"$tmp/off.err" </dev/null
check "--early-stop 0 lets it go on to epoch 12" test $? -eq 0 -a "$(($(wc -l <"$tmp/es/metrics.csv") - 1))" -eq 12
"$AEKIT" train "${VAE[@]}" --epochs 12 --keep best --out "$tmp/whole" >/dev/null 2>&1 </dev/null
check "  ... and ends with the model of a run without early stopping, byte for byte" \
  cmp -s "$tmp/whole/model.safetensors" "$tmp/es/model.safetensors"

# ---- extending a finished run ----------------------------------------------------------
CONV=(--model conv --data mnist --limit 300 --val-limit 100 --threads 1 --batch 64)
"$AEKIT" train "${CONV[@]}" --epochs 2 --out "$tmp/ext" >/dev/null 2>&1 </dev/null
check "a 2-epoch run keeps its final checkpoint" test $? -eq 0 -a -f "$tmp/ext/final-checkpoint.safetensors" -a ! -e "$tmp/ext/checkpoint.safetensors"
cp -a "$tmp/ext" "$tmp/ext-cut"
"$AEKIT" train --resume "$tmp/ext" --epochs 3 >/dev/null 2>"$tmp/ext.err" </dev/null
check "--resume --epochs 3: exit 0" test $? -eq 0
check "  ... says it extends the run" grep -q "^extending conv in .* from 2 to 3 epochs" "$tmp/ext.err"
"$AEKIT" train "${CONV[@]}" --epochs 3 --out "$tmp/three" >/dev/null 2>&1 </dev/null
check "extended to 3 = a 3-epoch run, byte for byte" cmp -s "$tmp/three/model.safetensors" "$tmp/ext/model.safetensors"
check "  ... with the same losses" cmp -s <(cut -d, -f1-4 "$tmp/three/metrics.csv") <(cut -d, -f1-4 "$tmp/ext/metrics.csv")

cp -a "$tmp/ext" "$tmp/ext-before"
expect_error "--epochs 2 after 3: a usage error naming the run's 3" 2 "--epochs 2 is fewer than the run's 3" - -- \
  "$AEKIT" train --resume "$tmp/ext" --epochs 2
expect_error "--epochs 3 after 3: nothing to do, naming the run's 3" 1 \
  "all its 3 epochs were done; --epochs N with N above 3 extends it" - -- "$AEKIT" train --resume "$tmp/ext" --epochs 3
check "  ... and the folder is as it was" unchanged "$tmp/ext-before" "$tmp/ext"

# ---- an extension stopped after its model is saved ------------------------------------
# SIGTERM as the extended model's rename starts (the rename happens): the
# folder holds the 3-epoch model, not the 2-epoch run's index.html, and
# --resume draws it
if can_strace; then
  cp -a "$tmp/ext-cut" "$tmp/ext-probe"
  n=$(renames_until model.safetensors "$AEKIT" train --resume "$tmp/ext-probe" --epochs 3)
  at_rename "$n" signal=SIGTERM "$AEKIT" train --resume "$tmp/ext-cut" --epochs 3 >/dev/null 2>"$tmp/ext-cut.err" </dev/null
  rc=$?
  check "an extension stopped after its model is saved: exit 143, 'stopped after training'" \
    bash -c "[[ $rc -eq 143 ]] && grep -q 'SIGTERM: stopped after training' '$tmp/ext-cut.err'"
  check "  ... the 2-epoch run's index.html is gone (the folder is not all drawn)" test ! -e "$tmp/ext-cut/index.html"
  cp -a "$tmp/ext-cut" "$tmp/ext-cut-before"
  expect_error "  ... --epochs 4 then: refused, saying to finish it first" 1 \
    "--epochs 4: the run's 3 epochs are done but not all its pictures are drawn: finish it first with aekit train --resume $tmp/ext-cut, then extend it" - -- \
    "$AEKIT" train --resume "$tmp/ext-cut" --epochs 4
  expect_error "  ... so is another --early-stop (not ignored)" 1 \
    "--early-stop 5: the run's 3 epochs are done but not all its pictures are drawn: finish it first with aekit train --resume $tmp/ext-cut, then extend it" - -- \
    "$AEKIT" train --resume "$tmp/ext-cut" --early-stop 5
  expect_error "  ... --epochs 2: a usage error naming the run's 3" 2 "--epochs 2 is fewer than the run's 3" - -- \
    "$AEKIT" train --resume "$tmp/ext-cut" --epochs 2
  check "  ... and the folder is as it was" unchanged "$tmp/ext-cut-before" "$tmp/ext-cut"
  "$AEKIT" train --resume "$tmp/ext-cut" >/dev/null 2>"$tmp/ext-finish.err" </dev/null
  rc=$?
  check "  ... --resume finishes it" bash -c "[[ $rc -eq 0 ]] && grep -q '^finishing conv in .*: all 3 epochs were done' '$tmp/ext-finish.err'"
  check "  ... with the 3-epoch run's pictures" \
    bash -c "test -f '$tmp/ext-cut/index.html' && cmp -s '$tmp/three/samples.png' '$tmp/ext-cut/samples.png' && cmp -s '$tmp/three/reconstructions.png' '$tmp/ext-cut/reconstructions.png'"
  check "  ... and model" cmp -s "$tmp/three/model.safetensors" "$tmp/ext-cut/model.safetensors"
  "$AEKIT" train --resume "$tmp/ext-cut" --epochs 4 >/dev/null 2>&1 </dev/null
  check "  ... which then extends to 4 epochs" test $? -eq 0 -a "$(meta "$tmp/ext-cut/model.safetensors" aekit.result.epochs)" = 4
  rm "$tmp/ext-cut-before/final-checkpoint.safetensors"
  expect_error "not all drawn, without final-checkpoint.safetensors: --epochs 4 is refused: it can be finished, not extended" 1 \
    "the run's 3 epochs are done and $tmp/ext-cut-before/final-checkpoint.safetensors, its final state, is gone: it can be finished (aekit train --resume $tmp/ext-cut-before), not extended" - -- \
    "$AEKIT" train --resume "$tmp/ext-cut-before" --epochs 4
else
  echo "note  an extension stopped after its model is saved: skipped (no strace, or ptrace not allowed)"
fi

rm "$tmp/ext/final-checkpoint.safetensors"
expect_error "without final-checkpoint.safetensors: refused, pointing to --init" 1 \
  "final-checkpoint.safetensors, the run's final state, is gone: the run cannot be extended (train on from its weights with --init" - -- \
  "$AEKIT" train --resume "$tmp/ext" --epochs 4

summary
