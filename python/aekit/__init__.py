"""aekit: autoencoders on images, from Python (a ctypes binding of libaekit).

    import aekit
    m = aekit.Model.from_preset("conv")
    codes = m.encode(x)            # NumPy in, NumPy out

docs/python.md is the reference.
"""
from ._lib import AekitError, version as __version__
from .model import Model, load, presets
from .training import train
from .torch_bridge import from_torch
from . import datasets

__all__ = ["AekitError", "Model", "load", "presets", "train", "from_torch", "datasets", "__version__"]
