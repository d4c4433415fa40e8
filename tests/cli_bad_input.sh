#!/usr/bin/env bash
# Bad input to the aekit command line: every case must fail with the right
# exit code (2 usage error, 1 other error), exactly one line on stderr that
# starts with "aekit" and names the flag or file at fault, and no output or
# temporary file left behind.
#
# usage: bash tests/cli_bad_input.sh /path/to/aekit
#        (VERBOSE=1 also shows the error line of each passing case)
source "$(dirname "$0")/lib/cli_common.sh"

work=$tmp/work            # the folder every command runs in (expect_error)
mkdir -p "$work"
# Nothing should be found through the environment or ./data.
unset AEKIT_DATA

# ---- test data ---------------------------------------------------------------
# A small valid data set: 64 training and 16 test images of 28x28 (IDX files).

small=$tmp/small
make_idx "$small" 64 16 28 || fail_early "could not write the test data with $PY"
make_idx "$tmp/wide" 16 8 32
mkdir -p "$tmp/empty"
cp -r "$small" "$tmp/truncated"
truncate -s 5000 "$tmp/truncated/train-images-idx3-ubyte"   # header says 64 images
# Data sets whose headers already decide the refusal, in gzip files of a few
# hundred KB that inflate to hundreds of MiB: images of 28x29 (the models
# take 28x28), and images of 28x28 with one label fewer than images.
# Refusing them must not inflate the pixels. One compressed MiB of zeros is
# repeated (after a full flush each copy stands alone).
"$PY" - "$tmp" <<'EOF'
import gzip, os, struct, sys, zlib
def gz_zeros(path, head, mib):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    zeros = bytes(1 << 20)
    chunk = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(head)
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + body + chunk * mib + c.flush()
                + struct.pack("<II", crc, (len(head) + (mib << 20)) & 0xffffffff))
def split(d, n_images, h, w, n_labels):
    os.makedirs(d, exist_ok=True)
    gz_zeros(d + "/train-images-idx3-ubyte.gz", struct.pack(">IIII", 0x803, n_images, h, w),
             n_images * h * w >> 20)
    with open(d + "/train-labels-idx1-ubyte.gz", "wb") as f:
        f.write(gzip.compress(struct.pack(">II", 0x801, n_labels) + bytes(n_labels)))
