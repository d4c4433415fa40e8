#!/usr/bin/env python3
"""The scaling model of BENCHMARKS.md "Training across processes (MPI)":
predicted images/s of `mpirun -np R aekit train --threads 2` on R nodes of
this machine's 2 cores, from bench/mpi.sh's measurements.

    bench/mpi_model.py [DIR] [--alpha-us 25] [--gbytes-per-s 1.15]

DIR: bench/mpi.sh's results (default /tmp/aekit-bench/mpi): speed.csv
(step times at batch 128 and 32, one process, 2 threads) and pingpong.csv
(loopback). The network of the predictions: --alpha-us (one-way latency)
and --gbytes-per-s (bandwidth); by default 10 GbE with TCP (25 us,
1.15 GB/s: stated figures, not measured here).

Compute: t_step(b) = a + c*b for b images on one node (a: the update and
other per-step work, which every rank does in full; c: a training image),
fitted through the batch-128 and batch-32 runs.

Reduction of one gradient sum of G bytes over R ranks:
  aekit    (R-1 + k-1) * (alpha + p/beta) + ceil(log2 R) * (alpha + G/beta)
           a chain of R-1 hops in k = ceil(G/P) pieces of p = min(G, P),
           P = 256 KB, pipelined, then the last rank's broadcast of G
           (binomial tree); the per-piece additions are left out
  ring     2 (R-1) * alpha + 2 (R-1)/R * G/beta   (MPI_Allreduce's ring, for
           comparison; aekit does not use it: its order of additions
           would change the model's bits)
plus ceil(log2 R) * alpha a step for rank 0's stop flag. The AAE makes three
sums a step (encoder+decoder, discriminator, encoder)."""
import argparse
import csv
import math
import os

P = 65536 * 4  # RANKS_SEGMENT floats (src/model/ranks.h)
# the gradient sums of a step, in floats (models/*.txt; an AAE sums its
# encoder+decoder, its discriminator and its encoder again)
SUMS = {"conv": [4385], "vae": [807700], "aae": [5874934, 577001, 2937150]}
NODES = [1, 2, 4, 8, 16, 32, 64]


def chain(G, R, alpha, beta):
    if R == 1:
        return 0.0
    k = math.ceil(G / P)
    p = min(G, P)
    return (R - 1 + k - 1) * (alpha + p / beta) + math.ceil(math.log2(R)) * (alpha + G / beta)


def ring(G, R, alpha, beta):
    if R == 1:
        return 0.0
    return 2 * (R - 1) * alpha + 2 * (R - 1) / R * G / beta


def reduction(model, R, alpha, beta, how):
    flag = math.ceil(math.log2(R)) * alpha if R > 1 else 0.0
    return flag + sum(how(4 * n, R, alpha, beta) for n in SUMS[model])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", nargs="?", default=os.path.join(os.environ.get("BENCH_OUT", "/tmp/aekit-bench"), "mpi"))
    ap.add_argument("--alpha-us", type=float, default=25.0)
    ap.add_argument("--gbytes-per-s", type=float, default=1.15)
    o = ap.parse_args()
    rows = list(csv.DictReader(open(os.path.join(o.dir, "speed.csv"))))
    pp = {int(r["bytes"]): float(r["one_way_us"]) * 1e-6 for r in csv.DictReader(open(os.path.join(o.dir, "pingpong.csv")))}
    # loopback alpha and beta: the line through the 8 B and 256 KB one-way times
    lb_beta = (P - 8) / (pp[P] - pp[8])
    lb_alpha = pp[8]
    print(f"loopback (pingpong.csv): alpha {lb_alpha * 1e6:.2f} us, beta {lb_beta / 1e9:.2f} GB/s\n")
    print("check at R = 2 on this machine (loopback alpha, beta): predicted vs measured reduction, ms a step")
    print("| model | predicted (aekit chain) | measured (-np 2 --threads 1, rank 0) |")
    print("|---|--:|--:|")
    step = {}
    for m in SUMS:
        got = {r["run"]: r for r in rows if r["model"] == m}
        t128 = float(got["one-t2"]["step_ms"]) / 1e3
        t32 = float(got["one-t2-b32"]["step_ms"]) / 1e3
        c = (t128 - t32) / 96
        a = max(t128 - 128 * c, 0.0)
        step[m] = (a, c)
        pred = reduction(m, 2, lb_alpha, lb_beta, chain)
        print(f"| {m} | {pred * 1e3:.2f} | {got['np2-t1']['reduction_ms']} |")
    alpha, beta = o.alpha_us * 1e-6, o.gbytes_per_s * 1e9
    print(f"\ncompute a step: a + c * images (one node, 2 threads), from batch 128 and 32")
    print("| model | a (ms a step) | c (ms an image) |")
    print("|---|--:|--:|")
    for m, (a, c) in step.items():
        print(f"| {m} | {a * 1e3:.2f} | {c * 1e3:.4f} |")
    for title, batch_of in (("--batch 128 (the same run as one process: 128/R images a node)", lambda R: 128),
                            ("--batch 128*R (128 images a node: a larger batch, another run)", lambda R: 128 * R)):
        print(f"\nPREDICTED images/s, {title}; network {o.alpha_us:g} us, {o.gbytes_per_s:g} GB/s")
        print("| model | reduction | " + " | ".join(f"R={R}" for R in NODES) + " |")
        print("|---|---|" + "--:|" * len(NODES))
        for m, (a, c) in step.items():
            for name, how in (("aekit chain", chain), ("ring (comparison)", ring)):
                cells = []
                for R in NODES:
                    B = batch_of(R)
                    t = a + c * B / R + reduction(m, R, alpha, beta, how)
                    cells.append(f"{B / t:,.0f}")
                print(f"| {m} | {name} | " + " | ".join(cells) + " |")
    print("\nreduction alone, ms a step (PREDICTED, same network)")
    print("| model | reduction | " + " | ".join(f"R={R}" for R in NODES[1:]) + " |")
    print("|---|---|" + "--:|" * (len(NODES) - 1))
    for m in SUMS:
        for name, how in (("aekit chain", chain), ("ring (comparison)", ring)):
            print(f"| {m} | {name} | " + " | ".join(f"{reduction(m, R, alpha, beta, how) * 1e3:.2f}" for R in NODES[1:]) + " |")


if __name__ == "__main__":
    main()
