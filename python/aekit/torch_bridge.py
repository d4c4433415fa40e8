"""Model.state_dict / load_state_dict / to_torch and aekit.from_torch:
weights as NumPy arrays named as PyTorch names them, and the equivalent
torch.nn.Module.

The names, order and shapes are those of aekit's model files, which are
PyTorch's state_dict of the module to_torch builds (encoder.0.weight,
encoder.0.bias, ..., decoder.N.*, discriminator.N.*), read from the library
(ae_model_tensor). PyTorch is imported only by to_torch; from_torch takes
any mapping of names to arrays, so it works without torch.
"""
import ctypes

import numpy as np

from . import _lib
from ._lib import call, declare

_err = ctypes.POINTER(_lib.Error)


class Tensor(ctypes.Structure):
    """ae_tensor (aekit.h)."""
    _fields_ = [("name", ctypes.c_char * 64),
                ("data", ctypes.POINTER(ctypes.c_float)),
                ("ndim", ctypes.c_int),
                ("shape", ctypes.c_int64 * 4),
                ("count", ctypes.c_size_t)]


_lib.check_struct(Tensor, "ae_tensor")


_tensor_count = declare("ae_model_tensor_count", ctypes.c_int, [ctypes.c_void_p])
_tensor = declare("ae_model_tensor", ctypes.c_int, [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(Tensor), _err])
_from_tensors = declare("ae_model_from_tensors", ctypes.c_int,
                        [ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(Tensor), ctypes.c_int,
                         ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, _err])
_NAME_MAX = Tensor.name.size   # AE_TENSOR_NAME_MAX, with the terminating NUL


def _torch(what):
    try:
        import torch
    except ImportError as e:
        raise ImportError("aekit: %s needs PyTorch, which cannot be imported (%s); "
                          "on Debian: apt install python3-torch" % (what, e)) from e
    return torch


class _TensorMemory:
    """One of a model's tensors as NumPy sees it (__array_interface__):
    an array made from it has it as its base, and it holds the model, so
    the model's memory lives as long as any view of it."""

    def __init__(self, model, t):
        self.model = model
        self.__array_interface__ = {
            "shape": tuple(t.shape[:t.ndim]), "typestr": "<f4", "version": 3,
            "data": (ctypes.addressof(t.data.contents), False)}


def _tensors(model):
    out = []
    for i in range(_tensor_count(model._ptr)):
        t = Tensor()
        call(_tensor, model._ptr, i, ctypes.byref(t))
        out.append(t)
    return out


class TorchMixin:
    """The PyTorch methods of aekit.Model."""

    def state_dict(self):
        """{name: ndarray}: the model's weights as float32 NumPy views,
        shaped as PyTorch's (conv [out, in, k, k], dense [out, in]), in the
        order of a model file. Writing to a view changes the model (no
        inference call may run on it meanwhile); each view keeps the
        model alive."""
        return {t.name.decode(): np.asarray(_TensorMemory(self, t)) for t in _tensors(self)}

    def load_state_dict(self, state_dict):
        """Copies weights in from {name: array or torch tensor}: every tensor
        of the model with its shape, and no other (ValueError naming the
        first that is not; nothing is copied then)."""
        ours = self.state_dict()
        if not hasattr(state_dict, "keys"):
            raise ValueError("load_state_dict: expected a mapping of tensor names to arrays, got %s"
                             % type(state_dict).__name__)
        for name in state_dict.keys():
            if name not in ours:
                raise ValueError("load_state_dict: tensor '%s' is not one of the model's" % name)
        arrays = {}
        for name, dst in ours.items():
            if name not in state_dict:
                raise ValueError("load_state_dict: tensor '%s' is missing" % name)
            src = _as_array(state_dict[name], name, "load_state_dict")
            if src.shape != dst.shape:
                raise ValueError("load_state_dict: tensor '%s' has shape %s, the model needs %s"
                                 % (name, tuple(src.shape), tuple(dst.shape)))
            arrays[name] = src
        for name, dst in ours.items():
            dst[...] = arrays[name]

    def to_torch(self):
        """The equivalent torch.nn.Module (aekit's AekitNet: encoder,
        decoder, and an AAE's discriminator as nn.Sequential) with this
        model's weights, in eval mode. forward(x) is Model.reconstruct's
        output; in eval mode a VAE's forward and encode use z = mu, as
        aekit's do (train mode samples). module.encode(x) / decode(z) are
        aekit's encode / decode; module.description is the model's text."""
        _torch("Model.to_torch")
        from . import _torch_build
        import torch
        net = _torch_build.AekitNet.from_text(self.description)
        net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in self.state_dict().items()})
        return net.eval()


def _as_array(value, name, who):
    if hasattr(value, "detach"):   # a torch tensor, on any device, of any float dtype
        value = value.detach().cpu().float().numpy()
    try:
        return np.asarray(value, dtype=np.float32, order="C")
    except (TypeError, ValueError) as e:
        raise ValueError("%s: tensor '%s': not an array of numbers (%s)" % (who, name, e)) from None


def from_torch(module, latent=None, description=None):
    """An aekit Model from a torch.nn.Module (or a state_dict mapping).

    The model is built from `description` (a description text) if given,
    else from the module's own `description` (modules made by
    Model.to_torch carry it), else the state_dict's names and shapes are
    matched against the presets, as aekit.load does for a file without a
    description; a preset is tried with `latent` (None: its default). The
    weights are copied. ValueError when nothing fits, naming the first
    tensor that is missing, misshapen or extra."""
    if hasattr(module, "state_dict") and callable(module.state_dict):
        if description is None:
            own = getattr(module, "description", None)
            description = own if isinstance(own, str) else None
        sd = module.state_dict()
    elif hasattr(module, "items"):
        sd = module
    else:
        raise ValueError("from_torch: expected a torch.nn.Module or a state_dict, got %s"
                         % type(module).__name__)
    if description is not None and not isinstance(description, str):
        raise ValueError("from_torch: description must be a text, got %s" % type(description).__name__)
    items = list(sd.items())
    tensors = (Tensor * max(len(items), 1))()
    keep = []   # the arrays the call reads
    for i, (name, value) in enumerate(items):
        raw = str(name).encode()
        if len(raw) >= _NAME_MAX:
            raise ValueError("from_torch: tensor '%s': the name is longer than %d bytes (no aekit model has it)"
                             % (name, _NAME_MAX - 1))
        a = _as_array(value, name, "from_torch")
        if not 1 <= a.ndim <= 4:
            raise ValueError("from_torch: tensor '%s' has %d dimensions (aekit's have 1 to 4)" % (name, a.ndim))
        keep.append(a)
        t = tensors[i]
        t.name = raw
        t.data = a.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        t.ndim = a.ndim
        for d in range(a.ndim):
            t.shape[d] = a.shape[d]
        t.count = a.size
    from .model import Model
    p = ctypes.c_void_p()
    call(_from_tensors, ctypes.byref(p), tensors, len(items),
         description.encode() if description is not None else None,
         int(latent or 0), b"from_torch", exc=ValueError)
    return Model(p)