split(sys.argv[1] + "/wide-bomb", 262144, 28, 29, 262144)      # 203 MiB of pixels
split(sys.argv[1] + "/label-bomb", 262144, 28, 28, 262143)     # 196 MiB of pixels
EOF
# 1,560 images of 28x28 (1.2 MB, more than one read of the gzip stream),
# gzipped, and copies with the training images cut inside their 8-byte
# trailer (CRC-32, length): a partial download.
make_idx "$tmp/gz-whole" 1560 16 28 && gzip "$tmp/gz-whole"/*
for cut in 1 2 3 4 5 6 7 8; do
  cp -r "$tmp/gz-whole" "$tmp/gz-cut$cut"
  f=$tmp/gz-cut$cut/train-images-idx3-ubyte.gz
  truncate -s $(( $(stat -c %s "$f") - cut )) "$f"
done

printf 'input 1 28 28\nencoder\nconv 16 k=3 pad=same\nfrobnicate 3\ndecoder\nconv 1 k=3 pad=same\nsigmoid\n' >"$tmp/bad-model.txt"
head -c 4096 /dev/urandom >"$tmp/random.safetensors"
# A header length that fits the file, followed by bytes that are not JSON.
"$PY" -c 'import struct,sys; h=b"{\"w\": {\"dtype\": \"F32\", \"sha\x00\xff garbage]]"; sys.stdout.buffer.write(struct.pack("<Q", len(h)) + h + bytes(64))' >"$tmp/garbage.safetensors"
# A plausible header length (1 MB) beyond the end of the file.
"$PY" -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<Q", 1 << 20) + b"{}")' >"$tmp/huge-header.safetensors"
# Headers of millions of entries (26 MB and 13 MB), to be refused before a
# JSON tree of them is built.
"$PY" -c 'import struct,sys
h = b"{\"__metadata__\":{" + b",".join(b"\"k%07d\":\"\"" % i for i in range(2000000)) + b"}}"
sys.stdout.buffer.write(struct.pack("<Q", len(h)) + h)' >"$tmp/many-meta.safetensors"
"$PY" -c 'import struct,sys
h = b"{" + b",".join(b"\"t%07d\":{}" % i for i in range(1000000)) + b"}"
sys.stdout.buffer.write(struct.pack("<Q", len(h)) + h)' >"$tmp/many-tensors.safetensors"
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

# ---- --threads beyond the machine: capped at 4 per core, with a note ------------
# On one core (taskset), whatever the machine: at most 4 threads, so the
# working memory of 256 threads (5.4 GB for eval) is never taken. Under
# AddressSanitizer, freed memory is held in its quarantine (256 MB by
# default) and counts in the peak: a small quarantine keeps the bound about
# aekit's own memory.
capped() {  # capped NAME COMMAND...: succeeds, notes the cap, bounded memory
  local name=$1
  shift
  rm -f "$logs/rss"
  (cd "$work" && ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16" \
     taskset -c 0 "$PY" -c "$peak_rss_py" "$logs/rss" "$@" >"$logs/stdout" 2>"$logs/stderr")
  local rc=$? rss
  rss=$(cat "$logs/rss" 2>/dev/null)
  if [[ $rc -eq 0 && -n $rss && $rss -le 200 ]] &&
     grep -q -- "--threads 100000: capped at 4 (4 x the 1 core)" "$logs/stderr"; then
    ok "$name"
  else
    bad "$name" "exit code $rc, peak RSS ${rss:-unknown} MiB (bound 200) or no note of the cap"
  fi
}
capped "eval --threads 100000: capped at 4 threads on 1 core" "$AEKIT" eval "$model" --data "$small" --threads 100000
capped "train --threads 100000: capped at 4 threads on 1 core" "$AEKIT" train --model conv --data "$small" \
  --batch 16 --epochs 1 --threads 100000 --out "$work/capped"
rm -rf "$work/capped"
# the note waits for the checks: a refusal after --threads 100000 is one line
expect_error "--threads 100000 then a bad --limit: only the error" 2 "--limit" "$work/capped" -- \
  "$AEKIT" train --model conv --data "$small" --threads 100000 --limit 0 --out "$work/capped"
expect_error "--threads 100000 and a missing model: only the error" 1 "nosuch.safetensors" - -- \
  "$AEKIT" eval "$tmp/nosuch.safetensors" --data "$small" --threads 100000
expect_error "--threads 100000 and data of the wrong size: only the error" 1 "32" "$work/capped" -- \
  "$AEKIT" train --model conv --data "$tmp/wide" --threads 100000 --out "$work/capped"

# ---- the dispatcher -------------------------------------------------------------
expect_error "no command"           2 "command"     - -- "$AEKIT"
expect_error "unknown command"      2 "frobnicate"  - -- "$AEKIT" frobnicate
check "  ... no 'did you mean' for a word far from every command" bash -c "! grep -q 'did you mean' '$logs/stderr'"
# "did you mean" (ae_nearest_name) for a mistyped command, flag, preset or choice
expect_error "a mistyped command"   2 "unknown command 'trian' (did you mean 'train'?" - -- "$AEKIT" trian
expect_error "a mistyped help topic" 2 "did you mean 'reconstruct'?" - -- "$AEKIT" help recon
expect_error "a mistyped global flag" 2 "did you mean '--version'?" - -- "$AEKIT" --verison
expect_error "a mistyped flag"      2 "unknown flag '--epoch' (did you mean '--epochs'?" "$work/run" -- \
  "$AEKIT" train --model conv --data "$small" --epoch 3 --out "$work/run"
expect_error "a mistyped preset"    2 "did you mean 'conv'?" "$work/run" -- \
  "$AEKIT" train --model cnov --data "$small" --out "$work/run"
expect_error "a mistyped choice"    2 "got 'adma'; did you mean 'adam'?" "$work/run" -- \
  "$AEKIT" train --model conv --data "$small" --optimizer adma --out "$work/run"
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
MAX_RSS_MB=100 expect_error "--data images of 28x29 in a 200 KB gzip of 203 MiB: refused from the header" 1 \
  "wide-bomb/train-images-idx3-ubyte.gz: images are 1x28x29" "$run" -- "$AEKIT" train --model conv --data "$tmp/wide-bomb" --out "$run"
MAX_RSS_MB=100 expect_error "--data one label fewer than images in a gzip of 196 MiB: refused from the headers" 1 \
  "has 262143 labels" "$run" -- "$AEKIT" train --model conv --data "$tmp/label-bomb" --out "$run"
for cut in 1 2 3 4 5 6 7 8; do
  expect_error "--data gzip cut $cut bytes into its 8-byte trailer" 1 "gz-cut$cut/train-images-idx3-ubyte.gz: truncated" \
    "$run" -- "$AEKIT" train --model conv --data "$tmp/gz-cut$cut" --batch 16 --threads 2 --epochs 1 --out "$run"
done

# ---- eval, info, reconstruct --------------------------------------------------------
expect_error "eval without MODEL"          2 "MODEL"                  - -- "$AEKIT" eval --data "$small"
expect_error "eval missing model file"     1 "nosuch.safetensors"     - -- "$AEKIT" eval "$tmp/nosuch.safetensors" --data "$small"
expect_error "eval random bytes"           1 "random.safetensors"     - -- "$AEKIT" eval "$tmp/random.safetensors" --data "$small"
expect_error "eval garbage JSON header"    1 "garbage.safetensors"    - -- "$AEKIT" eval "$tmp/garbage.safetensors" --data "$small"
expect_error "eval header beyond the file" 1 "huge-header.safetensors" - -- "$AEKIT" eval "$tmp/huge-header.safetensors" --data "$small"
# The trained model with a 500 MB tensor in place of encoder.0.weight, and
# with 500 MB after its last tensor (sparse files: the zeros take no disk).
"$PY" - "$model" "$tmp" <<'EOF'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h, data = json.loads(b[8:8 + n]), b[8 + n:]
end = max(v["data_offsets"][1] for k, v in h.items() if k != "__metadata__")
def write(path, header, extra):
    hb = json.dumps(header).encode()
    hb += b" " * (-len(hb) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb + data[:end])
        f.truncate(8 + len(hb) + end + extra)
write(sys.argv[2] + "/big-tail.safetensors", h, 500000000)
h["encoder.0.weight"] = {"dtype": "F32", "shape": [125000000], "data_offsets": [end, end + 500000000]}
write(sys.argv[2] + "/big-tensor.safetensors", h, 500000000)
EOF
MAX_RSS_MB=100 expect_error "info: a 500 MB tensor the model cannot take: refused from the header" 1 \
  "big-tensor.safetensors: tensor 'encoder.0.weight' has 125000000 values, the model needs" - -- "$AEKIT" info "$tmp/big-tensor.safetensors"
rm -f "$logs/rss"
if "$PY" -c "$peak_rss_py" "$logs/rss" "$AEKIT" info "$tmp/big-tail.safetensors" >"$logs/stdout" 2>"$logs/stderr" &&
   [[ $(cat "$logs/rss") -le 100 ]]; then
  ok "info: 500 MB after the last tensor are not read"
else
  bad "info: 500 MB after the last tensor are not read" "exit code or peak RSS $(cat "$logs/rss" 2>/dev/null) MiB (bound 100)"
fi
MAX_RSS_MB=100 expect_error "info: 2 million metadata entries" 1 "many-meta.safetensors: header entry \"__metadata__\" has more than 4096 keys" - -- \
  "$AEKIT" info "$tmp/many-meta.safetensors"
MAX_RSS_MB=100 expect_error "eval: a million tensors" 1 "many-tensors.safetensors: header lists more than 16384 tensors" - -- \
  "$AEKIT" eval "$tmp/many-tensors.safetensors" --data "$small"
expect_error "eval --limit abc"            2 "--limit"                - -- "$AEKIT" eval "$model" --limit abc
expect_error "eval --json=1"               2 "--json"                 - -- "$AEKIT" eval "$model" --json=1
expect_error "eval data of the wrong size" 1 "32"                     - -- "$AEKIT" eval "$model" --data "$tmp/wide"
expect_error "info missing model file"     1 "nosuch.safetensors"     - -- "$AEKIT" info "$tmp/nosuch.safetensors"
expect_error "info random bytes"           1 "random.safetensors"     - -- "$AEKIT" info "$tmp/random.safetensors"
expect_error "reconstruct --out into a missing folder" 1 "no-such-folder" "$tmp/no-such-folder" -- \
  "$AEKIT" reconstruct "$model" --data "$small" --out "$tmp/no-such-folder/r.png"
expect_error "reconstruct --n 0"           2 "--n"                    - -- "$AEKIT" reconstruct "$model" --n 0 --out "$work/r.png"
[[ -e $work/r.png ]] && bad "reconstruct --n 0 wrote no file" "$work/r.png exists"

# ---- train: the lesson's flags ----------------------------------------------------------
expect_error "--task unknown"               2 "--task"    "$run" -- "$AEKIT" train --model conv --data "$small" --task colourise --out "$run"
expect_error "--noise malformed"            2 "--noise"   "$run" -- "$AEKIT" train --model conv --data "$small" --task denoise --noise gaussian:abc --out "$run"
expect_error "--noise unknown kind"         2 "--noise"   "$run" -- "$AEKIT" train --model conv --data "$small" --task denoise --noise pink:1 --out "$run"
expect_error "--noise saltpepper:2"         2 "--noise"   "$run" -- "$AEKIT" train --model conv --data "$small" --task denoise --noise saltpepper:2 --out "$run"
expect_error "--noise without --task denoise" 2 "--noise" "$run" -- "$AEKIT" train --model conv --data "$small" --noise gaussian:0.5,0.5 --out "$run"
expect_error "--scale 3"                    2 "--scale"   "$run" -- "$AEKIT" train --model sr --scale 3 --data "$small" --out "$run"
expect_error "--scale with --model conv"    2 "--scale"   "$run" -- "$AEKIT" train --model conv --scale 2 --data "$small" --out "$run"
expect_error "--latent 0"                   2 "--latent"  "$run" -- "$AEKIT" train --model vae --latent 0 --data "$small" --out "$run"
expect_error "--latent on a fixed latent"   2 "--latent"  "$run" -- "$AEKIT" train --model sr --latent 4 --data "$small" --out "$run"
expect_error "--recon unknown"              2 "--recon"   "$run" -- "$AEKIT" train --model vae --recon l1 --data "$small" --out "$run"
expect_error "--recon on a plain AE"        2 "--recon"   "$run" -- "$AEKIT" train --model conv --recon bce --data "$small" --out "$run"
expect_error "--init missing file"          1 "nosuch.safetensors" "$run" -- "$AEKIT" train --init "$tmp/nosuch.safetensors" --data "$small" --out "$run"
expect_error "--init random bytes"          1 "random.safetensors" "$run" -- "$AEKIT" train --init "$tmp/random.safetensors" --data "$small" --out "$run"
expect_error "--init of another architecture" 1 "--init"  "$run" -- "$AEKIT" train --model vae --init "$model" --data "$small" --out "$run"
expect_error "neither --model nor --init"   2 "--model"   "$run" -- "$AEKIT" train --data "$small" --out "$run"
expect_error "sr on images of the wrong size" 1 "32"      "$run" -- "$AEKIT" train --model sr --data "$tmp/wide" --out "$run"

# ---- the lesson's commands ----------------------------------------------------------------
# A model with a 2-D latent, PNGs of two sizes and codes of two widths.
if (cd "$work" && "$AEKIT" train --model conv --latent 2 --data "$small" --batch 16 --threads 2 --epochs 1 \
      --out "$tmp/good2" >"$logs/stdout" 2>"$logs/stderr") && [[ -f $tmp/good2/model.safetensors ]]; then
  ok "control: a model with a 2-D latent trains"
else
  bad "control: a model with a 2-D latent trains" "exit code or run files wrong"
fi
model2=$tmp/good2/model.safetensors
"$PY" - "$tmp" <<'EOF'
import struct, sys, zlib
def png(path, w, h, raw=None):
    raw = raw or b"".join(b"\0" + bytes(w) for _ in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
png(sys.argv[1] + "/in32.png", 32, 32)
png(sys.argv[1] + "/in28.png", 28, 28)
def npy(path, rows, cols):
    h = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, cols)
    h += " " * (63 - (10 + len(h)) % 64) + "\n"
    open(path, "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + bytes(4 * rows * cols))
npy(sys.argv[1] + "/codes3.npy", 5, 3)
npy(sys.argv[1] + "/codes2.npy", 5, 2)
# 240 MB of codes 3 wide (a sparse file: the zeros take no disk)
h = "{'descr': '<f4', 'fortran_order': False, 'shape': (20000000, 3), }"
h += " " * (63 - (10 + len(h)) % 64) + "\n"
with open(sys.argv[1] + "/many-codes3.npy", "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode())
    f.truncate(10 + len(h) + 4 * 20000000 * 3)
open(sys.argv[1] + "/not.npy", "wb").write(b"hello, not numpy")
# 18 training and 4 test images of noise, for a PCA of few large images
import os, random
rng = random.Random(1)
for split, n in (("train", 18), ("test", 4)):
    os.makedirs(sys.argv[1] + "/few/" + split)
    for i in range(n):
        path = "%s/few/%s/%02d.png" % (sys.argv[1], split, i)
        raw = b"".join(b"\0" + bytes(rng.randrange(256) for _ in range(32)) for _ in range(32))
        png(path, 32, 32, raw)
EOF

for cmd in denoise upscale encode sample manifold scatter perturb interpolate compare; do
  extra=()
  case $cmd in
    encode)  extra=(--out "$work/c.npy") ;;
    perturb) extra=(--sigma 0.5) ;;
  esac
  data=(--data "$small")
  [[ $cmd == sample || $cmd == manifold ]] && data=()
  expect_error "$cmd: random bytes as the model" 1 "random.safetensors" - -- \
    "$AEKIT" $cmd "$tmp/random.safetensors" "${data[@]}" "${extra[@]}"
done
expect_error "decode: random bytes as the model" 1 "random.safetensors" - -- "$AEKIT" decode "$tmp/random.safetensors" "$tmp/codes2.npy"
expect_error "decode: missing model file"      1 "nosuch.safetensors" - -- "$AEKIT" decode "$tmp/nosuch.safetensors" "$tmp/codes2.npy"
expect_error "sample: missing model file"      1 "nosuch.safetensors" - -- "$AEKIT" sample "$tmp/nosuch.safetensors" --out "$work/s.png"
expect_error "manifold: garbage JSON header"   1 "garbage.safetensors" - -- "$AEKIT" manifold "$tmp/garbage.safetensors"
expect_error "manifold: latent of 128 values"  1 "128"    "$work/m.png" -- "$AEKIT" manifold "$model" --out "$work/m.png"
expect_error "manifold: --range 1,-1"          2 "--range" "$work/m.png" -- "$AEKIT" manifold "$model2" --range 1,-1 --out "$work/m.png"
expect_error "manifold: --range abc"           2 "--range" "$work/m.png" -- "$AEKIT" manifold "$model2" --range abc --out "$work/m.png"
expect_error "manifold: --grid 0"              2 "--grid"  "$work/m.png" -- "$AEKIT" manifold "$model2" --grid 0 --out "$work/m.png"
expect_error "decode: codes 3 wide for a 2-D latent" 1 "codes3.npy" "$work/d.png" -- "$AEKIT" decode "$model2" "$tmp/codes3.npy" --out "$work/d.png"
if grep -q "3 values wide" "$logs/stderr" && grep -q "latent has 2" "$logs/stderr"; then ok "decode: names both sizes"
else bad "decode: names both sizes" "message lacks '3 values wide' or 'latent has 2'"; fi
MAX_RSS_MB=100 expect_error "decode: 240 MB of codes 3 wide for a 2-D latent: refused from the header" 1 \
  "many-codes3.npy: codes are 3 values wide" "$work/d.png" -- "$AEKIT" decode "$model2" "$tmp/many-codes3.npy" --out "$work/d.png"
expect_error "decode: codes 2 wide for a 128 latent" 1 "128" "$work/d.png" -- "$AEKIT" decode "$model" "$tmp/codes2.npy" --out "$work/d.png"
expect_error "decode: not a .npy file"         1 "not.npy" "$work/d.png" -- "$AEKIT" decode "$model2" "$tmp/not.npy" --out "$work/d.png"
expect_error "decode: missing codes file"      1 "nosuch.npy" "$work/d.png" -- "$AEKIT" decode "$model2" "$tmp/nosuch.npy" --out "$work/d.png"
expect_error "decode: without the codes"       2 "usage"   - -- "$AEKIT" decode "$model2"
expect_error "denoise: PNG of the wrong size"  1 "in32.png" "$work/o.png" -- "$AEKIT" denoise "$model" "$tmp/in32.png" "$work/o.png"
if grep -q "32x32" "$logs/stderr" && grep -q "28x28" "$logs/stderr"; then ok "denoise: names both sizes"
else bad "denoise: names both sizes" "message lacks 32x32 or 28x28"; fi
expect_error "denoise: missing input PNG"      1 "nosuch.png" "$work/o.png" -- "$AEKIT" denoise "$model" "$tmp/nosuch.png" "$work/o.png"
expect_error "denoise: input that is not an image" 1 "a-file" "$work/o.png" -- "$AEKIT" denoise "$model" "$tmp/a-file" "$work/o.png"
expect_error "denoise: IN.png without OUT.png" 2 "OUT.png" - -- "$AEKIT" denoise "$model" "$tmp/in28.png"
expect_error "denoise: bad --noise"            2 "--noise" - -- "$AEKIT" denoise "$model" --data "$small" --noise gaussian:1 --out "$work/o.png"
expect_error "denoise: --out into a missing folder" 1 "no-such-folder" - -- "$AEKIT" denoise "$model" --data "$small" --out "$tmp/no-such-folder/o.png"
expect_error "upscale: not a super-resolution model" 1 "super-resolution" "$work/o.png" -- "$AEKIT" upscale "$model" --data "$small" --out "$work/o.png"
expect_error "encode: missing --out"           2 "--out"   - -- "$AEKIT" encode "$model" --data "$small"
expect_error "encode: --split valid"           2 "--split" "$work/c.npy" -- "$AEKIT" encode "$model" --data "$small" --split valid --out "$work/c.npy"
expect_error "encode: data of the wrong size"  1 "32"      "$work/c.npy" -- "$AEKIT" encode "$model" --data "$tmp/wide" --out "$work/c.npy"
expect_error "sample: --n 0"                   2 "--n"     "$work/s.png" -- "$AEKIT" sample "$model" --n 0 --out "$work/s.png"
expect_error "perturb: missing --sigma"        2 "--sigma" "$work/p.png" -- "$AEKIT" perturb "$model" --data "$small" --out "$work/p.png"
expect_error "perturb: --sigma -1"             2 "--sigma" "$work/p.png" -- "$AEKIT" perturb "$model" --data "$small" --sigma -1 --out "$work/p.png"
expect_error "interpolate: --to beyond the test set" 1 "--to" "$work/i.png" -- "$AEKIT" interpolate "$model" --data "$small" --from 0 --to 99 --out "$work/i.png"
expect_error "interpolate: --steps 1"          2 "--steps" "$work/i.png" -- "$AEKIT" interpolate "$model" --data "$small" --steps 1 --out "$work/i.png"
expect_error "scatter: data of the wrong size" 1 "32"      "$work/l.png" -- "$AEKIT" scatter "$model" --data "$tmp/wide" --out "$work/l.png"
expect_error "pca: missing --components"       2 "--components" "$work/pca" -- "$AEKIT" pca --data "$small" --out "$work/pca"
expect_error "pca: --components 0"             2 "--components" "$work/pca" -- "$AEKIT" pca --data "$small" --components 0 --out "$work/pca"
expect_error "pca: more components than pixels" 2 "--components" "$work/pca" -- "$AEKIT" pca --data "$small" --components 785 --out "$work/pca"
expect_error "pca: --out is a file"            1 "a-file"  - -- "$AEKIT" pca --data "$small" --components 2 --out "$tmp/a-file"
expect_error "pca: --shape 2x28x28"            2 "--shape" "$work/pca" -- "$AEKIT" pca --data "$small" --components 2 --shape 2x28x28 --out "$work/pca"
# 18 images read at 80x80: the 18 x 18 Gram matrix, not a 6400 x 6400
# covariance (330 MB); memory bounded, as for a refusal.
rm -f "$logs/rss"
if (cd "$work" && "$PY" -c "$peak_rss_py" "$logs/rss" "$AEKIT" pca --data "$tmp/few" --shape 1x80x80 \
      --components 4 --out "$work/pca-few" >"$logs/stdout" 2>"$logs/stderr") &&
   [[ -s $work/pca-few/pca.safetensors && $(cat "$logs/rss") -le 100 ]]; then
  ok "pca: 18 images of 80x80 fit in bounded memory"
else
  bad "pca: 18 images of 80x80 fit in bounded memory" "exit code, files or peak RSS $(cat "$logs/rss" 2>/dev/null) MiB (bound 100)"
fi
rm -rf "$work/pca-few"
expect_error "compare: data of the wrong size" 1 "32"      - -- "$AEKIT" compare "$model" --data "$tmp/wide"
expect_error "compare: --k above the training images" 2 "--k" - -- "$AEKIT" compare "$model" --data "$small" --k 65
expect_error "eval: bad --noise"               2 "--noise" - -- "$AEKIT" eval "$model" --data "$small" --noise saltpepper:x

# ---- numbers out of range: refused as parsed (exit 2, before any folder is made),
# naming the value as given and the range ---------------------------------------------
expect_range() {  # expect_range NAME NEEDLE -- COMMAND...: exit 2, $run not created
  local name=$1 needle=$2
  shift 3
  expect_error "$name" 2 "$needle" "$run" -- "$@"
}
expect_range "--epochs 1000001 (the library's cap)" "--epochs: expected an integer from 1 to 1000000, got '1000001'" -- \
  "$AEKIT" train --model conv --data "$small" --epochs 1000001 --out "$run"
expect_range "--lr 1e-300 (0 in float arithmetic)" "--lr: expected a number from 1e-10 to 1000, got '1e-300'" -- \
  "$AEKIT" train --model conv --data "$small" --lr 1e-300 --out "$run"
expect_range "--lr 1e300 (infinite as a float; was a run that diverged)" "--lr: expected a number from 1e-10 to 1000, got '1e300'" -- \
  "$AEKIT" train --model conv --data "$small" --lr 1e300 --out "$run"
expect_range "--lr 1001 (steps no run learns from)" "--lr: expected a number from 1e-10 to 1000, got '1001'" -- \
  "$AEKIT" train --model conv --data "$small" --lr 1001 --out "$run"
expect_range "--lr 1e-400 (underflows a double)" "got '1e-400'" -- "$AEKIT" train --model conv --data "$small" --lr 1e-400 --out "$run"
expect_range "--clip-grad 1e-300 (zeroes every gradient)" "--clip-grad: expected a number from 1e-37 to 1e38, got '1e-300'" -- \
  "$AEKIT" train --model conv --data "$small" --clip-grad 1e-300 --out "$run"
expect_range "--clip-grad 1e300 (infinite as a float: silently no clipping)" "--clip-grad: expected a number from 1e-37 to 1e38, got '1e300'" -- \
  "$AEKIT" train --model conv --data "$small" --clip-grad 1e300 --out "$run"
expect_range "--threads 99999999999 (beyond an int; smaller counts are capped, above)" "--threads: expected an integer from 0 to 2147483647, got '99999999999'" -- \
  "$AEKIT" train --model conv --data "$small" --threads 99999999999 --out "$run"
expect_range "--latent 2000000 (was exit 1 from the library)" "--latent: expected an integer from 1 to 1048576, got '2000000'" -- \
  "$AEKIT" train --model vae --latent 2000000 --data "$small" --out "$run"
expect_range "--batch 99999999999" "--batch: expected an integer from 1 to 2147483647, got '99999999999'" -- \
  "$AEKIT" train --model conv --data "$small" --batch 99999999999 --out "$run"
expect_range "--scale 02" "--scale: expected one of 2, 4, got '02'" -- \
  "$AEKIT" train --model sr --scale 02 --data "$small" --out "$run"
expect_range "--noise gaussian:1e300,0.5 (infinite as a float)" "gaussian:1e300,0.5" -- \
  "$AEKIT" train --model conv --task denoise --noise gaussian:1e300,0.5 --data "$small" --out "$run"
expect_error "eval --threads -1"        2 "--threads: expected an integer from 0 to 2147483647, got '-1'" - -- "$AEKIT" eval "$model" --data "$small" --threads -1
expect_error "eval --limit 99999999999" 2 "--limit: expected an integer from 1 to 2147483647, got '99999999999'" - -- "$AEKIT" eval "$model" --data "$small" --limit 99999999999
expect_error "compare --k 10001"        2 "--k: expected an integer from 1 to 10000, got '10001'" - -- "$AEKIT" compare "$model" --data "$small" --k 10001
expect_error "sample --cols 1001"       2 "--cols: expected an integer from 1 to 1000, got '1001'" "$work/s.png" -- "$AEKIT" sample "$model" --cols 1001 --out "$work/s.png"
expect_error "interpolate --steps 101"  2 "--steps: expected an integer from 2 to 100, got '101'" "$work/i.png" -- "$AEKIT" interpolate "$model" --data "$small" --steps 101 --out "$work/i.png"
expect_error "perturb --sigma 1e-300"   2 "--sigma: expected a number from 1e-6 to 1000000, got '1e-300'" "$work/p.png" -- "$AEKIT" perturb "$model" --data "$small" --sigma 1e-300 --out "$work/p.png"
expect_error "manifold --range 0,1e-300 (one float)" 2 "--range" "$work/m.png" -- "$AEKIT" manifold "$model2" --range 0,1e-300 --out "$work/m.png"
expect_error "manifold --range -1e300,1 (infinite as a float)" 2 "got '-1e300,1'" "$work/m.png" -- "$AEKIT" manifold "$model2" --range -1e300,1 --out "$work/m.png"
expect_error "pca --shape 1x99999999999x28 (was wrapped by sscanf)" 2 "got '1x99999999999x28'" "$work/pca" -- \
  "$AEKIT" pca --data "$small" --components 2 --shape 1x99999999999x28 --out "$work/pca"
# one integer syntax for every flag: digits after an optional '-' (strtoll
# took " 3" and "+3" for --threads, --seed refused them)
expect_error "--threads ' 3'"  2 "--threads: expected an integer from 0 to 2147483647, got ' 3'" - -- "$AEKIT" eval "$model" --data "$small" --threads " 3"
expect_error "--threads +3"    2 "--threads: expected an integer from 0 to 2147483647, got '+3'" - -- "$AEKIT" eval "$model" --data "$small" --threads +3
expect_error "--limit 1e3"     2 "--limit: expected an integer from 1 to 2147483647, got '1e3'" - -- "$AEKIT" eval "$model" --data "$small" --limit 1e3
expect_error "--seed ' 5'"     2 "--seed: expected an integer from 0 to 18446744073709551615, got ' 5'" "$work/s.png" -- "$AEKIT" sample "$model" --seed " 5" --out "$work/s.png"
expect_error "--seed 18446744073709551616" 2 "--seed: expected an integer from 0 to 18446744073709551615" "$work/s.png" -- \
  "$AEKIT" sample "$model" --seed 18446744073709551616 --out "$work/s.png"
expect_range "--checkpoint-every 99999999999: the limit stated" "--checkpoint-every: expected N (steps) or Ne (epochs, as in 2e), N from 0 (only when stopped) to 1000000000, got '99999999999'" -- \
  "$AEKIT" train --model conv --data "$small" --checkpoint-every 99999999999 --out "$run"
expect_range "--checkpoint-every +3" "got '+3'" -- "$AEKIT" train --model conv --data "$small" --checkpoint-every +3 --out "$run"
"$AEKIT" train --model conv --data "$small" --epochs 1 --batch 16 --threads 2 --checkpoint-every 0e --out "$run" >/dev/null 2>&1
check "--checkpoint-every 0e: 0, only when stopped (exit 0, no checkpoint left)" test $? -eq 0 -a -f "$run/index.html" -a ! -e "$run/checkpoint.safetensors"
rm -rf "$run"
"$AEKIT" train --help >"$logs/help"
check "train --help states the ranges" \
  bash -c "grep -q -- '--epochs N .*(1 to 1000000; default: 25)' '$logs/help' && grep -q -- '--lr X .*(1e-10 to 1000; default: 1e-3)' '$logs/help' &&
           grep -q -- '--clip-grad X .*(1e-37 to 1e38; default: off)' '$logs/help' &&
           grep -q -- '--seed N .*(0 to 18446744073709551615; default: 0)' '$logs/help' &&
           grep -q -- '--checkpoint-every N|Ne .*(0 to 1000000000; default: 1e)' '$logs/help'"
check "train --help: --data takes IDX, CIFAR-10 and image folders" \
  grep -q -- "^  --data NAME|DIR .*IDX files, CIFAR-10 batches or images" "$logs/help"
# every training option with a flag (a row { "name", "flag", ... of the
# library's options table) has its line in the help
options_table=$(dirname "$0")/../src/model/train_options.c
option_flags=$(sed -n 's/^ *{ "[a-z_0-9]*", "\([a-z-]*\)".*/\1/p' "$options_table" | sort -u)
check "the options table has flags ($(echo $option_flags | wc -w) found)" test "$(echo $option_flags | wc -w)" -ge 8
for flag in $option_flags; do
  check "train --help lists --$flag (options table)" grep -q -- "^  --$flag " "$logs/help"
