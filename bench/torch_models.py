"""The PyTorch side of bench/run.sh: the same models, data, batch size,
optimiser and thread count as `aekit train`, timed the same way (the
training loop of each epoch; validation and start-up not included).

  /usr/bin/python3 bench/torch_models.py --model conv [--epochs 1] [--threads 2]
      [--batch 128] [--data data/mnist] [--optimizer adam] [--seed 0]
      [--channels-last]
  /usr/bin/python3 bench/torch_models.py --model conv --flops    # FLOPs per image
  /usr/bin/python3 bench/torch_models.py --model conv --params   # parameter count
  /usr/bin/python3 bench/torch_models.py --model conv --convs    # conv layer count
  /usr/bin/python3 bench/torch_models.py --model FILE.txt --flops  # any description

The networks are built from aekit's own model description files
(models/*.txt, docs/model-format.md) by build(), with the Python binding's
builder (python/aekit/_torch_build.py, which Model.to_torch uses too), so
the architecture is the same line for line, and the state-dict names are aekit's tensor names
(encoder.N.weight ...): bench/torch_encode.py loads aekit's safetensors
files into them. Models (keep in step with MODELS_TABLE in bench/run.sh):

  conv      models/conv.txt: the lesson's conv AE, BCE from the logits
            (4,385 parameters)
  denoise   the same network, input clip(x + N(0.5, 0.5^2)) drawn once per
            image (aekit --task denoise, noise gaussian:0.5,0.5), target x
  sr        models/sr.txt: input the 2x2 average-pooled image (14x14),
            target the 28x28 original, BCE (3,801 parameters)
  conv-vae  models/conv-vae.txt: the conv AE's CNN with a 2-d Gaussian
            latent, SSE summed per image + KL (72,101 parameters)
  vae       models/vae.txt: dense 784-512-(2x2)-512-784, SSE + KL
            (807,700 parameters)
  aae       models/aae.txt: the adversarial AE, dense 784-1000-1000-1000-150
            and back, BCE, and a discriminator 150-500-500-500-1
            (6,451,935 parameters); each step is aekit's three phases
            (src/model/train.c): reconstruction (Adam over encoder and
            decoder), discriminator (N(0, I) samples labelled 1 against the
            codes labelled 0, each term's BCE a mean over the batch; Adam over
            the discriminator), generator (the codes labelled 1 through the
            discriminator; Adam over the encoder), three optimiser states

--channels-last: the model and each batch (input and target) in
torch.channels_last (NHWC) memory format: Debian's torch 1.13 then runs
its convolutions through oneDNN (MKL-DNN). The same model, weights and
random draws as without it: only the memory layout differs, so the losses
agree to float rounding. For models with conv layers only (--convs > 0).

Losses are aekit's (src/model/forward.c): `bce` and `mse` are means over
all pixels of the batch, `sse` and `bce_sum` sums over an image's pixels
averaged over the images; a VAE adds the KL term -0.5 * sum(1 + lv - mu^2 -
exp(lv)) (lv = the LOG-VARIANCE head) divided by the same denominator. The
validation loss is computed like `aekit train`'s: over the 10,000 test
images, with the final sigmoid, and (VAEs) with sampled z from a fixed
seed, not z = mu.

Prints one line per epoch:
  epoch E SECONDS s IMAGES_PER_S img/s train TRAIN_LOSS val VAL_LOSS
Debian's torch defaults to 1 thread, so the thread count is always set.
"""
import argparse
import gzip
import importlib.util
import os
import re
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS_DIR = os.path.join(HERE, "..", "models")


# ---- data -------------------------------------------------------------------

def read_idx(path):
    """An IDX file (raw, or PATH.gz when PATH is missing) as a numpy array."""
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        with gzip.open(path + ".gz", "rb") as f:
            data = f.read()
    else:
        with open(path, "rb") as f:
            data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_images(path):
    """IDX images as float32 in [0, 1], shape (N, 1, H, W) (aekit: v / 255)."""
    x = torch.from_numpy(read_idx(path).copy())
    return (x.float() / 255).unsqueeze(1)


# ---- aekit model descriptions -> nn.Module ----------------------------------
# The builder is the Python binding's (python/aekit/_torch_build.py: Sample,
# parse_description, build_section, AekitNet), loaded by its path so that
# neither the aekit package nor libaekit is needed here.

