#!/usr/bin/env bash
# The VAE-family options of aekit train, --beta (a beta-VAE's KL weight) and
# --reg-lr (an AAE's regularisation phases' learning rate):
#  - --beta 1 trains the same bits as no flag (model and metrics.csv), and
#    its model file has no aekit.train.beta key (a default one is left out);
#  - --beta 4 trains another model; metrics.csv's val_loss is val_recon +
#    4 x val_kl (val_kl the KL itself), the metadata records beta 4;
#  - --reg-lr changes an AAE's training and is recorded; the default is
#    left out of the metadata;
#  - aekit info shows an AAE of aekit 0.2 (no reg_lr key) at lr;
#  - a run from a --beta 4 model's weights (--init) at the default beta
#    has no key: the metadata is its run's (reg_lr: test_run_folder);
#  - --beta on a model without a sample layer, --reg-lr on one without a
#    discriminator, out-of-range values: one line naming the flag, exit 2,
#    no run folder; a finished run given another --beta is refused.
#
# usage: bash tests/cli_vae_variants.sh /path/to/aekit
source "$(dirname "$0")/lib/cli_common.sh"
need_mnist

# train NAME FLAGS...: $epochs short epochs (4 steps each)
epochs=2
train() {
  local name=$1
  shift
  "$AEKIT" train --data mnist --limit 256 --val-limit 64 --epochs $epochs --batch 64 --seed 5 --threads 2 \
    --out "$tmp/$name" "$@" >"$tmp/$name.log" 2>&1 </dev/null
}

# same_metrics A B: metrics.csv equal but for the timing columns
same_metrics() {
  "$PY" - "$tmp/$1/metrics.csv" "$tmp/$2/metrics.csv" <<'PY'
import csv, sys
a, b = (list(csv.DictReader(open(p))) for p in sys.argv[1:])
skip = {"seconds", "images_per_second"}
sys.exit(0 if len(a) == len(b) == 2 and all(ra[k] == rb[k] for ra, rb in zip(a, b) for k in ra if k not in skip) else 1)
PY
}

# val_is NAME BETA: every row's val_loss is val_recon + BETA x val_kl (to the
# file's 6 decimals) with a KL that is not 0
val_is() {
  "$PY" - "$tmp/$1/metrics.csv" "$2" <<'PY'
import csv, sys
rows, beta = list(csv.DictReader(open(sys.argv[1]))), float(sys.argv[2])
ok = len(rows) == 2 and all(float(r["val_kl"]) > 0 and
         abs(float(r["val_loss"]) - (float(r["val_recon"]) + beta * float(r["val_kl"]))) <= 2e-6 * (1 + beta)
         for r in rows)
if not ok:
    print([(r["val_loss"], r["val_recon"], r["val_kl"]) for r in rows])
sys.exit(0 if ok else 1)
PY
}

# key_is NAME KEY VALUE: the model's metadata holds KEY = VALUE (VALUE "-": no KEY)
key_is() {
  "$PY" - "$tmp/$1/model.safetensors" "$2" "$3" <<'PY'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    meta = json.loads(f.read(n)).get("__metadata__", {})
want = None if sys.argv[3] == "-" else sys.argv[3]
sys.exit(0 if meta.get(sys.argv[2]) == want else 1)
PY
}

