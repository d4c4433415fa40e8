"""Model.encode / decode / reconstruct / sample: NumPy in, NumPy out.

Inputs are checked here (the library takes bare pointers and counts):
images are uint8 (0-255) or float32 (0-1) arrays shaped (N, C, H, W), or
(N, H, W) for a one-channel model; codes are float32 (N, latent) or
(N, *latent_shape). A C-contiguous float32 array is handed to the library
as it is (no copy); anything else is converted once: uint8 to float32 by
x / 255 in float32 (the library's own conversion, ae_dataset_batch, so the
codes are the same bytes as `aekit encode`'s), a strided float32 view to a
contiguous copy. Outputs are new float32 arrays: codes (N, latent), images
(N, C, H, W) of the model's output shape.

Workspaces: each call runs in an ae_workspace (the activations and scratch
of a call; about 15 MB per thread for the conv preset). A Model keeps the
workspaces it made in a pool and reuses them: a call takes a free one (or
makes one, the first time or when all are busy), runs, and gives it back.
So calls in a loop allocate nothing, and Python threads sharing one Model
run at the same time (ctypes releases the GIL during a call), each in its
own workspace; the pool holds as many workspaces as calls ran at once.
They are freed with the Model.
"""
import ctypes
import operator
import threading

import numpy as np

from . import _lib
from ._lib import call, declare

c_int, c_void_p = ctypes.c_int, ctypes.c_void_p
_err = ctypes.POINTER(_lib.Error)

_ws_new = declare("ae_workspace_new", c_int, [ctypes.POINTER(c_void_p), c_void_p, c_int, _err])
_ws_free = declare("ae_workspace_free", None, [c_void_p])
_threads_resolve = declare("ae_threads_resolve", c_int, [c_int])
# (m, ws, in, n, out, threads, err): inputs and outputs as addresses
_run = [c_void_p, c_void_p, c_void_p, c_int, c_void_p, c_int, _err]
_encode = declare("ae_model_encode", c_int, _run)
_decode = declare("ae_model_decode", c_int, _run)
_reconstruct = declare("ae_model_reconstruct", c_int, _run)
_sample = declare("ae_model_sample", c_int,
                  [c_void_p, c_void_p, c_int, ctypes.c_uint64, c_void_p, c_int, _err])
# a conditional model's calls: (m, ws, in, labels, n, out, threads, err)
_run_labels = [c_void_p, c_void_p, c_void_p, c_void_p, c_int, c_void_p, c_int, _err]
_encode_labels = declare("ae_model_encode_labels", c_int, _run_labels)
_decode_labels = declare("ae_model_decode_labels", c_int, _run_labels)
_reconstruct_labels = declare("ae_model_reconstruct_labels", c_int, _run_labels)
_sample_labels = declare("ae_model_sample_labels", c_int,
                         [c_void_p, c_void_p, c_void_p, c_int, ctypes.c_uint64, c_void_p, c_int, _err])
_class_count = declare("ae_model_class_count", c_int, [c_void_p])

_INT_MAX = 2**31 - 1


class _Workspaces:
    """The free workspaces of one model, each with the thread count it was
    made for. take() and give() hold the lock only to move list entries:
    the library calls run outside it."""

    def __init__(self):
        self._lock = threading.Lock()
        self._free = []  # [(address, threads)]

    def take(self, model_ptr, threads):
        """A workspace for up to `threads` threads: a free one large enough,
        else a new one (a free one too small for the call is dropped: the
        new one replaces it)."""
        with self._lock:
            for i, (ws, cap) in enumerate(self._free):
                if cap >= threads:
                    return self._free.pop(i)
            small = self._free.pop() if self._free else None
        if small is not None:
            _ws_free(small[0])
        ws = c_void_p()
        call(_ws_new, ctypes.byref(ws), model_ptr, threads)
        return ws.value, threads

    def give(self, entry):
        with self._lock:
            self._free.append(entry)

    def __del__(self, _ws_free=_ws_free):  # bound now: module globals may be gone at exit
        for ws, _ in getattr(self, "_free", ()):
            _ws_free(ws)
        self._free = []


def _threads(threads, what):
    """The thread count a call runs with (0 = all cores); the library's
    message when out of range."""
    try:
        t = operator.index(threads)
    except TypeError:
        raise ValueError("%s: threads must be an integer, got %r" % (what, threads)) from None
    if not -_INT_MAX <= t <= _INT_MAX:
        raise ValueError("%s: threads %d is not a C int" % (what, t))
    resolved = _threads_resolve(t)
    if resolved < 0:
        # the library's message ("threads must be 0 (all cores) to 256, got 300"): it
        # checks the count before it looks at the model, so none is needed
        err = _lib.Error()
        _ws_new(ctypes.byref(c_void_p()), None, t, ctypes.byref(err))
        raise ValueError("%s: %s" % (what, err.text()))
    return resolved


