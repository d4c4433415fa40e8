"""aekit.train: training from Python with the command line's options.

    model = aekit.train("conv", "mnist", epochs=5, lr=1e-3, threads=2,
                        callback=lambda m: print(m["epoch"], m["val_loss"]))

The options are the rows of the library's options table
(ae_train_options_table): each row's name is a keyword, its value is read
by the library (ae_train_option_parse), so the checks, defaults and
messages are the library's and `aekit train`'s. Nothing here lists them.
docs/python.md ("Training") is the reference.
"""
import ctypes
import os
import signal
import sys
import threading
import time

import numpy as np

from . import _lib
from ._lib import AekitError, call, declare
from .datasets import FITS, SPLIT_TEST, SPLIT_TRAIN, _Dataset as _DatasetStruct, _ImageOptions
from .model import Model, presets

c_int, c_double, c_char_p, c_void_p, c_size_t = ctypes.c_int, ctypes.c_double, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t
_err = ctypes.POINTER(_lib.Error)

__all__ = ["train", "option_names"]


# ---- the options table (aekit.h: "the training options as data") -----------

class _OptionRow(ctypes.Structure):
    """ae_train_option: one row of the options table (read only)."""
    _fields_ = [("name", c_char_p), ("flag", c_char_p), ("what", c_char_p), ("type", c_int),
                ("offset", c_size_t), ("default", c_double), ("min", c_double), ("max", c_double),
                ("flags", ctypes.c_uint), ("zero_means", c_char_p), ("resume", c_int),
                ("metavar", c_char_p), ("def_text", c_char_p), ("help", c_char_p),
                ("choices", ctypes.POINTER(c_char_p))]


_lib.check_struct(_OptionRow, "ae_train_option")


_AE_OPTION_TEXT_SHORT = 1   # enum ae_option_text (aekit.h): AE_OPTION_TEXT_SHORT
_AE_OPTION_NO_CHECKPOINT = 8   # row flags (aekit.h): threads, kept apart by checkpoints;
_AE_OPTION_NO_META = 16        # not in a model's aekit.train.* metadata

_table = declare("ae_train_options_table", ctypes.POINTER(_OptionRow), [ctypes.POINTER(c_int)])
_find = declare("ae_train_option_find", ctypes.POINTER(_OptionRow), [c_char_p])
_options_size = declare("ae_train_options_size", c_size_t, [])
_options_default = declare("ae_train_options_default", None, [c_void_p])
_set_checkpoint = declare("ae_train_options_set_checkpoint", None, [c_void_p, c_char_p])
_option_parse = declare("ae_train_option_parse", c_int, [ctypes.POINTER(_OptionRow), c_char_p, c_int, c_void_p, _err])
_option_format = declare("ae_train_option_format", c_size_t,
                         [ctypes.POINTER(_OptionRow), c_void_p, c_int, c_char_p, c_size_t])
_option_set_meta = declare("ae_train_option_set_meta", c_int, [c_void_p, ctypes.POINTER(_OptionRow), c_void_p, _err])


def _rows():
    n = c_int()
    p = _table(ctypes.byref(n))
    rows = [p[i] for i in range(n.value)]
    # the mirror above must be the library's layout: row 1 found by name
    # is the table's second element
    if n.value > 1:
        second = ctypes.addressof(_find(rows[1].name).contents)
        if second - ctypes.addressof(p.contents) != ctypes.sizeof(_OptionRow):
            raise ImportError("aekit: ae_train_option's layout differs from python/aekit/training.py's mirror")
    return [ctypes.pointer(r) for r in rows]


_ROWS = _rows()


def _keywords():
    """keyword -> row: each row's name, and the command line's flag where
    it differs (dashes as underscores) and names that row alone."""
    out = {r.contents.name.decode(): r for r in _ROWS}
    flags = {}
    for r in _ROWS:
        if r.contents.flag:
            flags.setdefault(r.contents.flag.decode().replace("-", "_"), []).append(r)
    for flag, rows in flags.items():
        if len(rows) == 1 and flag not in out:
            out[flag] = rows[0]
    return out


