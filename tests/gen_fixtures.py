#!/usr/bin/python3
"""Generate aekit's PyTorch parity fixtures (tests/fixtures/*.safetensors).

Run by hand from the repository root with Debian's PyTorch (python3-torch 1.13):

    /usr/bin/python3 tests/gen_fixtures.py [--mnist DIR] [--out DIR]

--mnist defaults to data/mnist (raw IDX files train-images-idx3-ubyte and
t10k-images-idx3-ubyte); --out defaults to tests/fixtures. The output is
deterministic (fixed seeds, one thread). See docs/parity.md.

What it writes:
  layer_<case>.safetensors   one kernel case each: conv2d, maxpool2d, avgpool2d,
      upsample2d, dense, relu/leaky_relu/sigmoid/tanh. Tensors: inputs (x, and
      weight/bias where the layer has them), y (forward), dy (random upstream
      gradient), dx/dweight/dbias (autograd of sum(y*dy)). Case parameters are
      decimal strings in __metadata__.
  loss_<bce_logits|sse>.safetensors   z, t, loss (F64 [1], SUM reduction), dz
      (gradient of the sum).
  optim_<adam|rmsprop|sgd>.safetensors   p0, g1..g3, p1..p3 (torch.optim, lr 1e-2).
  optim_<adamw|rmsprop_wd|sgd_wd>.safetensors  the same with weight decay
                                         (torch.optim.AdamW; RMSprop, SGD
                                         weight_decay).
  convae_steps.safetensors   the lesson's conv AE: x (8 MNIST images), init.*,
      y, latent, grad.* (mean BCE), loss [3] and final.* after 3 Adam steps.
  convae_torch.safetensors   state_dict of a conv AE trained in PyTorch (only
      the state_dict, __metadata__ {"format": "pt"}).
  convae_torch_eval.safetensors   images (U8 [500,28,28], first 500 MNIST test
      images), loss (mean BCE, F64 [1]) and mse (F64 [1]) of that model.
  layer_sample.safetensors   the VAE sampling layer (mu then log-variance):
      h, eps, z, dz, kl (F64 [1], summed over images), dh (gradient of
      sum(z*dz) + kl_scale*KL), dh_mean (the same with eps = 0).
  vae_<sse|bce_sum>.safetensors   a small dense VAE (description in
      __metadata__ "model") at init, z = mu: x, init.*, h, y, recon, kl, loss
      (F64 [1], mean over images of recon + KL) and grad.* of that loss.
  vae_sse_beta4.safetensors   the same with loss sse and the KL weighted by
      beta = 4 (__metadata__ "beta"): loss = mean of recon + 4 KL.
  sr_steps.safetensors   the sr preset at init: target (4 MNIST images),
      input (avg_pool2d(target, 2)), init.*, y, loss (mean BCE), grad.*.
  cvae_sse.safetensors   a small conditional VAE (CVAE_TEXT in __metadata__
      "model": 3 classes, one-hot after flatten and before the decoder) at
      init, z = mu: x, labels (U8), init.*, h, y, recon, kl, loss, grad.*.

Layer, loss, optimiser and convae_steps references are computed by PyTorch in
float64 from float32 inputs (so they are the exact answer for those inputs,
rounded once to float32); the trained model is trained in float32.
"""
import argparse
import json
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DT = {torch.float32: "F32", torch.float64: "F64", torch.uint8: "U8"}


def save_st(path, tensors, meta=None):
    """Minimal safetensors writer: tensors is a dict name -> tensor (in order)."""
    header, blobs, off = {}, [], 0
    if meta:
        header["__metadata__"] = {k: str(v) for k, v in meta.items()}
    for name, t in tensors.items():
        t = t.detach().contiguous()
        b = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": DT[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def f32(t):
    return t.detach().to(torch.float32)


def leaf(t):
    """float32-representable values, as a float64 leaf requiring grad."""
    return t.to(torch.float32).to(torch.float64).requires_grad_(True)


