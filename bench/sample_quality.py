"""How digit-like a generative model's samples are, as numbers.

Decodes N random latents with `aekit sample MODEL --npy` (a VAE or AAE
draws them from its prior N(0, I)) and compares each decoded image with
the MNIST training images, in pixel space ([0, 1], L2), against the same
figures for N real test images:

  knn agreement   the share of a sample's 10 nearest training images that
                  carry their majority label, averaged over the samples: a
                  clear digit has neighbours of one class, a blot between
                  digits (or noise) has mixed ones. Real test images: ~0.93.
  nn distance     the median L2 distance from a sample to its nearest
                  training image: noise and smudges are far from every
                  digit. Reported as the ratio to the real test images'
                  median (1.0: as close as real digits are).
  classes         entropy of the samples' majority labels in bits (log2 10
                  = 3.32: all ten digits equally often; low: the samples
                  collapse onto a few digits).
  knn score       the two at once, as the Inception Score with the 10
                  neighbours' label shares as the classifier: exp(H(mean
                  p) - mean H(p)), from 1 (one blurred class, or every
                  sample a mix) to 10 (ten digits, each sample clearly
                  one). Real test images: ~8. The headline number.

  /usr/bin/python3 bench/sample_quality.py build/release/aekit runs/aae/model.safetensors \
      [--n 1000] [--seed 1] [--data data/mnist] [--threads 2] [--json]

Cheap: one `aekit sample` call and a 1000 x 60000 distance matrix (a few
seconds on 2 cores).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

from torch_models import read_idx   # bench/torch_models.py: raw or .gz IDX files

K = 10


def neighbours(queries, train):
    """For each query row: its K nearest training rows' indices and the
    distance to the nearest one (chunked so memory stays small)."""
    idx, near = [], []
    tn = (train * train).sum(1)
    for q in torch.split(queries, 250):
        d2 = (q * q).sum(1, keepdim=True) - 2.0 * q @ train.T + tn
        d, i = torch.topk(d2, K, dim=1, largest=False)
        idx.append(i)
        near.append(d[:, 0].clamp_min(0).sqrt())
    return torch.cat(idx), torch.cat(near)


def figures(queries, train, labels):
    idx, near = neighbours(queries, train)
    lab = labels[idx]                                    # (N, K)
    counts = torch.stack([(lab == c).sum(1) for c in range(10)], 1)
    top, major = counts.max(1)
    hist = torch.bincount(major, minlength=10).double()
    p = hist / hist.sum()
    entropy = float(-(p[p > 0] * p[p > 0].log2()).sum())
    return float(top.double().mean() / K), float(near.median()), entropy, knn_score(counts.double() / K)


def entropy_nats(p):
    return -(p * p.clamp_min(1e-30).log()).sum(-1)


def knn_score(p):
    """exp(H(marginal) - mean H(p(y|x))) of per-sample label distributions p (N, 10)."""
    return float(torch.exp(entropy_nats(p.mean(0)) - entropy_nats(p).mean()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("aekit")
    ap.add_argument("model")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=os.path.join(os.environ.get("AEKIT_DATA", "data"), "mnist"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    with tempfile.TemporaryDirectory() as tmp:
        npy = os.path.join(tmp, "samples.npy")
        subprocess.run([a.aekit, "sample", a.model, "--n", str(a.n), "--seed", str(a.seed), "--npy", npy,
                        "--threads", str(a.threads)], check=True, stdout=subprocess.DEVNULL)
        samples = torch.from_numpy(np.load(npy).reshape(a.n, -1).astype(np.float32))

    def images(name):
        p = os.path.join(a.data, name)
        if not os.path.exists(p) and not os.path.exists(p + ".gz"):
            sys.exit("sample_quality.py: %s not found in %s" % (name, a.data))
        return read_idx(p)

    train = torch.from_numpy(images("train-images-idx3-ubyte").reshape(-1, 784).astype(np.float32) / 255)
    labels = torch.from_numpy(images("train-labels-idx1-ubyte").astype(np.int64))
    test = torch.from_numpy(images("t10k-images-idx3-ubyte")[:a.n].reshape(-1, 784).astype(np.float32) / 255)

    s_agree, s_dist, s_ent, s_score = figures(samples, train, labels)
    r_agree, r_dist, r_ent, r_score = figures(test, train, labels)
    out = {"knn_score": round(s_score, 3), "knn_agreement": round(s_agree, 4), "nn_distance": round(s_dist, 3),
           "nn_distance_ratio": round(s_dist / r_dist, 3), "class_entropy_bits": round(s_ent, 3),
           "real": {"knn_score": round(r_score, 3), "knn_agreement": round(r_agree, 4),
                    "nn_distance": round(r_dist, 3), "class_entropy_bits": round(r_ent, 3)}}
    if a.json:
        print(json.dumps(out))
    else:
        print("samples: knn score %.2f  knn agreement %.3f  nn distance %.2f (x%.2f of real)  classes %.2f bits"
              % (s_score, s_agree, s_dist, s_dist / r_dist, s_ent))
        print("real:    knn score %.2f  knn agreement %.3f  nn distance %.2f            classes %.2f bits"
              % (r_score, r_agree, r_dist, r_ent))


if __name__ == "__main__":
    main()
