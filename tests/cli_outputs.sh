#!/usr/bin/env bash
# Output files that must not destroy other files (docs/failure-modes.md):
#  - every file a command writes is created new (O_CREAT|O_EXCL|O_NOFOLLOW,
#    a name no one can predict): symlinks planted at the names the old
#    temporary files had (NAME.tmp.PID, the write probe) redirect nothing,
#    and, under strace, no command opens an existing file for writing;
#  - a symlink at an output's final name is replaced, not written through;
#  - an output that is a folder, device, FIFO or socket, or a symlink to
#    one, is refused (every command, the files of run and PCA folders);
#  - an output that is an input (the same file by device and inode, a hard
#    link, the input's symlink), two outputs on one file, and an output
#    inside the data set's folder are refused before any work;
#  - a command writing several files that fails leaves all of them as they
#    were (encode --out/--labels, pca --out).
#
# usage: bash tests/cli_outputs.sh /path/to/aekit
source "$(dirname "$0")/lib/cli_common.sh"
need_mnist

trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
work=$tmp/work
mkdir -p "$work"
cd "$work" || exit 1

"$AEKIT" train --model conv --latent 2 --data mnist --epochs 1 --limit 512 --val-limit 100 --threads 2 \
  --out "$tmp/run" >/dev/null 2>"$tmp/setup.err" </dev/null
check "setup: a model with a 2-D latent" test $? -eq 0 -a -f "$tmp/run/model.safetensors"
model=$work/model.safetensors
cp "$tmp/run/model.safetensors" "$model"
cp "$model" "$tmp/model.before"
"$PY" - "$work/in.png" <<'EOF'
import struct, sys, zlib
w = h = 28
raw = b"".join(b"\0" + bytes((x * 9) % 256 for x in range(w)) for _ in range(h))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                             + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
EOF
"$AEKIT" encode "$model" --limit 5 --out "$work/codes.npy" >/dev/null 2>&1

# ---- symlinks planted where the temporary files used to be ---------------------------------
# The old names were NAME.tmp.PID; bash -c plants links with its own PID,
# which exec hands on to aekit.
victim=$tmp/victim
echo "someone else's file" >"$tmp/victim.before"
plant_run() {  # plant_run DIR NAME... -- COMMAND...
  local dir=$1
  shift
  local names=()
  while [[ $1 != -- ]]; do names+=("$1"); shift; done
  shift
  cp "$tmp/victim.before" "$victim"
  bash -c 'dir=$1 victim=$2 n=$3; shift 3
           for name in "${@:1:$n}"; do ln -sf "$victim" "$dir/$name.$$"; done
           shift "$n"; exec "$@"' _ "$dir" "$victim" "${#names[@]}" "${names[@]}" "$@" \
    >/dev/null 2>"$tmp/plant.err" </dev/null
}
plant_run "$work" p.png.tmp -- "$AEKIT" reconstruct "$model" --n 2 --out "$work/p.png"
check "reconstruct: a symlink at NAME.tmp.PID redirects nothing" \
  bash -c "cmp -s '$tmp/victim.before' '$victim' && [[ -f '$work/p.png' && ! -L '$work/p.png' ]]"
plant_run "$work" c.npy.tmp l.npy.tmp -- "$AEKIT" encode "$model" --limit 5 --out "$work/c.npy" --labels "$work/l.npy"
check "encode: symlinks at NAME.tmp.PID redirect nothing" \
  bash -c "cmp -s '$tmp/victim.before' '$victim' && [[ -f '$work/c.npy' && ! -L '$work/c.npy' && ! -L '$work/l.npy' ]]"
mkdir -p "$tmp/planted"
plant_run "$tmp/planted" .aekit-write-test metrics.csv.tmp loss.png.tmp model.safetensors.tmp \
  checkpoint.safetensors.tmp index.html.tmp samples.png.tmp -- \
  "$AEKIT" train --model conv --data mnist --epochs 1 --limit 256 --val-limit 100 --threads 2 --out "$tmp/planted"
check "train: symlinks at the write probe's and the temporaries' names redirect nothing" \
  bash -c "cmp -s '$tmp/victim.before' '$victim' && [[ -f '$tmp/planted/model.safetensors' && ! -L '$tmp/planted/metrics.csv' ]]"

# ---- a symlink at the final name is replaced --------------------------------------------------
cp "$tmp/victim.before" "$victim"
ln -s "$victim" "$work/link.png"
"$AEKIT" sample "$model" --n 4 --out "$work/link.png" >/dev/null 2>&1
check "sample --out SYMLINK: the link is replaced by the PNG, its target untouched" \
  bash -c "[[ -f '$work/link.png' && ! -L '$work/link.png' ]] && cmp -s '$tmp/victim.before' '$victim'"
