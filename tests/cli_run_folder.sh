#!/usr/bin/env bash
# The run folder of aekit train (docs/failure-modes.md, docs/cli.md):
#  - one process at a time: a second run or --resume into a folder in use
#    is refused at once, naming the other process, which goes on to the end;
#    the lock of a killed run does not block;
#  - processes are stopped at exact points by signals injected into their
#    renames with strace (tests/lib/cli_common.sh), never after a delay;
#  - a new run into a folder holding an earlier run is refused, unless
#    --force, which removes that run's files (a 2-D VAE's manifold.png does
#    not stay next to a conv model) and nothing else;
#  - --resume removes only the temporary files aekit made for its run files
#    (a user's notes.tmp.999999 stays);
#  - SIGTERM after the model is saved, while the pictures are written: exit
#    143 with a message, and --resume finishes the folder without training.
#
# usage: bash tests/cli_run_folder.sh /path/to/aekit
source "$(dirname "$0")/lib/cli_common.sh"
need_mnist


QUICK=(--data mnist --epochs 1 --limit 512 --val-limit 100 --threads 2)
# a run to stop after its first checkpoint
LONGER=(--model conv --data mnist --epochs 3 --limit 2000 --val-limit 200 --threads 2 --checkpoint-every 4)

# ---- one process at a time -------------------------------------------------------------
# The lock held by this script (as aekit holds it: an flock on the file,
# its pid inside): a new run and --resume are refused at once, naming it.
run=$tmp/busy
mkdir -p "$run"
exec 9>"$run/.aekit.lock"
flock 9
echo $$ >&9
"$AEKIT" train --model vae "${QUICK[@]}" --out "$run" >/dev/null 2>"$tmp/second.err" </dev/null
rc_second=$?
"$AEKIT" train --resume "$run" >/dev/null 2>"$tmp/resume.err" </dev/null
rc_resume=$?
exec 9>&-
echo "  $(cat "$tmp/second.err")"
check "a new run into a folder in use: exit 1" test $rc_second -eq 1
check "  ... in one line" one_line "$tmp/second.err"
check "  ... naming the folder and the process holding it" \
  grep -q -- "--out $run is in use by another aekit train (pid $$)" "$tmp/second.err"
check "--resume into it: exit 1, naming the process" \
  bash -c "[[ $rc_resume -eq 1 ]] && grep -q -- '--resume $run is in use by another aekit train (pid $$)' '$tmp/resume.err'"
check "  ... and nothing written into the folder" bash -c "[[ \$(ls -A '$run') == .aekit.lock ]]"
"$AEKIT" train --model conv "${QUICK[@]}" --out "$run" >/dev/null 2>&1 </dev/null
check "the lock released, a run takes the folder (its lock file left by another process)" \
  test $? -eq 0 -a -f "$run/index.html" -a ! -e "$run/.aekit.lock"