done
"$AEKIT" help train >"$logs/help-cmd"
check "aekit help train is aekit train --help (the rows filled in)" cmp -s "$logs/help" "$logs/help-cmd"
for cmd in sample perturb; do
  "$AEKIT" $cmd --help >"$logs/help"
  check "$cmd --help states the range of --seed" grep -q -- "--seed N .*(0 to 18446744073709551615; default: 0)" "$logs/help"
done

# ---- description numbers: checked where they are read, naming the line and the text --
printf 'input 1 28 28\nparam latent 99999999999999\nencoder\nflatten\ndense {latent}\ndecoder\ndense 784\nreshape 1 28 28\nsigmoid\n' >"$tmp/huge-latent.txt"
expect_error "param latent 99999999999999 (was reported wrapped)" 1 "huge-latent.txt:2: param latent: expected an integer from 1 to 1048576, got '99999999999999'" "$run" -- \
  "$AEKIT" train --model "$tmp/huge-latent.txt" --data "$small" --out "$run"

# ---- non-finite results: errors naming the tensors that hold NaN or infinities -------
# set_tensors SRC DST VALUE NAME,...: a copy of a model file whose tensors are VALUE
set_tensors() {
  "$PY" - "$@" <<'PYEOF'
import json, struct, sys
src, dst, value, names = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4].split(",")
data = bytearray(open(src, "rb").read())
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
for name in names:
    a, b = header[name]["data_offsets"]
    data[8 + n + a:8 + n + b] = struct.pack("<f", value) * ((b - a) // 4)
open(dst, "wb").write(data)
PYEOF
}
nan_model=$tmp/nan.safetensors
set_tensors "$model" "$nan_model" nan decoder.9.bias
cp -r "$small" "$tmp/small2"
expect_error "eval: NaN output (was 'loss nan  psnr inf dB', exit 0)" 1 "nan.safetensors" - -- "$AEKIT" eval "$nan_model" --data "$small"
check "  ... naming the tensor" grep -q "loss nan, mse nan.*its weights hold NaN or infinite values in decoder.9.bias" "$logs/stderr"
check "  ... and printing no result" test ! -s "$logs/stdout"
expect_error "eval --json: NaN output"       1 "decoder.9.bias" - -- "$AEKIT" eval "$nan_model" --data "$small" --json
check "  ... and printing no JSON" test ! -s "$logs/stdout"
expect_error "eval --data A,B: NaN output"   1 "decoder.9.bias" - -- "$AEKIT" eval "$nan_model" --data "$small,$tmp/small2"
check "  ... and printing no line" test ! -s "$logs/stdout"
# compare's PCA of the latent's 128 values needs more than 128 training images
make_idx "$tmp/small160" 160 16 28
expect_error "compare: no more training images than the latent's values" 1 "1 to 63 possible" - -- \
  "$AEKIT" compare "$model" --data "$small"
