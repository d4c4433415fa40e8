#!/usr/bin/env bash
# aekit train under mpirun (data-parallel across processes, README
# "Training on a cluster"):
#  - mpirun -np 2 --threads 1 writes the model file of one process with
#    --threads 2, byte for byte, and the same losses (conv AE; AAE, whose
#    discriminator counts ride with the gradients; VAE, whose sampling
#    noise follows the image); -np 2 --threads 2 that of --threads 4 (the
#    chained sum keeps one process's order across ranks and threads), and
#    -np 4 --threads 1 that of --threads 4;
#  - rank 0 alone prints (one start line, and at the end the reduction's
#    time a step) and writes the run folder;
#  - every rank must see the same data and options: other pixels (AEKIT_DATA
#    pointing each rank at its own generated IDX folder), another --limit or
#    --lr, or a rank that cannot load its data, end the job with one aekit
#    line naming rank 1 and what differs, and no model;
#  - --resume under mpirun: rank 0 reads the folder; a finished run is
#    refused in one line, a trained but undrawn one drawn by rank 0; a rank
#    whose data is not the checkpoint's (other pixels, none) ends the job
#    with one line naming rank 1;
#  - a rank killed mid-run ends the job within seconds, named by mpirun;
#    its checkpoint resumed by mpirun -np 2, or by one process (it records
#    2 threads), gives the uninterrupted run's model, byte for byte, and
#    -np 2 --threads 2 (4 workers) goes on, saying it is not bit-identical;
#  - SIGTERM to mpirun stops every rank after the step with one
#    checkpoint, which mpirun -np 2 resumes to the end.
# Skipped (77) when mpirun is missing or aekit is built without MPI.
# As root in a container mpirun needs OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM) and,
# without ssh, OMPI_MCA_plm_rsh_agent=false (set here); loopback must be up.
#
# usage: bash tests/cli_mpi.sh /path/to/aekit
source "$(dirname "$0")/lib/cli_common.sh"

if ! command -v mpirun >/dev/null 2>&1; then
  echo "skip: no mpirun (Debian: openmpi-bin, scripts/setup.sh)"
  exit 77
fi
if ! ldd "$AEKIT" 2>/dev/null | grep -q 'libmpi'; then
  echo "skip: $AEKIT is built without MPI (-DAEKIT_MPI=OFF)"
  exit 77
fi
need_mnist
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_plm_rsh_agent=false
# In a sanitizer build, LeakSanitizer would fail every process at exit on
# Open MPI's own leaks (libmpi, libopen-pal and its components, unloaded by
# then, so no suppression can name them); the library's leaks across ranks
# are checked by test_train_ranks, whose ranks are threads of one process.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
# -q: no mpirun banner after a failing rank (aekit's own line is the message)
mpi() { timeout 300 mpirun -q --oversubscribe "$@"; }
if ! mpi -np 2 true >"$tmp/probe.log" 2>&1; then
  sed 's/^/        /' "$tmp/probe.log"
  fail_early "mpirun -np 2 true fails here (is the loopback interface up?)"
fi

small=(--data mnist --limit 300 --val-limit 100 --epochs 1 --batch 64 --seed 7)

# same_run A B: the same model bytes and the same loss columns of metrics.csv
same_run() {
  cmp -s "$1/model.safetensors" "$2/model.safetensors" &&
    diff <(cut -d, -f1-4,7- "$1/metrics.csv") <(cut -d, -f1-4,7- "$2/metrics.csv") >/dev/null
}

for model in conv aae vae; do
  "$AEKIT" train --model $model "${small[@]}" --threads 2 --out "$tmp/one-$model" >/dev/null 2>&1
  mpi -np 2 "$AEKIT" train --model $model "${small[@]}" --threads 1 --out "$tmp/mpi-$model" \
    >"$tmp/mpi-$model.out" 2>"$tmp/mpi-$model.err"
  check "mpirun -np 2 aekit train exits 0 ($model)" test $? -eq 0
  check "-np 2 --threads 1 gives --threads 2's model ($model)" same_run "$tmp/one-$model" "$tmp/mpi-$model"
done
check "rank 0 alone prints the start line" \
  test "$(grep -c '^training conv' "$tmp/mpi-conv.err")" -eq 1
# 300 images in batches of 64: 5 steps, timed from the end of the first
check "rank 0 prints the reduction's time a step once" \
  test "$(grep -Ec '^aekit train: reduction [0-9]+\.[0-9]+ ms a step over 4 steps \(rank 0' "$tmp/mpi-conv.err")" -eq 1