_KEYWORDS = _keywords()


def option_names():
    """The option keywords aekit.train takes, in the table's order."""
    return [r.contents.name.decode() for r in _ROWS]


class _Options:
    """ae_train_options as bytes: defaults from the library, each option set
    through its row (so the struct is not mirrored here)."""

    def __init__(self):
        self.buf = ctypes.create_string_buffer(_options_size())
        _options_default(self.buf)
        self._checkpoint = None   # keeps the path's bytes alive for the C side

    def set(self, keyword, value):
        row = _KEYWORDS[keyword]
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, float):
            text = repr(value)            # the shortest text that reads back to the same double
        elif isinstance(value, (np.floating,)):
            text = repr(float(value))
        else:
            text = str(value)
        err = _lib.Error()
        if _option_parse(row, text.encode(), _AE_OPTION_TEXT_SHORT, self.buf, ctypes.byref(err)) != 0:
            raise ValueError("aekit.train: %s=%r: %s" % (keyword, value, err.text()))

    def get(self, name):
        """The option's value as the library writes it (SHORT text)."""
        row = _KEYWORDS[name]
        buf = ctypes.create_string_buffer(256)
        _option_format(row, self.buf, _AE_OPTION_TEXT_SHORT, buf, 256)
        return buf.value.decode()

    def field(self, name):
        """The address of an option's field (for the noise passed to the pictures)."""
        return ctypes.addressof(self.buf) + _KEYWORDS[name].contents.offset

    def set_checkpoint(self, path):
        self._checkpoint = None if path is None else os.fsencode(os.fspath(path))
        _set_checkpoint(self.buf, self._checkpoint)


# ---- data sets ----------------------------------------------------------------

_dataset_open = declare("ae_dataset_open", c_int, [ctypes.POINTER(c_void_p), c_char_p, c_int,
                                                   ctypes.POINTER(_ImageOptions), _err])
_dataset_from_pixels = declare("ae_dataset_from_pixels", c_int,
                               [ctypes.POINTER(c_void_p), c_void_p, c_void_p, c_int, c_int, c_int, c_int,
                                c_char_p, _err])
_dataset_truncate = declare("ae_dataset_truncate", None, [c_void_p, c_int])
_dataset_free = declare("ae_dataset_free", None, [c_void_p])


class _Dataset:
    """An ae_dataset owned by Python (freed with this object)."""

    def __init__(self, ptr, name):
        self.ptr, self.name = ptr, name

    @property
    def n(self):
        return ctypes.cast(self.ptr, ctypes.POINTER(_DatasetStruct)).contents.n

    def __del__(self, _dataset_free=_dataset_free):  # bound now: module globals may be gone at exit
        if getattr(self, "ptr", None):
            _dataset_free(self.ptr)
            self.ptr = None


def _open_split(name, split, limit, shape):
    """A split of a named data set or folder, as `aekit train --data` opens it."""
    c, h, w = shape
    img = _ImageOptions(c, h, w, FITS["resize"], 1)   # a set of another size is refused from its headers
    p = c_void_p()
    text = os.fsencode(os.fspath(name))
    call(_dataset_open, ctypes.byref(p), text, split, ctypes.byref(img))
    ds = _Dataset(p, os.fsdecode(text))
    if limit:
        _dataset_truncate(p, int(limit))
    if ds.n <= 0:
        raise ValueError("aekit.train: data %s: the %s set has no images" %
                         (ds.name, "training" if split == SPLIT_TRAIN else "test"))
    return ds