expect_error "compare: NaN reconstructions"  1 "decoder.9.bias" - -- "$AEKIT" compare "$nan_model" --data "$tmp/small160"
check "  ... and printing no table" test ! -s "$logs/stdout"
# the stages of compare and pca on stderr (cli_stage): nothing for a quick run,
# one line per stage that lasts (AEKIT_STAGE_SECONDS=0: all of them, in
# order), a rewritten line on a terminal, erased at the end
"$AEKIT" compare "$model" --data "$tmp/small160" --threads 2 >"$logs/stdout" 2>"$logs/stderr"
check "compare: a quick run prints no stages" test $? -eq 0 -a -s "$logs/stdout" -a ! -s "$logs/stderr"
AEKIT_STAGE_SECONDS=0 "$AEKIT" compare "$model" --data "$tmp/small160" --threads 2 >"$logs/stdout" 2>"$logs/stderr"
check "compare: one line per stage, in order, then the table on stdout" bash -c "
  [[ \$(sed 's/:.*//' '$logs/stderr' | sort -u) == 'aekit compare' && \$(wc -l <'$logs/stderr') -eq 5 ]] &&
  grep -n . '$logs/stderr' | grep -q '^2:aekit compare: encoding 160 training and 16 test images with the model...\$' &&
  grep -n . '$logs/stderr' | grep -q '^4:aekit compare: fitting a PCA of 128 components on 160 training images...\$' &&
  grep -q '^time: ' '$logs/stdout'"
