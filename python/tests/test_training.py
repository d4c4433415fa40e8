"""aekit.train: options from the library's table, data as a name or as
arrays, the per-epoch callback, stopping (callback, Ctrl-C, exceptions),
checkpoints and resuming, the run folder, and bit-identity with `aekit
train`. Small runs: a few hundred MNIST images, 1-3 epochs."""
import json
import os
import signal
import struct
import subprocess
import threading

import numpy as np
import pytest

import aekit
from aekit import _lib, datasets, training

DATA = "mnist"
SMALL = dict(limit=256, val_limit=128, batch=64, threads=2, progress=False)


def _cli():
    """The aekit command built next to the library under test."""
    path = os.path.join(os.path.dirname(_lib.path), "aekit")
    return path if os.path.exists(path) else None


def _mnist_available():
    try:
        training._open_split(DATA, datasets.SPLIT_TEST, 1, (1, 28, 28))
        return True
    except Exception:
        return False


needs_mnist = pytest.mark.skipif(not _mnist_available(), reason="MNIST not found (data/mnist or $AEKIT_DATA)")


def _tensors(path):
    """{name: bytes} of a safetensors file's tensors."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    return {k: data[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in header.items() if k != "__metadata__"}


def _tensors_of(model):
    """{name: bytes} of a model's tensors, through a saved file."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        model.save(os.path.join(d, "m.safetensors"))
        return _tensors(os.path.join(d, "m.safetensors"))


def _arrays(n_train=256, n_val=64):
    x, y = _mnist(n_train + n_val)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def _mnist(n):
    ds = training._open_split(DATA, datasets.SPLIT_TRAIN, n, (1, 28, 28))
    import ctypes
    h = ctypes.cast(ds.ptr, ctypes.POINTER(datasets._Dataset)).contents
    x = np.ctypeslib.as_array(h.pixels, (n, 1, 28, 28)).copy()
    y = np.ctypeslib.as_array(h.labels, (n,)).copy()
    return x, y


# ---- options ------------------------------------------------------------------------

def test_option_names_are_the_tables():
    names = training.option_names()
    for n in ("epochs", "batch", "lr", "optimizer", "seed", "threads", "noise", "clip_grad", "checkpoint_steps"):
        assert n in names


def test_unknown_option_is_a_type_error_listing_the_options():
    with pytest.raises(TypeError, match=r"unknown option learning_rate.*\bbatch\b.*\blr\b"):
        aekit.train("conv", DATA, epochs=1, learning_rate=0.1)


@pytest.mark.parametrize("kw, value, message", [
    ("lr", "fast", "lr='fast': learning rate: "),
    ("lr", 1e6, "learning rate"),
    ("batch", 0, "batch size"),
    ("optimizer", "adagrad", "optimizer"),
    ("threads", 257, "threads"),
    ("noise", "pink:3", "noise"),
    ("epochs", 0, "epochs"),
    ("lr_schedule", "step:0,0.5", "lr schedule 'step:0,0.5'"),
    ("weight_decay", -1, "weight decay"),
    ("beta", -0.5, "KL weight"),
    ("reg_lr", 0, "regularisation learning rate"),
])
def test_bad_option_value_is_a_value_error_with_the_librarys_message(kw, value, message):
    with pytest.raises(ValueError, match=message):
        aekit.train("conv", DATA, **{kw: value})


def test_command_line_spelling_is_accepted():
    x = np.zeros((8, 28, 28), np.uint8)
    m = aekit.train("conv", x, epochs=1, progress=False, **{"clip-grad": 0.5})
    assert m.meta["aekit.train.clip_grad"] == "0.5"


def test_lr_schedule_warmup_and_weight_decay_and_the_lr_in_each_report():
    x = np.zeros((8, 28, 28), np.uint8)
    seen = []
    m = aekit.train("conv", x, epochs=3, batch=4, lr=0.01, lr_schedule="step:1,0.5", warmup=3,
                    weight_decay=0.01, callback=seen.append, progress=False)
    # 2 steps an epoch: epoch 1 ends in the warm-up (step 2 of 3)
    assert [s["lr"] for s in seen] == [0.01 * 2 / 3, 0.005, 0.0025]
    assert m.meta["aekit.train.lr_schedule"] == "step:1,0.5" and m.meta["aekit.train.warmup_steps"] == "3"
    assert m.meta["aekit.train.weight_decay"] == "0.01"


