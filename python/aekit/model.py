"""aekit.Model: a model of the library (ae_model), built, loaded, saved.

Inference (encode, decode, reconstruct, sample) and the PyTorch bridge
(state_dict, to_torch) are methods of this class too, defined in their
own modules as mixins (inference.py, torch_bridge.py).
"""
import ctypes
import os

from . import _lib
from ._lib import call, declare
from .inference import InferenceMixin
from .torch_bridge import TorchMixin

c_int, c_size_t, c_char_p, c_void_p = ctypes.c_int, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_void_p
_err = ctypes.POINTER(_lib.Error)
_int_p = ctypes.POINTER(c_int)

_from_text = declare("ae_model_from_text", c_int, [ctypes.POINTER(c_void_p), c_char_p, c_char_p, c_int, _err])
_from_preset = declare("ae_model_from_preset", c_int, [ctypes.POINTER(c_void_p), c_char_p, c_int, _err])
_presets = declare("ae_model_presets", ctypes.POINTER(c_char_p), [])
_load = declare("ae_model_load", c_int, [ctypes.POINTER(c_void_p), c_char_p, _err])
_load_as = declare("ae_model_load_as", c_int, [ctypes.POINTER(c_void_p), c_char_p, c_char_p, c_int, _err])
_save = declare("ae_model_save", c_int, [c_void_p, c_char_p, _err])
_free = declare("ae_model_free", None, [c_void_p])
_init = declare("ae_model_init", None, [c_void_p, ctypes.c_uint64])
_param_count = declare("ae_model_param_count", c_size_t, [c_void_p])
_input_shape = declare("ae_model_input_shape", None, [c_void_p, _int_p, _int_p, _int_p])
_output_shape = declare("ae_model_output_shape", None, [c_void_p, _int_p, _int_p, _int_p])
_latent_size = declare("ae_model_latent_size", c_size_t, [c_void_p])
_latent_layout = declare("ae_model_latent_layout", None, [c_void_p, _int_p, _int_p, _int_p])
_is_vae = declare("ae_model_is_variational", c_int, [c_void_p])
_is_aae = declare("ae_model_is_adversarial", c_int, [c_void_p])
_description = declare("ae_model_description", c_char_p, [c_void_p])
_summary = declare("ae_model_summary", c_size_t, [c_void_p, c_char_p, c_size_t])
_meta_count = declare("ae_model_meta_count", c_int, [c_void_p])
_meta_at = declare("ae_model_meta_at", None, [c_void_p, c_int, ctypes.POINTER(c_char_p), ctypes.POINTER(c_char_p)])
_set_meta = declare("ae_model_set_meta", c_int, [c_void_p, c_char_p, c_char_p, _err])


def _path(p):
    return os.fsencode(os.fspath(p))


def presets():
    """The names of the shipped presets ("conv", "vae", ...)."""
    names, arr, i = [], _presets(), 0
    while arr[i] is not None:
        names.append(arr[i].decode())
        i += 1
    return names


def _shape(fn, ptr):
    c, h, w = c_int(), c_int(), c_int()
    fn(ptr, ctypes.byref(c), ctypes.byref(h), ctypes.byref(w))
    return (c.value, h.value, w.value)


class Model(InferenceMixin, TorchMixin):
    """An autoencoder: its description (layers), weights and metadata.

    Build one with Model.from_preset / Model.from_description, or
    aekit.load(path). The library's model is freed when the last Python
    reference (including NumPy views of its weights) goes away.
    """

    def __init__(self, ptr):
        if not ptr:
            raise ValueError("Model: null model pointer (use aekit.load or Model.from_preset)")
        self._ptr = c_void_p(ptr) if not isinstance(ptr, c_void_p) else ptr

    # ---- building, loading, saving -------------------------------------------
    @classmethod
    def from_preset(cls, name, latent=0):
        """One of the shipped presets (aekit.presets()); latent 0 = its default."""
        p = c_void_p()
        call(_from_preset, ctypes.byref(p), name.encode(), int(latent), exc=ValueError)
        return cls(p)

    @classmethod
    def from_description(cls, text, latent=0, origin="description"):
        """A model from a description text (docs/model-format.md)."""
        p = c_void_p()
        call(_from_text, ctypes.byref(p), text.encode(), origin.encode(), int(latent), exc=ValueError)
        return cls(p)

    @classmethod
    def load(cls, path, description=None, latent=0):
        """A model file (safetensors, from aekit or PyTorch). With description
        (a description text, docs/model-format.md; latent fills its
        {latent}), the file's weights are read as that model, whatever
        description the file carries: a model of your own architecture
        saved by PyTorch. A tensor missing, misshapen or extra is a
        ValueError naming the first."""
        p = c_void_p()
        if description is None:
            call(_load, ctypes.byref(p), _path(path))
        else:
            call(_load_as, ctypes.byref(p), _path(path), description.encode(), int(latent), exc=ValueError)
        return cls(p)

    def save(self, path):
        """Writes the model file atomically (never a partial file)."""
        call(_save, self._ptr, _path(path))

    def init(self, seed=0):
        """Re-initialises the weights (Glorot-uniform, zero biases) from seed."""
        _init(self._ptr, int(seed))

    def __del__(self, _free=_free):  # bound now: module globals may be gone at exit
        ptr = getattr(self, "_ptr", None)
        if ptr:
            _free(ptr)
            self._ptr = None

    # ---- what it is ----------------------------------------------------------
    @property
    def input_shape(self):
        """(channels, height, width) of its input images."""
        return _shape(_input_shape, self._ptr)

    @property
    def output_shape(self):
        """(channels, height, width) of its output (larger for super-resolution)."""
        return _shape(_output_shape, self._ptr)

    @property
    def latent_size(self):
        """Number of floats in one image's code."""
        return int(_latent_size(self._ptr))

    @property
    def latent_shape(self):
        """The code's layout (C, H, W); a flat code is (L, 1, 1)."""
        return _shape(_latent_layout, self._ptr)

    @property
    def param_count(self):
        return int(_param_count(self._ptr))

    @property
    def is_variational(self):
        return bool(_is_vae(self._ptr))

    @property
    def is_adversarial(self):
        return bool(_is_aae(self._ptr))

    @property
    def description(self):
        """The description text, in its canonical spelling."""
        return _description(self._ptr).decode()

    @property
    def meta(self):
        """The model's metadata (training settings and results), as a dict copy."""
        out = {}
        for i in range(_meta_count(self._ptr)):
            k, v = c_char_p(), c_char_p()
            _meta_at(self._ptr, i, ctypes.byref(k), ctypes.byref(v))
            out[k.value.decode()] = v.value.decode()
        return out

    def set_meta(self, key, value):
        call(_set_meta, self._ptr, str(key).encode(), str(value).encode(), exc=ValueError)

    def summary(self):
        """One line per layer with its output shape and parameter count."""
        need = _summary(self._ptr, None, 0)
        buf = ctypes.create_string_buffer(need + 1)
        _summary(self._ptr, buf, need + 1)
        return buf.value.decode()

    def __repr__(self):
        kind = "vae" if self.is_variational else "aae" if self.is_adversarial else "autoencoder"
        return "<aekit.Model %s input=%s latent=%d params=%d>" % (
            kind, "x".join(map(str, self.input_shape)), self.latent_size, self.param_count)


def load(path, description=None, latent=0):
    """aekit.load(path, description=None, latent=0) -> Model (Model.load)."""
    return Model.load(path, description, latent)
