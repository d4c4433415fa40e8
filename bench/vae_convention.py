"""Why aekit's dense VAE does not reach the Keras notebook's 35.73.

The lesson's notebook samples z = mu + exp(h) * eps (h = log sigma) but
computes KL = -0.5 * sum(1 + h - mu^2 - exp(h)), the formula for h = log
VARIANCE. aekit is self-consistent (h = log variance in both). This script
trains the same network in PyTorch both ways, with Keras's RMSprop
(lr 1e-3, rho 0.9, eps 1e-7), batch 128, and prints the validation loss
(SSE over 784 pixels + KL, sampled z, mean over the 10k test images) per
epoch, so the gap can be attributed:

  /usr/bin/python3 bench/vae_convention.py --convention notebook|aekit \
      [--epochs 25] [--threads 2] [--data data/mnist]
"""
import argparse
import struct
import time

import numpy as np
import torch
import torch.nn as nn


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class VAE(nn.Module):
    def __init__(self, latent=2, hidden=512):
        super().__init__()
        self.latent = latent
        self.enc = nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent))
        self.dec = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, 784),
                                 nn.Sigmoid())
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)


def loss(model, x, convention):
    h = model.enc(x)
    mu, s = h[:, :model.latent], h[:, model.latent:]
    std = torch.exp(s) if convention == "notebook" else torch.exp(0.5 * s)
    z = mu + std * torch.randn_like(mu)
    y = model.dec(z)
    sse = ((y - x) ** 2).sum(1)
    kl = -0.5 * (1 + s - mu * mu - s.exp()).sum(1)  # the same formula in both
    return (sse + kl).mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convention", choices=["notebook", "aekit"], required=True)
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    tr = torch.tensor(read_idx(a.data + "/train-images-idx3-ubyte"), dtype=torch.float32).view(-1, 784) / 255
    te = torch.tensor(read_idx(a.data + "/t10k-images-idx3-ubyte"), dtype=torch.float32).view(-1, 784) / 255
    model = VAE()
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    for epoch in range(1, a.epochs + 1):
        t0 = time.time()
        model.train()
        perm = torch.randperm(tr.shape[0])
        tot = 0.0
        for i in range(0, tr.shape[0], 128):
            x = tr[perm[i:i + 128]]
            opt.zero_grad()
            l = loss(model, x, a.convention)
            l.backward()
            opt.step()
            tot += l.item() * x.shape[0]
        with torch.no_grad():
            val = sum(loss(model, te[i:i + 1000], a.convention).item() * 1000
                      for i in range(0, te.shape[0], 1000)) / te.shape[0]
        print(f"epoch {epoch} train {tot / tr.shape[0]:.4f} val {val:.4f} "
              f"({time.time() - t0:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