check "the run folder is complete" test -s "$tmp/mpi-conv/index.html" -a -s "$tmp/mpi-conv/loss.png"
check "no checkpoint left after the run" test ! -e "$tmp/mpi-conv/checkpoint.safetensors"
"$AEKIT" info "$tmp/mpi-conv/model.safetensors" >"$tmp/info.txt" 2>&1
check "the model records the batch split as 2 threads" grep -Eq '^ *threads +2$' "$tmp/info.txt"

"$AEKIT" train --model conv "${small[@]}" --threads 4 --out "$tmp/one-4" >/dev/null 2>&1
mpi -np 2 "$AEKIT" train --model conv "${small[@]}" --threads 2 --out "$tmp/mpi-2x2" >/dev/null 2>&1
check "-np 2 --threads 2 gives --threads 4's model" same_run "$tmp/one-4" "$tmp/mpi-2x2"
mpi -np 4 "$AEKIT" train --model conv "${small[@]}" --threads 1 --out "$tmp/mpi-4" >/dev/null 2>&1
check "-np 4 --threads 1 gives --threads 4's model (oversubscribed)" same_run "$tmp/one-4" "$tmp/mpi-4"

# refusals: exit non-zero, exactly one aekit error line naming rank 1 and the fault, no model
refused() {  # refused NAME NEEDLE OUT -- COMMAND...
  local name=$1 needle=$2 out=$3
  shift 4
  "$@" >"$logs/stdout" 2>"$logs/stderr"
  local rc=$? problems=()
  [[ $rc -ne 0 ]] || problems+=("exit code 0")
  local errors
  errors=$(grep '^aekit' "$logs/stderr")
  [[ $(grep -c '^aekit' "$logs/stderr") -eq 1 ]] || problems+=("not exactly one aekit line on stderr")
  [[ $errors == *"rank 1"* && $errors == *"$needle"* ]] || problems+=("the line does not name rank 1 and '$needle'")
  [[ ! -e $out/model.safetensors ]] || problems+=("a model was written")
  if [[ ${#problems[@]} -eq 0 ]]; then ok "$name"; else bad "$name" "$(IFS=';'; echo "${problems[*]}")"; fi
}

# each rank its own IDX folder: same counts, one pixel differs
make_idx "$tmp/data0/discs" 200 50 28
make_idx "$tmp/data1/discs" 200 50 28
"$PY" - "$tmp/data1/discs/train-images-idx3-ubyte" <<'EOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(16 + 200 * 28 * 28 - 1)
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ 0xff]))
EOF
cat >"$tmp/per_rank.sh" <<EOF
#!/usr/bin/env bash
# rank 1 gets other data (AEKIT_DATA), another --limit or --lr, or no data
r=\${OMPI_COMM_WORLD_RANK:-0}
case \$1 in
  data)  export AEKIT_DATA=$tmp/data\$r; set -- --data discs ;;
  limit) set -- --data mnist --limit \$((300 - 100 * r)) ;;
  lr)    set -- --data mnist --limit 300 --lr 0.00\$((r + 1)) ;;
  none)  d=mnist; [[ \$r == 1 ]] && d=$tmp/nowhere; set -- --data \$d --limit 300 ;;
esac
exec "$AEKIT" train --model conv --epochs 1 --val-limit 50 --threads 1 --out "$tmp/refused" "\$@"
EOF
chmod +x "$tmp/per_rank.sh"
refused "other pixels on rank 1 are refused" "other pixels" "$tmp/refused" -- mpi -np 2 "$tmp/per_rank.sh" data
refused "another --limit on rank 1 is refused" "training data" "$tmp/refused" -- mpi -np 2 "$tmp/per_rank.sh" limit
refused "another --lr on rank 1 is refused" "--lr 0.002" "$tmp/refused" -- mpi -np 2 "$tmp/per_rank.sh" lr
refused "a rank that cannot load its data ends the job" "nowhere" "$tmp/refused" -- \
  mpi -np 2 "$tmp/per_rank.sh" none

# --resume under mpirun of a finished folder: one line, no hang; of a
# folder trained but not drawn: rank 0 draws, the model stays
mpi -np 2 "$AEKIT" train --resume "$tmp/mpi-conv" >"$logs/stdout" 2>"$logs/stderr"
rc=$?
check "--resume of a finished run under mpirun: one line, exit 1" \
  test $rc -eq 1 -a "$(grep -c '^aekit train: --resume .*the run is finished' "$logs/stderr")" -eq 1
