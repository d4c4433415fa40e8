#!/usr/bin/env bash
# Writes that fail during training (docs/failure-modes.md): a file size limit
# (ulimit -f, standing in for a full disk) that the checkpoint or the model
# does not fit, a full disk at the model or a picture (ENOSPC injected with
# strace), and a run folder that is read-only. Each gives one line on
# stderr, exit 1, and leaves the previous checkpoint and outputs as they were
# (no partial file, no temporary file); a run whose model is saved but not
# all its pictures is finished by --resume. A limit that a checkpoint would
# pass but the model fits costs nothing with --checkpoint-every 0.
#
# As root a read-only folder does not stop writes; that case then runs as
# user nobody (setpriv), or is skipped with a note when that cannot work.
#
# usage: bash tests/cli_write_errors.sh /path/to/aekit
source "$(dirname "$0")/lib/cli_common.sh"
need_mnist

# read-only folders are made writable again before removal
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT

# train_failed NAME RC NEEDLE ERR: aekit train exited RC, 1 is expected,
# with one error line in ERR (after any progress), naming NEEDLE; the line
# is left in ERR.last
train_failed() {
  local name=$1 rc=$2 needle=$3 err=$4
  grep '^aekit train:' "$err" >"$err.last"
  echo "  $(cat "$err.last")"
  check "$name: exit 1" test "$rc" -eq 1
  check "  ... one error line naming the file and the cause" \
    bash -c "[[ \$(wc -l <'$err.last') -eq 1 ]] && grep -qF -- '$needle' '$err.last'"
}

# ---- a checkpoint would not fit, the model does: --checkpoint-every 0 -----------------
# A new 2-D VAE run (a 3.2 MB model; its checkpoint, with the optimiser's
# moments, is 3 times as large) under a limit between the two: nothing
# forces a checkpoint after the last epoch, and the model is saved first,
# so the run ends whole.
VAE=(--model vae --latent 2 --data mnist --epochs 1 --limit 256 --val-limit 128 --threads 2)
"$AEKIT" train "${VAE[@]}" --out "$tmp/vae-size" >/dev/null 2>&1 </dev/null
vae_kb=$(( $(stat -c %s "$tmp/vae-size/model.safetensors") / 1024 ))
( ulimit -f $((vae_kb * 3 / 2)); exec "$AEKIT" train "${VAE[@]}" --checkpoint-every 0 --out "$tmp/vae" ) \
  >/dev/null 2>"$tmp/vae.err" </dev/null
rc=$?
echo "  $(tail -n 1 "$tmp/vae.err")"
check "--checkpoint-every 0, room for the model but not a checkpoint: exit 0" test $rc -eq 0
check "  ... the model, every picture and index.html, no checkpoint, no temporary file" \
  bash -c "cd '$tmp/vae' && [[ -f model.safetensors && -f manifold.png && -f index.html && ! -e checkpoint.safetensors ]]" &&
  no_temps "$tmp/vae"

# ---- the model does not fit ------------------------------------------------------------
# The same run under a limit its model does not fit (its metrics and plots
# do): one line naming the model; no partial model.
( ulimit -f $((vae_kb / 2)); exec "$AEKIT" train "${VAE[@]}" --checkpoint-every 0 --out "$tmp/vae-big" ) \
  >/dev/null 2>"$tmp/big.err" </dev/null
train_failed "model over the size limit" $? "model.safetensors: write failed: File too large" "$tmp/big.err"
check "  ... no model, no temporary file" bash -c "[[ ! -e '$tmp/vae-big/model.safetensors' ]]" && no_temps "$tmp/vae-big"

if ! can_strace; then
  echo "note  strace cannot trace here: the cases of a run stopped at a checkpoint, a full disk at"
  echo "      the model or a picture, and a read-only run folder are skipped"
  summary
  exit
fi

# ---- a run stopped by SIGTERM after its first checkpoint: the state to protect -------------
TRAIN=(--model conv --data mnist --epochs 3 --limit 2000 --val-limit 200 --threads 2 --checkpoint-every 4)
n=$(renames_until checkpoint.safetensors "$AEKIT" train "${TRAIN[@]}" --out "$tmp/probe")
run=$tmp/run
at_rename "$n" signal=SIGTERM "$AEKIT" train "${TRAIN[@]}" --out "$run" >/dev/null 2>"$tmp/setup.err" </dev/null
check "setup: a run stopped by SIGTERM after its first checkpoint" test $? -eq 143 -a -f "$run/checkpoint.safetensors"
cp -a "$run" "$tmp/before"
ckpt_kb=$(( $(stat -c %s "$run/checkpoint.safetensors") / 1024 ))
# the same run resumed to its end: the model and pictures to expect
cp -a "$tmp/before" "$tmp/whole"
"$AEKIT" train --resume "$tmp/whole" >/dev/null 2>&1 </dev/null
check "setup: the stopped run resumes to its end" test $? -eq 0 -a -f "$tmp/whole/index.html"

# ---- the checkpoint does not fit (ulimit -f, in KB) ------------------------------------
( ulimit -f $((ckpt_kb / 2)); exec "$AEKIT" train --resume "$run" --checkpoint-every 1 ) \
  >/dev/null 2>"$tmp/fsize.err" </dev/null
rc=$?
tail -n 1 "$tmp/fsize.err" >"$tmp/fsize.last"
echo "  $(cat "$tmp/fsize.last")"
check "checkpoint over the size limit: exit 1" test $rc -eq 1
check "  ... one error line (after the resume line)" test "$(grep -c '^aekit train:' "$tmp/fsize.err")" -eq 1
check "  ... naming the file and the cause" grep -q "checkpoint.safetensors: write failed: File too large" "$tmp/fsize.last"
check "  ... the previous checkpoint is kept" grep -q "the last checkpoint is kept" "$tmp/fsize.last"
check "  ... and the folder is as it was" unchanged "$tmp/before" "$run"
"$AEKIT" train --resume "$run" >/dev/null 2>"$tmp/after.err" </dev/null
check "  ... and the run resumes from it to the end" test $? -eq 0 -a -f "$run/model.safetensors"