def grads(y, dy, *leaves):
    (y * dy).sum().backward()
    return [f32(v.grad) for v in leaves]


# ---------------------------------------------------------------- layers
def conv_case(out, name, n, cin, h, w, cout, k, stride, pad):
    x = leaf(torch.randn(n, cin, h, w))
    conv = nn.Conv2d(cin, cout, k, stride=stride, padding=pad)
    wt, b = leaf(conv.weight.data), leaf(conv.bias.data)
    y = F.conv2d(x, wt, b, stride=stride, padding=pad)
    dy = leaf(torch.randn(y.shape)).detach()
    dx, dw, db = grads(y, dy, x, wt, b)
    save_st(os.path.join(out, f"layer_{name}.safetensors"),
            {"x": f32(x), "weight": f32(wt), "bias": f32(b), "y": f32(y),
             "dy": f32(dy), "dx": dx, "dweight": dw, "dbias": db},
            dict(layer="conv2d", n=n, cin=cin, h=h, w=w, cout=cout, k=k,
                 stride=stride, pad=pad, ho=y.shape[2], wo=y.shape[3]))


def pool_case(out, name, kind, n, c, h, w, k, ceil_mode, ties=False):
    x = torch.randint(0, 3, (n, c, h, w)).double() if ties else torch.randn(n, c, h, w)
    x = leaf(x)
    if kind == "maxpool2d":
        y = F.max_pool2d(x, k, ceil_mode=bool(ceil_mode))
    else:
        y = F.avg_pool2d(x, k, ceil_mode=bool(ceil_mode), count_include_pad=False)
    dy = leaf(torch.randn(y.shape)).detach()
    (dx,) = grads(y, dy, x)
    save_st(os.path.join(out, f"layer_{name}.safetensors"),
            {"x": f32(x), "y": f32(y), "dy": f32(dy), "dx": dx},
            dict(layer=kind, n=n, c=c, h=h, w=w, k=k, ceil_mode=ceil_mode,
                 ho=y.shape[2], wo=y.shape[3]))


def upsample_case(out, name, n, c, h, w, s):
    x = leaf(torch.randn(n, c, h, w))
    y = nn.Upsample(scale_factor=s, mode="nearest")(x)
    dy = leaf(torch.randn(y.shape)).detach()
    (dx,) = grads(y, dy, x)
    save_st(os.path.join(out, f"layer_{name}.safetensors"),
            {"x": f32(x), "y": f32(y), "dy": f32(dy), "dx": dx},
            dict(layer="upsample2d", n=n, c=c, h=h, w=w, s=s))


def dense_case(out, name, n, fin, fout):
    x = leaf(torch.randn(n, fin))
    lin = nn.Linear(fin, fout)
    wt, b = leaf(lin.weight.data), leaf(lin.bias.data)
    y = F.linear(x, wt, b)
    dy = leaf(torch.randn(y.shape)).detach()
    dx, dw, db = grads(y, dy, x, wt, b)
    save_st(os.path.join(out, f"layer_{name}.safetensors"),
            {"x": f32(x), "weight": f32(wt), "bias": f32(b), "y": f32(y),
             "dy": f32(dy), "dx": dx, "dweight": dw, "dbias": db},
            dict(layer="dense", n=n, **{"in": fin, "out": fout}))


def act_case(out, name, fn, count, **meta):
    x = torch.randn(count) * 3
    x[:4] = torch.tensor([-30.0, 30.0, -12.0, 12.0])  # saturated tails
    x = leaf(x)
    y = fn(x)
    dy = leaf(torch.randn(y.shape)).detach()
    (dx,) = grads(y, dy, x)
    save_st(os.path.join(out, f"layer_{name}.safetensors"),
            {"x": f32(x), "y": f32(y), "dy": f32(dy), "dx": dx},
            dict(layer=name, count=count, **meta))


