"""imps.core.model: the size table, the model's configuration, and sampling from a mixture."""

from __future__ import annotations

import numpy as np
import pytest

from imps.core.model import (DEFAULT_SAMPLING, DEFAULT_SIZE, SIZES, Mixture, ModelConfig, ModelSize, Sampling,
                             model_size, resolve_sampling, sample)


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


FIXED = Mixture(mus=np.array([[0.0, 1.0], [10.0, -4.0], [3.0, 3.0]]),
                sigmas=np.array([[1.0, 0.5], [2.0, 1.0], [0.1, 0.1]]),
                pi_logits=np.log(np.array([0.5, 0.3, 0.2])))


def mixture_moments(mixture, pi_temp, sigma_temp):
    pis = np.exp(mixture.pi_logits / pi_temp)
    pis /= pis.sum()
    mean = pis @ mixture.mus
    second = pis @ (mixture.sigmas ** 2 * sigma_temp + mixture.mus ** 2)
    return mean, second - mean ** 2


@pytest.mark.parametrize("pi_temp,sigma_temp", [(1.0, 1.0), (0.5, 0.01), (2.0, 4.0)])
def test_sampling_matches_the_mixture_mean_and_variance(pi_temp, sigma_temp):
    rng = np.random.default_rng(1234)
    draws = np.array([sample(FIXED, pi_temp, sigma_temp, rng) for _ in range(40000)])
    mean, variance = mixture_moments(FIXED, pi_temp, sigma_temp)
    assert (np.abs(draws.mean(0) - mean) <= 4 * np.sqrt(variance / len(draws))).all()
    np.testing.assert_allclose(draws.var(0), variance, rtol=0.05)


def test_zero_temperatures_give_the_most_likely_mean():
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(sample(FIXED, 0.0, 0.0, rng), FIXED.mus[0])


# Each value's own mixture: the first value's components are 0 and 10, the second's 1 and -4,
# with different weights, so that a draw shows which component each value took.
PER_VALUE = Mixture(mus=np.array([[0.0, 1.0], [10.0, -4.0]]), sigmas=np.array([[1.0, 0.5], [2.0, 1.0]]),
                    pi_logits=np.log(np.array([[0.8, 0.3], [0.2, 0.7]])))


def test_each_value_draws_its_own_component():
    rng = np.random.default_rng(7)
    draws = np.array([sample(PER_VALUE, 1.0, 1e-6, rng) for _ in range(20000)])
    # With a mixture over the whole event the two would go together; here they are independent.
    first_high, second_low = draws[:, 0] > 5, draws[:, 1] < -1.5
    assert first_high.mean() == pytest.approx(0.2, abs=0.015) and second_low.mean() == pytest.approx(0.7, abs=0.015)
    assert (first_high & second_low).mean() == pytest.approx(0.2 * 0.7, abs=0.015)
    for pi_temp, sigma_temp in ((1.0, 1.0), (0.5, 0.25)):
        draws = np.array([sample(PER_VALUE, pi_temp, sigma_temp, rng) for _ in range(40000)])
        for value in range(2):
            column = Mixture(PER_VALUE.mus[:, value:value + 1], PER_VALUE.sigmas[:, value:value + 1],
                             PER_VALUE.pi_logits[:, value])
            mean, variance = mixture_moments(column, pi_temp, sigma_temp)
            assert abs(draws[:, value].mean() - mean[0]) <= 4 * np.sqrt(variance[0] / len(draws))
            assert draws[:, value].var() == pytest.approx(variance[0], rel=0.05)


def test_zero_temperatures_give_each_values_most_likely_mean():
    np.testing.assert_array_equal(sample(PER_VALUE, 0.0, 0.0, np.random.default_rng(0)), [0.0, -4.0])