ln -s "$model" "$work/to-model.png"
"$AEKIT" reconstruct "$model" --n 2 --out "$work/to-model.png" >/dev/null 2>&1
check "reconstruct MODEL --out a symlink to MODEL: the link is replaced, the model untouched" \
  bash -c "[[ $? -eq 0 && -f '$work/to-model.png' && ! -L '$work/to-model.png' ]] && cmp -s '$tmp/model.before' '$model'"

# ---- an output that is not a file: refused, left as it is ------------------------------------
# The rename would put a regular file in place of a device node, a FIFO or
# a socket (as root, --out /dev/null destroyed /dev/null) or of what a
# symlink points to. Device nodes need root (mknod): a copy of /dev/null's
# here, never /dev/null itself.
mkdir -p "$tmp/nodes"
mkfifo "$tmp/nodes/fifo"
ln -s "$tmp/nodes/fifo" "$tmp/nodes/to-fifo"
ln -s /dev/null "$tmp/nodes/to-null"
"$PY" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$tmp/nodes/sock"
nodes=(fifo to-fifo to-null sock)
if mknod "$tmp/nodes/null" c 1 3 2>/dev/null; then
  nodes+=(null)
else
  echo "note  not root: the device node case (a copy of /dev/null) is skipped; the link to /dev/null runs"
fi
ls -l "$tmp/nodes" >"$tmp/nodes.before"
for node in "${nodes[@]}"; do
  expect_error "sample --out $node" 1 "--out $tmp/nodes/$node: " - -- \
    "$AEKIT" sample "$model" --n 1 --out "$tmp/nodes/$node"
done
expect_error "denoise IN.png OUT.png, OUT.png a FIFO" 1 "OUT.png $tmp/nodes/fifo: is a FIFO, not a regular file" - -- \
  "$AEKIT" denoise "$model" in.png "$tmp/nodes/fifo"
expect_error "encode --labels a link to /dev/null" 1 "--labels $tmp/nodes/to-null: a symbolic link to a character device" - -- \
  "$AEKIT" encode "$model" --limit 5 --out e2.npy --labels "$tmp/nodes/to-null"
check "  ... and every node as it was" bash -c "ls -l '$tmp/nodes' | cmp -s - '$tmp/nodes.before'"
# the files of a run folder and of a PCA folder too
cp -a "$tmp/run" "$tmp/run-fifo"
mkfifo "$tmp/run-fifo/samples.png.new" && mv "$tmp/run-fifo/samples.png.new" "$tmp/run-fifo/samples.png"
rm "$tmp/run-fifo/index.html"                                 # a folder --resume would finish
expect_error "train --resume: samples.png a FIFO" 1 "--resume $tmp/run-fifo/samples.png: is a FIFO" - -- \
  "$AEKIT" train --resume "$tmp/run-fifo"
expect_error "train --force: samples.png a FIFO" 1 "--out $tmp/run-fifo/samples.png: is a FIFO" - -- \
  "$AEKIT" train --model conv --data mnist --epochs 1 --limit 256 --val-limit 100 --out "$tmp/run-fifo" --force
check "  ... the FIFO left" test -p "$tmp/run-fifo/samples.png"
mkdir -p "$tmp/pca-fifo"
mkfifo "$tmp/pca-fifo/codes.npy"
expect_error "pca: codes.npy a FIFO" 1 "--out $tmp/pca-fifo/codes.npy: is a FIFO" - -- \
  "$AEKIT" pca --data mnist --components 2 --limit 300 --out "$tmp/pca-fifo"
check "  ... the FIFO left, nothing written" bash -c "[[ -p '$tmp/pca-fifo/codes.npy' && \$(ls -A '$tmp/pca-fifo') == codes.npy ]]"

