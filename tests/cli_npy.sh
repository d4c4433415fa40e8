#!/usr/bin/env bash
# Numbers out, not only pictures (docs/cli.md, "Numbers out"):
#  - reconstruct, decode, sample, denoise, upscale, interpolate and manifold
#    write with --npy FILE the float images their PNG is drawn from: float32,
#    shape (N, C, H, W), the PNG's tiles in order (the labelled rows of
#    reconstruct, denoise and upscale row after row, each row whole however
#    --cols wraps the PNG into blocks); each tile of the PNG is those floats
#    rounded to bytes (the grid's scale and gaps, the rows' label column and
#    blocks taken into account); --npy alone writes no PNG;
#  - eval --per-image FILE writes each test image's loss, float32 (N,), whose
#    mean is eval's loss (a VAE's too: recon + KL);
#  - bad --npy / --per-image paths are refused with one line, nothing
#    written; a failed write leaves the PNG and the .npy as they were.
#
# usage: bash tests/cli_npy.sh /path/to/aekit
source "$(dirname "$0")/lib/cli_common.sh"
need_mnist
tests_dir=$(cd "$(dirname "$0")" && pwd)
"$PY" -c 'import numpy' 2>/dev/null || fail_early "$PY has no numpy (apt-get install python3-numpy)"

work=$tmp/work
mkdir -p "$work"
cd "$work" || exit 1

small=(--data mnist --epochs 1 --limit 512 --val-limit 100 --threads 2)
"$AEKIT" train --model conv --latent 2 "${small[@]}" --out "$tmp/conv" >/dev/null 2>"$tmp/setup.err" </dev/null &&
  "$AEKIT" train --model vae --latent 2 "${small[@]}" --out "$tmp/vae" >/dev/null 2>>"$tmp/setup.err" </dev/null &&
  "$AEKIT" train --model sr --scale 2 "${small[@]}" --out "$tmp/sr" >/dev/null 2>>"$tmp/setup.err" </dev/null
check "setup: a 2-D conv AE, a 2-D VAE and a super-resolution model" test $? -eq 0
conv=$tmp/conv/model.safetensors vae=$tmp/vae/model.safetensors sr=$tmp/sr/model.safetensors
"$AEKIT" encode "$conv" --limit 7 --out "$work/codes.npy" >/dev/null
"$PY" - "$work/in28.png" 28 "$work/in14.png" 14 <<'EOF'
import struct, sys, zlib
def png(path, side):
    raw = b"".join(b"\0" + bytes((x * 9 + y * 5) % 256 for x in range(side)) for y in range(side))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
png(sys.argv[1], int(sys.argv[2]))
png(sys.argv[3], int(sys.argv[4]))
EOF

# same_pixels NPY PNG N COLS SCALE [ROWS]: the .npy is float32 (N, 1, 28, 28),
# finite, and the PNG is its N images in a grid of COLS columns, each pixel
# drawn SCALE x SCALE with SCALE-pixel gaps, as ae_png_write_grid rounds them.
# With ROWS: the PNG is labelled rows (ae_picture_labelled_rows,
# aekit/pictures.h): ROWS rows of N / ROWS images, the .npy row after row;
# image k of row r in block k // COLS, column k % COLS, right of the
# 120-pixel label column (AE_PICTURE_LABEL_WIDTH), blocks 4 * SCALE
# (AE_PICTURE_BLOCK_GAP) white pixels apart.
cat >"$tmp/same_pixels.py" <<'EOF'
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from png_colours import read_png
npy, png, n, cols, s = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
nrows = int(sys.argv[7]) if len(sys.argv) > 7 else 0
c, h, w = 1, 28, 28
LABEL_WIDTH, BLOCK_GAP = 120, 4
a = np.load(npy)
if a.dtype != np.float32 or a.shape != (n, c, h, w):
    sys.exit("%s: dtype %s, shape %s; expected float32 (%d, %d, %d, %d)" % (npy, a.dtype, a.shape, n, c, h, w))
if not np.isfinite(a).all():
    sys.exit("%s: values that are not finite" % npy)
W, H, bpp, rows = read_png(png)
if nrows:
    per_row = n // nrows
    cols = min(cols, per_row)
    blocks = (per_row + cols - 1) // cols
    block_h = nrows * (h * s + s) - s
    want_wh = (LABEL_WIDTH + cols * (w * s + s) - s, blocks * block_h + (blocks - 1) * BLOCK_GAP * s)
    def tile_at(k):
        r, i = divmod(k, per_row)
        b, q = divmod(i, cols)
        return b * (block_h + BLOCK_GAP * s) + r * (h * s + s), LABEL_WIDTH + q * (w * s + s)