AEKIT_STAGE_SECONDS=0 "$AEKIT" pca --data "$tmp/small160" --components 2 --out "$work/pca-stages" >"$logs/stdout" 2>"$logs/stderr"
check "pca: one line per stage" bash -c "[[ \$(wc -l <'$logs/stderr') -eq 3 ]] && grep -q '^aekit pca: fitting 2 components on 160 training images of 784 values...\$' '$logs/stderr'"
rm -rf "$work/pca-stages"
if command -v script >/dev/null; then   # a terminal: util-linux's script gives the command a pty
  AEKIT_STAGE_SECONDS=0 script -qec "'$AEKIT' compare '$model' --data '$tmp/small160' --threads 2" /dev/null \
    >"$logs/tty" 2>&1 </dev/null
  check "compare on a terminal: the stage line rewritten and erased" bash -c "
    grep -q \$'\r\e\\[Kaekit compare: [a-z]' '$logs/tty' && grep -q \$'\r\e\\[K' '$logs/tty' &&
    ! grep -q '^aekit compare: .*\.\.\.\r\?\$' '$logs/tty'"
fi
# the checkpoint a diverged run keeps: finite weights, NaN loss (was "loss -nan  mse 0.1019", exit 0)
"$AEKIT" train --model vae --data "$small" --epochs 1 --batch 16 --threads 2 --optimizer sgd --lr 1000 \
  --checkpoint-every 1 --out "$tmp/diverged" >/dev/null 2>&1
