"""aekit.datasets.load: data sets as NumPy arrays, found as the CLI finds them."""
import gc
import gzip
import os
import struct

import numpy as np
import pytest

import aekit


def write_idx(path, array, gz=False):
    """An IDX file (MNIST's format) of a uint8 array."""
    head = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(">%dI" % array.ndim, *array.shape)
    data = head + array.astype(np.uint8).tobytes()
    if gz:
        with gzip.open(str(path) + ".gz", "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


@pytest.fixture
def tiny(tmp_path):
    """A 4-file IDX data set in tmp_path/tiny: 5 training and 3 test images
    of 4x6 pixels; returns (folder, arrays)."""
    d = tmp_path / "tiny"
    d.mkdir()
    r = np.random.RandomState(5)
    xs = {"train": r.randint(0, 256, (5, 4, 6)), "t10k": r.randint(0, 256, (3, 4, 6))}
    ys = {"train": np.arange(5), "t10k": np.array([9, 8, 7])}
    for split in ("train", "t10k"):
        write_idx(d / ("%s-images-idx3-ubyte" % split), xs[split], gz=split == "train")
        write_idx(d / ("%s-labels-idx1-ubyte" % split), ys[split])
    return d, (xs["train"], ys["train"], xs["t10k"], ys["t10k"])


def test_a_folder_as_arrays(tiny):
    folder, want = tiny
    got = aekit.datasets.load(str(folder))
    assert [a.shape for a in got] == [(5, 1, 4, 6), (5,), (3, 1, 4, 6), (3,)]
    assert all(a.dtype == np.uint8 for a in got)
    assert got[0].flags.c_contiguous and got[2].flags.c_contiguous
    for a, w in zip(got, want):
        assert a.reshape(w.shape).tolist() == w.tolist()


def test_a_name_is_found_in_aekit_data(tiny, monkeypatch):
    folder, want = tiny
    monkeypatch.setenv("AEKIT_DATA", str(folder.parent))
    x_train, y_train, x_test, y_test = aekit.datasets.load("tiny")
    assert y_test.tolist() == [9, 8, 7] and x_train[:, 0].tolist() == want[0].tolist()


def test_limit_keeps_the_first_images(tiny):
    folder, want = tiny
    x_train, y_train, x_test, y_test = aekit.datasets.load(folder, limit=2)
    assert x_train.shape == (2, 1, 4, 6) and x_test.shape == (2, 1, 4, 6)
    assert y_train.tolist() == [0, 1] and y_test.tolist() == [9, 8]
    assert x_test[:, 0].tolist() == want[2][:2].tolist()
    assert aekit.datasets.load(folder, limit=100)[0].shape == (5, 1, 4, 6)


def test_arrays_keep_the_data_set_alive(tiny):
    folder, want = tiny
    x_train = aekit.datasets.load(folder)[0]
    gc.collect()
    np.random.RandomState(1).bytes(1 << 20)  # reuse of freed memory would show
    assert x_train[:, 0].tolist() == want[0].tolist()


def test_unknown_name_names_it(monkeypatch, tmp_path):
    monkeypatch.setenv("AEKIT_DATA", str(tmp_path))
    with pytest.raises(aekit.AekitError, match="unknown data set 'no-such-set'"):
        aekit.datasets.load("no-such-set")


def test_missing_folder_and_file(tmp_path):
    with pytest.raises(aekit.AekitError, match="no such folder"):
        aekit.datasets.load(str(tmp_path / "nothing") + "/")
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"")
    with pytest.raises(aekit.AekitError, match="train-images-idx3-ubyte: not found"):
        aekit.datasets.load(tmp_path)


def test_image_folder_needs_a_size(tmp_path):
    with pytest.raises(aekit.AekitError, match="an image folder needs a size"):
        aekit.datasets.load(tmp_path)