else:
    grid_rows = (n + cols - 1) // cols
    want_wh = (cols * (w * s + s) - s, grid_rows * (h * s + s) - s)
    def tile_at(k):
        r, q = divmod(k, cols)
        return r * (h * s + s), q * (w * s + s)
if (W, H) != want_wh:
    sys.exit("%s: %dx%d, expected %dx%d (%d tiles, %d per row, %d labelled rows, scale %d)"
             % (png, W, H, want_wh[0], want_wh[1], n, cols, nrows, s))
img = np.frombuffer(b"".join(rows), np.uint8).reshape(H, W, bpp)
# ae_png_write_grid's rounding, in float32 as in C: 0 below 0 (and NaN), 255 from 1
v = a.astype(np.float32)
byte = np.where(v >= 1, 255, np.floor(v * np.float32(255) + np.float32(0.5)))
byte = np.where(v > 0, byte, 0).astype(np.uint8)
for k in range(n):
    y0, x0 = tile_at(k)
    tile = img[y0:y0 + h * s, x0:x0 + w * s, :c].transpose(2, 0, 1)
    want = np.repeat(np.repeat(byte[k], s, axis=1), s, axis=2)
    if not np.array_equal(tile, want):
        bad = np.argwhere(tile != want)[0]
        sys.exit("%s: tile %d differs from %s at %s: %d, expected %d"
                 % (png, k, npy, tuple(bad), tile[tuple(bad)], want[tuple(bad)]))
EOF
same_pixels() { "$PY" "$tmp/same_pixels.py" "$tests_dir" "$@"; }

# ---- each command: the .npy is the PNG's floats --------------------------------------------
"$AEKIT" reconstruct "$conv" --n 5 --out r.png --npy r.npy >/dev/null &&
  check "reconstruct --n 5: (10, 1, 28, 28), the PNG's two labelled rows" same_pixels r.npy r.png 10 5 3 2
"$AEKIT" reconstruct "$conv" --n 7 --cols 3 --out rw.png --npy rw.npy >/dev/null &&
  check "reconstruct --n 7 --cols 3: (14, 1, 28, 28), all inputs then all outputs; the PNG 3 blocks" \
    same_pixels rw.npy rw.png 14 3 3 2
"$AEKIT" decode "$conv" codes.npy --cols 3 --out d.png --npy d.npy >/dev/null &&
  check "decode 7 codes --cols 3: (7, 1, 28, 28), the PNG's tiles (last row padded)" same_pixels d.npy d.png 7 3 3
"$AEKIT" sample "$vae" --n 5 --seed 3 --out s.png --npy s.npy >/dev/null &&
  check "sample --n 5: (5, 1, 28, 28), 3 per row" same_pixels s.npy s.png 5 3 3
"$AEKIT" denoise "$conv" --n 4 --noise gaussian:0.5,0.5 --out dn.png --npy dn.npy >/dev/null &&
  check "denoise --n 4: (12, 1, 28, 28), the rows noisy, denoised, clean" same_pixels dn.npy dn.png 12 10 3 3
"$AEKIT" denoise "$conv" --n 5 --cols 2 --noise gaussian:0.5,0.5 --out dnw.png --npy dnw.npy >/dev/null &&
  check "denoise --n 5 --cols 2: (15, 1, 28, 28), rows whole; the PNG 3 blocks of 3 rows" \
    same_pixels dnw.npy dnw.png 15 2 3 3
"$AEKIT" upscale "$sr" --n 3 --out up.png --npy up.npy >/dev/null &&
  check "upscale --n 3: (9, 1, 28, 28), the rows low-res, upscaled, original" same_pixels up.npy up.png 9 3 3 3
"$AEKIT" interpolate "$conv" --from 2 --to 5 --steps 6 --out i.png --npy i.npy >/dev/null &&
  check "interpolate --steps 6: (6, 1, 28, 28), one row" same_pixels i.npy i.png 6 6 3
"$AEKIT" manifold "$vae" --grid 4 --out m.png --npy m.npy >/dev/null &&
  check "manifold --grid 4: (16, 1, 28, 28), drawn at scale 2" same_pixels m.npy m.png 16 4 2
"$AEKIT" manifold "$vae" --grid 17 --out m17.png --npy m17.npy >/dev/null &&
  check "manifold --grid 17: (289, 1, 28, 28), drawn at scale 1" same_pixels m17.npy m17.png 289 17 1
