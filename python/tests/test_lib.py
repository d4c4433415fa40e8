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