def _check_array(x, what, expected):
    if x is None:
        raise ValueError("%s: expected %s, got None" % (what, expected))
    if not isinstance(x, np.ndarray):
        raise ValueError("%s: expected %s, got %s (not a NumPy array)" % (what, expected, type(x).__name__))


def _dtype_name(dt):
    return dt.str if dt.byteorder == ">" else dt.name  # '>f4': float32 in the other byte order


def _count(n, what):
    if n > _INT_MAX:
        raise ValueError("%s: at most %d images a call, got %d" % (what, _INT_MAX, n))
    return n


def _images(x, shape, what):
    """x as a C-contiguous float32 (N, C, H, W) array for a model input of
    `shape` (C, H, W): x itself when it already is one, else one converted
    copy."""
    c, h, w = shape
    expected = "uint8 (0-255) or float32 (0-1) images shaped (N, %d, %d, %d)%s" % (
        c, h, w, " or (N, %d, %d)" % (h, w) if c == 1 else "")
    _check_array(x, what, expected)
    if x.dtype != np.uint8 and x.dtype != np.float32:
        raise ValueError("%s: expected %s, got dtype %s" % (what, expected, _dtype_name(x.dtype)))
    ok = (x.ndim == 4 and x.shape[1:] == (c, h, w)) or (x.ndim == 3 and c == 1 and x.shape[1:] == (h, w))
    if not ok:
        raise ValueError("%s: expected %s, got shape %s" % (what, expected, tuple(x.shape)))
    n = _count(x.shape[0], what)
    if x.dtype == np.uint8:
        # the one necessary conversion, as the library converts (x / 255.0f)
        out = np.empty((n, c, h, w), dtype=np.float32)
        np.divide(x.reshape(n, c, h, w), np.float32(255), out=out, dtype=np.float32)
        return out
    return np.ascontiguousarray(x.reshape(n, c, h, w))  # a view when x is contiguous


def _codes(z, latent, latent_shape, what):
    """z as a C-contiguous float32 (N, latent) array (a view when it can be)."""
    shapes = [(latent,)]
    if tuple(latent_shape) != (latent, 1, 1):
        shapes.append(tuple(latent_shape))
    expected = "float32 codes shaped " + " or ".join("(N, %s)" % ", ".join(map(str, s)) for s in shapes)
    _check_array(z, what, expected)
    if z.dtype != np.float32:
        raise ValueError("%s: expected %s, got dtype %s" % (what, expected, _dtype_name(z.dtype)))
    if z.ndim < 1 or tuple(z.shape[1:]) not in shapes:
        raise ValueError("%s: expected %s, got shape %s" % (what, expected, tuple(z.shape)))
    n = _count(z.shape[0], what)
    return np.ascontiguousarray(z.reshape(n, latent))


def _labels(model, labels, n, what):
    """labels as a C-contiguous C int array of n class labels for a
    conditional model (an int: every image that class), None for another
    model; the calls' rule: a conditional model needs them, another takes
    none."""
    classes = int(_class_count(model._ptr))
    if labels is None:
        if classes:
            raise ValueError("%s: the model is conditional on %d classes: pass labels= (each image's class, "
                             "0 to %d)" % (what, classes, classes - 1))
        return None
    if not classes:
        raise ValueError("%s: the model is not conditional: it takes no labels" % what)
    if isinstance(labels, (int, np.integer)):
        labels = np.full(n, int(labels))
    labels = np.asarray(labels)
    if labels.shape != (n,) or not (labels.dtype.kind in "iu" or labels.size == 0):
        raise ValueError("%s: expected %d integer labels (shape (%d,)), got dtype %s shape %s"
                         % (what, n, n, _dtype_name(labels.dtype), tuple(labels.shape)))
    bad = (labels < 0) | (labels >= classes)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError("%s: label %d (image %d) is not a class of the model (0 to %d)"
                         % (what, int(labels[i]), i, classes - 1))
    return np.ascontiguousarray(labels, dtype=np.intc)


def _with_labels(fn, labels):
    """fn(m, ws, x, labels, n, out, t, err) as _run calls it."""
    def run(m, ws, x, n, out, t, err):
        return fn(m, ws, x, labels.ctypes.data, n, out, t, err)
    run.__name__ = fn.__name__
    return run