"$AEKIT" denoise "$conv" in28.png one.png --npy one.npy >/dev/null &&
  check "denoise IN.png OUT.png --npy: (1, 1, 28, 28), OUT.png's pixels" same_pixels one.npy one.png 1 1 1
"$AEKIT" upscale "$sr" in14.png big.png --npy big.npy >/dev/null &&
  check "upscale IN.png OUT.png --npy: (1, 1, 28, 28), OUT.png's pixels" same_pixels big.npy big.png 1 1 1

# the top row of reconstruct's floats is the test images (bytes / 255)
"$PY" - r.npy <<'EOF' || failed=$((failed + 1))
import sys, numpy as np
a = np.load(sys.argv[1])
orig = a[:5]
if not np.array_equal((np.round(orig * 255) / np.float32(255)).astype(np.float32), orig):
    sys.exit("reconstruct --npy: the top row is not the test images' bytes / 255")
if not (a.min() >= 0 and a.max() <= 1):
    sys.exit("reconstruct --npy: values outside [0, 1]")
print("ok    reconstruct --npy: the top row is the test images, all values in [0, 1]")
EOF
[[ $? -eq 0 ]] && passed=$((passed + 1))

# ---- --npy alone: no PNG ------------------------------------------------------------------
mkdir -p "$work/alone" && cd "$work/alone" || exit 1
"$AEKIT" reconstruct "$conv" --n 2 --npy r.npy >"$logs/stdout" 2>"$logs/stderr"
check "reconstruct --npy alone: exit 0, the .npy and no reconstructions.png" \
  bash -c "[[ -f r.npy && ! -e reconstructions.png ]]"
"$AEKIT" sample "$vae" --n 4 --npy s.npy >/dev/null && "$AEKIT" manifold "$vae" --grid 3 --npy m.npy >/dev/null &&
  "$AEKIT" decode "$conv" ../codes.npy --npy d.npy >/dev/null &&
  "$AEKIT" interpolate "$conv" --npy i.npy >/dev/null && "$AEKIT" denoise "$conv" --n 2 --npy dn.npy >/dev/null &&
  "$AEKIT" upscale "$sr" --n 2 --npy up.npy >/dev/null && "$AEKIT" denoise "$conv" ../in28.png --npy one.npy >/dev/null
check "every command with --npy alone: only .npy files" \
  bash -c "[[ \$(ls | sort | tr '\n' ' ') == 'd.npy dn.npy i.npy m.npy one.npy r.npy s.npy up.npy ' ]]"
cd "$work" || exit 1
"$AEKIT" sample "$vae" --n 4 --seed 3 --npy s4.npy >/dev/null
"$PY" -c 'import sys, numpy as np; sys.exit(not np.array_equal(np.load("s4.npy"), np.load("s.npy")[:4]))'
check "sample --npy alone: the same images as with the PNG (the same seed)" test $? -eq 0

# ---- eval --per-image: each image's loss, their mean is eval's -------------------------------
# mean_is_loss NPY N JSON: NPY is float32 (N,), its mean eval's "loss" in JSON
mean_is_loss() {
  "$PY" - "$@" <<'EOF'
import json, sys, numpy as np
a, n, res = np.load(sys.argv[1]), int(sys.argv[2]), json.load(open(sys.argv[3]))
if a.dtype != np.float32 or a.shape != (n,):
    sys.exit("%s: dtype %s, shape %s; expected float32 (%d,)" % (sys.argv[1], a.dtype, a.shape, n))
mean = a.astype(np.float64).mean()
if not abs(mean - res["loss"]) <= 1e-6 * abs(res["loss"]):
    sys.exit("%s: mean %.9g, eval's loss %.9g" % (sys.argv[1], mean, res["loss"]))
if a.std() == 0:
    sys.exit("%s: every image has the same loss" % sys.argv[1])
EOF
}
"$AEKIT" eval "$conv" --limit 700 --json --per-image conv.npy >conv.json
check "eval --per-image (conv, BCE): float32 (700,), mean = eval's loss" mean_is_loss conv.npy 700 conv.json
check "  ... stdout is the JSON object alone" "$PY" -c 'import json, sys; json.load(open(sys.argv[1]))' conv.json
"$AEKIT" eval "$vae" --limit 1000 --json --per-image vae.npy >vae.json
check "eval --per-image (VAE: recon + KL, sampled): mean = eval's loss" mean_is_loss vae.npy 1000 vae.json
"$AEKIT" eval "$sr" --limit 300 --threads 1 --json --per-image sr.npy >sr.json
check "eval --per-image (super-resolution, 1 thread): mean = eval's loss" mean_is_loss sr.npy 300 sr.json
"$AEKIT" eval "$conv" --limit 50 --per-image text.npy >text.out
check "eval --per-image, text: the loss line, then a line naming the file" \
  bash -c "[[ \$(wc -l <text.out) -eq 2 ]] && grep -q '^text.npy: the loss of each of the 50 test images' text.out"

