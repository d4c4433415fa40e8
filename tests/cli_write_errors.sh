#!/usr/bin/env bash
# Writes that fail during training (docs/failure-modes.md): a file size limit
# (ulimit -f, standing in for a full disk) that the checkpoint or the model
# does not fit, a picture that cannot be written, and a run folder that is
# read-only. Each gives one line on stderr, exit 1, and leaves the previous
# checkpoint and outputs as they were (no partial file, no temporary file);
# a run whose model is saved but not its pictures is finished by --resume.
#
# As root a read-only folder does not stop writes; that case then runs as
# user nobody (setpriv), or is skipped with a note when that cannot work.
#
# usage: bash tests/cli_write_errors.sh /path/to/aekit
source "$(dirname "$0")/lib/cli_common.sh"
set -m
need_mnist

# read-only folders are made writable again before removal
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT


TRAIN=(--model conv --data mnist --epochs 3 --limit 2000 --val-limit 200 --threads 2)

# A run stopped by SIGTERM after its first checkpoint: the state to protect.
run=$tmp/run
"$AEKIT" train "${TRAIN[@]}" --checkpoint-every 4 --out "$run" >/dev/null 2>"$tmp/setup.err" </dev/null &
pid=$!
for _ in $(seq 300); do [[ -e $run/checkpoint.safetensors ]] && break; sleep 0.02; done
kill -TERM "$pid"
wait "$pid"
check "setup: a stopped run with a checkpoint" test $? -eq 143 -a -f "$run/checkpoint.safetensors"
cp -a "$run" "$tmp/before"
ckpt_kb=$(( $(stat -c %s "$run/checkpoint.safetensors") / 1024 ))

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

# ---- a picture cannot be written; then the model does not fit ----------------------------
# The stopped run resumed to its end while samples.png cannot be written (a
# folder holds its name): the model is saved, the pictures are not all, and
# the checkpoint of the finished run stays, so --resume can finish the
# folder without training again. That finishing run first meets a size limit
# its model does not fit.
fin=$tmp/finish
cp -a "$tmp/before" "$fin"
mkdir -p "$fin/samples.png/blocker"
"$AEKIT" train --resume "$fin" >/dev/null 2>"$tmp/pic.err" </dev/null
rc=$?
grep '^aekit train:' "$tmp/pic.err" >"$tmp/pic.last"
echo "  $(cat "$tmp/pic.last")"
check "a picture that cannot be written: exit 1" test $rc -eq 1
check "  ... one error line naming it" bash -c "[[ \$(wc -l <'$tmp/pic.last') -eq 1 ]] && grep -q 'samples.png: write failed: Is a directory' '$tmp/pic.last'"
check "  ... the model is saved, the checkpoint kept, no index.html" \
  test -f "$fin/model.safetensors" -a -f "$fin/checkpoint.safetensors" -a ! -e "$fin/index.html"
check "  ... no temporary file left" no_temps "$fin"
rm -r "$fin/samples.png"
cp -a "$fin" "$tmp/fin-before"
model_kb=$(( $(stat -c %s "$fin/model.safetensors") / 1024 ))
( ulimit -f $((model_kb / 2)); exec "$AEKIT" train --resume "$fin" ) >/dev/null 2>"$tmp/model.err" </dev/null
rc=$?
grep '^aekit train:' "$tmp/model.err" >"$tmp/model.last"
echo "  $(cat "$tmp/model.last")"
check "model over the size limit: exit 1" test $rc -eq 1
check "  ... one error line" one_line "$tmp/model.last"
check "  ... naming the file and the cause" grep -q "model.safetensors: write failed: File too large" "$tmp/model.last"
check "  ... and the kept checkpoint" grep -q "the checkpoint is kept: $fin/checkpoint.safetensors" "$tmp/model.last"
check "  ... the previous model is untouched, the folder as it was" unchanged "$tmp/fin-before" "$fin"
check "  ... no temporary file left" no_temps "$fin"
"$AEKIT" train --resume "$fin" >/dev/null 2>"$tmp/finish.err" </dev/null
rc=$?
check "--resume then finishes the folder: exit 0" test $rc -eq 0
check "  ... without training again" bash -c "grep -q 'all 3 epochs were done' '$tmp/finish.err' && ! grep -q '^epoch' '$tmp/finish.err'"
check "  ... the same model" cmp -s "$tmp/fin-before/model.safetensors" "$fin/model.safetensors"
check "  ... every picture and index.html, no checkpoint" bash -c "cd '$fin' && [[ -f samples.png && -f codes.png && -f latent.png && -f index.html && ! -e checkpoint.safetensors ]]"

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
