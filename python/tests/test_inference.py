"""Model.encode / decode / reconstruct / sample from Python: shapes, checks,
the same bytes as the command line, threads."""
import os
import subprocess
import threading
import tracemalloc

import numpy as np
import pytest

import aekit


@pytest.fixture(scope="module")
def conv():
    m = aekit.Model.from_preset("conv")
    m.init(7)
    return m


@pytest.fixture(scope="module")
def vae():
    m = aekit.Model.from_preset("vae", latent=2)
    m.init(3)
    return m


def digits(n, seed=0, shape=(1, 28, 28)):
    """n random uint8 images (the shapes matter here, not what they show)."""
    return np.random.RandomState(seed).randint(0, 256, (n,) + shape).astype(np.uint8)


def as_float(x):
    return x.astype(np.float32) / np.float32(255)


def mnist_test(limit):
    try:
        return aekit.datasets.load("mnist", limit=limit)[2]
    except aekit.AekitError as e:
        pytest.skip("no MNIST (%s)" % e)


def cli():
    """The aekit command of the same build: $AEKIT_CLI (ctest), else next to
    the library the package loaded (a build tree)."""
    path = os.environ.get("AEKIT_CLI") or os.path.join(os.path.dirname(aekit._lib.path), "aekit")
    if not os.access(path, os.X_OK):
        pytest.skip("no aekit command at %s (set AEKIT_CLI)" % path)
    return path


# ---- every call -------------------------------------------------------------

def test_encode_decode_reconstruct_shapes(conv):
    x = digits(5)
    z = conv.encode(x)
    assert z.shape == (5, 128) and z.dtype == np.float32
    y = conv.decode(z)
    assert y.shape == (5, 1, 28, 28) and y.dtype == np.float32
    assert np.all((y >= 0) & (y <= 1))
    r = conv.reconstruct(x)
    assert r.shape == (5, 1, 28, 28) and r.dtype == np.float32
    assert r.tobytes() == y.tobytes()  # reconstruct = decode(encode) for a plain autoencoder


def test_decode_takes_the_latent_layout(conv):
    z = conv.encode(digits(4))
    assert conv.decode(z.reshape(4, 8, 4, 4)).tobytes() == conv.decode(z).tobytes()


def test_vae_encode_is_z_mean_and_reconstruct_decodes_it(vae):
    x = digits(6)
    z = vae.encode(x)
    assert z.shape == (6, 2)
    assert vae.reconstruct(x).tobytes() == vae.decode(z).tobytes()


def test_super_resolution_output_is_larger():
    m = aekit.Model.from_preset("sr")
    x = digits(3, shape=(14, 14))
    assert m.reconstruct(x).shape == (3, 1, 28, 28)
    assert m.decode(m.encode(x)).shape == (3, 1, 28, 28)


def test_three_channels():
    m = aekit.Model.from_preset("conv-rgb32")
    x = digits(2, shape=(3, 32, 32))
    assert m.encode(x).shape == (2, 256) and m.reconstruct(x).shape == (2, 3, 32, 32)
    with pytest.raises(ValueError, match=r"\(N, 3, 32, 32\), got shape \(2, 32, 32\)"):
        m.encode(x[:, 0])  # (N, H, W) only for one channel


def test_sample(vae):
    a = vae.sample(5, seed=1)
    assert a.shape == (5, 1, 28, 28) and a.dtype == np.float32
    assert vae.sample(5, seed=1).tobytes() == a.tobytes()
    assert vae.sample(5, seed=2).tobytes() != a.tobytes()
    assert vae.sample(3, seed=1).tobytes() == a[:3].tobytes()  # image i depends on (seed, i)


def test_sample_without_a_fitted_gaussian_says_so(conv):
    with pytest.raises(aekit.AekitError, match="no fitted latent Gaussian"):
        conv.sample(2)


def test_sample_bad_arguments(vae):
    with pytest.raises(ValueError, match="negative image count -1"):
        vae.sample(-1)
    with pytest.raises(ValueError, match="integers"):
        vae.sample(2.5)
    with pytest.raises(ValueError, match="seed"):
        vae.sample(2, seed=-1)


def test_zero_images_give_empty_arrays(conv, vae):
    assert conv.encode(digits(0)).shape == (0, 128)
    assert conv.reconstruct(np.zeros((0, 1, 28, 28), np.float32)).shape == (0, 1, 28, 28)
    assert conv.decode(np.zeros((0, 128), np.float32)).shape == (0, 1, 28, 28)
    assert vae.sample(0).shape == (0, 1, 28, 28)


