#!/usr/bin/env bash
# A custom model description trained with another loss (issue 9): the
# description's `loss` line comes first, or is indented; `aekit train
# --recon sse` must save a model that evaluates as SSE, as `aekit info`
# says. (The loss used to be patched into the text at "\nloss ", which
# these lines do not match: the saved model then evaluated as BCE.)
#
# usage: bash tests/cli_custom_model.sh /path/to/aekit
source "$(dirname "$0")/lib/cli_common.sh"
need_mnist

layers='encoder
flatten
dense 32
relu
dense 4
sample
decoder
dense 32
relu
dense 784
reshape 1 28 28
sigmoid'
printf 'loss bce_sum\ninput 1 28 28\n%s\n' "$layers" >"$tmp/first.txt"
printf 'input 1 28 28\n   loss bce_sum   # indented\n%s\n' "$layers" >"$tmp/indented.txt"

for name in first indented; do
  run=$tmp/$name
  "$AEKIT" train --model "$tmp/$name.txt" --recon sse --data mnist --epochs 1 --limit 300 \
    --val-limit 100 --threads 2 --seed 3 --out "$run" >/dev/null 2>"$tmp/$name.err" </dev/null
  check "$name: train --recon sse exits 0" test $? -eq 0
  sed 's/^/      /' "$tmp/$name.err"
  "$AEKIT" info "$run/model.safetensors" >"$tmp/$name.info" 2>&1
  check "$name: info says loss sse" grep -Eq '^ *loss +sse$' "$tmp/$name.info"
  "$AEKIT" eval "$run/model.safetensors" --limit 100 --threads 2 --json >"$tmp/$name.json" 2>&1
  check "$name: eval exits 0" test $? -eq 0
  # SSE: the recon term is the squared error summed over 784 pixels = 784 x MSE
  # (BCE summed would be about three times as large here)
  check "$name: eval's recon is the SSE (784 x mse)" "$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if abs(r["recon"] - 784 * r["mse"]) <= 1e-4 * r["recon"] else 1)' "$tmp/$name.json"
  sed 's/^/      eval: /' "$tmp/$name.json"
done
summary
