#!/usr/bin/env bash
# Under an address-space limit (ulimit -v, as containers and batch schedulers
# set) every command ends: no BLAS thread pool is started (a threaded
# OpenBLAS's workers spun retrying a 128 MB buffer allocation, and every
# command, even aekit --version, hung at exit joining them), and dense
# layers call BLIS, which needs a few MB (OpenBLAS's sgemm spun the same
# way on the calling thread). The limit changes no result: a VAE trained
# under it is the same file as one trained without it (dense layers once
# fell back to the portable path under a limit). Each command runs under
# `timeout`, so a hang fails the test instead of stopping it. The CLI
# (libaekit.a) and the API example (libaekit.so) are both run.
#
# Skipped (exit 77) for an AddressSanitizer build: ASan reserves terabytes of
# address space at start, so no such limit can apply to it.
#
# usage: bash tests/cli_address_limit.sh /path/to/aekit
source "$(dirname "$0")/lib/cli_common.sh"
need_mnist

build=${AEKIT_BUILD_DIR:-$(dirname "$AEKIT")}
if ldd "$AEKIT" 2>/dev/null | grep -q libasan ||
   grep -qs '^AEKIT_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
  echo "SKIP  $AEKIT is built with AddressSanitizer, which reserves terabytes of address space: ulimit -v cannot apply"
  exit 77
fi

LIMIT_KB=150000          # ~150 MB, as in the report of the hang
HANG_S=60                # far beyond what each command needs

# limited NAME STATUSES COMMAND...: runs COMMAND under the limit and the
# timeout (SIGTERM, then SIGKILL: training waits for its step to end before
# it stops); its exit status must be one of STATUSES ("0", or "0 1" where
# running out of memory is fine).
limited() {
  local name=$1 want=$2
  shift 2
  ( ulimit -v $LIMIT_KB; exec timeout -k 5 $HANG_S "$@" ) >"$tmp/out" 2>"$tmp/err" </dev/null
  local rc=$?
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then echo "  hung: killed after $HANG_S s under ulimit -v $LIMIT_KB"
  elif [[ $rc -ne 0 ]]; then echo "  exit $rc: $(tail -n 1 "$tmp/err")"; fi
  check "$name (ulimit -v $LIMIT_KB)" test -n "$(echo " $want " | grep -F " $rc ")"
}

limited "aekit --version ends" 0 "$AEKIT" --version
grep -q '^aekit ' "$tmp/out"
check "  ... and prints the version" test $? -eq 0

# a model to describe, trained without the limit
"$AEKIT" train --model conv --data mnist --limit 64 --val-limit 32 --epochs 1 --threads 1 \
  --out "$tmp/conv" >/dev/null 2>&1 </dev/null
check "setup: a small conv model" test -f "$tmp/conv/model.safetensors"
limited "aekit info ends" 0 "$AEKIT" info "$tmp/conv/model.safetensors"

limited "aekit eval ends" 0 "$AEKIT" eval "$tmp/conv/model.safetensors" --data mnist --limit 64 --threads 2

# dense layers: BLIS under the limit, the same bits as without it
vae=(train --model vae --data mnist --limit 200 --val-limit 100 --epochs 1 --threads 2)
"$AEKIT" "${vae[@]}" --out "$tmp/vae-free" >/dev/null 2>&1 </dev/null
check "setup: a small VAE trained without the limit" test -f "$tmp/vae-free/model.safetensors"
limited "aekit train of a VAE (dense layers) ends" 0 "$AEKIT" "${vae[@]}" --out "$tmp/vae"
check "  ... and its model is the same file as without the limit" \
  cmp -s "$tmp/vae/model.safetensors" "$tmp/vae-free/model.safetensors"

example=$build/example_train
if [[ -x $example ]]; then
  cd "$tmp"             # it writes into the current folder
  # it opens all of MNIST on all cores: out of memory is a fine end here
  limited "the API example (libaekit.so) ends" "0 1" "$example" mnist 64 1
  cd - >/dev/null
else
  echo "note  $example not built (AEKIT_EXAMPLES=OFF): the shared library is not run"
fi

summary