def _pixels(x, what, shape):
    """An image array as contiguous uint8 NCHW pixels of the model's shape."""
    x = np.asarray(x)
    c, h, w = shape
    given = tuple(x.shape)
    if x.ndim == 3 and c == 1:
        x = x[:, None, :, :]
    if x.ndim != 4 or x.shape[1:] != (c, h, w):
        raise ValueError("aekit.train: %s: images are shaped %s, the model takes (N, %d, %d, %d)%s" %
                         (what, given, c, h, w, " or (N, %d, %d)" % (h, w) if c == 1 else ""))
    if len(x) == 0:
        raise ValueError("aekit.train: %s: no images" % what)
    if x.dtype == np.uint8:
        return np.ascontiguousarray(x)
    if x.dtype != np.float32:
        raise ValueError("aekit.train: %s: dtype %s; images are uint8 (0-255) or float32 (0-1)" % (what, x.dtype))
    lo, hi = float(x.min()), float(x.max())
    if not (lo >= 0.0 and hi <= 1.0):
        raise ValueError("aekit.train: %s: float32 pixels must be in [0, 1], got %g to %g" % (what, lo, hi))
    # the library keeps uint8 pixels: float32 ones become round(x * 255)
    return np.ascontiguousarray(np.rint(x * np.float32(255)).astype(np.uint8))


def _labels(y, n, what):
    if y is None:
        return None
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError("aekit.train: %s: %d labels expected (one per image), got shape %s" % (what, n, tuple(y.shape)))
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() > 255):
        raise ValueError("aekit.train: %s: labels must be integers 0 to 255" % what)
    return np.ascontiguousarray(y.astype(np.uint8))


def _from_arrays(x, y, what, shape, limit):
    px = _pixels(x, what, shape)
    if limit:
        px = px[:int(limit)]
        y = None if y is None else np.asarray(y)[:int(limit)]
    lb = _labels(y, len(px), what.replace("x_", "y_"))
    p = c_void_p()
    n, c, h, w = px.shape
    call(_dataset_from_pixels, ctypes.byref(p), px.ctypes.data, None if lb is None else lb.ctypes.data,
         n, c, h, w, ("%s (array)" % what).encode(), exc=ValueError)
    return _Dataset(p, what)


