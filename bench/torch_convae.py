"""The lesson's conv AE trained in PyTorch on the same data and settings as
`aekit train --model conv` (Adam 1e-3, batch 128, BCE, Glorot-uniform init),
for speed and quality comparisons.

  /usr/bin/python3 bench/torch_convae.py [--epochs 1] [--threads 2] [--data data/mnist]

Prints one line per epoch: seconds, images/s, train and test loss. Debian's
torch defaults to 1 thread, so the thread count is always set explicitly.
"""
import argparse
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def conv_ae():
    enc = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True))
    dec = nn.Sequential(
        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=2),
        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=2),
        nn.Conv2d(8, 16, 3), nn.ReLU(), nn.Upsample(scale_factor=2),
        nn.Conv2d(16, 1, 3, padding=1))  # sigmoid folded into the loss
    model = nn.Sequential()
    model.add_module("encoder", enc)
    model.add_module("decoder", dec)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr = torch.from_numpy(read_idx(f"{a.data}/train-images-idx3-ubyte").copy())
    xte = torch.from_numpy(read_idx(f"{a.data}/t10k-images-idx3-ubyte").copy())
    xtr = (xtr.float() / 255).unsqueeze(1)
    xte = (xte.float() / 255).unsqueeze(1)
    model = conv_ae()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = xtr.shape[0]
    for epoch in range(1, a.epochs + 1):
        perm = torch.randperm(n)
        t0 = time.perf_counter()
        total = 0.0
        model.train()
        for s in range(0, n, a.batch):
            x = xtr[perm[s:s + a.batch]]
            loss = F.binary_cross_entropy_with_logits(model(x), x)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * x.shape[0]
        sec = time.perf_counter() - t0
        model.eval()
        with torch.no_grad():
            val = sum(F.binary_cross_entropy_with_logits(model(xte[i:i + 1000]), xte[i:i + 1000],
                                                         reduction="sum").item()
                      for i in range(0, xte.shape[0], 1000)) / xte.numel()
        print(f"epoch {epoch} {sec:.2f} s {n / sec:.0f} img/s train {total / n:.4f} val {val:.4f}",
              flush=True)


if __name__ == "__main__":
    main()