expect_error "eval: the checkpoint of a diverged run" 1 "although its weights are finite" - -- \
  "$AEKIT" eval "$tmp/diverged/checkpoint.safetensors" --data "$small"
expect_error "train --init: NaN weights (was 'try a lower --lr')" 1 "--init $nan_model: tensor decoder.9.bias holds NaN" "$run" -- \
  "$AEKIT" train --init "$nan_model" --data "$small" --out "$run"
"$AEKIT" info "$nan_model" >"$logs/stdout" 2>"$logs/stderr"
check "info: a model with NaN weights (exit 0)" test $? -eq 0
check "  ... reports them" grep -q '^warning .*tensor decoder.9.bias holds NaN or infinite values' "$logs/stdout"
set_tensors "$model" "$tmp/inf.safetensors" inf encoder.0.weight,encoder.0.bias,encoder.3.weight,encoder.3.bias,encoder.6.weight,decoder.9.bias
"$AEKIT" info "$tmp/inf.safetensors" >"$logs/stdout" 2>&1
check "info: names four tensors, then a count" grep -q "tensors encoder.0.weight, encoder.0.bias, encoder.3.weight, encoder.3.bias and 2 more hold" "$logs/stdout"
# a data set of one image repeated: PCA has no variance (was "keep nan% of the variance")
"$PY" - "$tmp/flat" <<'PYEOF'
import os, struct, sys
d = sys.argv[1]
os.makedirs(d)
for prefix, n in (("train", 8), ("t10k", 4)):
    open(os.path.join(d, prefix + "-images-idx3-ubyte"), "wb").write(struct.pack(">IIII", 0x803, n, 28, 28) + bytes([7]) * (n * 784))
    open(os.path.join(d, prefix + "-labels-idx1-ubyte"), "wb").write(struct.pack(">II", 0x801, n) + bytes(n))
