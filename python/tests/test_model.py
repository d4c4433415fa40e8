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
