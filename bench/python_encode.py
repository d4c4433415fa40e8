"""Encoding the 10,000 MNIST test images from Python (aekit's binding)
against `aekit encode` (the CLI) and PyTorch, the same model and threads,
process start-up excluded:

  - python: m.encode(x_test, threads=T), x_test the uint8 arrays of
    aekit.datasets.load("mnist"); the call alone is timed (perf_counter),
    the uint8 -> float32 conversion included (it is part of the call).
  - cli: `aekit encode MODEL --data mnist --out codes.npy --threads T` as a
    process, minus the same command with --limit 1 (start-up, reading the
    model and the whole IDX test file, which --limit does not skip): what
    is left is encoding 9,999 more images and writing their codes (into
    /dev/shm by default, --codes-dir: the CLI's atomic write fsyncs, which
    on a disk is a flush of 5 MB, not encoding).
  - torch: the encoder built from the same model file (bench/torch_models.py,
    as bench/torch_encode.py builds it), torch.set_num_threads(T), batches
    of 1,000 under torch.inference_mode() from the float32 images; the loop
    alone is timed.

Rounds are interleaved (python with uint8 input, with float32 input, the
first call of a freshly loaded model; cli; cli --limit 1; torch), after one
untimed warm-up round; the table gives median / min / max seconds.
The model: MODEL, or one trained by `aekit train --model NAME --epochs 1
--limit 2000` into a temporary folder (the weights' values do not change
the cost of encoding).

  /usr/bin/python3 bench/python_encode.py [--build build/release] [--model conv]
      [--model-file M.safetensors] [--threads 2] [--runs 10] [--no-torch]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def stats(xs):
    return statistics.median(xs), min(xs), max(xs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build/release"))
    ap.add_argument("--model", default="conv", help="preset trained for the benchmark")
    ap.add_argument("--model-file", help="a model file to use instead")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--codes-dir", help="where aekit encode writes (default /dev/shm, a tmpfs)")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    sys.path.insert(0, os.path.join(build, "python"))
    import numpy as np
    import aekit
    cli = os.path.join(build, "aekit")
    env = dict(os.environ)
    env.setdefault("AEKIT_DATA", os.path.join(ROOT, "data"))
    os.environ["AEKIT_DATA"] = env["AEKIT_DATA"]
    T = a.threads
    tmp = tempfile.mkdtemp(prefix="aekit-pyenc-")
    model = a.model_file
    if not model:
        out = os.path.join(tmp, "run")
        subprocess.run([cli, "train", "--model", a.model, "--data", "mnist", "--epochs", "1", "--limit", "2000",
                        "--val-limit", "500", "--threads", str(T), "--out", out],
                       check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        model = os.path.join(out, "model.safetensors")

    x = aekit.datasets.load("mnist")[2]
    m = aekit.load(model)
    # the CLI writes its codes atomically with an fsync: on tmpfs that costs
    # nothing, on a disk it flushes 5 MB, which is not encoding
    codes_dir = a.codes_dir or ("/dev/shm" if os.path.isdir("/dev/shm") else tmp)
    codes_npy = os.path.join(codes_dir, "aekit-pyenc-%d.npy" % os.getpid())

    x32 = x.astype(np.float32) / np.float32(255)

    def run_python(model=None, images=x):
        model = model or m
        t = time.perf_counter()
        z = model.encode(images, threads=T)
        return time.perf_counter() - t, z

    def run_cli(limit=None):
        cmd = [cli, "encode", model, "--data", "mnist", "--out", codes_npy, "--threads", str(T)]
        if limit:
            cmd += ["--limit", str(limit)]
        t = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t

    torch_run = None
    if not a.no_torch:
        import torch
        sys.path.insert(0, os.path.join(ROOT, "bench"))
        import torch_models as tm
        torch.set_num_threads(T)
        sd, meta = tm.state_dict_from_safetensors(model)
        net = tm.AekitNet(tm.parse_description(meta["aekit.description"]))
        net.load_state_dict(sd)
        net.eval()
        xt = torch.from_numpy(x.astype(np.float32) / np.float32(255))

        def torch_run():
            codes = np.empty((xt.shape[0], net.latent), dtype=np.float32)
            t = time.perf_counter()
            with torch.inference_mode():
                for i in range(0, xt.shape[0], 1000):
                    z = net.encoder(xt[i:i + 1000])
                    codes[i:i + z.shape[0]] = z.reshape(z.shape[0], -1).numpy()
            return time.perf_counter() - t, codes

    # warm-up round, and the codes compared
    _, ours = run_python()
    run_cli()
    theirs = np.load(codes_npy)
    same = ours.tobytes() == theirs.tobytes()
    print("codes: python %s, aekit encode %s: %s" % (ours.shape, theirs.shape,
          "byte for byte the same" if same else "DIFFERENT"))
    if torch_run:
        _, tc = torch_run()
        print("codes: torch max |difference| %.2e (max |code| %.2f)" % (
            float(np.abs(tc - ours).max()), float(np.abs(ours).max())))
    run_cli(limit=1)

    t_py, t_py32, t_cold, t_cli, t_cli1, t_torch = [], [], [], [], [], []
    for _ in range(a.runs):
        t_py.append(run_python()[0])
        t_py32.append(run_python(images=x32)[0])
        t_cold.append(run_python(model=aekit.load(model))[0])
        t_cli.append(run_cli())
        t_cli1.append(run_cli(limit=1))
        if torch_run:
            t_torch.append(torch_run()[0])
    load = open("/proc/loadavg").read().split()[:3]
    print("model %s (latent %d), %d MNIST test images, %d thread(s), %d rounds; load average %s" % (
        a.model_file or a.model, m.latent_size, x.shape[0], T, a.runs, " ".join(load)))
    print()
    print("| what | median s | min s | max s |")
    print("|---|---|---|---|")
    rows = [("python: `m.encode(x_test)` (uint8 in)", t_py),
            ("python: `m.encode(x_test_f32)` (float32 in, read in place)", t_py32),
            ("python: first call of a freshly loaded Model (uint8; its workspace made)", t_cold),
            ("cli: `aekit encode` whole process", t_cli),
            ("cli: `aekit encode --limit 1` (start-up, model, IDX read)", t_cli1),
            ("cli: the difference, round by round", [f - s for f, s in zip(t_cli, t_cli1)])]
    if t_torch:
        rows.append(("torch: encoder loop, batches of 1000", t_torch))
    for name, ts in rows:
        print("| %s | %.4f | %.4f | %.4f |" % ((name,) + stats(ts)))
    os.remove(codes_npy)
    shutil.rmtree(tmp)
    if not same:
        sys.exit("bench/python_encode.py: the codes differ")


if __name__ == "__main__":
    main()
