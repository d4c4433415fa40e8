"""Loading libaekit.so: the package refuses a library of another version
(_paths.py's VERSION) and struct mirrors whose size is not the library's
(ae_sizeof, _lib.check_struct)."""
import ctypes
import importlib
import inspect
import os
import shutil
import subprocess
import sys

import pytest

import aekit
from aekit import _lib

MODULES = ["_lib", "datasets", "inference", "model", "torch_bridge", "training"]


def test_sizeof_knows_the_mirrored_structs_and_no_other():
    for name in ("ae_error", "ae_dataset", "ae_image_options", "ae_progress", "ae_train_option",
                 "ae_train_position", "ae_tensor", "ae_epoch_metric", "ae_run_names", "ae_run_picture",
                 "ae_run_report"):
        assert _lib._sizeof(name.encode()) > 0, name
    assert _lib._sizeof(b"ae_error") == 512
    assert _lib._sizeof(b"ae_nothing") == 0 and _lib._sizeof(b"") == 0 and _lib._sizeof(None) == 0


def test_check_struct_refuses_a_wrong_mirror_naming_both_sizes():
    class OldDataset(ctypes.Structure):     # ae_dataset before nclasses / class_names
        _fields_ = [("n", ctypes.c_int), ("c", ctypes.c_int), ("h", ctypes.c_int), ("w", ctypes.c_int),
                    ("pixels", ctypes.c_void_p), ("labels", ctypes.c_void_p), ("source", ctypes.c_char * 1024)]
    want = _lib._sizeof(b"ae_dataset")
    assert ctypes.sizeof(OldDataset) != want
    with pytest.raises(ImportError, match=r"struct ae_dataset is %d bytes in .*libaekit.* but %d bytes in its "
                                          r"mirror .*OldDataset" % (want, ctypes.sizeof(OldDataset))):
        _lib.check_struct(OldDataset, "ae_dataset")
    with pytest.raises(ImportError, match="does not know the struct ae_datasett"):
        _lib.check_struct(OldDataset, "ae_datasett")
    _lib.check_struct(aekit.datasets._Dataset, "ae_dataset")   # the real mirror passes


def test_every_mirror_is_checked_at_import():
    """Each ctypes.Structure of the package is followed by its check_struct."""
    found = 0
    for name in MODULES:
        mod = importlib.import_module("aekit." + name)
        src = inspect.getsource(mod)
        for attr, cls in vars(mod).items():
            if isinstance(cls, type) and issubclass(cls, ctypes.Structure) and cls.__module__ == mod.__name__:
                found += 1
                assert "check_struct(%s, \"ae_" % cls.__name__ in src, "%s.%s is not checked" % (name, attr)
    assert found >= 11


def test_a_package_of_another_version_refuses_the_library(tmp_path):
    """A package whose _paths.py records another version (another build's
    package) does not load this build's library."""
    pkg = os.path.dirname(aekit.__file__)
    if not os.path.exists(os.path.join(pkg, "_paths.py")):
        pytest.skip("the package is not a build's (no _paths.py)")
    copy = tmp_path / "aekit"
    shutil.copytree(pkg, copy, ignore=shutil.ignore_patterns("__pycache__"))
    paths = (copy / "_paths.py").read_text()
    assert 'VERSION = "%s"' % aekit.__version__ in paths
    (copy / "_paths.py").write_text(paths.replace('VERSION = "%s"' % aekit.__version__, 'VERSION = "0.0.1"'))
    env = dict(os.environ, PYTHONPATH=str(tmp_path), AEKIT_LIB=_lib.path)
    out = subprocess.run([sys.executable, "-c", "import aekit"], capture_output=True, text=True, env=env)
    assert out.returncode != 0
    assert "ImportError: aekit: the package is version 0.0.1 but %s is version %s" % (_lib.path, aekit.__version__) \
        in out.stderr, out.stderr
    # the unchanged copy loads
    (copy / "_paths.py").write_text(paths)
    out = subprocess.run([sys.executable, "-c", "import aekit; print(aekit.__version__)"], capture_output=True,
                         text=True, env=env)
    assert out.stdout.strip() == aekit.__version__, out.stderr


def _checked_structs():
    """[(module, mirror class name, C struct name)] of every check_struct call."""
    import re
    out = []
    for name in MODULES:
        src = inspect.getsource(importlib.import_module("aekit." + name))
        out += [(name, cls, c) for cls, c in re.findall(r'check_struct\((\w+), "(ae_\w+)"\)', src)]
    return out


def test_each_struct_is_mirrored_once():
    """One mirror per C struct (ae_dataset's is datasets._Dataset; the
    others import it)."""
    seen = {}
    for module, cls, c in _checked_structs():
        assert c not in seen, "%s mirrored twice: %s and %s.%s" % (c, seen[c], module, cls)
        seen[c] = "%s.%s" % (module, cls)
    assert seen["ae_dataset"] == "datasets._Dataset"
    for module in MODULES:
        for cls in vars(importlib.import_module("aekit." + module)).values():
            if isinstance(cls, type) and issubclass(cls, ctypes.Structure):
                assert cls.__module__ == "aekit.datasets" or "Dataset" not in cls.__name__, cls


def test_the_run_file_enum_names_the_librarys_files():
    from aekit import training
    training._check_run_files(training._RUN_FILES)
    assert training._RUN_FILES[training._AE_RUN_MODEL] == b"model.safetensors"
    with pytest.raises(ImportError, match="AE_RUN_MODEL, AE_RUN_METRICS.*metrics.csv.*model.safetensors"):
        training._check_run_files([b"metrics.csv", b"model.safetensors"])


def test_enum_mirrors_are_in_one_place():
    """The package's copies of C enums: each in one module."""
    from aekit import datasets, training
    assert datasets.SPLIT_TRAIN == 0 and datasets.SPLIT_TEST == 1 and datasets.FITS == {"resize": 0, "crop": 1}
    assert training.SPLIT_TRAIN is datasets.SPLIT_TRAIN and training.FITS is datasets.FITS
    assert not hasattr(training, "_AE_SPLIT_TRAIN") and not hasattr(training, "_AE_OPTION_NOISE")


def test_finalisers_do_not_need_module_globals(monkeypatch):
    """At interpreter exit a module's globals may be None before the last
    objects go: each __del__ calls the free function it bound when defined."""
    import numpy as np
    from aekit import datasets, inference, model, training
    caught = []
    monkeypatch.setattr(sys, "unraisablehook", caught.append)
    m = aekit.Model.from_preset("conv")
    m.encode(np.zeros((1, 28, 28), np.uint8))          # a workspace pool to free too
    ds = training._from_arrays(np.zeros((2, 28, 28), np.uint8), None, "x_train", (1, 28, 28), 0)
    split = datasets._Split(ctypes.POINTER(datasets._Dataset)())   # null: nothing to free
    for mod, names in ((model, ["_free"]), (training, ["_dataset_free"]), (inference, ["_ws_free"]),
                       (datasets, ["_free"])):
        for name in names:
            monkeypatch.setattr(mod, name, None)
    del m, ds, split
    import gc
    gc.collect()
    assert caught == [], [str(c.exc_value) for c in caught]