@needs_mnist
def test_beta_weighs_the_kl_term_and_is_recorded(capfd):
    base = aekit.train("vae", DATA, epochs=1, **SMALL)
    same = aekit.train("vae", DATA, epochs=1, beta=1, **SMALL)
    seen = []
    heavy = aekit.train("vae", DATA, epochs=1, beta=4.0, callback=seen.append, **dict(SMALL, progress=True))
    assert base.param_count == same.param_count
    assert _tensors_of(base) == _tensors_of(same) != _tensors_of(heavy)
    assert "aekit.train.beta" not in base.meta and heavy.meta["aekit.train.beta"] == "4"
    e = seen[-1]   # val_loss: the loss trained on, recon + beta x the KL itself
    assert e["val_kl"] > 0 and e["val_loss"] == pytest.approx(e["val_recon"] + 4 * e["val_kl"], rel=1e-12)
    assert "+ 4 x kl" in capfd.readouterr().err


def test_beta_on_a_model_without_a_sample_layer_and_reg_lr_without_a_discriminator():
    x = np.zeros((8, 28, 28), np.uint8)
    with pytest.raises(aekit.AekitError, match="option beta .* no sample layer"):
        aekit.train("conv", x, epochs=1, beta=2, progress=False)
    with pytest.raises(aekit.AekitError, match="option reg_lr .* no discriminator"):
        aekit.train("conv", x, epochs=1, reg_lr=2.5e-3, progress=False)


def test_progress_display_on_stderr_and_nothing_from_the_library(capfd):
    x = np.zeros((8, 28, 28), np.uint8)
    aekit.train("conv", x, epochs=2, batch=4, progress=True)
    out, err = capfd.readouterr()
    assert out == "" and [l.split()[:2] for l in err.splitlines()] == [["epoch", "1/2"], ["epoch", "2/2"]]
    aekit.train("conv", x, epochs=2, batch=4, progress=False)
    assert capfd.readouterr() == ("", "")


def test_checkpoint_interval_needs_a_checkpoint_file():
    x = np.zeros((8, 28, 28), np.uint8)
    with pytest.raises(aekit.AekitError, match="checkpoint"):
        aekit.train("conv", x, epochs=1, checkpoint_steps=5, progress=False)


# ---- data -----------------------------------------------------------------------------

@needs_mnist
def test_data_by_name_and_callback_order_and_contents():
    seen = []
    m = aekit.train("conv", DATA, epochs=3, callback=seen.append, **SMALL)
    assert isinstance(m, aekit.Model)
    assert [s["epoch"] for s in seen] == [1, 2, 3]
    for s in seen:
        assert s["epochs"] == 3 and s["steps"] == 4          # 256 images, batch 64
        for k in ("train_loss", "val_loss", "val_mse", "val_recon", "val_kl", "seconds", "images_per_second"):
            assert isinstance(s[k], float) and np.isfinite(s[k]), k
        assert 0 < s["val_mse"] < s["val_loss"] < 1
    assert seen[-1]["train_loss"] < seen[0]["train_loss"]
    meta = m.meta
    assert meta["aekit.train.epochs"] == "3" and meta["aekit.train.lr"] == "0.001"
    assert meta["aekit.train.train_images"] == "256" and meta["aekit.train.val_images"] == "128"
    assert meta["aekit.result.epochs"] == "3"
    assert float(meta["aekit.result.val_loss"]) == pytest.approx(seen[-1]["val_loss"], abs=1e-6)


@needs_mnist
def test_data_as_arrays_uint8_and_float32_train_the_same():
    xt, yt, xv, yv = _arrays()
    a = aekit.train("conv", (xt, yt, xv, yv), epochs=1, seed=3, **{k: v for k, v in SMALL.items() if "limit" not in k})
    b = aekit.train("conv", (xt.astype(np.float32) / 255, xv[:, 0].astype(np.float32) / 255), epochs=1, seed=3,
                    **{k: v for k, v in SMALL.items() if "limit" not in k})
    pa, pb = a.meta, b.meta
    assert pa["aekit.result.val_loss"] == pb["aekit.result.val_loss"]
    assert pa["aekit.latent.mean"] == pb["aekit.latent.mean"]