# ---- no command opens an existing file for writing (strace) ---------------------------------
# Every open that may write (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC) of a file
# under the test folder must create a new file (O_EXCL|O_NOFOLLOW); the one
# exception is a run folder's lock file, opened O_NOFOLLOW and never truncated.
if strace -f -qq -e trace=open,openat -o "$tmp/probe.trace" true 2>/dev/null; then
  audit() {  # audit NAME COMMAND...
    local name=$1
    shift
    # (LeakSanitizer cannot run under ptrace: an ASan build checks leaks elsewhere)
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
      strace -f -qq -e trace=open,openat,creat -o "$tmp/trace" "$@" >/dev/null 2>"$tmp/audit.err" </dev/null
    local rc=$?
    "$PY" - "$tmp/trace" "$tmp" >"$tmp/unsafe" <<'EOF'
import re, sys
trace, root = sys.argv[1], sys.argv[2]
for line in open(trace, errors="replace"):
    m = re.search(r'(?:openat|open|creat)\((?:AT_FDCWD, |\d+, )?"([^"]*)", ([A-Z_|]+)', line)
    if not m:
        continue
    path, flags = m.group(1), set(m.group(2).split("|"))
    if path.startswith("/") and not path.startswith(root):
        continue                      # libraries, fonts, /proc: not aekit's outputs
    if not flags & {"O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC"}:
        continue
    lock = path.endswith("/.aekit.lock") and "O_NOFOLLOW" in flags and "O_TRUNC" not in flags
    if not lock and not {"O_CREAT", "O_EXCL", "O_NOFOLLOW"} <= flags:
        print(path, "|".join(sorted(flags)))
EOF
    if [[ -s $tmp/unsafe ]]; then sed 's/^/      opened unsafely: /' "$tmp/unsafe" | head -n 5; fi
    check "strace: $name opens no existing file for writing" bash -c "[[ $rc -eq 0 && ! -s '$tmp/unsafe' ]]"
  }
  audit "train" "$AEKIT" train --model conv --data mnist --epochs 1 --limit 256 --val-limit 100 --threads 2 \
    --checkpoint-every 1 --out "$tmp/audited"
  audit "reconstruct" "$AEKIT" reconstruct "$model" --n 2 --out "$work/a.png"
  audit "denoise IN OUT" "$AEKIT" denoise "$model" "$work/in.png" "$work/a2.png"
  audit "encode --labels" "$AEKIT" encode "$model" --limit 5 --out "$work/a.npy" --labels "$work/al.npy"
  audit "decode" "$AEKIT" decode "$model" "$work/codes.npy" --out "$work/a3.png"
  audit "sample" "$AEKIT" sample "$model" --n 4 --out "$work/a4.png"
  audit "manifold" "$AEKIT" manifold "$model" --grid 3 --out "$work/a5.png"
  audit "scatter" "$AEKIT" scatter "$model" --limit 100 --out "$work/a6.png"
  audit "perturb" "$AEKIT" perturb "$model" --sigma 0.5 --n 2 --out "$work/a7.png"
  audit "interpolate" "$AEKIT" interpolate "$model" --steps 3 --out "$work/a8.png"
  audit "pca" "$AEKIT" pca --data mnist --components 2 --limit 300 --out "$work/pca"
  audit "reconstruct --out --npy" "$AEKIT" reconstruct "$model" --n 2 --out "$work/a9.png" --npy "$work/a9.npy"
  audit "eval --per-image" "$AEKIT" eval "$model" --limit 100 --per-image "$work/a10.npy"
else
  echo "note  strace cannot trace here: the audit of open flags is skipped"
fi

# ---- an output that is an input ----------------------------------------------------------------
expect_error "reconstruct MODEL --out MODEL" 1 "--out $model" - -- "$AEKIT" reconstruct "$model" --out "$model"
check "  ... the model untouched" cmp -s "$tmp/model.before" "$model"
ln -s "$model" "$work/model-link.safetensors"
expect_error "reconstruct LINK --out the file it links to" 1 "model.safetensors" - -- \
  "$AEKIT" reconstruct "$work/model-link.safetensors" --out "$model"
ln "$model" "$work/model-hard.safetensors"
expect_error "sample MODEL --out a hard link to it" 1 "model-hard.safetensors" - -- \
  "$AEKIT" sample "$model" --out "$work/model-hard.safetensors"
check "  ... the model untouched" cmp -s "$tmp/model.before" "$model"
expect_error "manifold MODEL --out ./MODEL" 1 "--out ./model.safetensors" - -- "$AEKIT" manifold "$model" --out ./model.safetensors
cp codes.npy "$tmp/codes.before"
expect_error "decode MODEL CODES --out CODES" 1 "CODES.npy" - -- "$AEKIT" decode "$model" codes.npy --out codes.npy
check "  ... the codes untouched" cmp -s "$tmp/codes.before" codes.npy
cp in.png "$tmp/in.before"
expect_error "denoise MODEL IN.png IN.png" 1 "IN.png" - -- "$AEKIT" denoise "$model" in.png "$work/in.png"
check "  ... the image untouched" cmp -s "$tmp/in.before" in.png
expect_error "encode --out S --labels ./S" 1 "the same file" - -- "$AEKIT" encode "$model" --out s.npy --labels ./s.npy
check "  ... writing nothing" test ! -e s.npy
expect_error "encode --labels MODEL" 1 "--labels" - -- "$AEKIT" encode "$model" --out e.npy --labels "$model"
mkdir -p "$tmp/finetune"
cp "$model" "$tmp/finetune/model.safetensors"
expect_error "train --init DIR/model.safetensors --out DIR" 1 "--init $tmp/finetune/model.safetensors" - -- \
  "$AEKIT" train --init "$tmp/finetune/model.safetensors" --data mnist --epochs 1 --limit 256 --out "$tmp/finetune" --force