# ---- the disk fills at the model ----------------------------------------------------------
# The stopped run resumed with --checkpoint-every 0; the model's rename
# fails with ENOSPC: the error names the model, and the checkpoint it
# resumed from stays, so the run goes on once there is room.
run=$tmp/nomodel
cp -a "$tmp/before" "$run"
cp -a "$tmp/before" "$tmp/probe2"
n=$(renames_until model.safetensors "$AEKIT" train --resume "$tmp/probe2" --checkpoint-every 0)
at_rename "$n" error=ENOSPC "$AEKIT" train --resume "$run" --checkpoint-every 0 >/dev/null 2>"$tmp/model.err" </dev/null
train_failed "disk full at the model" $? "model.safetensors: write failed: No space left on device" "$tmp/model.err"
check "  ... and the kept checkpoint" grep -q "the checkpoint is kept: $run/checkpoint.safetensors" "$tmp/model.err.last"
check "  ... the checkpoint as it was, no model, no temporary file" \
  bash -c "cmp -s '$tmp/before/checkpoint.safetensors' '$run/checkpoint.safetensors' && [[ ! -e '$run/model.safetensors' ]]" &&
  no_temps "$run"
"$AEKIT" train --resume "$run" >/dev/null 2>"$tmp/again.err" </dev/null
check "  ... --resume then ends the run: exit 0, the model of the unbroken run" \
  bash -c "[[ $? -eq 0 && -f '$run/index.html' ]] && cmp -s '$tmp/whole/model.safetensors' '$run/model.safetensors'"

# ---- the disk fills at a picture -----------------------------------------------------------
# The model is saved first and the checkpoint removed; the pictures are
# not all written. --resume then finishes the folder from the model and
# metrics.csv, without training again and without touching the model.
fin=$tmp/finish
cp -a "$tmp/before" "$fin"
cp -a "$tmp/before" "$tmp/probe3"
n=$(renames_until samples.png "$AEKIT" train --resume "$tmp/probe3")
at_rename "$n" error=ENOSPC "$AEKIT" train --resume "$fin" >/dev/null 2>"$tmp/pic.err" </dev/null
train_failed "disk full at a picture" $? "samples.png: write failed: No space left on device" "$tmp/pic.err"
check "  ... the model is saved, no checkpoint, no index.html" \
  test -f "$fin/model.safetensors" -a ! -e "$fin/checkpoint.safetensors" -a ! -e "$fin/index.html"
check "  ... no temporary file left" no_temps "$fin"
cp -a "$fin" "$tmp/fin-before"
"$AEKIT" train --resume "$fin" >/dev/null 2>"$tmp/finish.err" </dev/null
rc=$?
check "--resume then finishes the folder: exit 0" test $rc -eq 0
check "  ... without training again" \
  bash -c "grep -q 'all 3 epochs were done and the model is saved' '$tmp/finish.err' && ! grep -q '^epoch' '$tmp/finish.err'"
check "  ... the model and metrics.csv untouched" \
  bash -c "cmp -s '$tmp/fin-before/model.safetensors' '$fin/model.safetensors' && cmp -s '$tmp/fin-before/metrics.csv' '$fin/metrics.csv'"
check "  ... the model and the pictures of the unbroken run, no checkpoint" \
  bash -c "cd '$fin' && for f in model.safetensors reconstructions.png samples.png codes.png latent.png loss.png; do cmp -s \$f '$tmp/whole/'\$f || exit 1; done && [[ -f index.html && ! -e checkpoint.safetensors ]]"

# ---- read-only run folder ---------------------------------------------------------------
"$AEKIT" train "${TRAIN[@]}" --out /proc/aekit-no-such-folder/run >/dev/null 2>"$tmp/proc.err" </dev/null
rc=$?
echo "  $(cat "$tmp/proc.err")"
check "--out where no folder can be made: exit 1, one line" bash -c "[[ $rc -eq 1 ]] && [[ \$(wc -l <'$tmp/proc.err') -eq 1 ]]"

# a checkpointed run whose folder became read-only
rm -rf "$run"
cp -a "$tmp/before" "$run"
as=()
chmod a-w "$run"
if touch "$run/.probe" 2>/dev/null; then        # root: permissions do not apply
  rm -f "$run/.probe"
  chmod 755 "$tmp"                                # let user nobody reach the files
  if command -v setpriv >/dev/null &&
     setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$AEKIT" -a -r "$run/checkpoint.safetensors" \
       -a -r "$mnist" 2>/dev/null; then
    as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  else
    as=(skip)
  fi
fi
if [[ ${as[0]:-} == skip ]]; then
  echo "note  read-only folder: skipped (running as root, and user nobody cannot reach $AEKIT or the data)"
else
  "${as[@]}" "$AEKIT" train --resume "$run" --checkpoint-every 1 >/dev/null 2>"$tmp/ro.err" </dev/null
  rc=$?
  echo "  $(cat "$tmp/ro.err")${as[0]:+ (as user nobody)}"
  check "read-only folder: exit 1" test $rc -eq 1
  check "  ... one line naming the folder" bash -c "[[ \$(wc -l <'$tmp/ro.err') -eq 1 ]] && grep -q 'cannot write into it: Permission denied' '$tmp/ro.err'"
  check "  ... and the folder is as it was" unchanged "$tmp/before" "$run"
fi
chmod u+w "$run"

summary