def test_arrays_without_validation():
    x = (np.arange(16 * 28 * 28) % 251).astype(np.uint8).reshape(16, 28, 28)
    seen = []
    aekit.train("conv", x, epochs=1, batch=8, threads=1, callback=seen.append, progress=False)
    assert len(seen) == 1 and np.isnan(seen[0]["val_loss"])


@pytest.mark.parametrize("x, message", [
    (np.zeros((4, 32, 32), np.uint8), r"shaped \(4, 32, 32\), the model takes \(N, 1, 28, 28\)"),
    (np.zeros((4, 3, 28, 28), np.uint8), r"shaped \(4, 3, 28, 28\)"),
    (np.zeros((0, 28, 28), np.uint8), "no images"),
    (np.zeros((4, 28, 28), np.int64), "dtype int64"),
    (np.full((4, 28, 28), 2.0, np.float32), r"in \[0, 1\]"),
])
def test_bad_arrays_are_value_errors(x, message):
    with pytest.raises(ValueError, match=message):
        aekit.train("conv", x, epochs=1, progress=False)


def test_bad_labels_and_data_kinds():
    x = np.zeros((4, 28, 28), np.uint8)
    with pytest.raises(ValueError, match="limit=-1"):
        aekit.train("conv", x, epochs=1, limit=-1, progress=False)
    with pytest.raises(ValueError, match="y_train: 4 labels expected"):
        aekit.train("conv", (x, np.zeros(3, np.int64), x, np.zeros(4, np.int64)), epochs=1, progress=False)
    with pytest.raises(TypeError, match="data is a data set name"):
        aekit.train("conv", (x, x, x), epochs=1, progress=False)
    with pytest.raises(aekit.AekitError, match="no-such-set"):
        aekit.train("conv", "no-such-set", epochs=1, progress=False)


# ---- stopping ---------------------------------------------------------------------------

@needs_mnist
def test_callback_returning_true_stops_after_that_epoch():
    seen = []
    aekit.train("conv", DATA, epochs=5, callback=lambda m: seen.append(m["epoch"]) or m["epoch"] == 2, **SMALL)
    assert seen == [1, 2]


@needs_mnist
def test_callback_exception_stops_and_propagates():
    class Boom(Exception):
        pass

    def cb(m):
        raise Boom("epoch %d" % m["epoch"])

    with pytest.raises(Boom, match="epoch 1"):
        aekit.train("conv", DATA, epochs=3, callback=cb, **SMALL)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt("the program's own handler")


@needs_mnist
@pytest.mark.parametrize("handler", [signal.default_int_handler, _raise_interrupt])
def test_ctrl_c_stops_at_a_step_raises_keyboard_interrupt_and_keeps_model_and_checkpoint(tmp_path, handler):
    old = signal.signal(signal.SIGINT, handler)
    try:
        _ctrl_c(tmp_path)
        assert signal.getsignal(signal.SIGINT) is handler      # restored
    finally:
        signal.signal(signal.SIGINT, old)