cp -r "$tmp/mpi-conv" "$tmp/undrawn"
rm "$tmp/undrawn/index.html" "$tmp/undrawn/samples.png"
mpi -np 2 "$AEKIT" train --resume "$tmp/undrawn" >"$logs/stdout" 2>"$logs/stderr"
check "--resume of a trained, undrawn run under mpirun: drawn once, same model" \
  test $? -eq 0 -a -s "$tmp/undrawn/index.html" -a -s "$tmp/undrawn/samples.png" \
  -a "$(grep -c '^finishing conv' "$logs/stderr")" -eq 1
check "the finished model is unchanged" cmp -s "$tmp/undrawn/model.safetensors" "$tmp/mpi-conv/model.safetensors"

# a checkpoint on the discs data (one process, killed once it exists), resumed
# under mpirun with rank 1 seeing other pixels, or no data: refused naming rank 1
AEKIT_DATA=$tmp/data0 "$AEKIT" train --model conv --data discs --epochs 500 --batch 50 --val-limit 50 \
  --threads 2 --checkpoint-every 2 --out "$tmp/discs" >/dev/null 2>&1 &
job=$!
for ((i = 0; i < 600; i++)); do [[ -e $tmp/discs/checkpoint.safetensors ]] && break; sleep 0.05; done
kill -KILL $job
wait $job 2>/dev/null
cat >"$tmp/resume_rank.sh" <<EOF
#!/usr/bin/env bash
# rank 1's data: other pixels (data1) or none (nowhere); rank 0's is the run's
r=\${OMPI_COMM_WORLD_RANK:-0}
export AEKIT_DATA=$tmp/data0
[[ \$r == 1 ]] && export AEKIT_DATA=$tmp/\$1
exec "$AEKIT" train --resume "$tmp/discs"
EOF
chmod +x "$tmp/resume_rank.sh"
refused "--resume: other pixels on rank 1 are refused" "other pixels" "$tmp/discs" -- \
  mpi -np 2 "$tmp/resume_rank.sh" data1
refused "--resume: a rank that cannot load its data ends the job" "nowhere" "$tmp/discs" -- \
  mpi -np 2 "$tmp/resume_rank.sh" nowhere
check "the refused resumes keep the checkpoint" test -s "$tmp/discs/checkpoint.safetensors"

# Faults. Each rank's PID in a file (exec keeps it); the runs are stopped once
# their first checkpoint exists (one every 5 steps), so no timing is guessed.
printf '#!/usr/bin/env bash\necho $$ >"%s/pid.${OMPI_COMM_WORLD_RANK:-0}"\nexec "%s" "$@"\n' \
  "$tmp" "$AEKIT" >"$tmp/with_pid.sh"
chmod +x "$tmp/with_pid.sh"
long=(--model conv --data mnist --limit 6400 --val-limit 100 --epochs 2 --seed 3 --checkpoint-every 5)
"$AEKIT" train "${long[@]}" --threads 2 --out "$tmp/whole" >/dev/null 2>&1
wait_for() { local i; for ((i = 0; i < 1200; i++)); do [[ -e $1 ]] && return 0; sleep 0.05; done; return 1; }

# a rank killed mid-run: mpirun ends the job within seconds and names the
# rank; one process resumes the checkpoint rank 0 wrote (2 threads) bit-identically
rm -f "$tmp"/pid.*
timeout 300 mpirun --oversubscribe -np 2 "$tmp/with_pid.sh" train "${long[@]}" --threads 1 --out "$tmp/killed" \
  >"$tmp/killed.log" 2>&1 &
