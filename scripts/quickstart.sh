#!/usr/bin/env bash
# The main job in one command: installs what is missing, builds aekit,
# fetches MNIST, trains the lesson's convolutional autoencoder and writes a
# run folder. Extra arguments go to `aekit train` (e.g. --epochs 25).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
# the CLI and the shared library: all `cmake --install build/release` installs
cmake --build build/release -j"$(nproc)" --target aekit aekit_shared
scripts/fetch-mnist.sh data/mnist
out=runs/quickstart
# --force: a second quickstart replaces the first one's run folder
build/release/aekit train --model conv --data mnist --epochs 5 --out "$out" --force "$@"
echo
echo "Look at: $out/index.html (the whole run on one page), or $out/reconstructions.png, $out/loss.png, $out/metrics.csv"
echo "Then try: build/release/aekit eval $out/model.safetensors --data mnist"