def _load_builder():
    path = os.path.join(HERE, "..", "python", "aekit", "_torch_build.py")
    spec = importlib.util.spec_from_file_location("aekit_torch_build", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_builder = _load_builder()
Sample, parse_description, build_section, AekitNet = (
    _builder.Sample, _builder.parse_description, _builder.build_section, _builder.AekitNet)


def build(model, latent=None):
    """A MODELS name, or a path to a description file."""
    path = os.path.join(MODELS_DIR, MODELS[model][0] + ".txt") if model in MODELS else model
    with open(path) as f:
        return AekitNet.from_text(f.read(), latent)


def state_dict_from_safetensors(path):
    """aekit's model file (safetensors, F32 tensors) -> {name: tensor}, and
    its metadata, with json + numpy only (Debian has no python3-safetensors)."""
    import json
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base, sd = 8 + n, {}
    for name, t in header.items():
        if t["dtype"] != "F32":
            raise ValueError(f"{path}: {name}: dtype {t['dtype']}, expected F32")
        a, b = t["data_offsets"]
        arr = np.frombuffer(data, dtype="<f4", count=(b - a) // 4, offset=base + a)
        sd[name] = torch.from_numpy(arr.reshape(t["shape"]).copy())
    return sd, meta


# ---- training ---------------------------------------------------------------

# name -> (description in models/, task: reconstruct | denoise | upscale)
MODELS = {
    "conv": ("conv", "reconstruct"),
    "denoise": ("conv", "denoise"),
    "sr": ("sr", "upscale"),
    "conv-vae": ("conv-vae", "reconstruct"),
    "vae": ("vae", "reconstruct"),
    "aae": ("aae", "reconstruct"),
}


def train_flops(model):
    """Multiply-adds x 2 of one training step per image, from the layer
    shapes: forward, input gradient (not for the first layer) and weight
    gradient each cost one forward's worth for conv and dense layers;
    activations, pools, loss and optimiser are not counted. An adversarial
    AE adds aekit's two other phases (src/model/train.c): discriminator =
    the encoder forward, then forward and backward of the discriminator on
    the prior samples and on the codes (no input gradient); generator = the
    encoder and discriminator forward, the discriminator's backward with its
    input gradient, the encoder's backward."""
    fwd = {}

    def hook_for(section):
        def hook(m, inp, out):
            if isinstance(m, nn.Conv2d):
                k = m.kernel_size[0] * m.kernel_size[1]
                fwd[section].append(2.0 * out[0].numel() * m.in_channels * k)
            elif isinstance(m, nn.Linear):
                fwd[section].append(2.0 * m.in_features * m.out_features)
        return hook
    hs = []
    for section in _builder.SECTIONS:
        fwd[section] = []
        for m in getattr(model, section, nn.Sequential()).modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                hs.append(m.register_forward_hook(hook_for(section)))
    model.eval()
    with torch.no_grad():
        z = model.encoder(torch.zeros((1,) + tuple(model.desc["input"])))
        model.decoder(z)
        if hasattr(model, "discriminator"):
            model.discriminator(z.reshape(1, -1))
    for h in hs:
        h.remove()
    enc, dec, disc = fwd["encoder"], fwd["decoder"], fwd["discriminator"]
    E, D = sum(enc), sum(disc)
    flops = 3 * (E + sum(dec)) - enc[0]
    if disc:
        flops += E + 2 * (3 * D - disc[0])   # discriminator phase
        flops += E + D + 2 * D + 2 * E - enc[0]   # generator phase
    return flops


def noisy(x, g):
    return (x + 0.5 + 0.5 * torch.randn(x.shape, generator=g)).clamp_(0, 1)


def make_inputs(model, task, x, g):
    if task == "denoise":
        return noisy(x, g)
    c, h, w = model.desc["input"]
    if (h, w) != tuple(x.shape[2:]):
        return F.avg_pool2d(x, x.shape[2] // h)   # super-resolution: pooled input
    return x


def evaluate(model, xin, x, seed, layout):
    model.eval()
    if model.sample is not None:   # aekit samples z in validation, with fixed seeds
        model.sample.generator = torch.Generator().manual_seed(seed)
    total = 0.0
    with torch.no_grad():
        for i in range(0, x.shape[0], 1000):
            xb, tb = in_layout(xin[i:i + 1000], layout), in_layout(x[i:i + 1000], layout)
            total += model.loss_sum(model.train_output(xb), tb)[0].item()
    if model.sample is not None:
        model.sample.generator = None
    return total / model.denominator(x.shape[0])


def in_layout(x, layout):
    """x in the memory format `layout` (None: as it is)."""
    return x if layout is None else x.contiguous(memory_format=layout)


def make_optimizer(name, params, lr):
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    return torch.optim.RMSprop(params, lr=lr, alpha=0.99, eps=1e-8)


class AdversarialPhases:
    """The two phases of an adversarial AE's step that follow the
    reconstruction phase, as aekit's aae_phases (src/model/train.c): the
    discriminator learns N(0, I) samples (label 1) against the encoder's
    codes (label 0, no encoder gradient), then the encoder learns to make
    the discriminator call its codes real. Each BCE term is a mean over the
    batch, from the discriminator's logit (its final sigmoid left out); each
    phase has its own optimiser state (aekit's optim_disc, optim_gen)."""

    def __init__(self, model, optimizer, lr):
        self.model = model
        self.logits = nn.Sequential(*list(model.discriminator)[:-1])
        self.disc = make_optimizer(optimizer, model.discriminator.parameters(), lr)
        self.gen = make_optimizer(optimizer, model.encoder.parameters(), lr)

    def step(self, x):
        m, n = self.model, x.shape[0]
        with torch.no_grad():
            codes = m.encode(x)
        prior = torch.randn(codes.shape)
        ones, zeros = torch.ones(n, 1), torch.zeros(n, 1)
        loss = (F.binary_cross_entropy_with_logits(self.logits(prior), ones, reduction="sum")
                + F.binary_cross_entropy_with_logits(self.logits(codes), zeros, reduction="sum")) / n
        self.disc.zero_grad()
        loss.backward()
        self.disc.step()
        loss = F.binary_cross_entropy_with_logits(self.logits(m.encode(x)), ones, reduction="sum") / n
        self.gen.zero_grad()
        loss.backward()
        self.gen.step()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="conv",
                    help=f"{', '.join(MODELS)}; or a description file (--flops, --params, --convs)")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--limit", type=int, default=0, help="first N training images only")
    ap.add_argument("--val-limit", type=int, default=0, help="first N test images only")
    ap.add_argument("--optimizer", default="adam", choices=["adam", "rmsprop"])
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--channels-last", action="store_true",
                    help="the model and each batch in torch.channels_last (NHWC) memory format")
    ap.add_argument("--flops", action="store_true",
                    help="print the model's training FLOPs per image and exit")
    ap.add_argument("--params", action="store_true", help="print the parameter count and exit")
    ap.add_argument("--convs", action="store_true",
                    help="print the number of conv layers and exit")
    a = ap.parse_args()
    query = a.flops or a.params or a.convs
    if a.model not in MODELS and not (query and os.path.isfile(a.model)):
        ap.error(f"--model: expected one of {', '.join(MODELS)}, got '{a.model}'")
    if query:
        m = build(a.model)
        if a.flops:
            print(f"{train_flops(m):.0f}")
        elif a.params:
            print(sum(p.numel() for p in m.parameters()))
        else:
            print(sum(isinstance(x, nn.Conv2d) for x in m.modules()))
        return
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    task = MODELS[a.model][1]
    xtr = load_images(f"{a.data}/train-images-idx3-ubyte")
    xte = load_images(f"{a.data}/t10k-images-idx3-ubyte")
    if a.limit:
        xtr = xtr[:a.limit]
    if a.val_limit:
        xte = xte[:a.val_limit]
    model = build(a.model)
    layout = None
    if a.channels_last:
        if not any(isinstance(x, nn.Conv2d) for x in model.modules()):
            ap.error(f"--channels-last: model {a.model} has no conv layers")
        layout = torch.channels_last
        model = model.to(memory_format=layout)
    g = torch.Generator().manual_seed(a.seed + 1)
    # inputs made once per image (denoise: the same noise every epoch, as aekit)
    xtr_in = make_inputs(model, task, xtr, g)
    xte_in = make_inputs(model, task, xte, g)
    adversarial = None
    if hasattr(model, "discriminator"):
        opt = make_optimizer(a.optimizer, list(model.encoder.parameters())
                             + list(model.decoder.parameters()), a.lr)
        adversarial = AdversarialPhases(model, a.optimizer, a.lr)
    else:
        opt = make_optimizer(a.optimizer, model.parameters(), a.lr)
    n = xtr.shape[0]
    for epoch in range(1, a.epochs + 1):
        perm = torch.randperm(n)
        t0 = time.perf_counter()
        total = 0.0
        model.train()
        for s in range(0, n, a.batch):
            idx = perm[s:s + a.batch]
            x, t = in_layout(xtr_in[idx], layout), in_layout(xtr[idx], layout)
            loss = model.loss_sum(model.train_output(x), t)[0] / model.denominator(x.shape[0])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if adversarial:
                adversarial.step(x)
            total += loss.item() * x.shape[0]
        sec = time.perf_counter() - t0
        val = evaluate(model, xte_in, xte, a.seed + 2, layout)
        print(f"epoch {epoch} {sec:.3f} s {n / sec:.0f} img/s train {total / n:.6f} val {val:.6f}",
              flush=True)


if __name__ == "__main__":
    main()