job=$!
if wait_for "$tmp/killed/checkpoint.safetensors" && wait_for "$tmp/pid.1"; then
  start=$SECONDS
  kill -KILL "$(cat "$tmp/pid.1")"
  wait $job
  took=$((SECONDS - start))
  check "a killed rank ends the job within 20 s (took ${took} s)" test $took -le 20
  check "mpirun names the killed rank" grep -q 'rank 1 .*signal 9' "$tmp/killed.log"
  # mpirun may return while rank 0 still ends (its SIGTERM handling finishes
  # the step and checkpoints; the folder's lock refuses a resume meanwhile):
  # wait for it, bounded
  for ((i = 0; i < 400; i++)); do kill -0 "$(cat "$tmp/pid.0")" 2>/dev/null || break; sleep 0.05; done
  check "rank 0 ends within 20 s of mpirun" bash -c "! kill -0 $(cat "$tmp/pid.0") 2>/dev/null"
  cp -r "$tmp/killed" "$tmp/killed-one"
  cp -r "$tmp/killed" "$tmp/killed-4"
  mpi -np 2 "$AEKIT" train --resume "$tmp/killed" >"$tmp/resume-killed.log" 2>&1 || cat "$tmp/resume-killed.log"
  check "mpirun -np 2 resumes the killed job's checkpoint bit-identically" \
    cmp -s "$tmp/killed/model.safetensors" "$tmp/whole/model.safetensors"
  check "rank 0 alone prints the resuming line" \
    test "$(grep -c '^resuming conv in .* at epoch 1/2, step [0-9]*/50$' "$tmp/resume-killed.log")" -eq 1
  "$AEKIT" train --resume "$tmp/killed-one" >"$tmp/resume-killed.log" 2>&1 || cat "$tmp/resume-killed.log"
  check "one process resumes it bit-identically (it records 2 threads)" \
    cmp -s "$tmp/killed-one/model.safetensors" "$tmp/whole/model.safetensors"
  # another count of workers (2 x 2 instead of 2): the run goes on, not bit-identical
  mpi -np 2 "$AEKIT" train --resume "$tmp/killed-4" --threads 2 >"$tmp/resume-killed.log" 2>&1
  check "-np 2 --threads 2 resumes it (4 workers instead of 2), saying so" \
    test $? -eq 0 -a -s "$tmp/killed-4/model.safetensors" -a "$(grep -c 'with 2 processes x 2 threads instead of 2 threads: no longer bit-identical' "$tmp/resume-killed.log")" -eq 1
else
  kill $job 2>/dev/null
  wait $job
  check "the job to kill wrote its first checkpoint" false
fi

# SIGTERM to mpirun (Ctrl-C too): mpirun sends the ranks SIGCONT, SIGTERM
# 1 s later and SIGKILL 1 s after that (Open MPI's odls_base_sigkill_timeout);
# rank 0 stops every rank after the step, writes the checkpoint, says how to
# resume. The run is long enough (12 epochs) not to end within that first
# second, and the signal reaches mpirun once: plain `timeout` would pass it
# on twice (to mpirun, then to its process group), and a second one makes
# mpirun exit at once, before its ranks have stopped (--foreground: once).
stop=(--model conv --data mnist --limit 6400 --val-limit 100 --epochs 12 --seed 3 --checkpoint-every 5)
timeout --foreground 300 mpirun -q --oversubscribe -np 2 "$AEKIT" train "${stop[@]}" --threads 1 \
  --out "$tmp/stopped" >"$tmp/stopped.log" 2>&1 &
job=$!
if wait_for "$tmp/stopped/checkpoint.safetensors"; then
  kill -TERM $job
  wait $job
  check "SIGTERM to mpirun: one line, checkpoint written" \
    test "$(grep -c '^aekit train: SIGTERM: stopped at epoch .*checkpoint written' "$tmp/stopped.log")" -eq 1
  mpi -np 2 "$AEKIT" train --resume "$tmp/stopped" >"$tmp/stopped.log" 2>&1
  check "mpirun -np 2 resumes it to the end" test $? -eq 0 -a -s "$tmp/stopped/model.safetensors"
else
  kill $job 2>/dev/null
  wait $job
  check "the job to stop wrote its first checkpoint" false
fi

# rank 0 alone cannot write the run folder during training (metrics.csv made
# a folder after epoch 1): its callback stops every rank, it writes the
# checkpoint and names the file; no rank waits
timeout 300 mpirun -q --oversubscribe -np 2 "$AEKIT" train --model conv --data mnist --limit 2000 --val-limit 100 \
  --epochs 30 --threads 1 --out "$tmp/unwritable" >"$tmp/unwritable.log" 2>&1 &
job=$!
if wait_for "$tmp/unwritable/metrics.csv"; then
  start=$SECONDS
  for ((i = 0; i < 100; i++)); do   # a rename by rank 0 may come between rm and mkdir
    rm -f "$tmp/unwritable/metrics.csv"
    mkdir "$tmp/unwritable/metrics.csv" 2>/dev/null && break
  done
  wait $job
  rc=$?
  check "rank 0 failing to write metrics.csv ends the job within 20 s (took $((SECONDS - start)) s)" \
    test $rc -ne 0 -a $((SECONDS - start)) -le 20
  check "one line names metrics.csv, the checkpoint is kept" \
    test "$(grep -c '^aekit train: .*metrics.csv: write failed: Is a directory; checkpoint kept' "$tmp/unwritable.log")" -eq 1 \
    -a -s "$tmp/unwritable/checkpoint.safetensors"
else
  kill $job 2>/dev/null
  wait $job
  check "the job to fail wrote its first metrics.csv" false
fi

summary