# ---------------------------------------------------------------- losses
def loss_cases(out):
    count = 300
    z = torch.randn(count) * 3
    z[:6] = torch.tensor([-40.0, 40.0, -40.0, 40.0, 0.0, 15.0])
    t = torch.rand(count)
    t[:4] = torch.tensor([0.0, 1.0, 1.0, 0.0])
    t[10:40] = 0.0
    t[40:70] = 1.0
    z, t = leaf(z), leaf(t).detach()
    loss = F.binary_cross_entropy_with_logits(z, t, reduction="sum")
    loss.backward()
    save_st(os.path.join(out, "loss_bce_logits.safetensors"),
            {"z": f32(z), "t": f32(t), "loss": loss.detach().reshape(1),
             "dz": f32(z.grad)}, dict(loss="bce_logits", count=count))

    y, t = leaf(torch.randn(count)), leaf(torch.rand(count)).detach()
    loss = ((y - t) ** 2).sum()
    loss.backward()
    save_st(os.path.join(out, "loss_sse.safetensors"),
            {"z": f32(y), "t": f32(t), "loss": loss.detach().reshape(1),
             "dz": f32(y.grad)}, dict(loss="sse", count=count))


# ---------------------------------------------------------------- optimisers
def optim_cases(out):
    count = 64
    specs = {
        "adam": (lambda p: torch.optim.Adam([p], lr=1e-2, betas=(0.9, 0.999), eps=1e-8),
                 dict(lr="0.01", beta1="0.9", beta2="0.999", eps="1e-08")),
        "rmsprop": (lambda p: torch.optim.RMSprop([p], lr=1e-2, alpha=0.99, eps=1e-8),
                    dict(lr="0.01", alpha="0.99", eps="1e-08")),
        "sgd": (lambda p: torch.optim.SGD([p], lr=1e-2, momentum=0.9),
                dict(lr="0.01", momentum="0.9")),
    }
    for name, (make, meta) in specs.items():
        optim_case(out, name, name, make, meta, count)


def optim_case(out, name, kind, make, meta, count):
    """optim_NAME.safetensors: three steps of optimiser `make` from random
    weights and gradients (kind: the aekit optimiser it checks)."""
    p = leaf(torch.randn(count)).detach()
    gs = [leaf(torch.randn(count) * s).detach() for s in (1.0, 0.5, 2.0)]
    for g in gs:
        g[0] = 0.0          # a parameter that never gets a gradient
    gs[1][1] = 0.0          # one zero gradient mid-way
    tensors = {"p0": f32(p)}
    for i, g in enumerate(gs):
        tensors[f"g{i + 1}"] = f32(g)
    param = p.clone().requires_grad_(True)
    opt = make(param)
    for i, g in enumerate(gs):
        param.grad = g.clone()
        opt.step()
        tensors[f"p{i + 1}"] = f32(param)
    save_st(os.path.join(out, f"optim_{name}.safetensors"), tensors,
            dict(optim=kind, count=count, steps=3, **meta))


def optim_decay_cases(out):
    """Weight decay (--weight-decay): AdamW's decoupled form for Adam, L2
    for RMSprop and SGD. Seeded on their own, so that adding them changed
    no other fixture."""
    torch.manual_seed(13)
    count = 64
    specs = {
        "adamw": ("adam", lambda p: torch.optim.AdamW([p], lr=1e-2, betas=(0.9, 0.999), eps=1e-8,
                                                      weight_decay=0.5),
                  dict(lr="0.01", beta1="0.9", beta2="0.999", eps="1e-08", weight_decay="0.5")),
        "rmsprop_wd": ("rmsprop", lambda p: torch.optim.RMSprop([p], lr=1e-2, alpha=0.99, eps=1e-8,
                                                                weight_decay=0.1),
                       dict(lr="0.01", alpha="0.99", eps="1e-08", weight_decay="0.1")),
        "sgd_wd": ("sgd", lambda p: torch.optim.SGD([p], lr=1e-2, momentum=0.9, weight_decay=0.1),
                   dict(lr="0.01", momentum="0.9", weight_decay="0.1")),
    }
    for name, (kind, make, meta) in specs.items():
        optim_case(out, name, kind, make, meta, count)