def _ctrl_c(tmp_path):
    """SIGINT while epoch 2 trains: KeyboardInterrupt with the model; the
    checkpoint written mid-epoch resumes to the weights of an unbroken run
    of the same seed and threads (bytes equal)."""
    ckpt = tmp_path / "ck.safetensors"
    run = dict(SMALL, limit=1024, batch=32, threads=1, seed=5)
    epochs = 6              # room: the signal comes within epoch 2 (32 steps)
    first_epoch = threading.Event()

    def send_sigint():
        first_epoch.wait(60)
        os.kill(os.getpid(), signal.SIGINT)     # from another thread, while epoch 2 trains

    t = threading.Thread(target=send_sigint)
    t.start()
    seen = []

    def cb(m):
        seen.append(m["epoch"])
        first_epoch.set()

    with pytest.raises(KeyboardInterrupt, match="stopped at epoch") as info:
        aekit.train("conv", DATA, epochs=epochs, checkpoint=ckpt, callback=cb, **run)
    t.join()
    assert 1 <= len(seen) < epochs
    m = info.value.model
    m.save(tmp_path / "m.safetensors")                      # the model is usable
    assert aekit.load(tmp_path / "m.safetensors").param_count == m.param_count
    assert aekit.load(ckpt).param_count == m.param_count    # the checkpoint loads

    # where the checkpoint stands: inside the run, after epoch `done`
    import ctypes
    p, state = ctypes.c_void_p(), ctypes.c_void_p()
    opt = training._Options()
    _lib.call(training._checkpoint_load, bytes(ckpt), ctypes.byref(p), opt.buf, ctypes.byref(state))
    pos = training._Position()
    training._state_position(state, ctypes.byref(pos))
    training._state_free(state)
    aekit.Model(p)                                          # frees the checkpoint's model
    # the signal is handled at a step of epoch len(seen) + 1: mid-epoch
    assert pos.epochs_done == len(seen) and pos.epoch == len(seen) + 1 and 0 < pos.step < pos.steps

    resumed_seen = []
    resumed = aekit.train(None, DATA, resume=ckpt, callback=lambda m: resumed_seen.append(m["epoch"]),
                          **{k: v for k, v in run.items() if k not in ("batch", "seed")})
    assert resumed_seen == list(range(len(seen) + 1, epochs + 1))
    whole = aekit.train("conv", DATA, epochs=epochs, **run)
    whole.save(tmp_path / "whole.safetensors")
    resumed.save(tmp_path / "resumed.safetensors")
    assert _tensors(tmp_path / "whole.safetensors") == _tensors(tmp_path / "resumed.safetensors")
    assert resumed.meta["aekit.result.val_loss"] == whole.meta["aekit.result.val_loss"]


@needs_mnist
def test_keyboard_interrupt_raised_in_the_callback_stops_cleanly(tmp_path):
    def cb(m):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as info:
        aekit.train("conv", DATA, epochs=3, callback=cb, checkpoint=tmp_path / "ck.safetensors", **SMALL)
    assert "epoch 1/3" in str(info.value)
    assert (tmp_path / "ck.safetensors").exists()


@needs_mnist
def test_stopped_run_resumed_equals_an_unbroken_run(tmp_path):
    ckpt = tmp_path / "ck.safetensors"
    whole = aekit.train("conv", DATA, epochs=3, seed=9, **SMALL)
    aekit.train("conv", DATA, epochs=3, seed=9, checkpoint=ckpt, callback=lambda m: m["epoch"] == 1, **SMALL)
    seen = []
    resumed = aekit.train(None, DATA, resume=ckpt, callback=lambda m: seen.append(m["epoch"]),
                          **{k: v for k, v in SMALL.items() if k != "batch"})
    assert seen == [2, 3]
    assert resumed.meta["aekit.result.epochs"] == "3"
    assert resumed.meta["aekit.result.val_loss"] == whole.meta["aekit.result.val_loss"]
    whole.save(tmp_path / "a.safetensors")
    resumed.save(tmp_path / "b.safetensors")
    assert _tensors(tmp_path / "a.safetensors") == _tensors(tmp_path / "b.safetensors")


# ---- the run folder and the command line ---------------------------------------------------

@needs_mnist
def test_out_writes_a_run_folder(tmp_path):
    out = tmp_path / "run"
    aekit.train("conv", DATA, epochs=2, out=out, **SMALL)
    for f in ("model.safetensors", "metrics.csv", "loss.png", "reconstructions.png", "samples.png", "index.html"):
        assert (out / f).exists(), f
    lines = (out / "metrics.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,") and len(lines) == 3


@needs_mnist
@pytest.mark.skipif(_cli() is None, reason="the aekit command is not next to the library")
def test_same_seed_and_threads_give_the_weights_of_aekit_train(tmp_path):
    subprocess.run([_cli(), "train", "--model", "conv", "--data", DATA, "--epochs", "2", "--limit", "256",
                    "--val-limit", "128", "--batch", "64", "--threads", "2", "--seed", "11", "--lr", "0.002",
                    "--out", str(tmp_path / "cli")], check=True, capture_output=True)
    m = aekit.train("conv", DATA, epochs=2, seed=11, lr="0.002", **SMALL)
    m.save(tmp_path / "py.safetensors")
    cli = _tensors(tmp_path / "cli" / "model.safetensors")
    assert cli == _tensors(tmp_path / "py.safetensors")
    # the same metadata, written by the same library function: every key but
    # the data set's spelling (a path here, given the same way) and the version
    cli_meta = aekit.load(tmp_path / "cli" / "model.safetensors").meta
    assert cli_meta["aekit.result.val_loss"] == m.meta["aekit.result.val_loss"]
    assert sorted(cli_meta) == sorted(m.meta)
    assert {k: v for k, v in cli_meta.items() if k != "aekit.train.model"} == \
        {k: v for k, v in m.meta.items() if k != "aekit.train.model"}