PYEOF
expect_error "pca: all training images the same" 1 "all the same" "$work/pca" -- "$AEKIT" pca --data "$tmp/flat" --components 2 --out "$work/pca"

# ---- a FIFO (or a device) given as an input: refused at once --------------------------------
# Opening a FIFO for reading waits for a writer: every command hung on one
# (timeout turns a hang into exit 124, a failure). Each reader: model files
# and checkpoints (safetensors), codes (.npy), model descriptions, IDX,
# CIFAR-10 and image files, and a finished run's metrics.csv.
mkfifo "$tmp/fifo"
T=(timeout 20)
expect_error "info FIFO" 1 "$tmp/fifo: is a FIFO, not a regular file" - -- "${T[@]}" "$AEKIT" info "$tmp/fifo"
expect_error "eval FIFO" 1 "$tmp/fifo: is a FIFO" - -- "${T[@]}" "$AEKIT" eval "$tmp/fifo" --data "$small"
expect_error "decode MODEL FIFO (the codes)" 1 "$tmp/fifo: is a FIFO" "$work/d.png" -- \
  "${T[@]}" "$AEKIT" decode "$model2" "$tmp/fifo" --out "$work/d.png"
expect_error "train --model FIFO (a description)" 1 "--model $tmp/fifo: is a FIFO" "$run" -- \
  "${T[@]}" "$AEKIT" train --model "$tmp/fifo" --data "$small" --out "$run"
expect_error "train --init FIFO" 1 "$tmp/fifo: is a FIFO" "$run" -- \
  "${T[@]}" "$AEKIT" train --init "$tmp/fifo" --data "$small" --out "$run"
expect_error "denoise MODEL FIFO OUT.png (an image)" 1 "$tmp/fifo: is a FIFO" "$work/o.png" -- \
  "${T[@]}" "$AEKIT" denoise "$model" "$tmp/fifo" "$work/o.png"