class InferenceMixin:
    """The inference methods of aekit.Model.

    `threads`: 0 = all cores, N = exactly N threads (1 to 256); the results
    are the same bytes for any thread count. Values of float inputs are not
    checked (pixels are expected in [0, 1]).
    """

    def _run(self, fn, x, n, out_shape, threads, what):
        """Runs fn(model, ws, x, n, out, threads) into a new float32 array
        (x None: fn takes no input). The library's errors here are about the
        model (no fitted Gaussian to sample from, ...): AekitError."""
        t = _threads(threads, what)
        out = np.empty(out_shape, dtype=np.float32)
        if n == 0:
            return out
        pool = self.__dict__.get("_workspaces")
        if pool is None:
            pool = self.__dict__.setdefault("_workspaces", _Workspaces())  # atomic: one pool
        entry = pool.take(self._ptr, t)
        try:
            args = (self._ptr, entry[0]) + ((x.ctypes.data, n) if x is not None else (n,))
            call(fn, *args, out.ctypes.data, t)
        finally:
            pool.give(entry)
        return out

    def _forget_workspaces(self):
        """Drops the workspace pool (each workspace is freed when the pool is
        gone and no running call holds it): for code that changes a model's
        layers (ae_model_set_loss), after which a workspace of the old shape
        would be refused."""
        self.__dict__.pop("_workspaces", None)

    @property
    def classes(self):
        """A conditional model's class count (its `condition` layers take
        each image's label: the calls then need labels=), else 0."""
        return int(_class_count(self._ptr))

    def encode(self, x, threads=0, labels=None):
        """Codes of images x: float32 array (N, latent) (a VAE gives z_mean),
        byte for byte what `aekit encode` writes. labels: a conditional
        model's class of each image (N integers, or one int for all),
        required for it and refused for other models (here and below).

        x: uint8 (0-255) or float32 (0-1), (N, C, H, W) or (N, H, W) for one
        channel, the model's input shape. A C-contiguous float32 array is
        read in place; uint8 is converted to float32 (x / 255) once, as it
        has to be, and other float32 layouts copied once.
        """
        x = _images(x, self.input_shape, "encode")
        lab = _labels(self, labels, x.shape[0], "encode")
        fn = _encode if lab is None else _with_labels(_encode_labels, lab)
        return self._run(fn, x, x.shape[0], (x.shape[0], self.latent_size), threads, "encode")

    def decode(self, z, threads=0, labels=None):
        """Images of codes z: float32 array (N, C, H, W) of the output shape,
        values in [0, 1].

        z: float32 (N, latent) or (N, *latent_shape); a C-contiguous array is
        read in place.
        """
        z = _codes(z, self.latent_size, self.latent_shape, "decode")
        lab = _labels(self, labels, z.shape[0], "decode")
        fn = _decode if lab is None else _with_labels(_decode_labels, lab)
        return self._run(fn, z, z.shape[0], (z.shape[0],) + self.output_shape, threads, "decode")

    def reconstruct(self, x, threads=0, labels=None):
        """The autoencoder's output for images x (as encode takes them):
        float32 (N, C, H, W) of the output shape, values in [0, 1]. A VAE
        decodes z_mean (no sampling)."""
        x = _images(x, self.input_shape, "reconstruct")
        lab = _labels(self, labels, x.shape[0], "reconstruct")
        fn = _reconstruct if lab is None else _with_labels(_reconstruct_labels, lab)
        return self._run(fn, x, x.shape[0], (x.shape[0],) + self.output_shape, threads,
                         "reconstruct")

    def sample(self, n, seed=0, threads=0, labels=None):
        """n images decoded from random codes: from N(0, I) for a VAE or an
        AAE, for a plain autoencoder from the Gaussian fitted to its
        training codes (an error when the model has none). Image i depends
        on (seed, i) only. float32 (n, C, H, W). A conditional model decodes
        image i as class labels[i] (labels: n integers, or one int for all)."""
        try:
            n, seed = operator.index(n), operator.index(seed)
        except TypeError:
            raise ValueError("sample: n and seed must be integers, got %r and %r" % (n, seed)) from None
        if n < 0:
            raise ValueError("sample: negative image count %d" % n)
        if not 0 <= seed < 2**64:
            raise ValueError("sample: seed must be 0 to 2^64-1, got %d" % seed)
        n = _count(n, "sample")

        lab = _labels(self, labels, n, "sample")

        def run(m, ws, count, out, t, err):
            if lab is not None:
                return _sample_labels(m, ws, lab.ctypes.data, count, seed, out, t, err)
            return _sample(m, ws, count, seed, out, t, err)
        run.__name__ = "ae_model_sample"
        return self._run(run, None, n, (n,) + self.output_shape, threads, "sample")
