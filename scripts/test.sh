#!/usr/bin/env bash
# Builds aekit and runs the whole test suite twice: an optimised build with
# warnings as errors (its unit tests also on the portable and AVX2 kernels),
# then the same tests under AddressSanitizer and UndefinedBehaviorSanitizer,
# and the concurrent-use tests under ThreadSanitizer.
# Then the browser test of aekit serve's page, a short fuzzing run of every parser, the CLI and the examples built
# on an installed library alone (scripts/check-install.sh), the API example, the Python lesson,
# and a training under valgrind.
# Installs missing Debian packages and fetches MNIST first (the end-to-end
# tests train on it).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc)

scripts/setup.sh
scripts/fetch-mnist.sh data/mnist

echo "== release build (-O3, -Werror)"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DAEKIT_WERROR=ON >/dev/null
cmake --build build/release -j"$jobs"
(cd build/release && ctest --output-on-failure -j"$jobs")
# The kernels are chosen at run time (src/core/cpu.c): the unit tests
# (gradient checks, PyTorch parity) again on each other path this CPU can run.
for simd in portable avx2; do
  echo "== unit tests on the $simd kernels (AEKIT_SIMD=$simd)"
  (cd build/release && AEKIT_SIMD=$simd ctest --output-on-failure -j"$jobs" -R '^test_')
done

echo "== aekit serve's page in a real browser (headless chromium, playwright-core)"
# exit 77: chromium or playwright-core missing. scripts/setup.sh installs both,
# so that is a failure here, unless AEKIT_SKIP_BROWSER=1 asks to skip it.
if [ "${AEKIT_SKIP_BROWSER:-0}" = 1 ]; then
  echo "SKIP  the browser test (AEKIT_SKIP_BROWSER=1)"
else
  rc=0
  # the page as the test left it: build/release/serve-page.png (a CI artefact)
  bash tests/browser/serve_page.sh build/release/aekit build/release/serve-page.png || rc=$?
  if [ $rc -eq 77 ]; then
    echo "FAIL  the browser test could not run (chromium or playwright-core missing: run scripts/setup.sh," \
         "or set AEKIT_SKIP_BROWSER=1 to skip it)"
    exit 1
  fi
  [ $rc -eq 0 ] || exit $rc
fi

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAEKIT_SANITIZE=ON -DAEKIT_WERROR=ON >/dev/null
cmake --build build/asan -j"$jobs"
(cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
   LSAN_OPTIONS=suppressions="$root/tests/lsan.supp":print_suppressions=0 \
   ctest --output-on-failure -j"$jobs")

echo "== ThreadSanitizer build: one model used by several threads at once"
# Only the tests whose threads TSan can follow: pthreads sharing one model
# (each call on one OpenMP thread) and concurrent BLIS calls. libgomp is not
# built for TSan: the hand-off between a caller and its own OpenMP workers
# goes through futexes TSan cannot see, so tests running OpenMP teams
# (test_threads, or a 2-thread call inside each pthread) report false races
# on the parallel region's shared variables.
cmake -S . -B build/tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAEKIT_TSAN=ON -DAEKIT_WERROR=ON >/dev/null
cmake --build build/tsan -j"$jobs" --target test_concurrent_encode test_dense_threads
# setarch -R: no address-space randomisation (TSan's shadow memory cannot
# map on kernels that randomise with more bits, vm.mmap_rnd_bits = 32)
for t in test_concurrent_encode test_dense_threads; do
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 setarch "$(uname -m)" -R build/tsan/tests/$t
done

echo "== fuzzing: each libFuzzer harness 15 s on the committed corpus (fuzz/README.md)"
AEKIT_FUZZ_BUILD="$root/build/fuzz" fuzz/run.sh 15

echo "== the CLI and examples built on an install of the library alone"; scripts/check-install.sh build/release
echo "== example through the public API (shared library)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && AEKIT_DATA="$root/data" "$root/build/release/example_train" mnist 2000 1)
echo "== the lesson from Python (examples/python/lesson.py: 1 epoch on 2,000 images, the build tree's package)"
(cd "$tmp" && AEKIT_DATA="$root/data" PYTHONPATH="$root/build/release/python" /usr/bin/python3 \
   "$root/examples/python/lesson.py" 1 2000)

echo "== valgrind: a short training, stopped by SIGTERM and resumed: no errors, no leaks"
# The portable kernels: valgrind runs AVX2 code ten times slower (the ASan
# build checks the SIMD kernels). tests/valgrind.supp: memory that
# fontconfig and libgomp keep until exit.
vg=(env AEKIT_DATA="$root/data" AEKIT_SIMD=portable OMP_WAIT_POLICY=passive
    valgrind -q --error-exitcode=1 --leak-check=full --show-leak-kinds=definite,indirect,possible
    --errors-for-leak-kinds=definite,indirect,possible --suppressions="$root/tests/valgrind.supp")
aekit=$root/build/release/aekit
"${vg[@]}" "$aekit" train --model conv --data mnist --limit 256 --val-limit 128 --epochs 1 \
  --threads 2 --checkpoint-every 1 --out "$tmp/vg1" >/dev/null
"${vg[@]}" "$aekit" train --model conv --data mnist --limit 256 --val-limit 128 --epochs 2 \
  --threads 2 --checkpoint-every 1 --out "$tmp/vg2" >/dev/null 2>"$tmp/vg2.err" &
pid=$!
for _ in $(seq 600); do [[ -e $tmp/vg2/checkpoint.safetensors ]] && break; sleep 0.1; done
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[[ $rc -eq 143 ]] || { cat "$tmp/vg2.err"; echo "valgrind: the stopped run exited $rc, not 143"; exit 1; }
"${vg[@]}" "$aekit" train --resume "$tmp/vg2" >/dev/null
echo "all tests passed"