# ---------------------------------------------------------------- conv AE
class ConvAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True))
        self.decoder = nn.Sequential(
            nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=2),
            nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=2),
            nn.Conv2d(8, 16, 3), nn.ReLU(), nn.Upsample(scale_factor=2),
            nn.Conv2d(16, 1, 3, padding=1), nn.Sigmoid())

    def forward(self, x):
        return self.decoder(self.encoder(x))

    def logits(self, x):  # the model without its final Sigmoid
        return self.decoder[:-1](self.encoder(x))


def read_idx_images(path):
    with open(path, "rb") as f:
        magic, n, h, w = struct.unpack(">IIII", f.read(16))
        assert magic == 0x803, f"{path}: not an IDX3 ubyte file"
        return torch.from_numpy(np.frombuffer(f.read(n * h * w), np.uint8).reshape(n, h, w).copy())


def convae_steps(out, train_u8):
    torch.manual_seed(1234)
    m32 = ConvAE()
    init = {k: v.clone() for k, v in m32.state_dict().items()}
    assert sum(v.numel() for v in init.values()) == 4385
    m = ConvAE().double()
    m.load_state_dict({k: v.double() for k, v in init.items()})
    x = (train_u8[:8].to(torch.float32) / 255).unsqueeze(1)
    xd = x.double()
    t = {"x": x}
    t.update({f"init.{k}": v for k, v in init.items()})
    with torch.no_grad():
        t["y"] = f32(m(xd))
        t["latent"] = f32(m.encoder(xd))
    opt = torch.optim.Adam(m.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    losses = []
    for step in range(3):
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(m.logits(xd), xd, reduction="mean")
        loss.backward()
        losses.append(loss.item())
        if step == 0:
            t.update({f"grad.{k}": f32(p.grad) for k, p in m.named_parameters()})
        opt.step()
    t["loss"] = torch.tensor(losses, dtype=torch.float32)
    t.update({f"final.{k}": f32(v) for k, v in m.state_dict().items()})
    save_st(os.path.join(out, "convae_steps.safetensors"), t,
            dict(batch=8, optimizer="adam", lr="0.001", beta1="0.9", beta2="0.999",
                 eps="1e-08", steps=3, loss="bce_mean"))


def convae_torch(out, train_u8, test_u8):
    torch.manual_seed(4321)
    m = ConvAE()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    xs = train_u8[:12800].to(torch.float32).div(255).unsqueeze(1)
    perm = torch.randperm(12800, generator=torch.Generator().manual_seed(99))
    m.train()
    for i in range(0, 12800, 128):
        xb = xs[perm[i:i + 128]]
        opt.zero_grad()
        F.binary_cross_entropy_with_logits(m.logits(xb), xb).backward()
        opt.step()
    sd = m.state_dict()
    save_st(os.path.join(out, "convae_torch.safetensors"),
            {k: sd[k] for k in sorted(sd)}, {"format": "pt"})
    images = test_u8[:500].contiguous()
    md = ConvAE().double()
    md.load_state_dict({k: v.double() for k, v in sd.items()})
    with torch.no_grad():
        x = images.double().div(255).unsqueeze(1)
        z = md.logits(x)
        loss = F.binary_cross_entropy_with_logits(z, x)
        mse = ((torch.sigmoid(z) - x) ** 2).mean()
    save_st(os.path.join(out, "convae_torch_eval.safetensors"),
            {"images": images, "loss": loss.reshape(1), "mse": mse.reshape(1)},
            dict(n=500, pixels="x/255", loss="bce_mean", mse="mean"))
    print(f"convae_torch: test loss {loss.item():.6f} mse {mse.item():.6f}")


# ---------------------------------------------------------------- issue 3: VAE sampling, VAE, SR
def sample_case(out):
    """The VAE sampling layer (log-variance convention): h [n, 2L] holds mu
    then lv; z = mu + exp(lv/2) * eps; KL summed over images; dh is the
    gradient of sum(z * dz) + kl_scale * KL (dh_mean: the same with eps = 0,
    aekit's deterministic pass)."""
    torch.manual_seed(3001)
    n, L, kl_scale = 3, 4, 0.7
    h = leaf(torch.randn(n, 2 * L) * 1.5)
    eps = leaf(torch.randn(n, L)).detach()
    dz = leaf(torch.randn(n, L)).detach()
    t = {"h": f32(h), "eps": f32(eps)}
    res = {}
    for key, e in (("dh", eps), ("dh_mean", torch.zeros_like(eps))):
        mu, lv = h[:, :L], h[:, L:]
        z = mu + torch.exp(lv / 2) * e
        kl = -0.5 * (1 + lv - mu ** 2 - torch.exp(lv)).sum()
        h.grad = None
        ((z * dz).sum() + kl_scale * kl).backward()
        res[key] = (f32(z), kl.detach().reshape(1), f32(h.grad))
    t["z"] = res["dh"][0]
    t["dz"] = f32(dz)
    t["kl"] = res["dh"][1]
    t["dh"] = res["dh"][2]
    t["dh_mean"] = res["dh_mean"][2]
    save_st(os.path.join(out, "layer_sample.safetensors"), t,
            dict(layer="sample", n=n, L=L, kl_scale=kl_scale))


class Sample(nn.Module):
    """aekit's `sample` layer: h [n, 2L] -> mu + exp(lv/2) * eps (eps = 0: mu)."""
    def __init__(self, L):
        super().__init__()
        self.L, self.eps = L, None

    def forward(self, h):
        mu, lv = h[:, :self.L], h[:, self.L:]
        e = torch.zeros_like(mu) if self.eps is None else self.eps
        return mu + torch.exp(lv / 2) * e


# Must match VAE_TEXT in tests/test_parity_models.c (loss line aside).
VAE_TEXT = """input 1 8 8
loss {loss}
encoder
flatten
dense 16
relu
dense 4
sample
decoder
dense 16
relu
dense 64
reshape 1 8 8
sigmoid
"""


class SmallVAE(nn.Module):
    def __init__(self, L=2):
        super().__init__()
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(),
                                     nn.Linear(16, 2 * L), Sample(L))
        self.decoder = nn.Sequential(nn.Linear(L, 16), nn.ReLU(), nn.Linear(16, 64),
                                     nn.Unflatten(1, (1, 8, 8)), nn.Sigmoid())
        self.L = L


