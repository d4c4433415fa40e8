"""The PyTorch bridge: Model.state_dict / load_state_dict (NumPy views of
the weights), Model.to_torch (outputs equal to aekit's) and aekit.from_torch
(preset matching, descriptions, round trips)."""
import gc
import os
import subprocess
import sys

import numpy as np
import pytest

import aekit

# aekit's own outputs: the binding's inference calls (python/aekit/inference.py)
_reconstruct, _encode, _decode = "reconstruct", "encode", "decode"


def aekit_apply(fn, m, x, out_shape, labels=None):
    y = getattr(m, fn)(np.ascontiguousarray(x, dtype=np.float32), threads=1, labels=labels)
    return y.reshape((y.shape[0],) + tuple(out_shape))


def test_state_dict_names_and_shapes():
    m = aekit.Model.from_preset("conv")
    sd = m.state_dict()
    assert list(sd)[:2] == ["encoder.0.weight", "encoder.0.bias"]
    assert sd["encoder.0.weight"].shape == (16, 1, 3, 3) and sd["decoder.9.bias"].shape == (1,)
    assert all(v.dtype == np.float32 for v in sd.values())
    assert sum(v.size for v in sd.values()) == m.param_count
    v = aekit.Model.from_preset("vae", latent=3).state_dict()
    assert v["encoder.3.weight"].shape == (6, 512) and v["decoder.0.weight"].shape == (512, 3)


def test_state_dict_views_write_the_model(tmp_path):
    m = aekit.Model.from_preset("conv")
    sd = m.state_dict()
    sd["encoder.0.bias"][:] = np.arange(16, dtype=np.float32)
    assert m.state_dict()["encoder.0.bias"][15] == 15   # a view, not a copy
    m.save(tmp_path / "m.safetensors")
    assert aekit.load(tmp_path / "m.safetensors").state_dict()["encoder.0.bias"][15] == 15


def test_view_outlives_its_model():
    view = aekit.Model.from_preset("conv").state_dict()["decoder.6.weight"]
    gc.collect()
    before = view.copy()
    view += 1      # the model's memory, still held by the view
    assert np.array_equal(view, before + 1)
    m = aekit.Model.from_preset("vae")
    w = m.state_dict()["encoder.1.weight"]
    del m
    gc.collect()
    w[0, 0] = 7.0
    assert w[0, 0] == 7.0 and w.sum() != 0


