#!/usr/bin/env bash
# Builds aekit and runs the whole test suite twice: an optimised build with
# warnings as errors, then the same tests under AddressSanitizer and
# UndefinedBehaviorSanitizer. Finally builds and runs the API example.
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

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAEKIT_SANITIZE=ON -DAEKIT_WERROR=ON >/dev/null
cmake --build build/asan -j"$jobs"
(cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
   LSAN_OPTIONS=suppressions="$root/tests/lsan.supp":print_suppressions=0 \
   ctest --output-on-failure -j"$jobs")

echo "== example through the public API (shared library)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && AEKIT_DATA="$root/data" "$root/build/release/example_train" mnist 2000 1)
echo "all tests passed"