def vae_pass(m, init, x, loss_name, extra=None, beta=1):
    """A small (conditional) VAE `m` (float64, init weights loaded) through
    the deterministic pass (z = mu): the tensors of its fixture (x, the
    `extra` inputs, init.*, h, y, recon, kl, loss and grad.* of loss = mean
    over images of reconstruction summed over pixels + beta KL). The encoder's
    last entry is the Sample layer, the decoder's the sigmoid."""
    n, L = x.shape[0], m.L
    xd = x.double()
    h = m.encoder[:-1](xd)
    z = m.encoder[-1](h)
    logits = m.decoder[:-1](z)
    y = torch.sigmoid(logits)
    if loss_name == "sse":
        recon = ((y - xd) ** 2).sum()
    else:
        recon = F.binary_cross_entropy_with_logits(logits, xd, reduction="sum")
    mu, lv = h[:, :L], h[:, L:]
    kl = -0.5 * (1 + lv - mu ** 2 - torch.exp(lv)).sum()
    loss = (recon + beta * kl) / n
    loss.backward()
    t = {"x": x}
    t.update(extra or {})
    t.update({f"init.{k}": v for k, v in init.items()})
    t["h"] = f32(h)
    t["y"] = f32(y)
    t["recon"] = recon.detach().reshape(1)
    t["kl"] = kl.detach().reshape(1)
    t["loss"] = loss.detach().reshape(1)
    t.update({f"grad.{k}": f32(p.grad) for k, p in m.named_parameters()})
    return t