train plain --model vae
check "vae: trains" test $? -eq 0
train beta1 --model vae --beta 1
check "vae --beta 1: trains" test $? -eq 0
check "--beta 1: the model file of no flag, byte for byte" cmp -s "$tmp/plain/model.safetensors" "$tmp/beta1/model.safetensors"
check "--beta 1: metrics.csv of no flag" same_metrics plain beta1
check "no flag: val_loss = val_recon + val_kl" val_is plain 1
check "no flag: no aekit.train.beta key" key_is plain aekit.train.beta -
train beta4 --model vae --beta 4
check "vae --beta 4: trains" test $? -eq 0
check "--beta 4: another model" eval '! cmp -s "$tmp/plain/model.safetensors" "$tmp/beta4/model.safetensors"'
check "--beta 4: val_loss = val_recon + 4 x val_kl" val_is beta4 4
check "--beta 4: recorded as aekit.train.beta" key_is beta4 aekit.train.beta 4
check "--beta 4: the epoch line shows the weight" grep -q "+ 4 x kl" "$tmp/beta4.log"
# --init from the beta 4 model, trained at beta 1: no key of the other run's
train from_beta4 --model vae --init "$tmp/beta4/model.safetensors"
check "--init of a --beta 4 model: trains" test $? -eq 0
check "--init of a --beta 4 model: no aekit.train.beta key (its run's beta 1)" key_is from_beta4 aekit.train.beta -
check "--init of a --beta 4 model: aekit info shows no beta 4" \
  eval '! "$AEKIT" info "$tmp/from_beta4/model.safetensors" | grep -q "beta.* 4$"'

# an AAE's regularisation rate (1 epoch: the AAE has 6.4M parameters)
epochs=1
train aae --model aae
check "aae: trains" test $? -eq 0
check "aae: the default reg_lr is not in the metadata" key_is aae aekit.train.reg_lr -
train aae_reg --model aae --reg-lr 2.5e-3
check "aae --reg-lr 2.5e-3: trains" test $? -eq 0
check "--reg-lr 2.5e-3: another model" eval '! cmp -s "$tmp/aae/model.safetensors" "$tmp/aae_reg/model.safetensors"'
check "--reg-lr 2.5e-3: recorded as aekit.train.reg_lr" key_is aae_reg aekit.train.reg_lr 0.0025
# an AAE of aekit 0.2 (no key, its regularisation phases at --lr): aekit info says so
"$PY" - "$tmp/aae/model.safetensors" "$tmp/aae02.safetensors" <<'PY'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
h["__metadata__"]["aekit.version"] = "0.2.0"
t = json.dumps(h, separators=(",", ":")).encode()
t += b" " * (-len(t) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(t)) + t + b[8 + n:])
PY
check "an AAE of 0.2: aekit info shows its reg_lr as lr" \
  eval '"$AEKIT" info "$tmp/aae02.safetensors" | grep -q "lr (before 0.3)"'
check "an AAE of 0.3 without the key: aekit info shows no reg_lr" \
  eval '! "$AEKIT" info "$tmp/aae/model.safetensors" | grep -q "before 0.3"'

# refused: one line naming the flag, exit 2, no run folder
expect_error "--beta on a conv AE" 2 "--beta" "$tmp/bad" -- \
  "$AEKIT" train --model conv --data mnist --limit 64 --epochs 1 --beta 2 --out "$tmp/bad"
expect_error "--reg-lr on a VAE" 2 "--reg-lr" "$tmp/bad" -- \
  "$AEKIT" train --model vae --data mnist --limit 64 --epochs 1 --reg-lr 2.5e-3 --out "$tmp/bad"
for b in -1 10001 x nan; do
  expect_error "--beta $b refused" 2 "--beta" "$tmp/bad" -- \
    "$AEKIT" train --model vae --data mnist --limit 64 --epochs 1 --beta "$b" --out "$tmp/bad"
done
expect_error "--reg-lr 0 refused" 2 "--reg-lr" "$tmp/bad" -- \
  "$AEKIT" train --model aae --data mnist --limit 64 --epochs 1 --reg-lr 0 --out "$tmp/bad"
# --resume of a trained run without its index.html (finished from the
# model's metadata) keeps the run's beta, the default one too
rm "$tmp/beta4/index.html" "$tmp/plain/index.html"
expect_error "a trained --beta 4 run resumed with --beta 2" 2 "--beta" - -- \
  "$AEKIT" train --resume "$tmp/beta4" --beta 2
expect_error "a trained run (beta 1: no key) resumed with --beta 3" 2 "--beta" - -- \
  "$AEKIT" train --resume "$tmp/plain" --beta 3
summary