# ---- early stopping, the kept weights, extending a run ----------------------------------

def _smooth(n, seed):
    """tests/synthetic_data.h's images: the same pixels for the same (n, seed)."""
    r, c = np.divmod(np.arange(784), 28)
    x, out = seed, np.empty((n, 784), np.uint8)
    for i in range(n):
        top = np.empty(784, np.int64)
        for p in range(784):
            x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
            top[p] = x >> 29
        out[i] = (r * (i % 7 + 1) + c * 3) % 200 + top
    return out.reshape(n, 28, 28)


def test_early_stop_and_keep_best_are_options_and_keep_the_best_epochs_weights(tmp_path):
    data = (_smooth(100, 1), _smooth(20, 2))
    run = dict(batch=16, lr=0.05, seed=5, threads=2, progress=False)
    seen = []
    m = aekit.train("conv", data, epochs=12, early_stop=2, keep="best", callback=seen.append, **run)
    losses = [s["val_loss"] for s in seen]
    best = int(np.argmin(losses)) + 1
    assert len(seen) == best + 2 < 12                       # stopped: 2 epochs without a lower val loss
    assert m.meta["aekit.train.early_stop"] == "2" and m.meta["aekit.train.keep"] == "best"
    assert m.meta["aekit.result.epochs"] == str(len(seen))
    assert m.meta["aekit.result.model_epoch"] == str(best)
    exact = aekit.train("conv", data, epochs=best, **run)
    m.save(tmp_path / "best.safetensors")
    exact.save(tmp_path / "exact.safetensors")
    assert _tensors(tmp_path / "best.safetensors") == _tensors(tmp_path / "exact.safetensors")


def test_a_resumed_run_given_the_default_beta_has_the_metadata_of_an_unbroken_run(tmp_path):
    data = (_smooth(60, 1), _smooth(20, 2))
    run = dict(batch=16, seed=9, threads=2, progress=False)
    ckpt = tmp_path / "ck.safetensors"
    aekit.train("vae", data, epochs=2, checkpoint=ckpt, callback=lambda m: m["epoch"] == 1, **run)
    resumed = aekit.train(None, data, resume=ckpt, beta=1, progress=False)
    whole = aekit.train("vae", data, epochs=2, **run)
    assert "aekit.train.beta" not in resumed.meta      # no key: the default, as aekit train writes it
    assert resumed.meta == whole.meta
    resumed.save(tmp_path / "a.safetensors")
    whole.save(tmp_path / "b.safetensors")
    assert (tmp_path / "a.safetensors").read_bytes() == (tmp_path / "b.safetensors").read_bytes()


def test_a_finished_run_extended_by_resume_with_more_epochs_equals_the_longer_run(tmp_path):
    data = (_smooth(60, 1), _smooth(20, 2))
    run = dict(batch=16, seed=9, threads=2, progress=False)
    ckpt = tmp_path / "ck.safetensors"
    aekit.train("conv", data, epochs=2, checkpoint=ckpt, checkpoint_epochs=1, **run)
    seen = []
    longer = aekit.train(None, data, epochs=3, resume=ckpt, callback=lambda m: seen.append(m["epoch"]),
                         progress=False)
    whole = aekit.train("conv", data, epochs=3, **run)
    assert seen == [3]
    assert longer.meta["aekit.train.epochs"] == "3" and longer.meta["aekit.result.epochs"] == "3"
    longer.save(tmp_path / "a.safetensors")
    whole.save(tmp_path / "b.safetensors")
    assert _tensors(tmp_path / "a.safetensors") == _tensors(tmp_path / "b.safetensors")
    with pytest.raises(aekit.AekitError, match="epochs 1"):
        aekit.train(None, data, epochs=1, resume=ckpt, progress=False)
