#!/usr/bin/env bash
# Learning-rate schedules and weight decay through aekit train:
#  - metrics.csv's lr column is each schedule's formula (aekit.h), epoch by
#    epoch: constant, cosine (to 0 and to a floor), step, plateau (computed
#    here from the run's own val_loss column, as torch's ReduceLROnPlateau
#    would), and a warm-up longer than the first epoch;
#  - the model's metadata records the schedule, the warm-up and the decay,
#    and index.html's metrics table shows the lr column;
#  - a resumed run keeps the schedule (another one is refused);
#  - bad schedule text, warm-up or weight decay: one line naming the flag,
#    exit 2, no run folder.
#
# usage: bash tests/cli_lr_schedule.sh /path/to/aekit
source "$(dirname "$0")/lib/cli_common.sh"
need_mnist
work=$tmp

# train NAME FLAGS...: 5 short epochs of 4 steps (256 images, batch 64)
train() {
  local name=$1
  shift
  "$AEKIT" train --model conv --data mnist --limit 256 --val-limit 64 --epochs 5 --batch 64 --seed 3 \
    --threads 2 --out "$tmp/$name" "$@" >"$tmp/$name.log" 2>&1 </dev/null
}

# lr_matches NAME SCHEDULE WARMUP [LR]: metrics.csv's lr column against the
# formula (LR: the run's --lr, 0.01)
lr_matches() {
  "$PY" - "$tmp/$1/metrics.csv" "$2" "$3" "${4:-0.01}" <<'PY'
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
spec, warmup = sys.argv[2], int(sys.argv[3])
lr0, E, steps = float(sys.argv[4]), 5, 4
got = [float(r["lr"]) for r in rows]
want, rate, best, bad = [], lr0, math.inf, 0
for e in range(E):                      # e epochs done before this one
    kind, _, args = spec.partition(":")
    if kind == "constant":
        lr = lr0
    elif kind == "cosine":
        floor = float(args) if args else 0.0
        lr = floor + (lr0 - floor) * (1 + math.cos(math.pi * e / E)) / 2
    elif kind == "step":
        every, gamma = args.split(",")
        lr = lr0 * float(gamma) ** (e // int(every))
    else:                               # plateau on val_loss, as torch
        patience, factor = args.split(",")
        lr = rate
        loss = float(rows[e]["val_loss"])
        if loss < best * (1 - 1e-4):
            best, bad = loss, 0
        else:
            bad += 1
        if bad > int(patience):
            if rate - rate * float(factor) > 1e-8:
                rate *= float(factor)
            bad = 0
    last_step = (e + 1) * steps         # 1-based step of the run
    if last_step <= warmup:
        lr *= last_step / warmup
    want.append(lr)
ok = len(got) == E and all(abs(g - w) <= 1e-5 * w for g, w in zip(got, want))
if not ok:
    print("lr column", got, "expected", want)
if spec.startswith("plateau") and len(set(want)) < 2:
    print("the plateau never reduced the rate: the test shows nothing"); ok = False
sys.exit(0 if ok else 1)
PY
}

for spec in constant cosine cosine:0.001 step:2,0.5; do
  name=${spec//[:,]/_}
  train "$name" --lr 0.01 --lr-schedule "$spec"
  check "$spec: trains" test $? -eq 0
  check "$spec: lr column is the formula" lr_matches "$name" "$spec" 0
done
# SGD at a rate so small that the validation loss stalls: the plateau
# halves the rate after every epoch without a 1e-4 better loss
train plateau --lr-schedule plateau:0,0.5 --optimizer sgd --lr 1e-6
check "plateau:0,0.5: trains" test $? -eq 0
check "plateau:0,0.5: lr column is the formula" lr_matches plateau plateau:0,0.5 0 1e-6
train warm --lr 0.01 --lr-schedule step:2,0.5 --warmup 6 --weight-decay 0.05
check "warm-up 6 steps + step: trains" test $? -eq 0
check "warm-up: lr column is the formula" lr_matches warm step:2,0.5 6
"$AEKIT" info "$tmp/warm/model.safetensors" >"$tmp/info.txt" 2>&1
check "metadata: the schedule, warm-up and decay" \
  "$PY" -c "import sys; t = open(sys.argv[1]).read(); sys.exit(0 if all(s in t for s in ('step:2,0.5', '0.05')) else 1)" \
  "$tmp/info.txt"
check "index.html: an lr column" grep -q '<th scope="col">lr</th>' "$tmp/warm/index.html"
check "loss.png: the lr panel under the loss when the rate changed" test "$(png_size "$tmp/warm/loss.png")" = "800 760"
check "loss.png: the loss alone with a constant rate" test "$(png_size "$tmp/constant/loss.png")" = "800 500"
check "index.html: loss.png's caption names the lr panel" grep -q "per epoch; under it, the learning rate" "$tmp/warm/index.html"

# a resumed run keeps its schedule: the run stopped (SIGTERM) after its first
# epoch's checkpoint, resumed with another schedule
"$AEKIT" train --model conv --data mnist --limit 256 --val-limit 64 --epochs 50 --batch 64 --threads 2 \
  --lr-schedule cosine --checkpoint-every 1e --out "$tmp/stopped" >/dev/null 2>&1 </dev/null &
pid=$!
for _ in $(seq 600); do [[ -s $tmp/stopped/metrics.csv ]] && break; sleep 0.1; done
kill -TERM $pid 2>/dev/null
wait $pid
check "a stopped run keeps its checkpoint" test -f "$tmp/stopped/checkpoint.safetensors"
expect_error "resume with another schedule" 2 "--lr-schedule" - -- \
  "$AEKIT" train --resume "$tmp/stopped" --lr-schedule constant

# bad input: one line naming the flag
for bad in "cosine:x" "step:0,0.5" "step:2" "plateau:3,1" "plateau:-1,0.5" "linear" "" "cosine:0.5"; do
  expect_error "--lr-schedule '$bad' refused" 2 "--lr-schedule" "$tmp/bad" -- \
    "$AEKIT" train --model conv --data mnist --limit 64 --epochs 1 --lr 0.01 --lr-schedule "$bad" --out "$tmp/bad"
done
expect_error "--warmup -1 refused" 2 "--warmup" "$tmp/bad" -- \
  "$AEKIT" train --model conv --data mnist --limit 64 --epochs 1 --warmup -1 --out "$tmp/bad"
expect_error "--weight-decay -0.1 refused" 2 "--weight-decay" "$tmp/bad" -- \
  "$AEKIT" train --model conv --data mnist --limit 64 --epochs 1 --weight-decay -0.1 --out "$tmp/bad"
summary