check "  ... the model untouched" cmp -s "$tmp/model.before" "$tmp/finetune/model.safetensors"

# ---- an output inside the data set's folder --------------------------------------------------
make_idx "$tmp/small" 64 16 28
cp -a "$tmp/small" "$tmp/small.before"
expect_error "reconstruct --out into the --data folder" 1 "inside the folder of data set" - -- \
  "$AEKIT" reconstruct "$model" --data "$tmp/small" --out "$tmp/small/r.png"
expect_error "encode --labels into the --data folder" 1 "--labels $tmp/small/t10k-labels-idx1-ubyte" - -- \
  "$AEKIT" encode "$model" --data "$tmp/small" --out e.npy --labels "$tmp/small/t10k-labels-idx1-ubyte"
expect_error "train --out in a subfolder of the --data folder, named as given" 1 "--out $tmp/small/runs/one: inside the folder of data set" - -- \
  "$AEKIT" train --model conv --data "$tmp/small" --epochs 1 --out "$tmp/small/runs/one"
expect_error "pca --out the --data folder, named as given" 1 "--out $tmp/small: inside the folder of data set" - -- \
  "$AEKIT" pca --data "$tmp/small" --components 2 --out "$tmp/small"
check "  ... the data set untouched" diff -r "$tmp/small.before" "$tmp/small"

# ---- several outputs: all replaced, or none ------------------------------------------------------
# pca into a folder of an earlier PCA, the disk full at the rename of
# components.png (ENOSPC injected with strace), after the other files were
# ready and renamed.
"$AEKIT" pca --data "$tmp/small" --components 2 --out "$tmp/pca" >/dev/null 2>&1
cp -a "$tmp/pca" "$tmp/pca.before"
if can_strace; then
  cp -a "$tmp/pca" "$tmp/pca.probe"
  n=$(renames_until components.png "$AEKIT" pca --data "$tmp/small" --components 3 --out "$tmp/pca.probe")
  at_rename "$n" error=ENOSPC "$AEKIT" pca --data "$tmp/small" --components 3 --out "$tmp/pca" >/dev/null 2>"$tmp/pca.err"
  rc=$?
  echo "  $(cat "$tmp/pca.err")"
  check "pca: one of its files cannot be replaced: exit 1, one line naming it" \
    bash -c "[[ $rc -eq 1 ]] && grep -q 'components.png: write failed: No space left on device' '$tmp/pca.err' && [[ \$(wc -l <'$tmp/pca.err') -eq 1 ]]"
  check "  ... the earlier PCA's files as they were" diff -r "$tmp/pca.before" "$tmp/pca"
  check "  ... no temporary file left" no_temps "$tmp/pca"
else
  echo "note  strace cannot trace here: a PCA whose last file cannot be written is skipped"
fi

# encode --labels into a folder it cannot write: the --out file of an
# earlier encode stays (root: as user nobody, or skipped).
mkdir -p "$tmp/enc" "$tmp/enc/ro"
"$AEKIT" encode "$model" --data "$tmp/small" --limit 5 --out "$tmp/enc/codes.npy" >/dev/null 2>&1
cp "$tmp/enc/codes.npy" "$tmp/enc-codes.before"
chmod a-w "$tmp/enc/ro"
as=()
if touch "$tmp/enc/ro/.probe" 2>/dev/null; then          # root: permissions do not apply
  rm -f "$tmp/enc/ro/.probe"
  chmod 755 "$tmp" "$work"
  chmod 777 "$tmp/enc"
  chmod 644 "$model"
  if command -v setpriv >/dev/null &&
     setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$AEKIT" -a -r "$model" -a -r "$tmp/small" 2>/dev/null; then
    as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  else
    as=(skip)
  fi
fi
if [[ ${as[0]:-} == skip ]]; then
  echo "note  encode --labels into a read-only folder: skipped (root, and user nobody cannot run aekit)"
else
  "${as[@]}" "$AEKIT" encode "$model" --data "$tmp/small" --limit 10 --out "$tmp/enc/codes.npy" \
    --labels "$tmp/enc/ro/labels.npy" >/dev/null 2>"$tmp/enc.err"
  rc=$?
  echo "  $(cat "$tmp/enc.err")${as[0]:+ (as user nobody)}"
  check "encode: --labels cannot be written: exit 1" test $rc -eq 1
  check "  ... the earlier --out file untouched" cmp -s "$tmp/enc-codes.before" "$tmp/enc/codes.npy"
  check "  ... no temporary file left" no_temps "$tmp/enc"
fi
chmod u+w "$tmp/enc/ro"

summary