def vae_cases(out):
    """The small dense VAE at init, deterministic pass (z = mu): loss = mean
    over images of (reconstruction summed over pixels + beta x KL), for loss
    sse (on the sigmoid output) and bce_sum (from the logits) with beta 1,
    and sse with beta 4 (a beta-VAE, --beta 4: vae_sse_beta4)."""
    torch.manual_seed(3002)
    m32 = SmallVAE()
    init = {k: v.clone() for k, v in m32.state_dict().items()}
    x = torch.rand(6, 1, 8, 8)
    for loss_name, beta in (("sse", 1), ("bce_sum", 1), ("sse", 4)):
        m = SmallVAE().double()
        m.load_state_dict({k: v.double() for k, v in init.items()})
        meta = dict(model=VAE_TEXT.format(loss=loss_name), n=x.shape[0], latent=m.L, loss=loss_name,
                    reduction="sum over pixels + KL, mean over images", z="mean")
        name = f"vae_{loss_name}"
        if beta != 1:
            name += f"_beta{beta}"
            meta.update(beta=beta, reduction="sum over pixels + beta x KL, mean over images")
        save_st(os.path.join(out, name + ".safetensors"), vae_pass(m, init, x, loss_name, beta=beta), meta)


# Must match CVAE_TEXT in tests/test_parity_models.c.
CVAE_TEXT = """param classes 3
input 1 8 8
loss sse
encoder
flatten
condition
dense 16
relu
dense 4
sample
decoder
condition
dense 16
relu
dense 64
reshape 1 8 8
sigmoid
"""


class Condition(nn.Module):
    """aekit's `condition` layer: the batch's labels (set on the module before
    the forward pass), one-hot, appended to the flat input."""
    def __init__(self, classes):
        super().__init__()
        self.classes, self.labels = classes, None

    def forward(self, x):
        return torch.cat([x, F.one_hot(self.labels, self.classes).to(x.dtype)], 1)


class SmallCVAE(nn.Module):
    def __init__(self, L=2, classes=3):
        super().__init__()
        self.encoder = nn.Sequential(nn.Flatten(), Condition(classes), nn.Linear(64 + classes, 16), nn.ReLU(),
                                     nn.Linear(16, 2 * L), Sample(L))
        self.decoder = nn.Sequential(Condition(classes), nn.Linear(L + classes, 16), nn.ReLU(), nn.Linear(16, 64),
                                     nn.Unflatten(1, (1, 8, 8)), nn.Sigmoid())
        self.L = L

    def set_labels(self, labels):
        self.encoder[1].labels = self.decoder[0].labels = labels


def cvae_case(out):
    """A small conditional VAE (CVAE_TEXT) at init, deterministic pass (z =
    mu), loss sse: as vae_cases, the labels one-hot after flatten and
    before the decoder."""
    torch.manual_seed(3004)
    m32 = SmallCVAE()
    init = {k: v.clone() for k, v in m32.state_dict().items()}
    x = torch.rand(6, 1, 8, 8)
    labels = torch.tensor([2, 0, 1, 1, 2, 0])
    m = SmallCVAE().double()
    m.load_state_dict({k: v.double() for k, v in init.items()})
    m.set_labels(labels)
    save_st(os.path.join(out, "cvae_sse.safetensors"),
            vae_pass(m, init, x, "sse", {"labels": labels.to(torch.uint8)}),
            dict(model=CVAE_TEXT, n=x.shape[0], latent=m.L, classes=3, loss="sse",
                 reduction="sum over pixels + KL, mean over images", z="mean"))


class SRAE(nn.Module):
    """models/sr.txt: 14x14 in, 28x28 out; the decoder is the conv AE's."""
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True))
        self.decoder = nn.Sequential(
            nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=2),
            nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=2),
            nn.Conv2d(8, 16, 3), nn.ReLU(), nn.Upsample(scale_factor=2),
            nn.Conv2d(16, 1, 3, padding=1), nn.Sigmoid())

    def logits(self, x):
        return self.decoder[:-1](self.encoder(x))


