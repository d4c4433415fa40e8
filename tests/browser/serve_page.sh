#!/usr/bin/env bash
# The browser test of aekit serve's page (tests/browser/serve_page.mjs):
# trains a small VAE, serves it on a free port and drives the page with
# Debian's chromium (headless) through playwright-core, installed by
# scripts/setup.sh into build/node (gitignored). Run by scripts/test.sh;
# skipped (exit 77) when chromium or playwright-core is missing.
# usage: bash tests/browser/serve_page.sh /path/to/aekit [SCREENSHOT.png]
# AEKIT_SERVE_MODEL=FILE serves that model instead of training one, with
# AEKIT_SERVE_POINTS test images (default 400): how the README's
# docs/gallery/serve.png is taken from a well-trained model.
source "$(dirname "$0")/../lib/cli_common.sh" "$1"
shot=${2:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
export AEKIT_NODE_MODULES=${AEKIT_NODE_MODULES:-$root/build/node/node_modules}
chromium=${AEKIT_CHROMIUM:-/usr/bin/chromium}
if [[ ! -x $chromium || ! -d $AEKIT_NODE_MODULES/playwright-core ]] || ! command -v node >/dev/null; then
  echo "SKIP  needs $chromium, node and playwright-core in $AEKIT_NODE_MODULES (scripts/setup.sh;" \
       "scripts/test.sh fails on this unless AEKIT_SKIP_BROWSER=1)"
  exit 77
fi
export AEKIT_SOURCE_DIR=${AEKIT_SOURCE_DIR:-$root}
need_mnist
points=${AEKIT_SERVE_POINTS:-400}
model=${AEKIT_SERVE_MODEL:-$tmp/vae/model.safetensors}
if [[ -z ${AEKIT_SERVE_MODEL:-} ]]; then
  "$AEKIT" train --model vae --data mnist --limit 2048 --val-limit 64 --epochs 2 --threads 2 \
    --out "$tmp/vae" >"$tmp/train.log" 2>&1 || fail_early "training: $(tail -n 1 "$tmp/train.log")"
fi
"$AEKIT" serve "$model" --data mnist --port 0 --limit "$points" --threads 2 \
  >"$tmp/serve.out" 2>"$tmp/serve.err" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$tmp"' EXIT
url=
for _ in $(seq 100); do
  url=$(grep -o 'http://[^ ]*' "$tmp/serve.out" 2>/dev/null) && break
  sleep 0.1
done
[[ -n $url ]] || fail_early "aekit serve printed no URL: $(cat "$tmp/serve.err")"
node "$(dirname "$0")/serve_page.mjs" "$url" "$points" $shot
rc=$?
kill -TERM $server
wait $server
src=$?
[[ $src -eq 0 ]] || { echo "FAIL  aekit serve exited $src after SIGTERM"; rc=1; }
exit $rc