expect_error "info /dev/zero (a device read without end)" 1 "/dev/zero: is a character device" - -- \
  "${T[@]}" "$AEKIT" info /dev/zero
cp -r "$small" "$tmp/fifo-idx"
rm "$tmp/fifo-idx/t10k-images-idx3-ubyte" && mkfifo "$tmp/fifo-idx/t10k-images-idx3-ubyte"
expect_error "eval --data: an IDX file that is a FIFO" 1 "t10k-images-idx3-ubyte: is a FIFO" - -- \
  "${T[@]}" "$AEKIT" eval "$model" --data "$tmp/fifo-idx"
mkdir -p "$tmp/fifo-cifar"
for f in data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5; do head -c 3073 /dev/zero >"$tmp/fifo-cifar/$f.bin"; done
mkfifo "$tmp/fifo-cifar/test_batch.bin"
expect_error "pca --data: a CIFAR-10 file that is a FIFO" 1 "test_batch.bin" "$work/pca" -- \
  "${T[@]}" "$AEKIT" pca --data "$tmp/fifo-cifar" --components 2 --shape 3x32x32 --out "$work/pca"
# a run folder: its checkpoint, or (model saved, pictures missing) its metrics.csv
mkdir -p "$tmp/fifo-run"
mkfifo "$tmp/fifo-run/checkpoint.safetensors"
expect_error "train --resume: the checkpoint a FIFO" 1 "checkpoint.safetensors: is a FIFO" - -- \
  "${T[@]}" "$AEKIT" train --resume "$tmp/fifo-run"
rm -r "$tmp/fifo-run" && cp -r "$tmp/good" "$tmp/fifo-run" && rm "$tmp/fifo-run/index.html" "$tmp/fifo-run/metrics.csv"
mkfifo "$tmp/fifo-run/metrics.csv"
expect_error "train --resume: a finished run's metrics.csv a FIFO" 1 "metrics.csv: is a FIFO" - -- \
  "${T[@]}" "$AEKIT" train --resume "$tmp/fifo-run"

# ---- text from files is escaped on the terminal (no raw ESC, no forged lines) ----------
# set_meta SRC DST KEY VALUE...: a copy of a model file with these metadata entries
set_meta() {
  "$PY" - "$@" <<'PYEOF'
import json, struct, sys
src, dst, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
data = open(src, "rb").read()
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
for k, v in zip(pairs[::2], pairs[1::2]):
    header["__metadata__"][k] = v
h = json.dumps(header).encode()
h += b" " * (-len(h) % 8)
open(dst, "wb").write(struct.pack("<Q", len(h)) + h + data[8 + n:])
PYEOF
}
esc=$'\e'
set_meta "$model" "$tmp/forged.safetensors" "aekit.train.model" "conv${esc}[2J${esc}[31m" \
  "aekit.train.data" $'nosuch\nforged line' "note${esc}]0;title"$'\a' $'value\r\x7f\xc2\x9b31m\u202egnp.exe'
"$AEKIT" info "$tmp/forged.safetensors" >"$logs/stdout" 2>"$logs/stderr"
check "info: metadata with control characters loads (exit 0)" test $? -eq 0
# clean_text FILE: FILE holds no ESC, BEL, CR, DEL, C1 CSI, U+202E (bidi override) or U+2028 (line separator) bytes
clean_text() {
  "$PY" -c 'import sys; d = open(sys.argv[1], "rb").read()
sys.exit(1 if any(b in d for b in (b"\x1b", b"\x07", b"\r", b"\x7f", b"\xc2\x9b", b"\xe2\x80\xae", b"\xe2\x80\xa8")) else 0)' "$1"
}
check "  ... printed without raw control characters" clean_text "$logs/stdout"
check "  ... shown escaped" grep -qF 'conv\e[2J\e[31m' "$logs/stdout"
check "  ... a newline as \\n, no forged line" bash -c "grep -qF 'nosuch\\nforged line' '$logs/stdout' && ! grep -q '^forged line' '$logs/stdout'"
check "  ... in keys too; BEL as \\x07" grep -qF 'note\e]0;title\x07' "$logs/stdout"
check "  ... CR, DEL, C1 and bidirectional controls" grep -qF 'value\r\x7f\u009b31m\u202egnp.exe' "$logs/stdout"
expect_error "eval: a data set name from the file, escaped" 1 'nosuch\nforged line' - -- "$AEKIT" eval "$tmp/forged.safetensors"
expect_error "compare: a data set name from the file, escaped" 1 'nosuch\nforged line' - -- "$AEKIT" compare "$tmp/forged.safetensors"
"$AEKIT" compare "$tmp/forged.safetensors" --data "$tmp/small160" >"$logs/stdout" 2>"$logs/stderr"
check "compare: the model name from the file, escaped" grep -qF 'conv\e[2J\e[31m (latent' "$logs/stdout"
check "  ... and nothing raw" clean_text "$logs/stdout"
# eval --json: data set names with a bidirectional override (U+202E), a
# line separator (U+2028) and ESC, as \u escapes in the JSON (were raw)
ln -s small "$tmp/sm"$'\xe2\x80\xae'"evil"
ln -s small "$tmp/sm"$'\xe2\x80\xa8'"line"$'\e'"[1m"
"$AEKIT" eval "$model" --data "$small,$tmp/sm"$'\xe2\x80\xae'"evil,$tmp/sm"$'\xe2\x80\xa8'"line"$'\e'"[1m" --json \
  >"$logs/stdout" 2>"$logs/stderr"
check "eval --json: names with bidi, line-separator and control characters (exit 0)" test $? -eq 0
check "  ... printed without them raw" clean_text "$logs/stdout"
check "  ... as \\u escapes, in valid JSON" \
  "$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if any(k.endswith("sm\u202eevil") for k in d) and any(k.endswith("sm\u2028line\x1b[1m") for k in d) and "\\u202e" in open(sys.argv[1]).read() else 1)' "$logs/stdout"
mkdir -p "$tmp/odd"$'\e[1m'
expect_error "an --out folder name with ESC, escaped in the error" 1 'odd\e[1m' - -- "$AEKIT" sample "$model" --out "$tmp/odd"$'\e[1m'

summary
