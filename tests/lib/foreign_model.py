#!/usr/bin/python3
"""A model of its own architecture, built and trained in PyTorch, for
tests/cli_foreign_model.sh (aekit --model DESCRIPTION, aekit fit-latent).

usage: foreign_model.py MNIST_DIR OUT_DIR

Writes to OUT_DIR:
  mine.safetensors   the state_dict of a small conv AE that is no preset
      (leaky_relu, a stride-2 conv, avgpool, a dense 10-value code, tanh),
      after 40 Adam steps on 256 training images; written by the
      hand-written safetensors writer of tests/gen_fixtures.py, without
      metadata, as PyTorch's tools would
  mine.txt           its aekit description, written by hand
  reference.json     PyTorch's mean BCE and MSE on the first 200 test images,
      and the mean and standard deviation of the codes of the first 500
      training images (what aekit fit-latent --limit 500 stores), all in
      float64 from the float32 weights
Exits 77 when PyTorch or NumPy is missing.
"""
import json
import os
import struct
import sys

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gen_fixtures import save_st  # noqa: E402

DESCRIPTION = """\
# a conv AE of its own (no preset): 28x28 -> 10 values -> 28x28
input 1 28 28
loss bce

encoder
conv 12 k=3 pad=same
leaky_relu slope=0.2
conv 6 k=3 stride=2 pad=1
relu
avgpool 2
flatten
dense 10

decoder
dense 294
tanh
reshape 6 7 7
upsample 2
conv 8 k=3 pad=same
relu
upsample 2
conv 1 k=3 pad=same
sigmoid
"""


class Mine(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 12, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(12, 6, 3, stride=2, padding=1), nn.ReLU(),
            nn.AvgPool2d(2), nn.Flatten(), nn.Linear(294, 10))
        self.decoder = nn.Sequential(
            nn.Linear(10, 294), nn.Tanh(), nn.Unflatten(1, (6, 7, 7)),
            nn.Upsample(scale_factor=2), nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(),
            nn.Upsample(scale_factor=2), nn.Conv2d(8, 1, 3, padding=1), nn.Sigmoid())

    def logits(self, x):
        return self.decoder[:-1](self.encoder(x))


def idx_images(path, n):
    with open(path, "rb") as f:
        magic, count, h, w = struct.unpack(">IIII", f.read(16))
        assert magic == 0x803 and count >= n
        data = np.frombuffer(f.read(n * h * w), dtype=np.uint8)
    return torch.from_numpy(data.reshape(n, 1, h, w).astype(np.float32) / 255.0)


def main():
    mnist, out = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = Mine()
    train = idx_images(os.path.join(mnist, "train-images-idx3-ubyte"), 500)
    test = idx_images(os.path.join(mnist, "t10k-images-idx3-ubyte"), 200)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for step in range(40):
        x = train[(step * 32) % 256:(step * 32) % 256 + 32]
        loss = F.binary_cross_entropy_with_logits(model.logits(x), x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    save_st(os.path.join(out, "mine.safetensors"), model.state_dict())
    with open(os.path.join(out, "mine.txt"), "w") as f:
        f.write(DESCRIPTION)

    exact = model.double()
    with torch.no_grad():
        x = test.double()
        z = exact.logits(x)
        bce = F.binary_cross_entropy_with_logits(z, x).item()
        mse = F.mse_loss(torch.sigmoid(z), x).item()
        codes = exact.encoder(train.double())
    ref = {"loss": bce, "mse": mse,
           "latent_mean": codes.mean(0).tolist(),
           "latent_std": codes.std(0, unbiased=False).tolist()}
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(ref, f)


if __name__ == "__main__":
    main()
