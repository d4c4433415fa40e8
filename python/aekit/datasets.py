"""aekit.datasets: data sets as NumPy arrays, found as the CLI finds them.

    x_train, y_train, x_test, y_test = aekit.datasets.load("mnist")
    names = aekit.datasets.classes("mnist")       # ["0", ..., "9"]: label k is names[k]

The arrays are the library's own memory (ae_dataset_open), not copies:
each array's base is an object that holds the ae_dataset and frees it
when the last array of that split goes away (MNIST's training images are
47 MB: they are read once and never copied). With `limit`, the first
images are copied out and the split is freed at once.

Errors: the library's (no such data set, a damaged file) raise
aekit.AekitError with its message; bad arguments raise ValueError.
"""
import ctypes
import operator
import os

import numpy as np

from . import _lib
from ._lib import call, declare

c_int = ctypes.c_int
_u8p = ctypes.POINTER(ctypes.c_uint8)


class _Dataset(ctypes.Structure):
    """ae_dataset (aekit.h)."""
    _fields_ = [("n", c_int), ("c", c_int), ("h", c_int), ("w", c_int),
                ("pixels", _u8p), ("labels", _u8p), ("source", ctypes.c_char * 1024),
                ("nclasses", c_int), ("class_names", ctypes.POINTER(ctypes.c_char_p))]


_lib.check_struct(_Dataset, "ae_dataset")


class _ImageOptions(ctypes.Structure):
    """ae_image_options (aekit.h)."""
    _fields_ = [("c", c_int), ("h", c_int), ("w", c_int), ("fit", c_int), ("refuse_mismatch", c_int)]


_lib.check_struct(_ImageOptions, "ae_image_options")


# The C enums of aekit.h that the package passes (here, and only here).
FITS = {"resize": 0, "crop": 1}   # enum ae_fit: AE_FIT_RESIZE, AE_FIT_CROP
SPLIT_TRAIN, SPLIT_TEST = 0, 1    # enum ae_split: AE_SPLIT_TRAIN, AE_SPLIT_TEST

_open = declare("ae_dataset_open", c_int, [ctypes.POINTER(ctypes.POINTER(_Dataset)), ctypes.c_char_p,
                                           c_int, ctypes.POINTER(_ImageOptions), ctypes.POINTER(_lib.Error)])
_free = declare("ae_dataset_free", None, [ctypes.POINTER(_Dataset)])
_class_count = declare("ae_dataset_class_count", c_int, [ctypes.POINTER(_Dataset)])
_class_name = declare("ae_dataset_class_name", ctypes.c_char_p, [ctypes.POINTER(_Dataset), c_int])


class _Split:
    """Owns one opened ae_dataset; freed when the arrays over it are gone."""

    def __init__(self, ptr):
        self._ptr = ptr

    def __del__(self, _free=_free):  # bound now: module globals may be gone at exit
        if getattr(self, "_ptr", None):
            _free(self._ptr)
            self._ptr = None


class _View:
    """One array of a split (__array_interface__): NumPy keeps it, and so
    the split, as the array's base."""

    def __init__(self, split, address, shape):
        self._split = split
        self.__array_interface__ = {"data": (address, False), "shape": shape,
                                    "typestr": "|u1", "version": 3}


def _open_split(name, split, img, limit):
    ptr = ctypes.POINTER(_Dataset)()
    call(_open, ctypes.byref(ptr), os.fsencode(name), split, img)
    owner = _Split(ptr)
    ds = ptr.contents
    n, shape = ds.n, (ds.n, ds.c, ds.h, ds.w)
    x = np.asarray(_View(owner, ctypes.addressof(ds.pixels.contents) if n else 0, shape))
    y = None
    if ds.labels:
        y = np.asarray(_View(owner, ctypes.addressof(ds.labels.contents) if n else 0, (n,)))
    if n == 0:  # an address of 0 is refused by NumPy for empty arrays too
        x, y = np.empty(shape, np.uint8), (None if y is None else np.empty((0,), np.uint8))
    if limit is not None and limit < n:
        # a copy of the first images; the whole split is freed with `owner`
        x, y = x[:limit].copy(), (None if y is None else y[:limit].copy())
    return x, y


def _name(name_or_dir, who):
    if name_or_dir is None:
        raise ValueError("datasets.%s: expected a data set name or folder, got None" % who)
    name = os.fspath(name_or_dir)
    return os.fsdecode(name) if isinstance(name, bytes) else name


def classes(name_or_dir):
    """The class names of a data set, as a list of str: label k of
    load()'s y arrays is named classes(...)[k]. The library's names
    (ae_dataset_class_name): the digits "0".."9" for MNIST, the clothes for
    Fashion-MNIST, CIFAR-10's ten (or its batches.meta.txt), an image
    folder's class folder names in sorted order; [] for a data set without
    names. The data set is found as load() finds it."""
    name = _name(name_or_dir, "classes")
    ptr = ctypes.POINTER(_Dataset)()
    # the test split (the smaller; both have the same names); an image
    # folder is read at 1x1 pixels: the names do not depend on the size
    img = _ImageOptions(1, 1, 1, FITS["resize"], 0)
    call(_open, ctypes.byref(ptr), os.fsencode(name), SPLIT_TEST, ctypes.byref(img))
    try:
        return [os.fsdecode(_class_name(ptr, k)) for k in range(_class_count(ptr))]
    finally:
        _free(ptr)


def load(name_or_dir, limit=None, shape=None, fit="resize"):
    """(x_train, y_train, x_test, y_test) of a data set, as `aekit train
    --data` finds it: a name ("mnist", "fashion-mnist", "cifar10") looked
    up in $AEKIT_DATA, then ./data, then /usr/share/datasets; or a folder
    (IDX files, CIFAR-10 binary files, or PNG/JPEG images).

    x_*: uint8 arrays (N, C, H, W), pixels 0-255; y_*: uint8 labels (N,),
    or None when the data set has none (classes() names them). limit: keep the first `limit`
    images of each split. shape (C, H, W) and fit ("resize" or "crop"):
    the size image folders are converted to (required for them; IDX and
    CIFAR files are returned as stored).
    """
    name = _name(name_or_dir, "load")
    if limit is not None:
        try:
            limit = operator.index(limit)
        except TypeError:
            raise ValueError("datasets.load: limit must be an integer, got %r" % (limit,)) from None
        if not 1 <= limit <= 2**31 - 1:
            raise ValueError("datasets.load: limit must be at least 1, got %d" % limit)
    img = None
    if shape is not None:
        if fit not in FITS:
            raise ValueError("datasets.load: fit must be 'resize' or 'crop', got %r" % (fit,))
        try:
            c, h, w = (operator.index(v) for v in shape)
        except (TypeError, ValueError):
            raise ValueError("datasets.load: shape must be (channels, height, width), got %r" % (shape,)) from None
        if not all(1 <= v <= 2**31 - 1 for v in (c, h, w)):  # the library checks the rest
            raise ValueError("datasets.load: shape must be (channels, height, width), got %r" % (shape,))
        img = ctypes.byref(_ImageOptions(c, h, w, FITS[fit], 0))
    x_train, y_train = _open_split(name, SPLIT_TRAIN, img, limit)
    x_test, y_test = _open_split(name, SPLIT_TEST, img, limit)
    return x_train, y_train, x_test, y_test
