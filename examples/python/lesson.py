"""The autoencoder lesson from Python with aekit: train the convolutional
autoencoder on MNIST and look at its reconstructions, then a VAE with a 2-D
latent and its codes of the test set; the VAE handed to PyTorch at the end.
Pictures need matplotlib (lesson.png); without it the numbers are printed.

    PYTHONPATH=build/release/python python3 examples/python/lesson.py [EPOCHS] [LIMIT]
"""
import sys

import numpy as np

import aekit

epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
limit = int(sys.argv[2]) if len(sys.argv) > 2 else None      # the first N images only
x_train, y_train, x_test, y_test = aekit.datasets.load("mnist", limit=limit)

# The lesson's conv AE (Adam, BCE), validated on the test set after each epoch.
conv = aekit.train("conv", (x_train, x_test), epochs=epochs,
                   callback=lambda m: print("conv epoch %d: val loss %.4f" % (m["epoch"], m["val_loss"])))
recon = conv.reconstruct(x_test[:10])                        # float32 (10, 1, 28, 28)
print("conv AE: MSE of 10 reconstructions %.4f" % np.mean((recon - x_test[:10] / 255.0) ** 2))

# A VAE with a 2-D latent: each test image's code (z_mean) is a point of the plane.
vae = aekit.train(aekit.Model.from_preset("vae", latent=2), (x_train, x_test), epochs=epochs, progress=False)
codes = vae.encode(x_test)                                   # float32 (N, 2)
for digit in range(10):
    print("digit %d: mean code (%+.2f, %+.2f)" % ((digit,) + tuple(codes[y_test == digit].mean(axis=0))))

try:  # the same VAE as a torch.nn.Module: its encoder gives the same codes
    import torch
    with torch.no_grad():
        z = vae.to_torch().encode(torch.from_numpy(x_test[:100].astype(np.float32) / 255))
    print("PyTorch's codes differ from aekit's by at most %.1e" % np.abs(z.numpy() - codes[:100]).max())
except ImportError:
    print("(no torch: skipping the PyTorch comparison)")

try:
    import matplotlib
    matplotlib.use("Agg")                                    # files, no window
    import matplotlib.pyplot as plt
except ImportError:
    print("(no matplotlib: no pictures)")
    sys.exit(0)
fig = plt.figure(figsize=(10, 6))
for i in range(10):                                          # originals over reconstructions
    for row, img in ((0, x_test[i, 0]), (1, recon[i, 0])):
        ax = fig.add_subplot(4, 10, 10 * row + i + 1)
        ax.imshow(img, cmap="gray"), ax.axis("off")
ax = fig.add_subplot(2, 1, 2)                                # the VAE's latent plane
ax.scatter(codes[:, 0], codes[:, 1], c=y_test, s=2, cmap="tab10")
fig.savefig("lesson.png")
print("wrote lesson.png")
