"""The PyTorch side of bench/encode.sh: what `aekit encode MODEL --data mnist
--out codes.npy` does, as a whole process: import torch, load aekit's model
file (safetensors, read with json + numpy), build the encoder from the
description stored in it, read the 10,000 IDX test images, encode them
(z = mu for VAEs) and write the codes as float32 .npy, shape (N, latent).

  /usr/bin/python3 bench/torch_encode.py MODEL.safetensors --data data/mnist
      --out codes.npy [--threads 2] [--batch 1000] [--limit N]

Debian's torch defaults to 1 thread, so the thread count is always set.
"""
import argparse
import os
import sys
import time

T0 = time.perf_counter()
import torch  # noqa: E402  (the import is part of what is measured)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import torch_models as tm  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--verbose", action="store_true", help="print the time of each stage")
    a = ap.parse_args()
    t_import = time.perf_counter()
    torch.set_num_threads(a.threads)
    sd, meta = tm.state_dict_from_safetensors(a.model)
    net = tm.AekitNet.from_text(meta["aekit.description"])
    net.load_state_dict(sd)
    net.eval()
    t_model = time.perf_counter()
    x = tm.load_images(os.path.join(a.data, "t10k-images-idx3-ubyte"))
    if a.limit:
        x = x[:a.limit]
    c, h, w = net.desc["input"]
    if (h, w) != tuple(x.shape[2:]):
        x = torch.nn.functional.avg_pool2d(x, x.shape[2] // h)   # super-resolution input
    t_data = time.perf_counter()
    codes = np.empty((x.shape[0], net.latent), dtype=np.float32)
    with torch.inference_mode():
        for i in range(0, x.shape[0], a.batch):
            z = net.encoder(x[i:i + a.batch])
            codes[i:i + z.shape[0]] = z.reshape(z.shape[0], -1).numpy()
    t_enc = time.perf_counter()
    np.save(a.out, codes)
    t_end = time.perf_counter()
    print(f"{a.out}: {codes.shape[0]} codes of {codes.shape[1]} values (float32)")
    if a.verbose:
        print(f"import torch {t_import - T0:.3f} s, model {t_model - t_import:.3f} s, "
              f"data {t_data - t_model:.3f} s, encode {t_enc - t_data:.3f} s, "
              f"write {t_end - t_enc:.3f} s (after the interpreter's start-up)")


if __name__ == "__main__":
    main()