# ---- bad input ------------------------------------------------------------------

@pytest.mark.parametrize("bad, got", [
    (None, "got None"),
    ([[0] * 28] * 28, r"got list \(not a NumPy array\)"),
    (np.zeros((2, 28, 28), np.float64), "got dtype float64"),
    (np.zeros((2, 28, 28), np.int32), "got dtype int32"),
    (np.zeros((2, 28, 28), ">f4"), "got dtype >f4"),
    (np.zeros((2, 1, 28, 27), np.uint8), r"got shape \(2, 1, 28, 27\)"),
    (np.zeros((2, 3, 28, 28), np.uint8), r"got shape \(2, 3, 28, 28\)"),
    (np.zeros((28, 28), np.uint8), r"got shape \(28, 28\)"),
    (np.zeros((1, 1, 1, 28, 28), np.float32), r"got shape \(1, 1, 1, 28, 28\)"),
])
@pytest.mark.parametrize("call", ["encode", "reconstruct"])
def test_bad_images_are_value_errors(conv, call, bad, got):
    with pytest.raises(ValueError, match=r"^%s: expected uint8 \(0-255\) or float32 \(0-1\) images shaped "
                                         r"\(N, 1, 28, 28\) or \(N, 28, 28\), %s$" % (call, got)):
        getattr(conv, call)(bad)


@pytest.mark.parametrize("bad, got", [
    (None, "got None"),
    (np.zeros((2, 128), np.uint8), "got dtype uint8"),
    (np.zeros((2, 128), np.float64), "got dtype float64"),
    (np.zeros((2, 127), np.float32), r"got shape \(2, 127\)"),
    (np.zeros((128,), np.float32), r"got shape \(128,\)"),
    (np.zeros((2, 8, 16), np.float32), r"got shape \(2, 8, 16\)"),
])
def test_bad_codes_are_value_errors(conv, bad, got):
    with pytest.raises(ValueError, match=r"^decode: expected float32 codes shaped \(N, 128\) or "
                                         r"\(N, 8, 4, 4\), %s$" % got):
        conv.decode(bad)


@pytest.mark.parametrize("threads, message", [
    (300, "threads must be 0 (all cores) to 256, got 300"),
    (-1, "threads must be 0 (all cores) to 256, got -1"),
    ("2", "threads must be an integer, got '2'"),
    (2**40, "is not a C int"),
])
def test_bad_threads_are_value_errors(conv, threads, message):
    with pytest.raises(ValueError) as e:
        conv.encode(digits(2), threads=threads)
    assert str(e.value).startswith("encode: ") and message in str(e.value)


# ---- conversions and copies ---------------------------------------------------------

def test_uint8_and_float32_give_the_same_bytes(conv):
    x = digits(70)
    assert conv.encode(x).tobytes() == conv.encode(as_float(x)).tobytes()
    assert conv.encode(x).tobytes() == conv.encode(as_float(x)[:, 0]).tobytes()  # (N, H, W)
    assert conv.reconstruct(x).tobytes() == conv.reconstruct(as_float(x)).tobytes()


def test_strided_input_gives_the_same_codes(conv):
    x = as_float(digits(40))
    wide = np.zeros((40, 1, 28, 56), np.float32)
    wide[..., ::2] = x
    assert conv.encode(wide[..., ::2]).tobytes() == conv.encode(x).tobytes()
    assert conv.encode(x[::2]).tobytes() == conv.encode(x)[::2].tobytes()


def test_contiguous_float32_input_is_not_copied(conv):
    x = as_float(digits(4000))           # 12.5 MB of input
    conv.encode(x[:1])                   # the workspace exists before measuring
    tracemalloc.start()
    try:
        conv.encode(x)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        conv.encode(x.astype(np.uint8))  # uint8: one float32 copy, which this measure sees
        _, peak_u8 = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    codes = 4000 * 128 * 4
    assert peak < codes + x.nbytes // 4, peak
    assert peak_u8 >= x.nbytes, peak_u8


def test_input_is_not_written(conv):
    x = as_float(digits(10))
    before = x.copy()
    conv.encode(x)
    conv.reconstruct(x)
    assert x.tobytes() == before.tobytes()


# ---- the command line's bytes -----------------------------------------------------------