def sr_case(out, train_u8):
    torch.manual_seed(3003)
    m32 = SRAE()
    init = {k: v.clone() for k, v in m32.state_dict().items()}
    m = SRAE().double()
    m.load_state_dict({k: v.double() for k, v in init.items()})
    target = (train_u8[:4].to(torch.float32) / 255).unsqueeze(1)
    inp = f32(F.avg_pool2d(target.double(), 2))
    z = m.logits(inp.double())
    loss = F.binary_cross_entropy_with_logits(z, target.double(), reduction="mean")
    loss.backward()
    t = {"target": target, "input": inp}
    t.update({f"init.{k}": v for k, v in init.items()})
    t["y"] = f32(torch.sigmoid(z))
    t["loss"] = loss.detach().reshape(1)
    t.update({f"grad.{k}": f32(p.grad) for k, p in m.named_parameters()})
    save_st(os.path.join(out, "sr_steps.safetensors"), t,
            dict(model="preset sr", n=4, input="avg_pool2d(target, 2)", loss="bce_mean"))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mnist", default=os.path.join(here, "..", "data", "mnist"))
    ap.add_argument("--out", default=os.path.join(here, "fixtures"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(a.out, exist_ok=True)

    torch.manual_seed(0)
    conv_case(a.out, "conv2d_same", 2, 3, 7, 6, 4, 3, 1, 1)
    conv_case(a.out, "conv2d_valid", 2, 8, 16, 16, 16, 3, 1, 0)
    conv_case(a.out, "conv2d_stride2", 2, 3, 9, 8, 5, 3, 2, 1)
    conv_case(a.out, "conv2d_1to16", 2, 1, 28, 28, 16, 3, 1, 1)
    conv_case(a.out, "conv2d_16to1", 2, 16, 28, 28, 1, 3, 1, 1)
    pool_case(a.out, "maxpool2d_floor", "maxpool2d", 2, 3, 8, 8, 2, 0)
    pool_case(a.out, "maxpool2d_floor_odd", "maxpool2d", 2, 3, 7, 5, 2, 0)
    pool_case(a.out, "maxpool2d_ceil", "maxpool2d", 2, 3, 7, 7, 2, 1)
    pool_case(a.out, "maxpool2d_ties", "maxpool2d", 2, 3, 7, 6, 2, 1, ties=True)
    pool_case(a.out, "avgpool2d_floor", "avgpool2d", 2, 3, 8, 8, 2, 0)
    pool_case(a.out, "avgpool2d_floor_odd", "avgpool2d", 2, 3, 7, 5, 2, 0)
    pool_case(a.out, "avgpool2d_ceil", "avgpool2d", 2, 3, 7, 7, 2, 1)
    upsample_case(a.out, "upsample2d", 2, 3, 4, 5, 2)
    dense_case(a.out, "dense", 3, 20, 7)
    act_case(a.out, "relu", F.relu, 200)
    act_case(a.out, "leaky_relu", lambda v: F.leaky_relu(v, 0.2), 200, slope="0.2")
    act_case(a.out, "sigmoid", torch.sigmoid, 200)
    act_case(a.out, "tanh", torch.tanh, 200)
    loss_cases(a.out)
    optim_cases(a.out)

    train = read_idx_images(os.path.join(a.mnist, "train-images-idx3-ubyte"))
    test = read_idx_images(os.path.join(a.mnist, "t10k-images-idx3-ubyte"))
    convae_steps(a.out, train)
    convae_torch(a.out, train, test)
    sample_case(a.out)
    vae_cases(a.out)
    sr_case(a.out, train)
    optim_decay_cases(a.out)
    cvae_case(a.out)

    total = 0
    for fn in sorted(os.listdir(a.out)):
        if fn.endswith(".safetensors"):
            sz = os.path.getsize(os.path.join(a.out, fn))
            total += sz
            print(f"{sz:9d}  {fn}")
    print(f"{total:9d}  total")


if __name__ == "__main__":
    main()
