# Shared by the bench scripts (sourced after their flags are parsed; needs
# ROOT and BUILD set): where results, the build and the data live, the two
# BLAS folders torch is pointed at, and the Release build of aekit.
OUT=${BENCH_OUT:-/tmp/aekit-bench}
BDIR=${BENCH_BUILD:-$OUT/build}
DATA=${AEKIT_DATA:-$ROOT/data}
PY=/usr/bin/python3
REF_BLAS=/usr/lib/x86_64-linux-gnu/blas
OBLAS=/usr/lib/x86_64-linux-gnu/openblas-pthread
AEKIT=$BDIR/aekit
mkdir -p "$OUT"

# need_mnist SCRIPT FILE: exit with a message unless data/mnist/FILE[.gz] exists.
need_mnist() {
    [ -f "$DATA/mnist/$2" ] || [ -f "$DATA/mnist/$2.gz" ] ||
        { echo "$1: no MNIST in $DATA/mnist (scripts/fetch-mnist.sh)" >&2; exit 1; }
}

# build_aekit SCRIPT: the Release build into $BDIR (unless --no-build), then
# exit with a message if the binary is missing.
build_aekit() {
    if [ "$BUILD" = 1 ]; then
        echo "building aekit (Release) in $BDIR ..." >&2
        cmake -S "$ROOT" -B "$BDIR" -DCMAKE_BUILD_TYPE=Release -DAEKIT_TESTS=OFF \
            -DAEKIT_EXAMPLES=OFF >"$OUT/cmake.log" 2>&1 || { cat "$OUT/cmake.log" >&2; exit 1; }
        cmake --build "$BDIR" -j"$(nproc)" --target aekit >>"$OUT/cmake.log" 2>&1 ||
            { tail -30 "$OUT/cmake.log" >&2; exit 1; }
    fi
    [ -x "$AEKIT" ] || { echo "$1: no $AEKIT (drop --no-build)" >&2; exit 1; }
}