@pytest.mark.parametrize("kwargs, message", [
    (dict(name_or_dir=None), "got None"),
    (dict(name_or_dir="mnist", limit=0), "limit must be at least 1, got 0"),
    (dict(name_or_dir="mnist", limit="5"), "limit must be an integer"),
    (dict(name_or_dir="mnist", shape=(1, 28)), r"shape must be \(channels, height, width\)"),
    (dict(name_or_dir="mnist", shape=(1, 28, 28), fit="stretch"), "fit must be 'resize' or 'crop'"),
])
def test_bad_arguments_are_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        aekit.datasets.load(**kwargs)


def test_mnist():
    try:
        x_train, y_train, x_test, y_test = aekit.datasets.load("mnist")
    except aekit.AekitError as e:
        pytest.skip("no MNIST (%s)" % e)
    assert x_train.shape == (60000, 1, 28, 28) and x_test.shape == (10000, 1, 28, 28)
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9] and y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert int(y_train.max()) == 9 and int(x_test.max()) == 255
    # the library's memory, not a copy
    assert not x_train.flags.owndata and x_train.base is not None


# ---- class names -------------------------------------------------------------------------

def write_png(path, gray):
    """A grayscale 8-bit PNG of a uint8 (H, W) array (zlib, no imaging library)."""
    import zlib
    h, w = gray.shape

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)

    rows = b"".join(b"\0" + gray[r].astype(np.uint8).tobytes() for r in range(h))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
                     chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_classes_of_mnist_are_the_digits():
    try:
        names = aekit.datasets.classes("mnist")
    except aekit.AekitError as e:
        pytest.skip("no MNIST (%s)" % e)
    assert names == ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
    assert all(isinstance(n, str) for n in names)


def test_classes_of_an_idx_folder_by_its_name(tiny, tmp_path):
    folder, _ = tiny
    assert aekit.datasets.classes(folder) == [str(d) for d in range(10)]
    fashion = tmp_path / "fashion-mnist"
    folder.rename(fashion)
    names = aekit.datasets.classes(str(fashion).encode())
    assert len(names) == 10 and names[0] == "T-shirt/top" and names[9] == "Ankle boot"


def test_classes_of_an_image_folder_are_its_folder_names(tmp_path):
    root = tmp_path / "pets"
    r = np.random.RandomState(2)
    for k, name in enumerate(["zebra", "cat", "dog"]):      # sorted: cat 0, dog 1, zebra 2
        (root / name).mkdir(parents=True)
        for i in range(3):
            write_png(root / name / ("%d.png" % i), np.full((5, 7), 40 * k + i, np.uint8) + r.randint(0, 3, (5, 7)))
    assert aekit.datasets.classes(root) == ["cat", "dog", "zebra"]
    x_train, y_train, x_test, y_test = aekit.datasets.load(root, shape=(1, 5, 7))
    names = aekit.datasets.classes(root)
    assert sorted(set(names[k] for k in y_test)) == ["cat", "dog", "zebra"]
    # each class's pixels are 40 * (its place in the zebra, cat, dog order above) + small noise
    order = ["zebra", "cat", "dog"]
    for x, y in ((x_train, y_train), (x_test, y_test)):
        for img, label in zip(x, y):
            assert int(img.min()) // 40 == order.index(names[label])


def test_classes_of_a_folder_without_class_folders_is_empty(tmp_path):
    for i in range(3):
        write_png(tmp_path / ("%d.png" % i), np.full((4, 4), i, np.uint8))
    assert aekit.datasets.classes(tmp_path) == []
    assert aekit.datasets.load(tmp_path, shape=(1, 4, 4))[1] is None


def test_classes_errors(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match=r"datasets.classes: expected a data set name or folder, got None"):
        aekit.datasets.classes(None)
    monkeypatch.setenv("AEKIT_DATA", str(tmp_path))
    with pytest.raises(aekit.AekitError, match="unknown data set 'no-such-set'"):
        aekit.datasets.classes("no-such-set")
