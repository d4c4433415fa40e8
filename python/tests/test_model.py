"""Building, loading and saving models from Python."""
import os

import pytest

import aekit


def test_presets_listed():
    assert "conv" in aekit.presets()


def test_preset_shapes():
    m = aekit.Model.from_preset("conv")
    assert m.input_shape == (1, 28, 28)
    assert m.latent_size == 128 and m.latent_shape == (8, 4, 4)
    assert m.param_count == 4385


def test_unknown_preset_is_a_value_error():
    with pytest.raises(ValueError, match="unknown model preset 'nope'"):
        aekit.Model.from_preset("nope")


def test_save_load_round_trip(tmp_path):
    m = aekit.Model.from_preset("vae", latent=2)
    path = tmp_path / "m.safetensors"
    m.save(path)
    back = aekit.load(path)
    assert back.description == m.description and back.latent_size == 2


def test_load_as_description(tmp_path):
    # the file's weights read as the model a given description describes
    layers = "encoder\nflatten\ndense 6\ndecoder\ndense 784\nreshape 1 28 28\n"
    m = aekit.Model.from_description("input 1 28 28\nloss mse\n" + layers)
    m.init(5)
    path = tmp_path / "m.safetensors"
    m.save(path)
    back = aekit.load(path, description="input 1 28 28\nloss bce\n" + layers + "sigmoid\n")
    assert "sigmoid" in back.description and back.param_count == m.param_count
    assert (back.state_dict()["encoder.1.weight"] == m.state_dict()["encoder.1.weight"]).all()
    with pytest.raises(ValueError, match=r"tensor 'encoder.1.weight' has 4704 values, the model needs 5488"):
        aekit.load(path, description="input 1 28 28\nloss mse\n" + layers.replace("dense 6", "dense 7"))


def test_load_missing_file_names_it(tmp_path):
    with pytest.raises(aekit.AekitError, match="nothing.safetensors"):
        aekit.load(tmp_path / "nothing.safetensors")


def test_what_a_model_tells_smoke(tmp_path):
    """summary, metadata, from_description, kinds, version, repr."""
    assert aekit.__version__ == aekit._lib.version and aekit.__version__.count(".") == 2
    m = aekit.Model.from_preset("conv")
    lines = m.summary().splitlines()
    assert lines[0].split()[:3] == ["tensor", "layer", "output"]
    assert any(l.startswith("encoder.0") and "conv" in l and "16x28x28" in l for l in lines)
    assert lines[-1] == "total parameters: 4385"
    assert "note" not in m.meta
    m.set_meta("note", "a test")
    m.set_meta("epochs", 3)                       # values are text
    assert m.meta["note"] == "a test" and m.meta["epochs"] == "3"
    m.set_meta("note", "replaced")
    assert m.meta["note"] == "replaced" and list(m.meta).count("note") == 1
    m.save(tmp_path / "m.safetensors")
    assert aekit.load(tmp_path / "m.safetensors").meta["note"] == "replaced"
    same = aekit.Model.from_description(m.description)
    assert same.description == m.description and same.param_count == 4385
    assert same.meta.get("note") is None          # metadata is the model's, not the text's
    with pytest.raises(ValueError, match=r"description:2: .*nosuch"):
        aekit.Model.from_description("input 1 28 28\nnosuch\n")
    kinds = {p: (aekit.Model.from_preset(p).is_variational, aekit.Model.from_preset(p).is_adversarial)
             for p in ("conv", "vae", "conv-vae", "aae")}
    assert kinds == {"conv": (False, False), "vae": (True, False), "conv-vae": (True, False), "aae": (False, True)}
    assert repr(m) == "<aekit.Model autoencoder input=1x28x28 latent=128 params=4385>"
    assert repr(aekit.Model.from_preset("vae", latent=2)).startswith("<aekit.Model vae input=1x28x28 latent=2 ")
    assert repr(aekit.Model.from_preset("aae")).startswith("<aekit.Model aae ")