@pytest.mark.parametrize("preset", ["conv", "vae"])
def test_encode_equals_aekit_encode(tmp_path, preset):
    aekit_cmd = cli()
    x = mnist_test(200)
    m = aekit.Model.from_preset(preset)
    m.init(11)
    path = tmp_path / "m.safetensors"
    m.save(path)
    out = tmp_path / "codes.npy"
    subprocess.run([aekit_cmd, "encode", str(path), "--data", "mnist", "--limit", "200", "--threads", "2",
                    "--out", str(out)], check=True, capture_output=True)
    theirs = np.load(out)
    ours = aekit.load(path).encode(x, threads=2)
    assert ours.shape == theirs.shape == (200, m.latent_size)
    assert ours.dtype == theirs.dtype == np.float32
    assert ours.tobytes() == theirs.tobytes()


# ---- threads ---------------------------------------------------------------------------

def test_thread_counts_give_the_same_bytes(conv):
    x = digits(300)  # 5 chunks of 64: the threads split them
    one = conv.encode(x, threads=1)
    assert conv.encode(x, threads=2).tobytes() == one.tobytes()
    assert conv.encode(x, threads=3).tobytes() == one.tobytes()
    assert conv.encode(x, threads=0).tobytes() == one.tobytes()
    r = conv.reconstruct(x, threads=1)
    assert conv.reconstruct(x, threads=2).tobytes() == r.tobytes()


def test_workspaces_are_reused():
    m = aekit.Model.from_preset("conv")
    x = digits(10)
    for _ in range(5):
        m.encode(x, threads=1)
        m.decode(m.encode(x, threads=1), threads=1)
    assert len(m._workspaces._free) == 1
    m.encode(x, threads=2)  # more threads: the small workspace is replaced
    assert [t for _, t in m._workspaces._free] == [2]
    m.encode(x, threads=1)  # fewer: the larger one serves
    assert [t for _, t in m._workspaces._free] == [2]
    m._forget_workspaces()
    assert "_workspaces" not in m.__dict__
    m.encode(x, threads=1)  # a new pool
    assert [t for _, t in m._workspaces._free] == [1]


def test_two_python_threads_share_one_model(conv):
    inputs = [digits(130, seed=s) for s in (1, 2)]
    want = [conv.encode(x, threads=1) for x in inputs]
    want_r = [conv.reconstruct(x, threads=1) for x in inputs]
    errors, start = [], threading.Barrier(2)

    def work(k):
        try:
            start.wait()
            for _ in range(20):
                if conv.encode(inputs[k], threads=1).tobytes() != want[k].tobytes():
                    errors.append("thread %d: wrong codes" % k)
                if conv.reconstruct(inputs[k], threads=2).tobytes() != want_r[k].tobytes():
                    errors.append("thread %d: wrong reconstruction" % k)
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append("thread %d: %r" % (k, e))

    threads = [threading.Thread(target=work, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert 1 <= len(conv._workspaces._free) <= 2  # one per call that ran at once


def test_outputs_outlive_the_model():
    m = aekit.Model.from_preset("conv")
    z = m.encode(digits(3))
    y = m.decode(z)
    del m
    assert z.shape == (3, 128) and float(y.sum()) > 0


# ---- conditional models --------------------------------------------------------

def test_conditional_model_takes_labels(vae):
    m = aekit.Model.from_preset("cvae")
    m.init(5)
    assert m.classes == 10 and vae.classes == 0
    assert aekit.from_torch(m.state_dict()).classes == 10     # a state_dict matches the preset cvae
    x = digits(4)
    labels = np.array([3, 0, 9, 3])
    z = m.encode(x, labels=labels)
    y = m.decode(z, labels=labels)
    assert np.array_equal(m.reconstruct(x, labels=labels), y)
    # another label changes that image only
    other = m.decode(z, labels=[4, 0, 9, 3])
    assert not np.array_equal(other[0], y[0]) and np.array_equal(other[1:], y[1:])
    # one int: every image that class; sample keeps its codes across labels
    assert np.array_equal(m.decode(z, labels=3)[[0, 3]], y[[0, 3]])
    s3, s8 = m.sample(6, seed=2, labels=3), m.sample(6, seed=2, labels=8)
    assert s3.shape == (6, 1, 28, 28) and not np.array_equal(s3, s8)
    with pytest.raises(ValueError, match="conditional on 10 classes: pass labels="):
        m.encode(x)
    with pytest.raises(ValueError, match="not conditional"):
        vae.encode(x, labels=labels)
    with pytest.raises(ValueError, match=r"label 10 \(image 1\) is not a class of the model \(0 to 9\)"):
        m.reconstruct(x, labels=[1, 10, 2, 3])
    with pytest.raises(ValueError, match=r"expected 4 integer labels"):
        m.encode(x, labels=[1, 2])
