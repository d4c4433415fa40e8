#!/usr/bin/env bash
# Checks that aekit's public API is enough for its own users: installs the
# library of a build folder into a temporary prefix, then builds the CLI
# (src/cli/*.c) and every examples/*.c against that install only (the
# compiler and linker flags of its aekit.pc, the installed headers and
# libraries; no source folder on the include path), runs the built
# aekit --version, checks that the installed aekit and libaekit.so start
# without LD_LIBRARY_PATH (their RUNPATH), trains one epoch with the
# installed aekit and runs the pictures example on that model (also without
# LD_LIBRARY_PATH), each checked by the files it wrote; then imports the
# installed Python package (PYTHONPATH alone) and encodes with it.
#   scripts/check-install.sh [BUILD_DIR]        (default: build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${1:-build/release}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
pc=$(find "$tmp/prefix" -name aekit.pc -print -quit)
[[ -n $pc ]] || { echo "check-install: no aekit.pc installed" >&2; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
# (each pkg-config call on its own line: a failure stops the script here)
cflags_text=$(pkg-config --cflags aekit)
libs_text=$(pkg-config --libs aekit)
libdir=$(pkg-config --variable=libdir aekit)
read -r -a cflags <<<"$cflags_text"
read -r -a libs <<<"$libs_text"
cc=${CC:-cc}
flags=(-std=c11 -O2 -Wall -Wextra -Werror "${cflags[@]}")
link=("${libs[@]}" -lm "-Wl,-rpath,$libdir")

echo "== the CLI built on the installed headers and library"
# src/cli holds only the CLI's own headers: nothing of the library's src/;
# aekit serve's page compiled in as CMake does, and its HTTP server
cmake -DIN=src/cli/serve_page.html -DOUT="$tmp/serve_page_data.c" -DNAME=serve_page_html \
  -P cmake/embed_text.cmake
mhd_text=$(pkg-config --cflags --libs libmicrohttpd)
read -r -a mhd <<<"$mhd_text"
# (without MPI: the library's public API is what this checks)
"$cc" "${flags[@]}" -I src/cli src/cli/*.c src/cli/mpi/train_ranks_none.c "$tmp/serve_page_data.c" "${link[@]}" "${mhd[@]}" -pthread \
  -o "$tmp/aekit"
for ex in examples/*.c; do
  echo "== $ex built on the install"
  "$cc" "${flags[@]}" "$ex" "${link[@]}" -o "$tmp/$(basename "$ex" .c)"
done

# The Python package as installed (AEKIT_PYTHON_DIR under the prefix, its
# _paths.py naming the installed libdir), imported from a folder outside the
# source tree with PYTHONPATH alone: one encode on the model trained here
# (or on a preset), checked against `aekit encode` when there is a model.
check_python() {
  local model=$1 py=/usr/bin/python3
  [[ -x $py ]] || py=$(command -v python3 || true)
  if [[ -z $py ]] || ! "$py" -c 'import numpy' 2>/dev/null; then
    echo "(no python3 with numpy: the Python package not checked)"
    return 0
  fi
  local init
  init=$(find "$tmp/prefix" -path '*/aekit/__init__.py' -print -quit)
  [[ -n $init ]] || { echo "check-install: no Python package aekit installed" >&2; exit 1; }
  local pydir
  pydir=$(dirname "$(dirname "$init")")
  if [[ -n $model ]]; then
    AEKIT_DATA=$root/data "$tmp/aekit" encode "$model" --data mnist --limit 100 --threads 2 \
      --out "$tmp/codes.npy" >/dev/null
  fi
  (cd "$tmp" && env -u AEKIT_LIB PYTHONPATH="$pydir" AEKIT_DATA="$root/data" "$py" - "$tmp/prefix" "$model" <<'PY'
import os, sys
import numpy as np
import aekit, aekit._lib
prefix, model = os.path.realpath(sys.argv[1]), sys.argv[2]
for what, path in (("package", aekit.__file__), ("library", aekit._lib.path)):
    if not os.path.realpath(path).startswith(prefix + os.sep):
        sys.exit("check-install: the %s came from %s, not the install in %s" % (what, path, prefix))
if model:
    m = aekit.load(model)
    codes = m.encode(aekit.datasets.load("mnist", limit=100)[2], threads=2)
    if codes.tobytes() != np.load("codes.npy").tobytes():
        sys.exit("check-install: the installed package's codes differ from aekit encode's")
else:
    m = aekit.Model.from_preset("conv")
    codes = m.encode(np.zeros((3, 1, 28, 28), np.float32))
print("python: aekit %s from %s, %d codes of %d values" % (
    aekit.__version__, os.path.dirname(aekit.__file__), codes.shape[0], codes.shape[1]))
PY
  )
}

want=$(sed -n 's/^#define AEKIT_VERSION "\([^"]*\)".*/\1/p' include/aekit.h)
got=$("$tmp/aekit" --version)
[[ $got == "aekit $want" ]] || { echo "check-install: --version says '$got', not 'aekit $want'" >&2; exit 1; }
echo "$got"

echo "== the installed aekit and libaekit.so start without LD_LIBRARY_PATH"
# their RUNPATH (or the system's folders) must find every library they need
for f in "$tmp/prefix/bin/aekit" "$libdir/libaekit.so" "$tmp/pictures_and_report"; do
  missing=$(env -u LD_LIBRARY_PATH ldd "$f" | grep 'not found' || true)
  [[ -z $missing ]] || { echo "check-install: $f needs LD_LIBRARY_PATH: $missing" >&2; exit 1; }
done
got=$(env -u LD_LIBRARY_PATH "$tmp/prefix/bin/aekit" --version)
[[ $got == "aekit $want" ]] || { echo "check-install: the installed aekit --version says '$got'" >&2; exit 1; }
if [[ -d $root/data/mnist ]]; then
  AEKIT_DATA=$root/data env -u LD_LIBRARY_PATH "$tmp/prefix/bin/aekit" train --model conv --data mnist --limit 256 --val-limit 64 \
    --epochs 1 --threads 2 --out "$tmp/run" >/dev/null
  "$tmp/aekit" info "$tmp/run/model.safetensors" >/dev/null     # the CLI built on the install reads it
  # the example writes into a folder of its own: what is there, it made
  mkdir "$tmp/pics"
  AEKIT_DATA=$root/data env -u LD_LIBRARY_PATH "$tmp/pictures_and_report" "$tmp/run/model.safetensors" \
    mnist "$tmp/pics" >/dev/null
  for f in index.html latent.png rows.png; do
    [[ -s $tmp/pics/$f ]] || { echo "check-install: the example did not write $f" >&2; exit 1; }
  done
  echo "trained, drawn and reported with the installed library"
  check_python "$tmp/run/model.safetensors"
else
  "$tmp/aekit" info --help >/dev/null
  echo "(no data/mnist: trained nothing; aekit info --help ran)"
  check_python ""
fi
echo "check-install: ok"
