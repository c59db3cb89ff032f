"""imps.model: the size table and the model's configuration."""

from __future__ import annotations

import pytest

from imps.model import (DEFAULT_SAMPLING, DEFAULT_SIZE, SIZES, ModelConfig, ModelSize, Sampling, model_size,
                        resolve_sampling)


@pytest.mark.parametrize("name, units, layers", [
    ("xxs", 16, 2),
    ("xs", 32, 2),
    ("s", 64, 2),
    ("m", 128, 2),
    ("l", 256, 2),
    ("xl", 512, 3),
])
def test_size_table(name, units, layers):
    size = model_size(name)
    assert size == ModelSize(name, units, layers)
    assert size.config(9) == ModelConfig(9, units, layers)


def test_size_table_has_exactly_the_six_sizes_in_order_and_the_default_is_one():
    assert list(SIZES) == ["xxs", "xs", "s", "m", "l", "xl"]
    assert all(SIZES[name].name == name for name in SIZES)
    assert DEFAULT_SIZE in SIZES


def test_sizes_and_configs_are_immutable():
    with pytest.raises(AttributeError):
        model_size("s").units = 1
    with pytest.raises(AttributeError):
        model_size("s").config(4).units = 1


def test_a_config_is_the_model_the_original_imps_trained():
    config = model_size("s").config(4)
    assert (config.dimension, config.units, config.layers, config.mixtures, config.scale, config.seq_len) == \
        (4, 64, 2, 5, 10.0, 50)


@pytest.mark.parametrize("bad", ["XS", "huge", "", "small"])
def test_unknown_size_error_lists_the_choices(bad):
    with pytest.raises(ValueError) as caught:
        model_size(bad)
    message = str(caught.value)
    assert repr(bad) in message
    assert "xxs, xs, s, m, l, xl" in message


def test_sampling_comes_from_the_musician_then_the_model_then_imps():
    stored = Sampling(pi_temp=1.25, sigma_temp=0.35)
    assert resolve_sampling(None, None, None) == (
        DEFAULT_SAMPLING, "sampling: --pitemp 1 (IMPS's default), --sigmatemp 0.01 (IMPS's default)")
    assert resolve_sampling(None, None, stored) == (
        stored, "sampling: --pitemp 1.25 (stored with the model), --sigmatemp 0.35 (stored with the model)")
    # Each temperature on its own: a flag wins over the stored setting, zero included.
    assert resolve_sampling(None, 0.0, stored) == (
        Sampling(1.25, 0.0), "sampling: --pitemp 1.25 (stored with the model), --sigmatemp 0 (as given)")
    assert resolve_sampling(0.5, None, None)[0] == Sampling(0.5, DEFAULT_SAMPLING.sigma_temp)
    assert stored.flags() == "--pitemp 1.25 --sigmatemp 0.35"
