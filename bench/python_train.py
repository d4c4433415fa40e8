"""A training epoch from Python (aekit.train) against `aekit train` and
PyTorch (bench/torch_models.py): the same model (conv), data, batch,
optimiser, seed and thread count; each runner's own epoch time (the
training loop of the epoch, as each reports it: aekit's ae_progress
seconds, in metrics.csv for the command line and in the callback's metrics
for Python; torch_models.py's epoch line). Runs alternate (aekit, Python,
torch, aekit, ...) so that a machine whose load changes treats them alike;
the median over reps is reported, with the Python/CLI ratio (the binding's
overhead: a ctypes callback into Python after every step).

  /usr/bin/python3 bench/python_train.py [--reps 5] [--threads 2]
      [--build build/release] [--data mnist] [--val-limit 1000] [--no-torch]

Prints a Markdown table to stdout, each run to stderr.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def cli_epoch(aekit, args, seed, tmp):
    out = os.path.join(tmp, "cli-%d" % seed)
    limit = ["--limit", str(args.limit)] if args.limit else []
    subprocess.run([aekit, "train", "--model", "conv", "--data", args.data, "--epochs", "1", *limit,
                    "--threads", str(args.threads), "--seed", str(seed), "--val-limit", str(args.val_limit),
                    "--out", out, "--force"], check=True, capture_output=True)
    with open(os.path.join(out, "metrics.csv")) as f:
        head, row = f.read().splitlines()[:2]
    return float(dict(zip(head.split(","), row.split(",")))["seconds"])


def python_epoch(aekit, args, seed):
    seen = []
    aekit.train("conv", args.data, epochs=1, threads=args.threads, seed=seed, limit=args.limit, val_limit=args.val_limit,
                progress=False, callback=seen.append)
    return seen[0]["seconds"]


def callback_cost(aekit, args):
    """ae_train called through ctypes on the same data and options, without a
    progress callback and with aekit.train's (the display off): the cost of
    calling back into Python after every step, alone. Paired runs in one
    process, alternating; wall time of the ae_train call (no validation)."""
    import ctypes
    from aekit import training as t
    shape = (1, 28, 28)
    ds = t._open_split(args.data, t.SPLIT_TRAIN, args.limit, shape)
    opt = t._Options()
    opt.set("epochs", 1)
    opt.set("threads", args.threads)
    out = {"no callback": [], "Python callback": []}
    for rep in range(args.reps):
        for name in out:
            m = aekit.Model.from_preset("conv")
            run = t._Run(None, None, False, False, None)
            cb = t._PROGRESS_FN(run.on_progress) if name == "Python callback" else t._PROGRESS_FN()
            err = aekit._lib.Error()
            t0 = time.perf_counter()
            rc = t._train(m._ptr, ds.ptr, None, opt.buf, cb, None, ctypes.byref(err))
            out[name].append(time.perf_counter() - t0)
            assert rc == 0, err.text()
            print("rep %d  ae_train, %-16s %.3f s" % (rep + 1, name, out[name][-1]), file=sys.stderr, flush=True)
    return out


def callback_call_cost(calls=200000):
    """Seconds per call of aekit.train's step callback (display off), called
    through its ctypes function pointer: Python -> C thunk -> Python, more
    than the library's C -> Python call costs. Little moved by the load of
    the machine, unlike the epoch times."""
    import ctypes
    from aekit import training as t
    run = t._Run(None, None, False, False, None)
    cb = t._PROGRESS_FN(run.on_progress)
    p = t._Progress(epoch=1, epochs=1, step=1, steps=469, train_loss=0.2, images_per_second=15000)
    pp = ctypes.pointer(p)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(calls):
            cb(pp, None)
        best = min(best, (time.perf_counter() - t0) / calls)
    return best


def torch_epoch(args, seed):
    data = args.data if os.path.isdir(args.data) else os.path.join("data", args.data)
    r = subprocess.run([sys.executable, os.path.join(HERE, "torch_models.py"), "--model", "conv", "--epochs", "1",
                        "--threads", str(args.threads), "--seed", str(seed), "--data", data,
                        "--limit", str(args.limit), "--val-limit", str(args.val_limit)], check=True, capture_output=True, text=True)
    m = re.search(r"^epoch 1 ([0-9.]+) s", r.stdout, re.M)
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--data", default="mnist")
    ap.add_argument("--val-limit", type=int, default=1000, help="validation images (not in the epoch time)")
    ap.add_argument("--limit", type=int, default=0, help="first N training images only (0: all 60,000)")
    ap.add_argument("--torch-reps", type=int, default=None, help="PyTorch runs (default: --reps)")
    ap.add_argument("--no-torch", action="store_true")
    args = ap.parse_args()

    os.environ.setdefault("AEKIT_LIB", os.path.join(args.build, "libaekit.so"))
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import aekit
    cli = os.path.join(args.build, "aekit")

    times = {"aekit train": [], "aekit.train (Python)": [], "PyTorch": []}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            runs = [("aekit train", lambda: cli_epoch(cli, args, rep, tmp)),
                    ("aekit.train (Python)", lambda: python_epoch(aekit, args, rep))]
            torch_reps = args.reps if args.torch_reps is None else args.torch_reps
            if not args.no_torch and rep < torch_reps:
                runs.append(("PyTorch", lambda: torch_epoch(args, rep)))
            for name, run in runs:
                s = run()
                times[name].append(s)
                print("rep %d  %-22s %.3f s" % (rep + 1, name, s), file=sys.stderr, flush=True)

    cost = callback_cost(aekit, args)
    per_call = callback_call_cost()

    base = statistics.median(times["aekit train"])
    print("conv AE, MNIST %s training images, batch 128, Adam, %d threads, 1 epoch, %d reps (seeds 0..%d); "
          "s/epoch as each runner reports it.\n" % ("{:,}".format(args.limit) if args.limit else "60,000",
                                                    args.threads, args.reps, args.reps - 1))
    print("| runner | median s/epoch | min | max | x aekit train |")
    print("|---|---|---|---|---|")
    for name, ts in times.items():
        if ts:
            med = statistics.median(ts)
            print("| %s | %.3f | %.3f | %.3f | %.3f |" % (name, med, min(ts), max(ts), med / base))
    py = times["aekit.train (Python)"]
    print("\nPython against the command line, median ratio of paired runs: %+.2f%%" %
          (100 * (statistics.median([p / c for p, c in zip(py, times["aekit train"])]) - 1)))
    print("\nThe callback alone: ae_train through ctypes, in one process, %d paired runs (wall time of the call):\n"
          % args.reps)
    print("| ae_train | median s | min | max |")
    print("|---|---|---|---|")
    for name, ts in cost.items():
        print("| %s | %.3f | %.3f | %.3f |" % (name, statistics.median(ts), min(ts), max(ts)))
    pairs = [w / wo for w, wo in zip(cost["Python callback"], cost["no callback"])]
    print("\nPython callback against none, median ratio of paired runs: %+.2f%%" % (100 * (statistics.median(pairs) - 1)))
    steps = -(-(args.limit or 60000) // 128)
    print("\nOne step callback (Python -> C -> Python through its ctypes pointer, best of 5 x 200,000 calls): "
          "%.2f us; x %d steps = %.2f ms a epoch, %.3f%% of aekit train's median epoch."
          % (per_call * 1e6, steps, per_call * steps * 1e3, 100 * per_call * steps / base))


if __name__ == "__main__":
    main()
