"""Finding and calling libaekit.so (ctypes).

The library is looked for, in order:
  1. $AEKIT_LIB: the path of the library file;
  2. next to the package: aekit/libaekit.so*, then the lib folder of the
     tree the package sits in (a build tree: BUILD/python/aekit ->
     BUILD/libaekit.so; an install: PREFIX/lib/python3/dist-packages/aekit
     -> PREFIX/lib/libaekit.so), as _paths.py records it;
  3. the system's library path (ctypes.util.find_library / the soname).

Every module declares the C functions it calls with declare() next to the
code that calls them; call() raises AekitError with the library's one-line
message when a function returns -1.

The library loaded must be the one the package was built with: its
ae_version() must be the version _paths.py records, and every struct the
package mirrors (ctypes.Structure) must have the size the library reports
(ae_sizeof; check_struct, called after each mirror's class). Either
difference is an ImportError naming both sides, never a crash later.
"""
import ctypes
import ctypes.util
import glob
import os

__all__ = ["AekitError", "lib", "declare", "call", "check_struct", "Error", "version"]


class AekitError(RuntimeError):
    """A failure the library reported, with its one-line message."""


class Error(ctypes.Structure):
    """ae_error: the library's message buffer."""
    _fields_ = [("msg", ctypes.c_char * 512)]

    def text(self):
        return self.msg.decode("utf-8", "replace")


_HERE = os.path.dirname(os.path.abspath(__file__))


try:
    from . import _paths  # written by cmake (build tree and install)
except ImportError:       # the source tree: no build recorded, nothing to compare
    _paths = None


def _candidates():
    env = os.environ.get("AEKIT_LIB")
    if env:
        yield env
        return  # asked for one file: no other is tried
    for pattern in ("libaekit.so", "libaekit.so.*"):
        for p in sorted(glob.glob(os.path.join(_HERE, pattern))):
            yield p
    if _paths is not None:
        for d in _paths.LIBRARY_DIRS:
            p = os.path.join(d, "libaekit.so")
            if os.path.exists(p):
                yield p
    found = ctypes.util.find_library("aekit")
    if found:
        yield found


def _load():
    tried = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    where = "; ".join(tried) if tried else "no candidate found"
    raise ImportError("aekit: cannot load libaekit.so: " + where +
                      " (set AEKIT_LIB to the library's path)")


lib, path = _load()


def declare(name, restype, argtypes):
    """A C function with its prototype. Each call makes its own function
    object (lib[name], not lib.name, which ctypes caches and shares): two
    modules declaring one function cannot change each other's prototype."""
    f = lib[name]
    f.restype = restype
    f.argtypes = argtypes
    return f


def call(f, *args, exc=AekitError):
    """Calls f(*args, &err) and raises exc(message) when it returns non-zero."""
    err = Error()
    rc = f(*args, ctypes.byref(err))
    if rc != 0:
        raise exc(err.text() or "%s failed" % f.__name__)
    return rc


version = declare("ae_version", ctypes.c_char_p, [])().decode()
if _paths is not None and version != _paths.VERSION:
    raise ImportError("aekit: the package is version %s but %s is version %s (a package from one build "
                      "loading another build's library; set AEKIT_LIB or PYTHONPATH to match)"
                      % (_paths.VERSION, path, version))

try:
    _sizeof = declare("ae_sizeof", ctypes.c_size_t, [ctypes.c_char_p])
except AttributeError:
    raise ImportError("aekit: %s has no ae_sizeof (a library older than the package)" % path) from None


def check_struct(cls, c_name):
    """Raises ImportError unless the ctypes mirror cls has the size of the
    library's struct c_name ("ae_dataset"): a mirror that lost or gained a
    field, or a library of another layout, is found at import."""
    want, have = _sizeof(c_name.encode()), ctypes.sizeof(cls)
    if want == 0:
        raise ImportError("aekit: %s does not know the struct %s that %s mirrors" % (path, c_name, cls.__name__))
    if want != have:
        raise ImportError("aekit: struct %s is %d bytes in %s but %d bytes in its mirror %s.%s "
                          "(the package and the library disagree on its fields)"
                          % (c_name, want, path, have, cls.__module__, cls.__name__))


check_struct(Error, "ae_error")