if can_strace; then
  # Two aekit processes: the first stopped (SIGSTOP injected into its first
  # rename, metrics.csv after epoch 1: it holds the lock) until the second
  # and a --resume were refused, then continued to its end.
  run=$tmp/busy2
  traced -o "$tmp/first.trace" -e trace=rename -e inject=rename:signal=SIGSTOP:when=1 \
    "$AEKIT" train --model conv "${QUICK[@]}" --out "$run" >"$tmp/first.out" 2>"$tmp/first.err" </dev/null &
  tracer=$!
  # bounded wait for the stop (a hang becomes a failure, not a timing)
  for _ in $(seq 1200); do
    grep -q 'stopped by SIGSTOP' "$tmp/first.trace" 2>/dev/null && break
    kill -0 "$tracer" 2>/dev/null || break               # ended without stopping: a failure below
    sleep 0.05
  done
  first=$(awk '/stopped by SIGSTOP/ { print $1; exit }' "$tmp/first.trace")   # the stopped process
  check "setup: the first run stopped, holding the lock (its pid in the lock file)" \
    bash -c "[[ -n '$first' && \$(cat '$run/.aekit.lock' 2>/dev/null) == '$first' ]]"
  "$AEKIT" train --model vae "${QUICK[@]}" --out "$run" >/dev/null 2>"$tmp/second.err" </dev/null
  rc_second=$?
  "$AEKIT" train --resume "$run" >/dev/null 2>"$tmp/resume.err" </dev/null
  rc_resume=$?
  [[ -n $first ]] && kill -CONT "$first"
  wait "$tracer"
  rc_first=$?
  echo "  $(cat "$tmp/second.err")"
  check "a second aekit train into the folder: exit 1, naming the first" \
    bash -c "[[ $rc_second -eq 1 ]] && grep -q -- '--out $run is in use by another aekit train (pid $first)' '$tmp/second.err'"
  check "  ... and a --resume" \
    bash -c "[[ $rc_resume -eq 1 ]] && grep -q -- '--resume $run is in use by another aekit train (pid $first)' '$tmp/resume.err'"
  check "the first run finishes normally" bash -c "[[ $rc_first -eq 0 ]] && grep -q '^done:' '$tmp/first.out'"
  check "  ... with its own model (conv, not the VAE)" \
    bash -c "'$AEKIT' info '$run/model.safetensors' | grep -q '^  model  *conv$'"
  check "  ... and leaves no lock file" test ! -e "$run/.aekit.lock"

  # SIGKILL (injected into the rename after the first checkpoint's) leaves
  # the lock file; the kernel released the lock itself
  n=$(renames_until checkpoint.safetensors "$AEKIT" train "${LONGER[@]}" --out "$tmp/probe")
  run=$tmp/killed
  at_rename $((n + 1)) signal=SIGKILL "$AEKIT" train "${LONGER[@]}" --out "$run" >/dev/null 2>&1 </dev/null
  check "setup: a run killed after a checkpoint, its lock file left" \
    test -e "$run/.aekit.lock" -a -e "$run/checkpoint.safetensors"
  "$AEKIT" train --resume "$run" >/dev/null 2>"$tmp/killed.err" </dev/null
  check "the lock of a killed run does not block --resume" test $? -eq 0 -a -f "$run/index.html"
else
  echo "note  strace cannot trace here: the two-process lock test and the killed run are skipped"
fi

# ---- an earlier run in the folder -------------------------------------------------------
run=$tmp/mixed
"$AEKIT" train --model vae --latent 2 "${QUICK[@]}" --out "$run" >/dev/null 2>"$tmp/vae.err" </dev/null
check "setup: a 2-D VAE run with a manifold.png" test $? -eq 0 -a -f "$run/manifold.png"
echo "my notes" >"$run/notes.txt"
cp -a "$run" "$tmp/mixed-before"
"$AEKIT" train --model conv "${QUICK[@]}" --out "$run" >/dev/null 2>"$tmp/again.err" </dev/null
rc=$?
echo "  $(cat "$tmp/again.err")"
check "a new run into a finished run's folder: exit 1" test $rc -eq 1
check "  ... one line naming the earlier run's files and --force" \
  bash -c "[[ \$(wc -l <'$tmp/again.err') -eq 1 ]] && grep -q 'holds files of an earlier run (model.safetensors, .*manifold.png.*--force' '$tmp/again.err'"
check "  ... and the folder is as it was" unchanged "$tmp/mixed-before" "$run"
"$AEKIT" train --model conv "${QUICK[@]}" --out "$run" --force >/dev/null 2>"$tmp/force.err" </dev/null
check "with --force: exit 0" test $? -eq 0
check "  ... no manifold.png of the earlier run" test ! -e "$run/manifold.png"
check "  ... the conv run's files only" \
  bash -c "[[ \"\$(cd '$run' && ls -A | sort | tr '\n' ' ')\" == 'codes.png final-checkpoint.safetensors index.html latent.png loss.png metrics.csv model.safetensors notes.txt reconstructions.png samples.png ' ]]"
check "  ... the user's own file kept" cmp -s "$tmp/mixed-before/notes.txt" "$run/notes.txt"
check "  ... every run file is new" \
  bash -c "for f in model.safetensors metrics.csv loss.png latent.png index.html; do ! cmp -s '$tmp/mixed-before/'\$f '$run/'\$f || exit 1; done"