def test_load_state_dict_copies_and_checks():
    a, b = aekit.Model.from_preset("conv"), aekit.Model.from_preset("conv")
    b.init(5)
    a.load_state_dict(b.state_dict())
    assert all(np.array_equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    sd = {k: v.copy() for k, v in b.state_dict().items()}
    sd["decoder.9.weight"] = sd["decoder.9.weight"].reshape(16, 1, 3, 3)
    before = a.state_dict()["encoder.0.weight"].copy()
    sd["encoder.0.weight"] += 1
    with pytest.raises(ValueError, match=r"'decoder.9.weight' has shape \(16, 1, 3, 3\), the model needs \(1, 16, 3, 3\)"):
        a.load_state_dict(sd)
    assert np.array_equal(a.state_dict()["encoder.0.weight"], before)   # nothing partial
    del sd["decoder.9.weight"]
    with pytest.raises(ValueError, match="'decoder.9.weight' is missing"):
        a.load_state_dict(sd)
    with pytest.raises(ValueError, match="'extra' is not one of the model's"):
        a.load_state_dict(dict(b.state_dict(), extra=np.zeros(1)))
    with pytest.raises(ValueError, match="not an array of numbers"):
        a.load_state_dict(dict(b.state_dict(), **{"encoder.0.bias": "x" * 16}))
    with pytest.raises(ValueError, match="expected a mapping"):
        a.load_state_dict(None)


def test_to_torch_without_torch_is_a_clear_import_error():
    code = ("import sys; sys.modules['torch'] = None\n"
            "import aekit\n"
            "try:\n"
            "    aekit.Model.from_preset('conv').to_torch()\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ)
    assert "python3-torch" in out.stdout and "Model.to_torch" in out.stdout, out.stdout + out.stderr


def test_from_torch_without_torch_takes_a_mapping_of_arrays():
    code = ("import sys; sys.modules['torch'] = None\n"
            "import aekit\n"
            "m = aekit.Model.from_preset('vae', latent=3); m.init(4)\n"
            "back = aekit.from_torch({k: v.copy() for k, v in m.state_dict().items()}, latent=3)\n"
            "print(back.description == m.description,\n"
            "      all((a == b).all() for a, b in zip(back.state_dict().values(), m.state_dict().values())))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ)
    assert out.stdout.split() == ["True", "True"], out.stdout + out.stderr


KINDS = [("conv", 0), ("sr", 0), ("conv-vae", 0), ("vae", 5), ("aae", 0), ("conv-latent", 0)]


# Every layer kind and option of docs/model-format.md that no preset uses:
# stride, pad=N, bias=0, leaky_relu, tanh, avgpool with ceil (a partial
# window), maxpool 3, upsample 3, an even kernel.
CUSTOM = """input 1 28 28
encoder
conv 8 k=3 stride=2 pad=1
leaky_relu slope=0.1
conv 6 k=3 pad=valid bias=0
tanh
maxpool 3
avgpool 3 ceil
flatten
dense 10 bias=0
decoder
dense 54
leaky_relu
reshape 6 3 3
upsample 3
conv 4 k=3 pad=same
tanh
upsample 3
conv 1 k=2 pad=1
sigmoid
"""


def test_custom_description_has_the_shapes_it_is_meant_to():
    m = aekit.Model.from_description(CUSTOM)
    shapes = {line.split()[0]: line.split()[2] for line in m.summary().splitlines() if "pool" in line}
    assert shapes == {"encoder.4": "6x4x4", "encoder.5": "6x2x2"}    # avgpool 3 ceil: 4 -> 2, a partial window
    assert m.latent_size == 10 and m.output_shape == (1, 28, 28)
    assert "bias=0" in m.description and "slope=0.1" in m.description and "stride=2" in m.description
    assert "encoder.2.bias" not in m.state_dict() and "encoder.7.bias" not in m.state_dict()


@pytest.mark.parametrize("preset,latent", [(p, 0) for p in aekit.presets()] + [("vae", 5)])
def test_to_torch_matches_aekit(preset, latent):
    _to_torch_matches(aekit.Model.from_preset(preset, latent=latent))


def test_to_torch_matches_aekit_custom_description():
    _to_torch_matches(aekit.Model.from_description(CUSTOM))


def _to_torch_matches(m):
    torch = pytest.importorskip("torch")
    m.init(11)
    rng = np.random.default_rng(1)
    x = rng.random((5,) + m.input_shape, dtype=np.float32)
    net = m.to_torch()
    assert not net.training
    labels = rng.integers(0, m.classes, 5) if m.classes else None   # a conditional model's
    if labels is not None:
        net.set_labels(torch.from_numpy(labels))
    with torch.no_grad():
        tx = torch.from_numpy(x)
        y, z = net(tx).numpy(), net.encode(tx).numpy()
        codes = rng.standard_normal((5, m.latent_size)).astype(np.float32)
        d = net.decode(torch.from_numpy(codes)).numpy()
    np.testing.assert_allclose(y, aekit_apply(_reconstruct, m, x, m.output_shape, labels), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(z, aekit_apply(_encode, m, x, (m.latent_size,), labels), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(d, aekit_apply(_decode, m, codes, m.output_shape, labels), rtol=1e-5, atol=1e-5)
    assert y.shape == (5,) + m.output_shape and z.shape == (5, m.latent_size)
    assert set(net.state_dict()) == set(m.state_dict())
    assert hasattr(net, "discriminator") == m.is_adversarial


def test_to_torch_vae_samples_in_train_mode():
    torch = pytest.importorskip("torch")
    net = aekit.Model.from_preset("vae").to_torch()
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(net(x), net(x))      # eval: z = mu
        net.train()
        assert not torch.equal(net(x), net(x))  # train: z sampled


@pytest.mark.parametrize("preset,latent", KINDS)
def test_from_torch_round_trip_same_bytes(preset, latent, tmp_path):
    pytest.importorskip("torch")
    m = aekit.Model.from_preset(preset, latent=latent)
    m.init(3)
    net = m.to_torch()
    back = aekit.from_torch(net)                # from the module's description
    assert back.description == m.description
    for (k, v), (k2, v2) in zip(m.state_dict().items(), back.state_dict().items()):
        assert k == k2 and v.tobytes() == v2.tobytes()
    m.save(tmp_path / "a.safetensors")
    back.save(tmp_path / "b.safetensors")
    a_bytes = (tmp_path / "a.safetensors").read_bytes()
    assert a_bytes == (tmp_path / "b.safetensors").read_bytes()
    # the state_dict alone: matched against the presets (with the latent size)
    plain = aekit.from_torch(net.state_dict(), latent=latent or None)
    assert plain.param_count == m.param_count
    assert all(np.array_equal(a, b) for a, b in zip(plain.state_dict().values(), m.state_dict().values()))
    # and into an existing model, from torch tensors
    other = aekit.Model.from_preset(preset, latent=latent)
    other.load_state_dict(net.state_dict())
    assert all(np.array_equal(a, b) for a, b in zip(other.state_dict().values(), m.state_dict().values()))


def test_from_torch_plain_module_matches_a_preset():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    # the lesson's conv AE written by hand in PyTorch
    net = nn.Module()
    net.encoder = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                nn.Conv2d(16, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True))
    net.decoder = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=2),
                                nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=2),
                                nn.Conv2d(8, 16, 3), nn.ReLU(), nn.Upsample(scale_factor=2),
                                nn.Conv2d(16, 1, 3, padding=1), nn.Sigmoid())
    m = aekit.from_torch(net)
    assert m.param_count == 4385 and m.latent_shape == (8, 4, 4)
    x = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        y = net.decoder(net.encoder(x)).numpy()
    np.testing.assert_allclose(aekit_apply(_reconstruct, m, x.numpy(), m.output_shape), y, rtol=1e-5, atol=1e-5)


def test_from_torch_refusals():
    torch = pytest.importorskip("torch")
    sd = aekit.Model.from_preset("vae", latent=8).to_torch().state_dict()
    with pytest.raises(ValueError, match=r"match no preset \(the nearest, preset vae: tensor 'encoder.3.weight' "
                                         r"has 8192 values, the model needs 2048\)"):
        aekit.from_torch(sd)
    assert aekit.from_torch(sd, latent=8).latent_size == 8
    desc = aekit.Model.from_preset("conv").description
    with pytest.raises(ValueError, match="from_torch: tensor 'encoder.0.weight' is missing"):
        aekit.from_torch(sd, description=desc)
    with pytest.raises(ValueError, match="'encoder.1.weight' has 0 dimensions"):
        aekit.from_torch(dict(sd, **{"encoder.1.weight": torch.tensor(1.0)}))
    with pytest.raises(ValueError, match="longer than 63 bytes"):
        aekit.from_torch(dict(sd, **{"x" * 64: torch.zeros(1)}))
    with pytest.raises(ValueError, match="expected a torch.nn.Module or a state_dict"):
        aekit.from_torch(42)
    with pytest.raises(ValueError, match=r"from_torch \(description\):"):
        aekit.from_torch(sd, description="input 1 28 28\nencoder\nnosuch\n")