# ---- refusals: one line, nothing written --------------------------------------------------
mkdir -p "$tmp/afolder"
cp "$conv" "$work/model.safetensors"
expect_error "--npy into a missing folder"   1 "--npy nowhere/x.npy: folder nowhere" - -- \
  "$AEKIT" reconstruct "$conv" --n 2 --out p.png --npy nowhere/x.npy
check "  ... and no PNG either" test ! -e "$work/p.png"
expect_error "--npy a folder"                1 "--npy $tmp/afolder" - -- "$AEKIT" sample "$vae" --n 2 --npy "$tmp/afolder"
expect_error "--npy MODEL"                   1 "the output would replace that input" - -- \
  "$AEKIT" decode model.safetensors codes.npy --npy model.safetensors
expect_error "--npy CODES.npy"               1 "is CODES.npy" - -- "$AEKIT" decode "$conv" codes.npy --npy ./codes.npy
expect_error "--npy IN.png"                  1 "is IN.png" - -- "$AEKIT" denoise "$conv" in28.png --npy in28.png
expect_error "--npy and --out on one file"   1 "the same file" - -- "$AEKIT" manifold "$vae" --out x.npy --npy ./x.npy
expect_error "--npy into the data set's folder" 1 "inside the folder of data set" - -- \
  "$AEKIT" interpolate "$conv" --npy "$mnist/x.npy"
expect_error "--npy empty"                   2 "--npy" - -- "$AEKIT" upscale "$sr" --npy=
expect_error "denoise IN.png without OUT.png or --npy" 2 "missing OUT.png" - -- "$AEKIT" denoise "$conv" in28.png
expect_error "eval --per-image MODEL"        1 "--per-image model.safetensors: is MODEL" - -- \
  "$AEKIT" eval model.safetensors --per-image model.safetensors
expect_error "eval --per-image with a list of data sets" 2 "--per-image l.npy: one data set" l.npy -- \
  "$AEKIT" eval "$conv" --data mnist,mnist --per-image l.npy
expect_error "eval --per-image into the model's data folder" 1 "inside the folder of data set mnist" - -- \
  "$AEKIT" eval "$conv" --per-image "$mnist/l.npy"
expect_error "eval --per-image a folder"     1 "--per-image $tmp/afolder" - -- "$AEKIT" eval "$conv" --per-image "$tmp/afolder"
check "model unchanged" cmp -s "$conv" "$work/model.safetensors"

# ---- a failed write leaves both outputs as they were ----------------------------------------
# The PNG's and the .npy's renames are one group: the second fails (ENOSPC
# injected), so the first is put back.
if can_strace; then
  "$AEKIT" reconstruct "$conv" --n 3 --out g.png --npy g.npy >/dev/null
  cp g.png "$tmp/g.png.before"
  cp g.npy "$tmp/g.npy.before"
  n=$(renames_until g.npy "$AEKIT" reconstruct "$conv" --n 4 --out "$work/g.png" --npy "$work/g.npy")
  check "  (the .npy is renamed after the PNG: rename $n)" test "${n:-0}" -ge 2
  cp "$tmp/g.png.before" g.png
  cp "$tmp/g.npy.before" g.npy
  at_rename "$n" error=ENOSPC "$AEKIT" reconstruct "$conv" --n 4 --out "$work/g.png" --npy "$work/g.npy" >/dev/null 2>"$tmp/g.err"
  rc=$?
  check "reconstruct: the .npy's rename fails: exit 1, one line" \
    bash -c "[[ $rc -eq 1 && \$(grep -c '^aekit reconstruct:' '$tmp/g.err') -eq 1 ]]"
  check "  ... the PNG and the .npy as they were, no temporaries" \
    bash -c "cmp -s g.png '$tmp/g.png.before' && cmp -s g.npy '$tmp/g.npy.before' && [[ -z \$(find . -name '.*aekit-*') ]]"
else
  echo "note  a failed .npy rename: skipped (no strace, or ptrace not allowed)"
fi

summary