"$AEKIT" train --resume "$run" --force >/dev/null 2>"$tmp/rforce.err" </dev/null
check "--force with --resume: a usage error" test $? -eq 2

# ---- --resume removes aekit's own temporary files only ------------------------------------
if ! can_strace; then
  echo "note  strace cannot trace here: the cases of runs stopped by SIGTERM are skipped"
  summary
  exit
fi
# SIGTERM injected into the first checkpoint's rename: the run stops after
# the next step, with its checkpoint
run=$tmp/temps
n=$(renames_until checkpoint.safetensors "$AEKIT" train "${LONGER[@]}" --out "$tmp/probe-temps")
at_rename "$n" signal=SIGTERM "$AEKIT" train "${LONGER[@]}" --out "$run" >/dev/null 2>&1 </dev/null
check "setup: a stopped run" test $? -eq 143 -a -f "$run/checkpoint.safetensors"
echo "mine" >"$run/notes.tmp.999999"                       # a user's files
echo "mine" >"$run/.notes.txt.aekit-tmp-Ab12Cd"
echo "mine" >"$run/model.safetensors.tmp.1"
echo "left" >"$run/.checkpoint.safetensors.aekit-tmp-Xy34Zw"  # what a killed run leaves
echo "left" >"$run/.metrics.csv.aekit-tmp-Qr56St"
"$AEKIT" train --resume "$run" >/dev/null 2>"$tmp/temps.err" </dev/null
check "resume: exit 0" test $? -eq 0
check "  ... the user's notes.tmp.999999 and look-alikes stay" \
  test -f "$run/notes.tmp.999999" -a -f "$run/.notes.txt.aekit-tmp-Ab12Cd" -a -f "$run/model.safetensors.tmp.1"
check "  ... the temporary files of its run files are gone" \
  test ! -e "$run/.checkpoint.safetensors.aekit-tmp-Xy34Zw" -a ! -e "$run/.metrics.csv.aekit-tmp-Qr56St"

# ---- SIGTERM while the pictures are written ------------------------------------------------
# Injected into the rename of samples.png, the second picture: the model is
# saved, samples.png is written, the pictures after it are not.
LATE=(--model conv --data mnist --epochs 1 --limit 256 --val-limit 100 --threads 2 --checkpoint-every 0)
n=$(renames_until samples.png "$AEKIT" train "${LATE[@]}" --out "$tmp/probe-late")
run=$tmp/late
at_rename "$n" signal=SIGTERM "$AEKIT" train "${LATE[@]}" --out "$run" >/dev/null 2>"$tmp/late.err" </dev/null
rc=$?
echo "  $(tail -n 1 "$tmp/late.err")"
check "SIGTERM while the pictures are written: exit 143" test $rc -eq 143
check "  ... saying the model is saved and how to finish" \
  grep -q "SIGTERM: stopped after training: the model is saved (.*), not all the pictures are; aekit train --resume $run writes them" "$tmp/late.err"
check "  ... the model and the pictures up to samples.png, no codes.png or index.html" \
  bash -c "cd '$run' && [[ -f model.safetensors && -f samples.png && ! -e codes.png && ! -e index.html ]]"
check "  ... no checkpoint, no temporary file" bash -c "[[ ! -e '$run/checkpoint.safetensors' ]]" && no_temps "$run"
cp "$run/model.safetensors" "$tmp/late-model"
"$AEKIT" train --resume "$run" >/dev/null 2>"$tmp/late-resume.err" </dev/null
check "--resume finishes the folder: exit 0" test $? -eq 0
check "  ... without training again" \
  bash -c "grep -q 'all 1 epochs were done and the model is saved' '$tmp/late-resume.err' && ! grep -q '^epoch' '$tmp/late-resume.err'"
check "  ... the same model, every picture, index.html, no checkpoint" \
  bash -c "cmp -s '$tmp/late-model' '$run/model.safetensors' && cd '$run' && [[ -f latent.png && -f codes.png && -f index.html && ! -e checkpoint.safetensors ]]"

summary