def _datasets(data, shape, limit, val_limit):
    """(train, val or None, name for the metadata) from `data`."""
    for what, n in (("limit", limit), ("val_limit", val_limit)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError("aekit.train: %s=%r: expected a number of images, 0 (all) or more" % (what, n))
    if isinstance(data, (str, bytes, os.PathLike)):
        train = _open_split(data, SPLIT_TRAIN, limit, shape)
        val = _open_split(data, SPLIT_TEST, val_limit, shape)
        return train, val, train.name
    if isinstance(data, np.ndarray):
        data = (data,)
    if not isinstance(data, (tuple, list)) or len(data) not in (1, 2, 4):
        raise TypeError("aekit.train: data is a data set name or folder, or arrays: x_train, "
                        "(x_train, x_val) or (x_train, y_train, x_val, y_val)")
    if len(data) == 4:
        xt, yt, xv, yv = data
    else:
        xt, yt, xv, yv = data[0], None, (data[1] if len(data) == 2 else None), None
    train = _from_arrays(xt, yt, "x_train", shape, limit)
    val = None if xv is None else _from_arrays(xv, yv, "x_val", shape, val_limit)
    return train, val, "arrays"


# ---- progress --------------------------------------------------------------------

class _Progress(ctypes.Structure):
    """ae_progress: an epoch's (or a step's) report."""
    _fields_ = [("epoch", c_int), ("epochs", c_int), ("step", c_int), ("steps", c_int),
                ("train_loss", c_double), ("val_loss", c_double), ("val_mse", c_double),
                ("val_recon", c_double), ("val_kl", c_double), ("disc_accuracy", c_double),
                ("seconds", c_double), ("images_per_second", c_double), ("end_of_epoch", c_int),
                ("lr", c_double)]


_lib.check_struct(_Progress, "ae_progress")


_PROGRESS_FN = ctypes.CFUNCTYPE(c_int, ctypes.POINTER(_Progress), c_void_p)
_METRIC_KEYS = [name for name, _ in _Progress._fields_ if name not in ("step", "end_of_epoch")]

_train = declare("ae_train", c_int, [c_void_p, c_void_p, c_void_p, c_void_p, _PROGRESS_FN, c_void_p, _err])
_train_resume = declare("ae_train_resume", c_int, [c_void_p, c_void_p, c_void_p, c_void_p, c_void_p,
                                                   _PROGRESS_FN, c_void_p, _err])
_checkpoint_load = declare("ae_checkpoint_load", c_int, [c_char_p, ctypes.POINTER(c_void_p), c_void_p,
                                                         ctypes.POINTER(c_void_p), _err])
_state_free = declare("ae_train_state_free", None, [c_void_p])


class _Position(ctypes.Structure):
    """ae_train_position: where a checkpoint's run stands."""
    _fields_ = [("epoch", c_int), ("step", c_int), ("steps", c_int), ("epochs_done", c_int),
                ("history", ctypes.POINTER(_Progress)), ("seconds", c_double),
                ("train_images", c_int), ("val_images", c_int)]


_lib.check_struct(_Position, "ae_train_position")


_state_position = declare("ae_train_state_position", None, [c_void_p, ctypes.POINTER(_Position)])


def _finished_epochs(state):
    """The reports of the epochs a checkpoint's run finished."""
    pos = _Position()
    _state_position(state, ctypes.byref(pos))
    return [{k: getattr(pos.history[e], k) for k in _METRIC_KEYS} for e in range(pos.epochs_done)]


def _count(x):
    return "%.1fk" % (x / 1000) if x >= 1000 else "%.0f" % x


class _Display:
    """The terminal's progress: a live step line (\\r) on a terminal, one line per epoch."""

    def __init__(self, stream):
        self.stream, self.live = stream, stream.isatty()
        self.last, self.shown = 0.0, False

    def step(self, p):
        if not self.live:
            return
        now = time.monotonic()
        if now - self.last < 0.1 and p.step != p.steps:
            return
        self.last = now
        self.stream.write("\r\033[Kepoch %d/%d  step %d/%d  loss %.4f  %s img/s" %
                          (p.epoch, p.epochs, p.step, p.steps, p.train_loss, _count(p.images_per_second)))
        self.stream.flush()
        self.shown = True

    def clear(self):
        if self.shown:
            self.stream.write("\r\033[K")
            self.shown = False

    def epoch(self, m, parts):
        self.clear()
        self.stream.write("epoch %d/%d  train %.4f  val %.4f%s  %.1f s  %s img/s\n" %
                          (m["epoch"], m["epochs"], m["train_loss"], m["val_loss"], parts, m["seconds"],
                           _count(m["images_per_second"])))
        self.stream.flush()


class _Run:
    """What the progress callback keeps between calls."""

    def __init__(self, callback, display, variational, beta, adversarial, folder):
        self.callback, self.display, self.folder = callback, display, folder
        self.variational, self.adversarial = variational, adversarial
        self.beta = beta                # the KL weight (option beta), as text
        self.history = []               # the epochs' metrics, in order
        self.error = None               # an exception to raise once ae_train returns
        self.interrupted = False        # a KeyboardInterrupt stopped the run
        self.sigint_pending = False     # a SIGINT came, its handler not yet called
        self.sigint_handler = None      # the program's SIGINT handler (_SigintDeferred)
        self.where = (0, 0, 0, 0)       # the last step reported: epoch, epochs, step, steps

    def deliver_sigint(self):
        """Calls the program's SIGINT handler for a signal that came (Python's
        raises KeyboardInterrupt); True when the run is to stop."""
        self.sigint_pending = False
        try:
            self.sigint_handler(signal.SIGINT, None)
        except KeyboardInterrupt:
            self.interrupted = True
        except BaseException as e:
            self.error = e
        return self.interrupted or self.error is not None

    def on_progress(self, pp, user):
        try:
            if self.interrupted or self.error is not None:
                return 1
            if self.sigint_pending and self.deliver_sigint():
                return 1
            p = pp.contents
            self.where = (p.epoch, p.epochs, p.step, p.steps)
            if not p.end_of_epoch:
                if self.display:
                    self.display.step(p)
                return 0
            m = {k: getattr(p, k) for k in _METRIC_KEYS}
            self.history.append(m)
            if self.display:
                parts = ""
                if self.variational and self.beta == "1":
                    parts = " (recon %.4f, kl %.4f)" % (m["val_recon"], m["val_kl"])
                elif self.variational:      # val = recon + beta x kl
                    parts = " (recon %.4f + %s x kl %.4f)" % (m["val_recon"], self.beta, m["val_kl"])
                if self.adversarial:
                    parts = "  disc acc %.3f" % m["disc_accuracy"]
                self.display.epoch(m, parts)
            if self.folder:
                self.folder.epoch_done(self.history)
            if self.callback is not None and self.callback(dict(m)):
                return 1
            return 0
        except KeyboardInterrupt:
            self.interrupted = True
            return 1
        except BaseException as e:        # the user's callback (or a write) failed: stop, raise later
            self.error = e
            return 1


class _SigintDeferred:
    """While training, a SIGINT only marks the run; the program's own
    handler (Python's: KeyboardInterrupt) is called from the progress
    callback, inside its try, where what it raises is caught and stops the
    run. Raised wherever Python code happens to run instead, it could come
    at the callback's first instruction, before its try, and ctypes would
    print and drop it. Only in the main thread (where Python runs signal
    handlers), and only over a Python handler (SIG_IGN and SIG_DFL stay)."""

    def __init__(self, run):
        self.run, self.old = run, None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            old = signal.getsignal(signal.SIGINT)
            if callable(old):
                self.old = signal.signal(signal.SIGINT, self._handler)
                self.run.sigint_handler = old
        return self

    def _handler(self, signum, frame):
        self.run.sigint_pending = True

    def __exit__(self, *exc):
        if self.old is not None:
            signal.signal(signal.SIGINT, self.old)
        return False


# ---- the model's record and the run folder -------------------------------------------

class _Metric(ctypes.Structure):
    """ae_epoch_metric (aekit/epoch_metrics.h)."""
    _fields_ = [("name", c_char_p), ("csv_column", c_int), ("table_format", c_char_p), ("nan_text", c_int),
                ("result", c_int), ("models", c_int), ("offset", c_size_t), ("csv_format", c_char_p)]


_lib.check_struct(_Metric, "ae_epoch_metric")


class _Picture(ctypes.Structure):
    """ae_run_picture."""
    _fields_ = [("file", c_char_p), ("caption", ctypes.c_char * 256)]


_lib.check_struct(_Picture, "ae_run_picture")


class _Report(ctypes.Structure):
    """ae_run_report (what index.html shows)."""
    _fields_ = [("dir", c_char_p), ("label", c_char_p), ("data", c_char_p), ("threads", c_int),
                ("loss_label", c_char_p), ("metric", ctypes.POINTER(ctypes.POINTER(c_double))),
                ("epochs", c_int), ("pictures", ctypes.POINTER(_Picture)), ("npictures", c_int)]


_lib.check_struct(_Report, "ae_run_report")


_PICTURES_ROOM = 64     # ae_run_pictures' array: at least AE_RUN_PICTURES_MAX (aekit/run_folder.h)
# The run folder's files this module writes: the enum of aekit/run_folder.h
# (AE_RUN_MODEL, AE_RUN_METRICS) indexing ae_run_files, the library's table
# of the names; the paths are the library's (ae_run_path).
_AE_RUN_MODEL, _AE_RUN_METRICS = 0, 1
_RUN_FILES = (c_char_p * 2).in_dll(_lib.lib, "ae_run_files")


def _check_run_files(names):
    """The enum mirror above names a model and a CSV file in the library's
    table (a reordered enum would write one file under another's name)."""
    model, metrics = names[_AE_RUN_MODEL] or b"", names[_AE_RUN_METRICS] or b""
    if not model.endswith(b".safetensors") or not metrics.endswith(b".csv"):
        raise ImportError("aekit: ae_run_files[AE_RUN_MODEL, AE_RUN_METRICS] are %r, %r: the enum of "
                          "aekit/run_folder.h differs from python/aekit/training.py's" % (model, metrics))


_check_run_files(_RUN_FILES)

_metric_get = declare("ae_epoch_metric_get", c_double, [c_int, ctypes.POINTER(_Progress)])
_csv_header = declare("ae_metrics_csv_header", None, [c_char_p, c_size_t])
_csv_write = declare("ae_metrics_csv_write", c_int, [c_char_p, ctypes.POINTER(ctypes.POINTER(c_double)), c_int, _err])
_run_path = declare("ae_run_path", None, [c_char_p, c_size_t, c_char_p, c_int])
_loss_label = declare("ae_run_loss_label", c_char_p, [c_void_p])
_loss_plot = declare("ae_run_loss_plot", c_int, [c_char_p, c_char_p, c_char_p,
                                                 ctypes.POINTER(ctypes.POINTER(c_double)), c_int, _err])
_run_pictures = declare("ae_run_pictures", c_int, [c_void_p, c_void_p, c_void_p, ctypes.c_uint64, c_int, c_char_p,
                                                   c_void_p, c_void_p, ctypes.POINTER(_Picture),
                                                   ctypes.POINTER(c_int), _err])
_index_write = declare("ae_run_index_write", c_int, [c_void_p, ctypes.POINTER(_Report), _err])


def _metric_count():
    buf = ctypes.create_string_buffer(1024)
    _csv_header(buf, len(buf))
    return len(buf.value.decode().split(",")) - 1     # "epoch", then one column per metric


_METRICS = (_Metric * _metric_count()).in_dll(_lib.lib, "ae_epoch_metrics")


def _check_mirrors():
    """The metric table names ae_progress's doubles with their offsets: the
    mirrors of both structs must agree with it."""
    buf = ctypes.create_string_buffer(1024)
    _csv_header(buf, len(buf))
    columns = set(buf.value.decode().split(",")[1:])
    for row in _METRICS:
        name = row.name.decode() if row.name else ""
        field = getattr(_Progress, name, None)
        if name not in columns or field is None or field.offset != row.offset:
            raise ImportError("aekit: ae_progress or ae_epoch_metric differs from python/aekit/training.py's "
                              "mirror (metric %r)" % name)


_check_mirrors()


class _RunNames(ctypes.Structure):
    """ae_run_names (aekit/run_folder.h)."""
    _fields_ = [("model", c_char_p), ("data", c_char_p), ("task", c_char_p), ("init", c_char_p)]


_lib.check_struct(_RunNames, "ae_run_names")


_run_store_settings = declare("ae_run_store_settings", c_int,
                              [c_void_p, c_void_p, ctypes.POINTER(_RunNames), c_void_p, c_void_p, _err])
_run_store_results = declare("ae_run_store_results", c_int,
                             [c_void_p, ctypes.POINTER(ctypes.POINTER(c_double)), c_int, _err])


def _store_settings(model, opt, label, data_name, train, val):
    """The training settings in the model's metadata, as `aekit train` stores
    them (the library's ae_run_store_settings; the task follows from the
    model and the noise option)."""
    names = _RunNames(label.encode(), data_name.encode(), None, None)
    call(_run_store_settings, model._ptr, opt.buf, ctypes.byref(names), train.ptr, val.ptr if val else None)


def _columns(history):
    """The metrics of the epochs as the run-folder functions take them:
    one array of len(history) doubles per metric (aekit/epoch_metrics.h)."""
    n = max(len(history), 1)
    cols = [(c_double * n)() for _ in range(len(_METRICS))]
    for e, m in enumerate(history):
        p = _Progress(**{k: m[k] for k in _METRIC_KEYS})
        for k in range(len(_METRICS)):
            cols[k][e] = _metric_get(k, ctypes.byref(p))
    ptrs = (ctypes.POINTER(c_double) * len(cols))(*[ctypes.cast(c, ctypes.POINTER(c_double)) for c in cols])
    return ptrs, cols


def _store_results(model, history):
    """aekit.result.*: the last epoch's numbers the model reports."""
    ptrs, _keep = _columns(history)
    call(_run_store_results, model._ptr, ptrs, len(history))


class _Folder:
    """out=DIR: the run folder `aekit train --out DIR` writes, through the
    library's run-folder functions (aekit/run_folder.h)."""

    def __init__(self, out, model, label, data_name):
        self.dir = os.fsencode(os.fspath(out))
        os.makedirs(self.dir, exist_ok=True)
        self.model, self.label, self.data = model, label.encode(), data_name.encode()
        self.title = ("%s on %s" % (label, data_name)).encode()
        self.loss_label = _loss_label(model._ptr)

    def path(self, which):
        buf = ctypes.create_string_buffer(len(self.dir) + 256)
        _run_path(buf, len(buf), self.dir, which)
        return buf.value

    def epoch_done(self, history):
        """metrics.csv and loss.png after each epoch, as aekit train rewrites them."""
        ptrs, _keep = _columns(history)
        call(_csv_write, self.path(_AE_RUN_METRICS), ptrs, len(history))
        call(_loss_plot, self.dir, self.title, self.loss_label, ptrs, len(history))

    def finish(self, history, test, noise, seed, threads):
        """The model, the pictures and index.html."""
        self.model.save(os.fsdecode(self.path(_AE_RUN_MODEL)))
        pics = (_Picture * _PICTURES_ROOM)()
        npics = c_int()
        call(_run_pictures, self.model._ptr, test.ptr, noise, seed, threads, self.dir, None, None, pics,
             ctypes.byref(npics))
        ptrs, _keep = _columns(history)
        page = _Report(self.dir, self.label, self.data, threads, self.loss_label, ptrs, len(history),
                       pics, npics.value)
        call(_index_write, self.model._ptr, ctypes.byref(page))


# ---- aekit.train -------------------------------------------------------------------------

def _model_for(model_or_preset):
    if isinstance(model_or_preset, Model):
        return model_or_preset, model_or_preset.meta.get("aekit.train.model") or "model"
    if isinstance(model_or_preset, str):
        return Model.from_preset(model_or_preset), model_or_preset
    raise TypeError("aekit.train: the model is an aekit.Model or a preset name (%s), got %s" %
                    (", ".join(presets()), type(model_or_preset).__name__))


def train(model_or_preset, data, epochs=None, out=None, callback=None, progress=None, *,
          limit=0, val_limit=0, checkpoint=None, resume=None, **options):
    """Trains a model on a data set; returns the trained aekit.Model.

    model_or_preset  an aekit.Model (trained in place: its weights are
                     initialised from `seed` unless init_weights=0) or a
                     preset name ("conv", "vae", ...: built here); None with
                     resume=.
    data             a data set name ("mnist") or folder, as `aekit train
                     --data` takes (the train split trains, the test split
                     validates); or NumPy arrays: x_train, (x_train, x_val)
                     or (x_train, y_train, x_val, y_val), uint8 0-255 or
                     float32 0-1, shaped (N, C, H, W) or (N, H, W).
    epochs, **options  the library's training options (aekit.training.
                     option_names(): lr, batch, optimizer, seed, threads,
                     noise, clip_grad, checkpoint_steps, ...), as values or
                     their text ("rmsprop", "gaussian:0.5,0.5"); checked by
                     the library (ValueError naming the option).
    limit, val_limit the first N training / validation images only.
    callback(metrics) after each epoch's validation, with a dict of the
                     epoch's numbers; a true return value stops training.
    progress         None: a display on stderr when it is a terminal;
                     True: always; False: none.
    out              a run folder, as `aekit train --out DIR` fills it.
    checkpoint       a checkpoint file, written every checkpoint_steps
                     steps / checkpoint_epochs epochs and when stopped.
    resume           a checkpoint file to go on from (the model and options
                     are the checkpoint's; threads, the checkpoint
                     intervals and early_stop may be given, and more epochs
                     extend a finished run's checkpoint).

    Ctrl-C stops training at the end of the step (writing the checkpoint,
    if any) and raises KeyboardInterrupt, whose .model is the model as it
    stands; an exception from the callback stops training and propagates.
    """
    opt = _Options()
    # the command line's spellings too: clip-grad (as **{"clip-grad": 1})
    options = {k.replace("-", "_"): v for k, v in options.items()}
    if epochs is not None:
        options["epochs"] = epochs
    unknown = sorted(k for k in options if k not in _KEYWORDS)
    if unknown:
        raise TypeError("aekit.train: unknown option%s %s; the options are: %s, and data, out, "
                        "callback, progress, limit, val_limit, checkpoint, resume" %
                        ("s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(option_names())))

    state = c_void_p()
    if resume is not None:
        if model_or_preset is not None:
            raise TypeError("aekit.train: resume= takes the model from the checkpoint: pass None as the model")
        p = c_void_p()
        path = os.fsencode(os.fspath(resume))
        call(_checkpoint_load, path, ctypes.byref(p), opt.buf, ctypes.byref(state))
        model = Model(p)
        label = model.meta.get("aekit.train.model") or "model"
        opt.set_checkpoint(checkpoint if checkpoint is not None else path)
    else:
        model, label = _model_for(model_or_preset)
        opt.set_checkpoint(checkpoint)
    try:
        for k, v in options.items():
            opt.set(k, v)
        train_set, val_set, data_name = _datasets(data, model.output_shape, limit, val_limit)
        if resume is None:
            _store_settings(model, opt, label, data_name, train_set, val_set)
        else:                        # the metadata says what the run now is (more epochs, early_stop),
            for k in options:        # as aekit train --resume writes it (no key for a default beta)
                row = _KEYWORDS[k]
                if not row.contents.flags & (_AE_OPTION_NO_META | _AE_OPTION_NO_CHECKPOINT):
                    call(_option_set_meta, model._ptr, row, opt.buf)
        show = sys.stderr.isatty() if progress is None else bool(progress)
        folder = _Folder(out, model, label, data_name) if out is not None else None
        run = _Run(callback, _Display(sys.stderr) if show else None, model.is_variational, opt.get("beta"),
                   model.is_adversarial, folder)
        if resume is not None:       # metrics.csv and the results cover the whole run
            run.history = _finished_epochs(state)
        on_progress = _PROGRESS_FN(run.on_progress)
        err = _lib.Error()
        with _SigintDeferred(run):
            if resume is None:
                rc = _train(model._ptr, train_set.ptr, val_set.ptr if val_set else None, opt.buf,
                            on_progress, None, ctypes.byref(err))
            else:
                rc = _train_resume(model._ptr, train_set.ptr, val_set.ptr if val_set else None, opt.buf,
                                   state, on_progress, None, ctypes.byref(err))
            if run.sigint_pending:      # came after the last callback
                run.deliver_sigint()
        if run.display:
            run.display.clear()
    finally:
        if state:
            _state_free(state)
    if run.error is not None:
        raise run.error
    if rc != 0:
        raise AekitError(err.text() or "ae_train failed")
    if run.interrupted:
        e, es, s, ss = run.where
        where = "stopped at epoch %d/%d, step %d/%d" % (e, es, s, ss)
        if checkpoint is not None or resume is not None:
            where += "; checkpoint written: aekit.train(None, data, resume=%r) goes on" % os.fsdecode(
                opt._checkpoint)
        exc = KeyboardInterrupt("aekit.train: " + where)
        exc.model = model
        raise exc
    if run.history:
        _store_results(model, run.history)
    if folder is not None:
        if not run.history:
            raise AekitError("aekit.train: out=%s: training finished without completing an epoch" % out)
        noise = opt.field("noise") if opt.get("noise") != "none" else None
        folder.finish(run.history, val_set or train_set, noise, int(opt.get("seed")), int(opt.get("threads")))
    return model
