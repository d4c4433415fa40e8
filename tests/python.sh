#!/usr/bin/env bash
# The Python binding's tests (python/tests, pytest) against this build's
# package (BUILD/python/aekit, which loads BUILD/libaekit.so).
#   bash tests/python.sh PYTHON BUILD_DIR AEKIT_CLI [ASAN_RUNTIME]
# Exit 77 (skipped) when PYTHON lacks numpy or pytest (Debian:
# apt-get install python3-numpy python3-pytest, scripts/setup.sh).
# ASAN_RUNTIME: the path of libasan.so when the library is built with
# AddressSanitizer: Python itself is not, so the runtime must be loaded
# first (LD_PRELOAD); leaks are not checked there (the interpreter keeps
# memory until exit that LeakSanitizer would report).
set -euo pipefail
if [[ $# -lt 3 ]]; then
  echo "usage: bash $0 PYTHON BUILD_DIR AEKIT_CLI [ASAN_RUNTIME]" >&2
  exit 2
fi
py=$1 build=$2 cli=$3 asan=${4:-}
root=$(cd "$(dirname "$0")/.." && pwd)
if ! "$py" -c 'import numpy, pytest' 2>/dev/null; then
  echo "SKIP  $py has no numpy or pytest (apt-get install python3-numpy python3-pytest)"
  exit 77
fi
export PYTHONPATH=$build/python
export AEKIT_CLI=$cli
unset AEKIT_LIB   # the build tree's package finds its own library (_paths.py)
# the repository's data folder (MNIST: scripts/fetch-mnist.sh) when there
# is one; tests that need MNIST skip when the library finds none
if [[ -d $root/data ]]; then export AEKIT_DATA=$root/data; fi
export PYTHONDONTWRITEBYTECODE=1
if [[ -n $asan ]]; then
  export LD_PRELOAD=$asan
  export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
fi
cd "$root"
exec "$py" -m pytest -q -p no:cacheprovider python/tests
