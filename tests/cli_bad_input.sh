#!/usr/bin/env bash
# Bad input to the aekit command line: every case must fail with the right
# exit code (2 usage error, 1 other error), exactly one line on stderr that
# starts with "aekit" and names the flag or file at fault, and no output or
# temporary file left behind.
#
# usage: bash tests/cli_bad_input.sh /path/to/aekit
#        (VERBOSE=1 also shows the error line of each passing case)
set -u

if [[ $# -ne 1 || ! -x $1 ]]; then
  echo "usage: bash $0 /path/to/aekit" >&2
  exit 2
fi
AEKIT=$(realpath "$1")
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
work=$tmp/work            # the folder every command runs in
logs=$tmp/logs            # stdout/stderr of the command under test
mkdir -p "$work" "$logs"
# Nothing should be found through the environment or ./data.
unset AEKIT_DATA

passed=0
failed=0

ok()  { passed=$((passed + 1)); echo "ok    $1"; }
bad() { failed=$((failed + 1)); echo "FAIL  $1: $2"; sed 's/^/        stderr: /' "$logs/stderr"; }

# expect_error NAME CODE NEEDLE MUST_NOT_EXIST -- COMMAND...
#   CODE: expected exit code; NEEDLE: text stderr must contain (the flag or
#   file at fault); MUST_NOT_EXIST: a path the command must not create ("-"
#   for none).
expect_error() {
  local name=$1 code=$2 needle=$3 absent=$4
  shift 5
  (cd "$work" && "$@" >"$logs/stdout" 2>"$logs/stderr")
  local rc=$? problems=()
  [[ $rc -eq $code ]] || problems+=("exit code $rc, expected $code")
  local lines
  lines=$(wc -l <"$logs/stderr")
  if [[ $lines -ne 1 || -n $(tail -c1 "$logs/stderr") ]]; then
    problems+=("stderr is not exactly one line ($lines newlines)")
  fi
  head -n1 "$logs/stderr" | grep -q '^aekit' || problems+=("stderr does not start with 'aekit'")
  grep -qF -- "$needle" "$logs/stderr" || problems+=("stderr does not name '$needle'")
  if [[ $absent != - && -e $absent ]]; then
    problems+=("$absent was created")
    rm -rf "$absent"
  fi
  local leftovers
  leftovers=$(find "$tmp" -name '*.tmp.*' -print)
  if [[ -n $leftovers ]]; then
    problems+=("temporary files left: $(echo $leftovers)")
    rm -f $leftovers
  fi
  if [[ ${#problems[@]} -eq 0 ]]; then
    ok "$name"
    [[ -n ${VERBOSE:-} ]] && sed 's/^/        stderr: /' "$logs/stderr"
  else bad "$name" "$(IFS=';'; echo "${problems[*]}")"; fi
}

# ---- test data ---------------------------------------------------------------
# A small valid data set: 64 training and 16 test images of 28x28 (IDX files).
make_idx() {  # make_idx DIR N_TRAIN N_TEST SIDE
  "$PY" - "$@" <<'EOF'
import os, random, struct, sys
d, ntrain, ntest, side = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
os.makedirs(d, exist_ok=True)
rng = random.Random(0)
def images(n):
    out = bytearray()
    for _ in range(n):
        cx, cy, r = rng.randrange(side), rng.randrange(side), rng.randrange(3, side // 2)
        for y in range(side):
            for x in range(side):
                out.append(255 if (x - cx) ** 2 + (y - cy) ** 2 < r * r else 0)
    return bytes(out)
for prefix, n in (("train", ntrain), ("t10k", ntest)):
    with open(os.path.join(d, prefix + "-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, side, side) + images(n))
    with open(os.path.join(d, prefix + "-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + bytes(rng.randrange(10) for _ in range(n)))
EOF
}

small=$tmp/small
make_idx "$small" 64 16 28 || { echo "FAIL  could not write the test data with $PY"; echo "0 passed, 1 failed"; exit 1; }
make_idx "$tmp/wide" 16 8 32
mkdir -p "$tmp/empty"
cp -r "$small" "$tmp/truncated"
truncate -s 5000 "$tmp/truncated/train-images-idx3-ubyte"   # header says 64 images

printf 'input 1 28 28\nencoder\nconv 16 k=3 pad=same\nfrobnicate 3\ndecoder\nconv 1 k=3 pad=same\nsigmoid\n' >"$tmp/bad-model.txt"
head -c 4096 /dev/urandom >"$tmp/random.safetensors"
# A header length that fits the file, followed by bytes that are not JSON.
"$PY" -c 'import struct,sys; h=b"{\"w\": {\"dtype\": \"F32\", \"sha\x00\xff garbage]]"; sys.stdout.buffer.write(struct.pack("<Q", len(h)) + h + bytes(64))' >"$tmp/garbage.safetensors"
# A plausible header length (1 MB) beyond the end of the file.
"$PY" -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<Q", 1 << 20) + b"{}")' >"$tmp/huge-header.safetensors"
echo "not a folder" >"$tmp/a-file"

# ---- control: the small data set trains, giving a model for the later cases ----
train_small=("$AEKIT" train --model conv --data "$small" --batch 16 --threads 2)
if (cd "$work" && "${train_small[@]}" --epochs 1 --out "$tmp/good" >"$logs/stdout" 2>"$logs/stderr") &&
   [[ -f $tmp/good/model.safetensors && -f $tmp/good/metrics.csv &&
      -f $tmp/good/loss.png && -f $tmp/good/reconstructions.png ]]; then
  ok "control: training on a small valid data set works"
  [[ -n ${VERBOSE:-} ]] && sed 's/^/        /' "$logs/stderr" "$logs/stdout"
else
  bad "control: training on a small valid data set works" "exit code or run files wrong"
fi
model=$tmp/good/model.safetensors

# ---- the dispatcher -------------------------------------------------------------
expect_error "no command"           2 "command"     - -- "$AEKIT"
expect_error "unknown command"      2 "frobnicate"  - -- "$AEKIT" frobnicate
expect_error "unknown global flag"  2 "--frob"      - -- "$AEKIT" --frob

# ---- train: flags ----------------------------------------------------------------
run=$work/run
expect_error "unknown flag"              2 "--bogus"     "$run" -- "${train_small[@]}" --out "$run" --bogus 1
expect_error "--epochs abc"              2 "--epochs"    "$run" -- "${train_small[@]}" --out "$run" --epochs=abc
expect_error "--epochs 0"                2 "--epochs"    "$run" -- "$AEKIT" train --model conv --data "$small" --epochs 0 --out "$run"
expect_error "--epochs without a value"  2 "--epochs"    "$run" -- "$AEKIT" train --model conv --data "$small" --out "$run" --epochs
expect_error "--epochs given twice"      2 "--epochs"    "$run" -- "$AEKIT" train --model conv --data "$small" --epochs 1 --epochs 2 --out "$run"
expect_error "--batch 1.5"               2 "--batch"     "$run" -- "$AEKIT" train --model conv --data "$small" --batch 1.5 --out "$run"
expect_error "--lr -1"                   2 "--lr"        "$run" -- "$AEKIT" train --model conv --data "$small" --lr -1 --out "$run"
expect_error "--lr abc"                  2 "--lr"        "$run" -- "$AEKIT" train --model conv --data "$small" --lr=abc --out "$run"
expect_error "--optimizer foo"           2 "--optimizer" "$run" -- "$AEKIT" train --model conv --data "$small" --optimizer foo --out "$run"
expect_error "--seed -3"                 2 "--seed"      "$run" -- "$AEKIT" train --model conv --data "$small" --seed -3 --out "$run"
expect_error "--limit 0"                 2 "--limit"     "$run" -- "$AEKIT" train --model conv --data "$small" --limit 0 --out "$run"
expect_error "missing --out"             2 "--out"       -      -- "$AEKIT" train --model conv --data "$small"
expect_error "missing --model"           2 "--model"     "$run" -- "$AEKIT" train --data "$small" --out "$run"
expect_error "stray argument"            2 "stray"       "$run" -- "${train_small[@]}" --out "$run" stray

# ---- train: model, data and output problems --------------------------------------
expect_error "--model nosuch"                    2 "nosuch"             "$run" -- "$AEKIT" train --model nosuch --data "$small" --out "$run"
expect_error "--model missing file"              1 "missing-model.txt"  "$run" -- "$AEKIT" train --model "$tmp/missing-model.txt" --data "$small" --out "$run"
expect_error "model description with a bad line" 1 "bad-model.txt"      "$run" -- "$AEKIT" train --model "$tmp/bad-model.txt" --data "$small" --out "$run"
expect_error "--data empty folder"               1 "$tmp/empty"         "$run" -- "$AEKIT" train --model conv --data "$tmp/empty" --out "$run"
expect_error "--data unknown name"               1 "nosuchdata"         "$run" -- "$AEKIT" train --model conv --data nosuchdata --out "$run"
expect_error "--data truncated IDX file"         1 "train-images-idx3-ubyte" "$run" -- "$AEKIT" train --model conv --data "$tmp/truncated" --out "$run"
expect_error "--data images of the wrong size"   1 "32"                 "$run" -- "$AEKIT" train --model conv --data "$tmp/wide" --out "$run"
expect_error "--out is a file"                   1 "a-file"             -      -- "$AEKIT" train --model conv --data "$small" --out "$tmp/a-file"

# ---- eval, info, reconstruct --------------------------------------------------------
expect_error "eval without MODEL"          2 "MODEL"                  - -- "$AEKIT" eval --data "$small"
expect_error "eval missing model file"     1 "nosuch.safetensors"     - -- "$AEKIT" eval "$tmp/nosuch.safetensors" --data "$small"
expect_error "eval random bytes"           1 "random.safetensors"     - -- "$AEKIT" eval "$tmp/random.safetensors" --data "$small"
expect_error "eval garbage JSON header"    1 "garbage.safetensors"    - -- "$AEKIT" eval "$tmp/garbage.safetensors" --data "$small"
expect_error "eval header beyond the file" 1 "huge-header.safetensors" - -- "$AEKIT" eval "$tmp/huge-header.safetensors" --data "$small"
expect_error "eval --limit abc"            2 "--limit"                - -- "$AEKIT" eval "$model" --limit abc
expect_error "eval --json=1"               2 "--json"                 - -- "$AEKIT" eval "$model" --json=1
expect_error "eval data of the wrong size" 1 "32"                     - -- "$AEKIT" eval "$model" --data "$tmp/wide"
expect_error "info missing model file"     1 "nosuch.safetensors"     - -- "$AEKIT" info "$tmp/nosuch.safetensors"
expect_error "info random bytes"           1 "random.safetensors"     - -- "$AEKIT" info "$tmp/random.safetensors"
expect_error "reconstruct --out into a missing folder" 1 "no-such-folder" "$tmp/no-such-folder" -- \
  "$AEKIT" reconstruct "$model" --data "$small" --out "$tmp/no-such-folder/r.png"
expect_error "reconstruct --n 0"           2 "--n"                    - -- "$AEKIT" reconstruct "$model" --n 0 --out "$work/r.png"
[[ -e $work/r.png ]] && bad "reconstruct --n 0 wrote no file" "$work/r.png exists"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
